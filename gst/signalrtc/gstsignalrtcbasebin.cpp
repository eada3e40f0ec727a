/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/* The shared body of signalrtcbin, signalrtcsink and signalrtcsrc. */
#include "gstsignalrtcbasebin.h"

#include "bandwidth-estimator.h"
#include "call-table.h"
#include "client/hub-client.h"
#include "gstsignalrtcelements.h"
#include "gstsignalrtcpad.h"
#include "peer-session.h"
#include "protocol/user-info.h"
#include "rendition-ladder.h"
#include "send-input.h"

#include <ifaddrs.h>
#include <net/if.h>

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <map>
#include <optional>
#include <tuple>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

GST_DEBUG_CATEGORY (gst_signalrtc_bin_debug);
#define GST_CAT_DEFAULT gst_signalrtc_bin_debug

using namespace signalrtc;

enum
{
  PROP_0,
  PROP_HUB_URL,
  PROP_USERNAME,
  PROP_ACCESS_TOKEN,
  PROP_CALL,
  PROP_AUTO_ANSWER,
  PROP_ALLOWED_USERS,
  PROP_MAX_PEERS,
  PROP_STUN_SERVER,
  PROP_TURN_SERVER,
  PROP_ICE_TRANSPORT_POLICY,
  PROP_VIDEO_CODEC,
  PROP_VIDEO_BITRATE,
  PROP_LATENCY,
  PROP_DECODE,
  PROP_RECONNECT,
  PROP_LOCAL_ADDRESSES,
  PROP_STATS_INTERVAL,
  PROP_SETUP_TIMEOUT,
  PROP_REJOIN_TIMEOUT,
  PROP_CONGESTION_CONTROL,
  PROP_MIN_BITRATE,
  PROP_MAX_BITRATE,
  PROP_VIDEO_RENDITIONS,
};

enum
{
  SIGNAL_MESSAGE_RECEIVED,
  SIGNAL_SEND_MESSAGE,
  LAST_SIGNAL
};

static guint signals[LAST_SIGNAL];

#define DEFAULT_AUTO_ANSWER TRUE
#define DEFAULT_MAX_PEERS 0
#define DEFAULT_VIDEO_CODEC GST_SIGNALRTC_VIDEO_CODEC_VP8
#define DEFAULT_VIDEO_BITRATE 1000000
#define DEFAULT_LATENCY 200
#define DEFAULT_DECODE TRUE
#define DEFAULT_RECONNECT TRUE
#define DEFAULT_STATS_INTERVAL 5000
#define DEFAULT_SETUP_TIMEOUT 30
#define DEFAULT_REJOIN_TIMEOUT 60
#define DEFAULT_CONGESTION_CONTROL GST_SIGNALRTC_CONGESTION_CONTROL_GCC
#define DEFAULT_MIN_BITRATE 100000
#define DEFAULT_MAX_BITRATE 2500000
#define DEFAULT_VIDEO_RENDITIONS signalrtc::RenditionLadder::kDefault

GType
gst_signalrtc_video_codec_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_SIGNALRTC_VIDEO_CODEC_VP8, "VP8", "vp8"},
      {GST_SIGNALRTC_VIDEO_CODEC_VP9, "VP9", "vp9"},
      {GST_SIGNALRTC_VIDEO_CODEC_H264, "H.264", "h264"},
      {0, nullptr, nullptr},
  };
  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstSignalrtcVideoCodec", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_signalrtc_congestion_control_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_SIGNALRTC_CONGESTION_CONTROL_NONE,
       "None: video at video-bitrate, whatever the links carry", "none"},
      {GST_SIGNALRTC_CONGESTION_CONTROL_GCC,
       "Google congestion control: a bandwidth estimate per call from its "
       "transport-wide feedback (TWCC), else its receiver reports",
       "gcc"},
      {0, nullptr, nullptr},
  };
  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstSignalrtcCongestionControl", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

namespace {

std::vector<std::string>
split_list (const std::string &list)
{
  std::vector<std::string> out;
  g_auto (GStrv) parts = g_strsplit_set (list.c_str (), ", ", -1);
  for (gchar **p = parts; *p; p++) {
    if (**p)
      out.emplace_back (*p);
  }
  return out;
}

/* DESIGN.md's default for ICE host candidates: libnice's own choice (every
 * interface that is up but loopback), or 127.0.0.1 when loopback is all
 * there is, where libnice would gather nothing. */
std::vector<std::string>
default_local_addresses ()
{
  struct ifaddrs *list = nullptr;
  bool other_up = false;
  if (getifaddrs (&list) == 0) {
    for (struct ifaddrs *i = list; i; i = i->ifa_next) {
      if (i->ifa_addr && (i->ifa_flags & IFF_UP)
          && !(i->ifa_flags & IFF_LOOPBACK)
          && (i->ifa_addr->sa_family == AF_INET
              || i->ifa_addr->sa_family == AF_INET6))
        other_up = true;
    }
    freeifaddrs (list);
  }
  if (other_up)
    return {};
  return {"127.0.0.1"};
}

}  // namespace

/* Everything C++ about the element, kept out of the GObject struct.
 *
 * Threads and ownership:
 * - Properties: under GST_OBJECT_LOCK; read into a Settings copy when
 *   joining the hub and when a session starts.
 * - The hub thread runs ctx (its own GMainContext); client, calls (the
 *   roster and the call rules), sessions and my_id live there and are
 *   touched only there. Other threads reach it only through run_on_hub ()
 *   (and invoke_sync (), which waits): state changes, send-message,
 *   errors from a call's webrtcbin, and PeerSession's hops from webrtcbin's
 *   threads. ctx_lock guards the context pointer and `accepting`: once
 *   stop_thread () has said no more, nothing new is queued, and what was
 *   queued before runs (or is freed) before the context goes.
 * - Every session in `sessions` has a call in `calls` under the same key,
 *   the remote user's connection id; a re-keyed call moves in both.
 * - inputs_ (the request sink pads) under inputs_lock_: changed by the
 *   application's thread, read by the hub thread when a session starts.
 * No lock is held while posting a message, emitting a signal or calling
 * into a webrtcbin. */
struct BinState : public PeerSession::Delegate
{
  struct Settings
  {
    std::string hub_url, username, access_token, call, stun, turn;
    std::vector<std::string> allowed_users, local_addresses;
    bool auto_answer = DEFAULT_AUTO_ANSWER, decode = DEFAULT_DECODE,
         reconnect = DEFAULT_RECONNECT, congestion_control = true,
         relay_only = false;
    guint max_peers = DEFAULT_MAX_PEERS, latency = DEFAULT_LATENCY,
          stats_interval = DEFAULT_STATS_INTERVAL,
          setup_timeout = DEFAULT_SETUP_TIMEOUT,
          rejoin_timeout = DEFAULT_REJOIN_TIMEOUT,
          video_bitrate = DEFAULT_VIDEO_BITRATE,
          min_bitrate = DEFAULT_MIN_BITRATE, max_bitrate = DEFAULT_MAX_BITRATE;
  };

  explicit BinState (GstSignalrtcBaseBin *bin) : self (bin) {}

  GstSignalrtcBaseBin *self;

  /* properties (GST_OBJECT_LOCK) */
  gchar *hub_url = nullptr, *username = nullptr, *access_token = nullptr,
        *call = nullptr, *allowed_users = nullptr, *stun_server = nullptr,
        *turn_server = nullptr, *local_addresses = nullptr;
  gboolean auto_answer = DEFAULT_AUTO_ANSWER, decode = DEFAULT_DECODE,
           reconnect = DEFAULT_RECONNECT;
  guint max_peers = DEFAULT_MAX_PEERS, video_bitrate = DEFAULT_VIDEO_BITRATE,
        latency = DEFAULT_LATENCY, stats_interval = DEFAULT_STATS_INTERVAL,
        setup_timeout = DEFAULT_SETUP_TIMEOUT,
        rejoin_timeout = DEFAULT_REJOIN_TIMEOUT,
        min_bitrate = DEFAULT_MIN_BITRATE, max_bitrate = DEFAULT_MAX_BITRATE;
  GstSignalrtcVideoCodec video_codec = DEFAULT_VIDEO_CODEC;
  GstWebRTCICETransportPolicy ice_transport_policy
      = GST_WEBRTC_ICE_TRANSPORT_POLICY_ALL;
  GstSignalrtcCongestionControl congestion_control
      = DEFAULT_CONGESTION_CONTROL;
  std::string video_renditions = DEFAULT_VIDEO_RENDITIONS;

  /* The hub thread's context (ctx_lock; set and cleared by the thread
   * that changes state). */
  std::mutex ctx_lock;
  GMainContext *ctx = nullptr;
  bool accepting = false;
  GThread *thread = nullptr;
  GMainLoop *loop = nullptr;

  /* hub thread */
  Settings settings;
  std::unique_ptr<HubClient> client;
  GSource *stats_source = nullptr;
  /* Congestion control's receiver-report poll (PeerSession::poll_feedback),
   * on the hub context while on the hub. */
  GSource *feedback_source = nullptr;
  GSource *every_session (guint ms, void (PeerSession::*what) ());
  /* Ends the calls from before a new hub connection whose users have not
   * come back (armed by on_connected). */
  GSource *rejoin_source = nullptr;
  void arm_rejoin_timer ();
  void stop_rejoin_timer ();
  void rejoin_timed_out ();
  std::string my_id;
  CallTable calls;
  std::map<std::string, std::shared_ptr<PeerSession>> sessions;

  /* signalrtcsrc: its one call brought media, so the call's end is the
   * stream's end (streaming threads set it, the hub thread reads it). */
  std::atomic<bool> had_media{false};
  /* EOS posted by the bin itself (any thread). */
  std::atomic<bool> eos_posted{false};
  void post_eos ();
  bool has_inputs ();

  /* request sink pads (inputs_lock) */
  std::mutex inputs_lock;
  std::vector<std::unique_ptr<SendInput>> inputs;
  guint next_pad[2] = {0, 0};

  Settings read_settings ();
  void post (GstStructure *s);
  void start_thread ();
  void stop_thread ();
  /* Runs @fn on the hub thread and waits for it; FALSE (and @fn not run)
   * when there is no hub thread. */
  bool invoke_sync (const std::function<void ()> &fn);
  void join_hub ();
  void leave_hub ();

  void on_connected (const std::string &id, bool reconnected);
  void on_disconnected (const GError *error, bool will_reconnect);
  void user_present (const std::string &id, const std::string &name);
  void on_user_disconnect (const std::string &id);
  void on_signal (const std::string &from, const std::string &text);
  std::string name_of (const std::string &id) const;
  void dial (const std::string &id);
  void rekey (const std::string &from, const std::string &to);
  std::shared_ptr<PeerSession> start_session (const std::string &id,
                                              bool initiator);
  void end_session (const std::string &id, const std::string &reason);
  bool send_message (const std::string &peer, const std::string &text);
  void on_input_eos ();
  /* Sets the shared encoders to what the calls' links carry and lose. */
  void update_encoders ();

  /* PeerSession::Delegate */
  bool run_on_hub (std::function<void ()> fn) override;
  void send_signal (const std::string &connection_id,
                    const PeerSignal &signal) override;
  std::vector<SendInput *> send_inputs () override;
  void session_connected (PeerSession &session) override;
  void session_failed (PeerSession &session, const std::string &why) override;
  void message_received (PeerSession &session,
                         const std::string &text) override;
  void track_added (PeerSession &session, GstPad *pad,
                    const std::string &kind) override;
  void peer_stats (PeerSession &session, GstStructure *stats) override;
  void bandwidth_changed (PeerSession &session) override;
};

typedef struct
{
  BinState *state;
} GstSignalrtcBaseBinPrivate;

#define gst_signalrtc_base_bin_parent_class parent_class
G_DEFINE_ABSTRACT_TYPE_WITH_CODE (
    GstSignalrtcBaseBin, gst_signalrtc_base_bin, GST_TYPE_BIN,
    G_ADD_PRIVATE (GstSignalrtcBaseBin);
    GST_DEBUG_CATEGORY_INIT (gst_signalrtc_bin_debug, "signalrtcbin", 0,
                             "signalrtc bin"));

static BinState *
state_of (GstSignalrtcBaseBin *self)
{
  return ((GstSignalrtcBaseBinPrivate *)
              gst_signalrtc_base_bin_get_instance_private (self))
      ->state;
}

/* ---- BinState ---------------------------------------------------------- */

BinState::Settings
BinState::read_settings ()
{
  Settings s;
  GST_OBJECT_LOCK (self);
  s.hub_url = hub_url ? hub_url : "";
  s.username = username ? username : GST_OBJECT_NAME (self);
  s.access_token = access_token ? access_token : "";
  s.call = call ? call : "";
  s.stun = stun_server ? stun_server : "";
  s.turn = turn_server ? turn_server : "";
  s.relay_only = ice_transport_policy == GST_WEBRTC_ICE_TRANSPORT_POLICY_RELAY;
  s.allowed_users = split_list (allowed_users ? allowed_users : "");
  s.local_addresses = split_list (local_addresses ? local_addresses : "");
  s.auto_answer = auto_answer;
  s.decode = decode;
  s.reconnect = reconnect;
  s.max_peers = max_peers;
  s.latency = latency;
  s.stats_interval = stats_interval;
  s.setup_timeout = setup_timeout;
  s.rejoin_timeout = rejoin_timeout;
  s.congestion_control
      = congestion_control != GST_SIGNALRTC_CONGESTION_CONTROL_NONE;
  s.video_bitrate = video_bitrate;
  s.min_bitrate = min_bitrate;
  s.max_bitrate = max_bitrate;
  GST_OBJECT_UNLOCK (self);
  if (s.local_addresses.empty ())
    s.local_addresses = default_local_addresses ();
  return s;
}

void
BinState::post (GstStructure *s)
{
  gst_element_post_message (GST_ELEMENT (self),
                            gst_message_new_element (GST_OBJECT (self), s));
}

void
BinState::start_thread ()
{
  GMainContext *context = g_main_context_new ();
  loop = g_main_loop_new (context, FALSE);
  {
    std::lock_guard<std::mutex> lock (ctx_lock);
    ctx = context;
    accepting = true;
  }
  thread = g_thread_new (
      "signalrtc-hub",
      [] (gpointer data) -> gpointer {
        auto *st = static_cast<BinState *> (data);
        GMainContext *context = g_main_loop_get_context (st->loop);
        g_main_context_push_thread_default (context);
        g_main_loop_run (st->loop);
        g_main_context_pop_thread_default (context);
        return nullptr;
      },
      this);
}

void
BinState::stop_thread ()
{
  if (!thread)
    return;
  {
    /* The last thing queued: the loop's end. */
    std::lock_guard<std::mutex> lock (ctx_lock);
    accepting = false;
    GSource *quit = g_idle_source_new ();
    g_source_set_callback (
        quit,
        [] (gpointer data) -> gboolean {
          g_main_loop_quit (static_cast<GMainLoop *> (data));
          return G_SOURCE_REMOVE;
        },
        g_main_loop_ref (loop), (GDestroyNotify)g_main_loop_unref);
    g_source_attach (quit, ctx);
    g_source_unref (quit);
  }
  g_thread_join (thread);
  thread = nullptr;
  /* What was queued before the quit and not run yet (hops from webrtcbin
   * threads) runs now, on this thread: sessions are gone, so the hops find
   * nothing, and what they hold is freed. */
  GMainContext *context = g_main_loop_get_context (loop);
  g_main_context_push_thread_default (context);
  while (g_main_context_pending (context))
    g_main_context_iteration (context, FALSE);
  g_main_context_pop_thread_default (context);
  g_main_loop_unref (loop);
  loop = nullptr;
  {
    std::lock_guard<std::mutex> lock (ctx_lock);
    ctx = nullptr;
  }
  g_main_context_unref (context);
}

bool
BinState::run_on_hub (std::function<void ()> fn)
{
  std::lock_guard<std::mutex> lock (ctx_lock);
  if (!accepting)
    return false;
  GSource *source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (
      source,
      [] (gpointer data) -> gboolean {
        (*static_cast<std::function<void ()> *> (data)) ();
        return G_SOURCE_REMOVE;
      },
      new std::function<void ()> (std::move (fn)),
      [] (gpointer data) {
        delete static_cast<std::function<void ()> *> (data);
      });
  g_source_attach (source, ctx);
  g_source_unref (source);
  return true;
}

bool
BinState::invoke_sync (const std::function<void ()> &fn)
{
  GMainContext *context = nullptr;
  {
    std::lock_guard<std::mutex> lock (ctx_lock);
    context = ctx;
  }
  if (context && g_main_context_is_owner (context)) {
    fn ();
    return true;
  }
  struct Call
  {
    std::mutex lock;
    std::condition_variable cond;
    bool done = false, ran = false;
  };
  auto call = std::make_shared<Call> ();
  /* The wait ends when the function ran, or when it was freed unrun. */
  struct Done
  {
    explicit Done (std::shared_ptr<Call> c) : call (std::move (c)) {}
    Done (const Done &) = delete;
    ~Done ()
    {
      std::lock_guard<std::mutex> lock (call->lock);
      call->done = true;
      call->cond.notify_one ();
    }
    std::shared_ptr<Call> call;
  };
  auto done = std::make_shared<Done> (call);
  if (!run_on_hub ([&fn, call, done] () {
        fn ();
        std::lock_guard<std::mutex> lock (call->lock);
        call->ran = true;
      }))
    return false;
  done.reset ();
  std::unique_lock<std::mutex> lock (call->lock);
  call->cond.wait (lock, [&] { return call->done; });
  return call->ran;
}

void
BinState::join_hub ()
{
  settings = read_settings ();
  CallTable::Rules rules;
  rules.call = settings.call;
  rules.allowed_users = settings.allowed_users;
  rules.auto_answer = settings.auto_answer;
  rules.single_peer = GST_SIGNALRTC_BASE_BIN_GET_CLASS (self)->single_peer;
  rules.max_peers = settings.max_peers;
  calls = CallTable (rules);
  HubClient::Options options;
  options.url = settings.hub_url;
  options.access_token = settings.access_token;
  options.reconnect = settings.reconnect;
  options.context = ctx;
  client = std::make_unique<HubClient> (options);
  client->set_connected_handler (
      [this] (const std::string &id, bool reconnected) {
        on_connected (id, reconnected);
      });
  client->set_disconnected_handler (
      [this] (const GError *error, bool will_reconnect) {
        on_disconnected (error, will_reconnect);
      });
  /* Both announcements carry a userInfoJson string: the user is present. */
  auto user_announced = [this] (const std::vector<JsonValue> &args) {
    auto text = args.empty () ? std::nullopt : args[0].as_string ();
    auto info = text ? parse_user_info (*text, nullptr) : std::nullopt;
    if (info)
      user_present (info->connection_id, info->user_name);
    else
      GST_WARNING_OBJECT (self, "ignoring a malformed user announcement");
    return info;
  };
  client->on ("NewUserArrived", [this, user_announced] (const auto &args) {
    auto info = user_announced (args);
    if (info && client)
      client->invoke ("HelloUser",
                      {JsonValue::from_string (settings.username),
                       JsonValue::from_string (info->connection_id)},
                      [] (const JsonValue &, const GError *) {});
  });
  client->on ("UserSaidHello",
              [user_announced] (const auto &args) { user_announced (args); });
  client->on ("UserDisconnect", [this] (const auto &args) {
    if (auto id = args.empty () ? std::nullopt : args[0].as_string ())
      on_user_disconnect (*id);
  });
  client->on ("SendSignal", [this] (const auto &args) {
    auto from = args.size () == 2 ? args[0].as_string () : std::nullopt;
    auto text = args.size () == 2 ? args[1].as_string () : std::nullopt;
    if (from && text)
      on_signal (*from, *text);
    else
      GST_ELEMENT_WARNING (self, STREAM, DECODE,
                           ("Ignoring a malformed SendSignal from the hub"),
                           (nullptr));
  });
  client->start ();

  if (settings.stats_interval)
    stats_source = every_session (settings.stats_interval,
                                  &PeerSession::request_stats);
  if (settings.congestion_control)
    feedback_source = every_session (PeerSession::kFeedbackPollMs,
                                     &PeerSession::poll_feedback);
}

/* A timeout on the hub context that calls @what on every session every
 * @ms (destroyed by leave_hub). */
GSource *
BinState::every_session (guint ms, void (PeerSession::*what) ())
{
  struct Tick
  {
    BinState *state;
    void (PeerSession::*what) ();
  };
  GSource *source = g_timeout_source_new (ms);
  g_source_set_callback (
      source,
      [] (gpointer data) -> gboolean {
        auto *tick = static_cast<Tick *> (data);
        for (auto &[id, session] : tick->state->sessions)
          ((*session).*(tick->what)) ();
        return G_SOURCE_CONTINUE;
      },
      new Tick{this, what},
      [] (gpointer data) { delete static_cast<Tick *> (data); });
  g_source_attach (source, ctx);
  return source;
}

void
BinState::leave_hub ()
{
  stop_rejoin_timer ();
  for (GSource **source : {&stats_source, &feedback_source}) {
    if (*source) {
      g_source_destroy (*source);
      g_source_unref (*source);
      *source = nullptr;
    }
  }
  auto all = std::move (sessions);
  sessions.clear ();
  for (auto &[id, session] : all)
    session->stop ();
  if (client)
    client->stop ();
  client.reset ();
  calls = CallTable ();
  my_id.clear ();
}

void
BinState::on_connected (const std::string &id, bool reconnected)
{
  GST_INFO_OBJECT (self, "on the hub as %s (connection %s)%s",
                   settings.username.c_str (), id.c_str (),
                   reconnected ? ", again" : "");
  my_id = id;
  /* A new connection id: the old roster is gone; calls in progress go on
   * (their media does not pass through the hub) until their users show up
   * again with new ids, which re-keys them (user_present). */
  calls.hub_connected ();
  arm_rejoin_timer ();
  client->invoke ("NewUser", {JsonValue::from_string (settings.username)},
                  [this] (const JsonValue &, const GError *error) {
                    if (error)
                      GST_WARNING_OBJECT (self, "NewUser failed: %s",
                                          error->message);
                  });
  post (gst_structure_new ("signalrtc-hub-connected", "connection-id",
                           G_TYPE_STRING, id.c_str (), "reconnected",
                           G_TYPE_BOOLEAN, reconnected, nullptr));
}

/* A user whose call went on through our new hub connection must show up
 * again (with a new connection id, which re-keys the call) within
 * rejoin-timeout: one who never does is gone (killed while the hub was
 * away, say), and nothing else would end the call: the hub that knew them,
 * and would have said UserDisconnect, is not the one we are on now, and a
 * peer that vanished sends nothing that webrtcbin 1.22 would notice (no
 * ICE consent freshness). */
void
BinState::arm_rejoin_timer ()
{
  stop_rejoin_timer ();
  if (!settings.rejoin_timeout || calls.calls_from_before ().empty ())
    return;
  rejoin_source = g_timeout_source_new_seconds (settings.rejoin_timeout);
  g_source_set_callback (
      rejoin_source,
      [] (gpointer data) -> gboolean {
        static_cast<BinState *> (data)->rejoin_timed_out ();
        return G_SOURCE_REMOVE;
      },
      this, nullptr);
  g_source_attach (rejoin_source, ctx);
}

void
BinState::stop_rejoin_timer ()
{
  if (!rejoin_source)
    return;
  g_source_destroy (rejoin_source);
  g_source_unref (rejoin_source);
  rejoin_source = nullptr;
}

void
BinState::rejoin_timed_out ()
{
  g_source_unref (rejoin_source);
  rejoin_source = nullptr;
  const std::string why = "the user did not come back to the hub within "
                          + std::to_string (settings.rejoin_timeout) + " s";
  for (const std::string &id : calls.calls_from_before ())
    end_session (id, why);
}

void
BinState::on_disconnected (const GError *error, bool will_reconnect)
{
  if (!error)
    return; /* we stopped */
  if (will_reconnect) {
    GST_ELEMENT_WARNING (
        self, RESOURCE, READ,
        ("Lost the hub at %s; trying again", settings.hub_url.c_str ()),
        ("%s", error->message));
  } else {
    GST_ELEMENT_ERROR (
        self, RESOURCE, OPEN_READ,
        ("Could not reach the hub at %s", settings.hub_url.c_str ()),
        ("%s", error->message));
  }
  post (gst_structure_new ("signalrtc-hub-lost", "error", G_TYPE_STRING,
                           error->message, "will-reconnect", G_TYPE_BOOLEAN,
                           will_reconnect, nullptr));
}

void
BinState::user_present (const std::string &id, const std::string &name)
{
  if (id == my_id)
    return;
  CallTable::Presence p = calls.user_present (id, name);
  if (p.joined)
    post (gst_structure_new ("signalrtc-user-joined", "username", G_TYPE_STRING,
                             name.c_str (), "connection-id", G_TYPE_STRING,
                             id.c_str (), nullptr));
  if (p.rekey_from)
    rekey (*p.rekey_from, id);
  else if (p.dial)
    dial (id);
}

void
BinState::dial (const std::string &id)
{
  GST_INFO_OBJECT (self, "calling %s (%s)", name_of (id).c_str (), id.c_str ());
  start_session (id, true);
}

/* The user of a call in progress is back on the hub as @to. */
void
BinState::rekey (const std::string &from, const std::string &to)
{
  auto it = sessions.find (from);
  if (it == sessions.end ())
    return;
  auto session = it->second;
  sessions.erase (it);
  sessions[to] = session;
  session->set_connection_id (to);
  GST_INFO_OBJECT (self, "the call with %s goes on: %s is now %s",
                   session->username ().c_str (), from.c_str (), to.c_str ());
  post (gst_structure_new ("signalrtc-peer-rejoined", "username", G_TYPE_STRING,
                           session->username ().c_str (), "connection-id",
                           G_TYPE_STRING, to.c_str (),
                           "previous-connection-id", G_TYPE_STRING,
                           from.c_str (), nullptr));
}

void
BinState::on_user_disconnect (const std::string &id)
{
  std::string name = name_of (id);
  if (calls.user_left (id))
    post (gst_structure_new ("signalrtc-user-left", "username", G_TYPE_STRING,
                             name.c_str (), "connection-id", G_TYPE_STRING,
                             id.c_str (), nullptr));
  end_session (id, "the user left the hub");
}

std::string
BinState::name_of (const std::string &id) const
{
  return calls.name_of (id);
}

void
BinState::on_signal (const std::string &from, const std::string &text)
{
  g_autoptr (GError) error = nullptr;
  auto signal = parse_peer_signal (text, &error);
  auto it = sessions.find (from);
  if (!signal) {
    GST_ELEMENT_WARNING (
        self, STREAM, DECODE,
        ("Ignoring a malformed signal from %s", name_of (from).c_str ()),
        ("connection %s: %s", from.c_str (), error->message));
    if (it != sessions.end ())
      end_session (from, "it sent a malformed signal");
    return;
  }
  if (it == sessions.end ()) {
    if (signal->type != PeerSignal::Type::Offer) {
      GST_DEBUG_OBJECT (self, "%s signal from %s without a call: ignored",
                        peer_signal_type_name (signal->type), from.c_str ());
      return;
    }
    std::string name = name_of (from);
    if (auto why = calls.refusal (name)) {
      GST_INFO_OBJECT (self, "refusing a call from %s: %s", name.c_str (),
                       why->c_str ());
      post (gst_structure_new ("signalrtc-call-rejected", "username",
                               G_TYPE_STRING, name.c_str (), "connection-id",
                               G_TYPE_STRING, from.c_str (), "reason",
                               G_TYPE_STRING, why->c_str (), nullptr));
      return;
    }
    auto session = start_session (from, false);
    if (!session)
      return;
    session->handle_signal (*signal);
    return;
  }
  /* Keep the session alive while it handles the signal: a failure ends
   * (erases) it from inside. */
  auto session = it->second;
  session->handle_signal (*signal);
}

std::shared_ptr<PeerSession>
BinState::start_session (const std::string &id, bool initiator)
{
  PeerSession::Config config;
  config.connection_id = id;
  config.username = name_of (id);
  config.initiator = initiator;
  config.decode = settings.decode;
  config.receive = GST_SIGNALRTC_BASE_BIN_GET_CLASS (self)->receives;
  config.stable_pad_names
      = GST_SIGNALRTC_BASE_BIN_GET_CLASS (self)->single_peer;
  config.latency_ms = settings.latency;
  config.stun_server = settings.stun;
  config.turn_server = settings.turn;
  config.relay_only = settings.relay_only;
  config.local_addresses = settings.local_addresses;
  config.setup_timeout_ms = settings.setup_timeout * 1000;
  if (settings.congestion_control) {
    /* The estimate covers all the call sends: room for the audio above
     * the video's bounds. A call starts at video-bitrate. */
    const guint max = settings.max_bitrate + SendInput::kAudioBitrate;
    config.congestion = BandwidthEstimator::Config{
        settings.min_bitrate, max,
        CLAMP (settings.video_bitrate + SendInput::kAudioBitrate,
               settings.min_bitrate, max)};
  }
  auto session = PeerSession::create (GST_BIN (self), this, config);
  sessions[id] = session;
  calls.start_call (id, config.username);
  g_autoptr (GError) error = nullptr;
  if (!session->start (&error)) {
    sessions.erase (id);
    calls.end_call (id);
    GST_ELEMENT_ERROR (self, CORE, MISSING_PLUGIN, ("%s", error->message),
                       (nullptr));
    return nullptr;
  }
  return session;
}

void
BinState::end_session (const std::string &id, const std::string &reason)
{
  auto it = sessions.find (id);
  if (it == sessions.end ())
    return;
  auto session = it->second;
  sessions.erase (it);
  auto next = calls.end_call (id);
  GST_INFO_OBJECT (self, "ending the call with %s (%s): %s",
                   session->username ().c_str (), id.c_str (), reason.c_str ());
  session->stop ();
  /* The others' links may carry more than this one's did. */
  update_encoders ();
  post (gst_structure_new ("signalrtc-peer-disconnected", "username",
                           G_TYPE_STRING, session->username ().c_str (),
                           "connection-id", G_TYPE_STRING, id.c_str (),
                           "reason", G_TYPE_STRING, reason.c_str (), nullptr));
  /* signalrtcsrc is the stream of its one call: its src pads have just sent
   * EOS, and the element ends with them, so that a pipeline recording it
   * finishes (gst-launch exits). */
  if (GST_SIGNALRTC_BASE_BIN_GET_CLASS (self)->single_peer && !has_inputs ()
      && had_media) {
    GST_INFO_OBJECT (self, "the call has ended: posting EOS");
    post_eos ();
    return;
  }
  if (next)
    dial (*next);
}

bool
BinState::send_message (const std::string &peer, const std::string &text)
{
  bool matched = false, taken = false;
  for (auto &[id, session] : sessions) {
    if (peer.empty () || peer == id || peer == session->username ()) {
      matched = true;
      taken |= session->send_message (text);
    }
  }
  /* To everyone with nobody there: nothing is lost, nothing to say. */
  if (!taken && (matched || !peer.empty ())) {
    const std::string who = peer.empty () ? "anyone" : peer;
    GST_ELEMENT_WARNING (
        self, RESOURCE, WRITE,
        ("Chat message not sent: %s", matched
                                          ? ("the call with " + who
                                             + " has ended")
                                                .c_str ()
                                          : ("no call with " + who).c_str ()),
        ("text: %s", text.c_str ()));
  }
  return taken;
}

/* Streaming thread. Once every input has ended, the bin is at its end too:
 * say so, or a pipeline (gst-launch -e, num-buffers) would wait forever for
 * the EOS of webrtcbin's network sinks, or of no sink at all. */
void
BinState::on_input_eos ()
{
  {
    std::lock_guard<std::mutex> lock (inputs_lock);
    for (auto &input : inputs) {
      if (!input->eos ())
        return;
    }
  }
  GST_INFO_OBJECT (self, "every input has ended: posting EOS");
  post_eos ();
}

bool
BinState::has_inputs ()
{
  std::lock_guard<std::mutex> lock (inputs_lock);
  return !inputs.empty ();
}

void
BinState::post_eos ()
{
  if (eos_posted.exchange (true))
    return;
  gst_element_post_message (GST_ELEMENT (self),
                            gst_message_new_eos (GST_OBJECT (self)));
}

void
BinState::send_signal (const std::string &connection_id,
                       const PeerSignal &signal)
{
  if (!client || client->state () != HubClient::State::Connected) {
    GST_DEBUG_OBJECT (self, "hub down: dropping a %s for %s",
                      peer_signal_type_name (signal.type),
                      connection_id.c_str ());
    return;
  }
  client->invoke ("SendSignal",
                  {JsonValue::from_string (serialize_peer_signal (signal)),
                   JsonValue::from_string (connection_id)},
                  [this, connection_id] (const JsonValue &, const GError *e) {
                    if (e)
                      GST_WARNING_OBJECT (self, "SendSignal to %s failed: %s",
                                          connection_id.c_str (), e->message);
                  });
  /* When each call's offer and answer went out: what call-setup timings
   * start from (tests/bench/setup-bench.mjs). */
  if (signal.type != PeerSignal::Type::Offer
      && signal.type != PeerSignal::Type::Answer)
    return;
  auto it = sessions.find (connection_id);
  std::string name = it != sessions.end () ? it->second->username ()
                                           : name_of (connection_id);
  post (gst_structure_new ("signalrtc-sdp-sent", "username", G_TYPE_STRING,
                           name.c_str (), "connection-id", G_TYPE_STRING,
                           connection_id.c_str (), "type", G_TYPE_STRING,
                           peer_signal_type_name (signal.type), "sdp",
                           G_TYPE_STRING, signal.sdp.c_str (), nullptr));
}

std::vector<SendInput *>
BinState::send_inputs ()
{
  std::lock_guard<std::mutex> lock (inputs_lock);
  std::vector<SendInput *> out;
  for (auto &i : inputs)
    out.push_back (i.get ());
  return out;
}

void
BinState::session_connected (PeerSession &session)
{
  GST_INFO_OBJECT (self, "in a call with %s (%s)", session.username ().c_str (),
                   session.connection_id ().c_str ());
  for (SendInput *input : send_inputs ())
    input->request_key_frame ();
  /* With a ladder, each call asks its own rendition's encoder. */
  session.request_key_frames ();
  post (gst_structure_new ("signalrtc-peer-connected", "username",
                           G_TYPE_STRING, session.username ().c_str (),
                           "connection-id", G_TYPE_STRING,
                           session.connection_id ().c_str (), nullptr));
}

void
BinState::session_failed (PeerSession &session, const std::string &why)
{
  GST_ELEMENT_WARNING (self, STREAM, FAILED,
                       ("Dropping the call with %s: %s",
                        session.username ().c_str (), why.c_str ()),
                       ("connection %s", session.connection_id ().c_str ()));
  end_session (session.connection_id (), why);
}

void
BinState::message_received (PeerSession &session, const std::string &text)
{
  post (gst_structure_new ("signalrtc-message", "username", G_TYPE_STRING,
                           session.username ().c_str (), "connection-id",
                           G_TYPE_STRING, session.connection_id ().c_str (),
                           "text", G_TYPE_STRING, text.c_str (), nullptr));
  g_signal_emit (self, signals[SIGNAL_MESSAGE_RECEIVED], 0,
                 session.connection_id ().c_str (),
                 session.username ().c_str (), text.c_str ());
}

void
BinState::track_added (PeerSession &session, GstPad *pad,
                       const std::string &kind)
{
  had_media = true;
  post (gst_structure_new (
      "signalrtc-track", "pad-name", G_TYPE_STRING, GST_PAD_NAME (pad), "kind",
      G_TYPE_STRING, kind.c_str (), "username", G_TYPE_STRING,
      session.username ().c_str (), "connection-id", G_TYPE_STRING,
      session.connection_id ().c_str (), nullptr));
}

void
BinState::peer_stats (PeerSession &, GstStructure *stats)
{
  post (stats);
  /* The losses were measured again. */
  update_encoders ();
}

void
BinState::bandwidth_changed (PeerSession &)
{
  update_encoders ();
}

/* One encoder serves every call: it makes what the narrowest link
 * carries, and a call on a wide link gets no more than that. (A ladder of
 * renditions, each call taking the one its own link carries, is the way
 * past this.) */
void
BinState::update_encoders ()
{
  if (!settings.congestion_control)
    return;
  std::vector<std::uint32_t> estimates;
  for (auto &[id, session] : sessions) {
    if (std::uint32_t e = session->bandwidth_estimate ())
      estimates.push_back (e);
  }
  bool audio = false;
  for (SendInput *input : send_inputs ())
    audio |= input->kind () == "audio";
  const guint bitrate = shared_video_bitrate (
      estimates, audio ? SendInput::kAudioBitrate : 0, settings.min_bitrate,
      settings.max_bitrate, settings.video_bitrate);
  /* Opus protects against the worst call's loss. */
  double worst = 0;
  for (auto &[id, session] : sessions)
    worst = MAX (worst, session->fraction_lost ());
  const guint loss_percent = (guint)CLAMP (worst * 100.0 + 0.5, 0.0, 100.0);
  for (SendInput *input : send_inputs ()) {
    input->set_bitrate (bitrate);
    input->set_packet_loss (loss_percent);
  }
}

/* ---- GObject ----------------------------------------------------------- */

static void
gst_signalrtc_base_bin_init (GstSignalrtcBaseBin *self)
{
  auto *priv = (GstSignalrtcBaseBinPrivate *)
      gst_signalrtc_base_bin_get_instance_private (self);
  priv->state = new BinState (self);
  GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SOURCE);
}

static void
gst_signalrtc_base_bin_finalize (GObject *object)
{
  BinState *st = state_of (GST_SIGNALRTC_BASE_BIN (object));
  for (gchar *s : {st->hub_url, st->username, st->access_token, st->call,
                   st->allowed_users, st->stun_server, st->turn_server,
                   st->local_addresses})
    g_free (s);
  delete st;
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_signalrtc_base_bin_set_property (GObject *object, guint prop_id,
                                     const GValue *value, GParamSpec *pspec)
{
  BinState *st = state_of (GST_SIGNALRTC_BASE_BIN (object));
  GST_OBJECT_LOCK (object);
  auto set_string = [value] (gchar *&field) {
    g_free (field);
    field = g_value_dup_string (value);
  };
  switch (prop_id) {
  case PROP_HUB_URL:
    set_string (st->hub_url);
    break;
  case PROP_USERNAME:
    set_string (st->username);
    break;
  case PROP_ACCESS_TOKEN:
    set_string (st->access_token);
    break;
  case PROP_CALL:
    set_string (st->call);
    break;
  case PROP_ALLOWED_USERS:
    set_string (st->allowed_users);
    break;
  case PROP_STUN_SERVER:
    set_string (st->stun_server);
    break;
  case PROP_TURN_SERVER:
    set_string (st->turn_server);
    break;
  case PROP_ICE_TRANSPORT_POLICY:
    st->ice_transport_policy
        = (GstWebRTCICETransportPolicy)g_value_get_enum (value);
    break;
  case PROP_LOCAL_ADDRESSES:
    set_string (st->local_addresses);
    break;
  case PROP_AUTO_ANSWER:
    st->auto_answer = g_value_get_boolean (value);
    break;
  case PROP_DECODE:
    st->decode = g_value_get_boolean (value);
    break;
  case PROP_RECONNECT:
    st->reconnect = g_value_get_boolean (value);
    break;
  case PROP_MAX_PEERS:
    st->max_peers = g_value_get_uint (value);
    break;
  case PROP_VIDEO_BITRATE:
    st->video_bitrate = g_value_get_uint (value);
    break;
  case PROP_LATENCY:
    st->latency = g_value_get_uint (value);
    break;
  case PROP_STATS_INTERVAL:
    st->stats_interval = g_value_get_uint (value);
    break;
  case PROP_SETUP_TIMEOUT:
    st->setup_timeout = g_value_get_uint (value);
    break;
  case PROP_REJOIN_TIMEOUT:
    st->rejoin_timeout = g_value_get_uint (value);
    break;
  case PROP_VIDEO_CODEC:
    st->video_codec = (GstSignalrtcVideoCodec)g_value_get_enum (value);
    break;
  case PROP_CONGESTION_CONTROL:
    st->congestion_control
        = (GstSignalrtcCongestionControl)g_value_get_enum (value);
    break;
  case PROP_MIN_BITRATE:
    st->min_bitrate = g_value_get_uint (value);
    break;
  case PROP_MAX_BITRATE:
    st->max_bitrate = g_value_get_uint (value);
    break;
  case PROP_VIDEO_RENDITIONS: {
    const char *spec = g_value_get_string (value);
    std::vector<Rendition> boxes;
    std::string error;
    if (RenditionLadder::parse (spec ? spec : "", boxes, error)) {
      st->video_renditions = spec ? spec : "";
    } else {
      GST_OBJECT_UNLOCK (object);
      GST_ELEMENT_WARNING (object, LIBRARY, SETTINGS,
                           ("video-renditions left as it was: %s",
                            error.c_str ()),
                           (nullptr));
      return;
    }
    break;
  }
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    break;
  }
  GST_OBJECT_UNLOCK (object);
}

static void
gst_signalrtc_base_bin_get_property (GObject *object, guint prop_id,
                                     GValue *value, GParamSpec *pspec)
{
  BinState *st = state_of (GST_SIGNALRTC_BASE_BIN (object));
  GST_OBJECT_LOCK (object);
  switch (prop_id) {
  case PROP_HUB_URL:
    g_value_set_string (value, st->hub_url);
    break;
  case PROP_USERNAME:
    g_value_set_string (value,
                        st->username ? st->username : GST_OBJECT_NAME (object));
    break;
  case PROP_ACCESS_TOKEN:
    g_value_set_string (value, st->access_token);
    break;
  case PROP_CALL:
    g_value_set_string (value, st->call);
    break;
  case PROP_ALLOWED_USERS:
    g_value_set_string (value, st->allowed_users);
    break;
  case PROP_STUN_SERVER:
    g_value_set_string (value, st->stun_server);
    break;
  case PROP_TURN_SERVER:
    g_value_set_string (value, st->turn_server);
    break;
  case PROP_ICE_TRANSPORT_POLICY:
    g_value_set_enum (value, st->ice_transport_policy);
    break;
  case PROP_LOCAL_ADDRESSES:
    g_value_set_string (value, st->local_addresses);
    break;
  case PROP_AUTO_ANSWER:
    g_value_set_boolean (value, st->auto_answer);
    break;
  case PROP_DECODE:
    g_value_set_boolean (value, st->decode);
    break;
  case PROP_RECONNECT:
    g_value_set_boolean (value, st->reconnect);
    break;
  case PROP_MAX_PEERS:
    g_value_set_uint (value, st->max_peers);
    break;
  case PROP_VIDEO_BITRATE:
    g_value_set_uint (value, st->video_bitrate);
    break;
  case PROP_LATENCY:
    g_value_set_uint (value, st->latency);
    break;
  case PROP_STATS_INTERVAL:
    g_value_set_uint (value, st->stats_interval);
    break;
  case PROP_SETUP_TIMEOUT:
    g_value_set_uint (value, st->setup_timeout);
    break;
  case PROP_REJOIN_TIMEOUT:
    g_value_set_uint (value, st->rejoin_timeout);
    break;
  case PROP_VIDEO_CODEC:
    g_value_set_enum (value, st->video_codec);
    break;
  case PROP_CONGESTION_CONTROL:
    g_value_set_enum (value, st->congestion_control);
    break;
  case PROP_MIN_BITRATE:
    g_value_set_uint (value, st->min_bitrate);
    break;
  case PROP_MAX_BITRATE:
    g_value_set_uint (value, st->max_bitrate);
    break;
  case PROP_VIDEO_RENDITIONS:
    g_value_set_string (value, st->video_renditions.c_str ());
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    break;
  }
  GST_OBJECT_UNLOCK (object);
}

/* A bin with inputs consumes data: it is a sink, and its EOS (posted when
 * every input has ended) must count for the pipeline's EOS. GstBin only
 * flags a bin SINK while it holds sink children (the calls' webrtcbins),
 * and a pipeline ignores EOS from a child that is not flagged, so with no
 * call in progress a finished stream would never end the pipeline. Called
 * whenever an input or a child comes or goes: SINK while there are inputs
 * or sink children. */
static void
update_sink_flag (GstBin *bin)
{
  const bool has_inputs
      = state_of (GST_SIGNALRTC_BASE_BIN (bin))->has_inputs ();
  GST_OBJECT_LOCK (bin);
  bool sink = has_inputs;
  for (GList *l = GST_BIN_CHILDREN (bin); l && !sink; l = l->next)
    sink = GST_OBJECT_FLAG_IS_SET (l->data, GST_ELEMENT_FLAG_SINK);
  if (sink)
    GST_OBJECT_FLAG_SET (bin, GST_ELEMENT_FLAG_SINK);
  else
    GST_OBJECT_FLAG_UNSET (bin, GST_ELEMENT_FLAG_SINK);
  GST_OBJECT_UNLOCK (bin);
}

static gboolean
gst_signalrtc_base_bin_remove_element (GstBin *bin, GstElement *element)
{
  gboolean removed
      = GST_BIN_CLASS (parent_class)->remove_element (bin, element);
  update_sink_flag (bin);
  return removed;
}

static GstPad *
gst_signalrtc_base_bin_request_new_pad (GstElement *element,
                                        GstPadTemplate *templ,
                                        const gchar *name, const GstCaps *caps)
{
  auto *self = GST_SIGNALRTC_BASE_BIN (element);
  BinState *st = state_of (self);
  const bool video = g_str_has_prefix (templ->name_template, "video");
  const char *kind = video ? "video" : "audio";

  GST_OBJECT_LOCK (self);
  GstSignalrtcVideoCodec codec = st->video_codec;
  guint bitrate = st->video_bitrate;
  std::vector<Rendition> ladder;
  if (video && st->congestion_control != GST_SIGNALRTC_CONGESTION_CONTROL_NONE) {
    std::string error;
    RenditionLadder::parse (st->video_renditions, ladder, error);
  }
  GST_OBJECT_UNLOCK (self);
  const char *encoding = !video                                    ? "OPUS"
                         : codec == GST_SIGNALRTC_VIDEO_CODEC_VP9  ? "VP9"
                         : codec == GST_SIGNALRTC_VIDEO_CODEC_H264 ? "H264"
                                                                   : "VP8";

  std::string pad_name;
  {
    std::lock_guard<std::mutex> lock (st->inputs_lock);
    guint &next = st->next_pad[video ? 0 : 1];
    if (name) {
      guint n;
      if (sscanf (name, video ? "video_%u" : "audio_%u", &n) != 1) {
        GST_WARNING_OBJECT (self, "pad name %s does not fit %s", name,
                            templ->name_template);
        return nullptr;
      }
      for (auto &in : st->inputs) {
        if (g_str_equal (GST_PAD_NAME (in->ghost_pad ()), name)) {
          GST_WARNING_OBJECT (self, "pad %s exists already", name);
          return nullptr;
        }
      }
      next = MAX (next, n + 1);
      pad_name = name;
    } else {
      pad_name = std::string (kind) + "_" + std::to_string (next++);
    }
  }

  auto input = std::make_unique<SendInput> (
      GST_BIN (self), pad_name, kind, encoding, video ? bitrate : 0,
      [st] { st->on_input_eos (); }, std::move (ladder));
  GstPad *pad = input->ghost_pad ();
  {
    std::lock_guard<std::mutex> lock (st->inputs_lock);
    st->inputs.push_back (std::move (input));
  }
  gst_pad_set_active (pad, TRUE);
  gst_element_add_pad (element, pad);
  update_sink_flag (GST_BIN (self));
  return pad;
}

static void
gst_signalrtc_base_bin_release_pad (GstElement *element, GstPad *pad)
{
  auto *self = GST_SIGNALRTC_BASE_BIN (element);
  BinState *st = state_of (self);
  std::unique_ptr<SendInput> input;
  {
    std::lock_guard<std::mutex> lock (st->inputs_lock);
    for (auto it = st->inputs.begin (); it != st->inputs.end (); ++it) {
      if ((*it)->ghost_pad () == pad) {
        input = std::move (*it);
        st->inputs.erase (it);
        break;
      }
    }
  }
  if (!input)
    return;
  /* Calls in progress hang on this input's tee: end them first. */
  if (st->thread) {
    st->invoke_sync ([st] {
      std::vector<std::string> ids;
      for (auto &[id, s] : st->sessions)
        ids.push_back (id);
      for (auto &id : ids)
        st->end_session (id, "an input of ours went away");
    });
  }
  gst_element_remove_pad (element, pad);
  update_sink_flag (GST_BIN (self));
}

/* The webrtcbins of the calls that are connected, each with a ref. */
static std::vector<GstElement *>
connected_webrtcbins (GstBin *bin)
{
  std::vector<GstElement *> out;
  GST_OBJECT_LOCK (bin);
  for (GList *l = GST_BIN_CHILDREN (bin); l; l = l->next) {
    GstElementFactory *f = gst_element_get_factory (GST_ELEMENT (l->data));
    if (f && g_str_equal (GST_OBJECT_NAME (f), "webrtcbin"))
      out.push_back (GST_ELEMENT (gst_object_ref (l->data)));
  }
  GST_OBJECT_UNLOCK (bin);
  std::erase_if (out, [] (GstElement *webrtc) {
    GstWebRTCPeerConnectionState state;
    g_object_get (webrtc, "connection-state", &state, nullptr);
    if (state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED)
      return false;
    gst_object_unref (webrtc);
    return true;
  });
  return out;
}

/* Application thread. EOS sent to the element (gst-launch -e on Ctrl-C,
 * gst_element_send_event) goes to the webrtcbins of the connected calls,
 * whose network sources end every received track with EOS down its pad;
 * inputs end when their own sources get it. A call still being set up gets
 * none: its webrtcbin's pads wait for negotiation, and the EOS (GstBin's
 * default, to every source inside) would wait with them, and the
 * application thread with it. A bin without inputs then posts its EOS
 * itself, or the pipeline would wait for it for ever. Other events: as
 * GstBin does. */
static gboolean
gst_signalrtc_base_bin_send_event (GstElement *element, GstEvent *event)
{
  if (GST_EVENT_TYPE (event) != GST_EVENT_EOS)
    return GST_ELEMENT_CLASS (parent_class)->send_event (element, event);
  for (GstElement *webrtc : connected_webrtcbins (GST_BIN (element))) {
    gst_element_send_event (webrtc, gst_event_ref (event));
    gst_object_unref (webrtc);
  }
  gst_event_unref (event);
  BinState *st = state_of (GST_SIGNALRTC_BASE_BIN (element));
  if (!st->has_inputs ()) {
    GST_INFO_OBJECT (element, "EOS sent to us: posting EOS");
    st->post_eos ();
  }
  return TRUE;
}

static GstStateChangeReturn
gst_signalrtc_base_bin_change_state (GstElement *element,
                                     GstStateChange transition)
{
  auto *self = GST_SIGNALRTC_BASE_BIN (element);
  BinState *st = state_of (self);

  switch (transition) {
  case GST_STATE_CHANGE_NULL_TO_READY: {
    GST_OBJECT_LOCK (self);
    std::string url = st->hub_url ? st->hub_url : "";
    GST_OBJECT_UNLOCK (self);
    g_autoptr (GError) error = nullptr;
    if (url.empty () || !HubClient::validate_url (url, &error)) {
      GST_ELEMENT_ERROR (
          self, RESOURCE, SETTINGS,
          ("Invalid hub-url '%s': give the http(s) URL of the hub, e.g. "
           "http://127.0.0.1:5000/signalrtc",
           url.c_str ()),
          ("%s", error ? error->message : "hub-url is not set"));
      return GST_STATE_CHANGE_FAILURE;
    }
    st->start_thread ();
    break;
  }
  case GST_STATE_CHANGE_READY_TO_PAUSED:
    st->invoke_sync ([st] { st->join_hub (); });
    break;
  default:
    break;
  }

  GstStateChangeReturn ret
      = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE)
    return ret;

  switch (transition) {
  case GST_STATE_CHANGE_READY_TO_PAUSED:
  case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
    /* Remote media is live: nothing to preroll. */
    ret = GST_STATE_CHANGE_NO_PREROLL;
    break;
  case GST_STATE_CHANGE_PAUSED_TO_READY:
    st->invoke_sync ([st] { st->leave_hub (); });
    st->eos_posted = false;
    st->had_media = false;
    break;
  case GST_STATE_CHANGE_READY_TO_NULL:
    st->stop_thread ();
    break;
  default:
    break;
  }
  return ret;
}

/* The child of @bin that holds @object (or is it), if it is a call's
 * webrtcbin; a new reference. */
static GstElement *
call_webrtcbin_of (GstBin *bin, GstObject *object)
{
  GstObject *child = object ? GST_OBJECT (gst_object_ref (object)) : nullptr;
  while (child) {
    GstObject *parent = gst_object_get_parent (child);
    if (parent == GST_OBJECT (bin)) {
      gst_object_unref (parent);
      break;
    }
    gst_object_unref (child);
    child = parent;
  }
  if (child && g_str_equal (G_OBJECT_TYPE_NAME (child), "GstWebRTCBin"))
    return GST_ELEMENT (child);
  if (child)
    gst_object_unref (child);
  return nullptr;
}

/* Any thread. An error inside one call's webrtcbin (the SCTP association of
 * a browser that closed the call, a DTLS failure, ...) ends that call; it
 * must not reach the application, which would stop the pipeline and every
 * other call with it. */
static void
gst_signalrtc_base_bin_handle_message (GstBin *bin, GstMessage *message)
{
  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ERROR) {
    GstElement *webrtc = call_webrtcbin_of (bin, GST_MESSAGE_SRC (message));
    if (webrtc) {
      BinState *st = state_of (GST_SIGNALRTC_BASE_BIN (bin));
      g_autoptr (GError) error = nullptr;
      g_autofree gchar *debug = nullptr;
      gst_message_parse_error (message, &error, &debug);
      GST_INFO_OBJECT (bin, "error in %s, ending that call: %s (%s)",
                       GST_OBJECT_NAME (webrtc), error->message,
                       debug ? debug : "");
      /* The hub thread owns the sessions; the bin's state outlives its
       * hub thread (stop_thread runs or frees what is queued). */
      auto held = std::shared_ptr<GstElement> (webrtc, gst_object_unref);
      st->run_on_hub ([st, held, why = std::string (error->message)] {
        for (auto &[id, session] : st->sessions) {
          if (session->webrtcbin () == held.get ()) {
            st->session_failed (*session, why);
            break;
          }
        }
      });
      gst_message_unref (message);
      return;
    }
  }
  GST_BIN_CLASS (parent_class)->handle_message (bin, message);
}

/* Any thread but a streaming thread of this element: it waits for the hub
 * thread. */
static gboolean
gst_signalrtc_base_bin_send_message (GstSignalrtcBaseBin *self,
                                     const gchar *peer, const gchar *text)
{
  BinState *st = state_of (self);
  if (!text)
    return FALSE;
  std::string p = peer ? peer : "", t = text;
  bool taken = false;
  if (!st->invoke_sync ([&] { taken = st->send_message (p, t); })
      && !p.empty ())
    GST_ELEMENT_WARNING (self, RESOURCE, WRITE,
                         ("Chat message not sent: not on the hub (the "
                          "element is not started)"),
                         ("text: %s", text));
  return taken;
}

static void
gst_signalrtc_base_bin_class_init (GstSignalrtcBaseBinClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  const auto flags
      = (GParamFlags)(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
                      | GST_PARAM_MUTABLE_READY | GST_PARAM_DOC_SHOW_DEFAULT);

  gobject_class->set_property = gst_signalrtc_base_bin_set_property;
  gobject_class->get_property = gst_signalrtc_base_bin_get_property;
  gobject_class->finalize = gst_signalrtc_base_bin_finalize;
  GST_BIN_CLASS (klass)->handle_message
      = GST_DEBUG_FUNCPTR (gst_signalrtc_base_bin_handle_message);
  GST_BIN_CLASS (klass)->remove_element
      = GST_DEBUG_FUNCPTR (gst_signalrtc_base_bin_remove_element);

  /**
   * GstSignalrtcBaseBin:hub-url:
   *
   * http(s) URL of the SignalRtc hub, path included, e.g.
   * http://127.0.0.1:5000/signalrtc. Required.
   */
  g_object_class_install_property (
      gobject_class, PROP_HUB_URL,
      g_param_spec_string ("hub-url", "Hub URL",
                           "http(s) URL of the SignalRtc hub, e.g. "
                           "http://127.0.0.1:5000/signalrtc",
                           nullptr, flags));
  g_object_class_install_property (
      gobject_class, PROP_USERNAME,
      g_param_spec_string ("username", "User name",
                           "Name this element has on the hub (default: the "
                           "element's name)",
                           nullptr, flags));
  g_object_class_install_property (
      gobject_class, PROP_ACCESS_TOKEN,
      g_param_spec_string ("access-token", "Access token",
                           "Bearer token given to the hub, if it wants one",
                           nullptr, flags));
  g_object_class_install_property (
      gobject_class, PROP_CALL,
      g_param_spec_string ("call", "Call",
                           "User name to call as soon as that user is on "
                           "the hub: one call with that user at a time, "
                           "within max-peers and allowed-users; when it "
                           "ends, another connection of that name is called",
                           nullptr, flags));
  g_object_class_install_property (
      gobject_class, PROP_AUTO_ANSWER,
      g_param_spec_boolean ("auto-answer", "Auto answer",
                            "Answer calls from other users (subject to "
                            "allowed-users and max-peers)",
                            DEFAULT_AUTO_ANSWER, flags));
  g_object_class_install_property (
      gobject_class, PROP_ALLOWED_USERS,
      g_param_spec_string ("allowed-users", "Allowed users",
                           "Comma-separated user names whose calls are "
                           "answered (empty: anyone)",
                           nullptr, flags));
  g_object_class_install_property (
      gobject_class, PROP_MAX_PEERS,
      g_param_spec_uint ("max-peers", "Max peers",
                         "Most calls at once; further callers are refused "
                         "(0: no limit)",
                         0, G_MAXUINT, DEFAULT_MAX_PEERS, flags));
  g_object_class_install_property (
      gobject_class, PROP_STUN_SERVER,
      g_param_spec_string ("stun-server", "STUN server",
                           "STUN server, stun://host:port (none by default)",
                           nullptr, flags));
  g_object_class_install_property (
      gobject_class, PROP_TURN_SERVER,
      g_param_spec_string ("turn-server", "TURN server",
                           "TURN server, turn(s)://user:password@host:port "
                           "(none by default; ?transport=tcp for TURN over "
                           "TCP)",
                           nullptr, flags));
  g_object_class_install_property (
      gobject_class, PROP_ICE_TRANSPORT_POLICY,
      g_param_spec_enum ("ice-transport-policy", "ICE transport policy",
                         "Which candidates calls use: all, or relay (only "
                         "the TURN server's: media always goes through it, "
                         "and no address of this host is told to peers)",
                         GST_TYPE_WEBRTC_ICE_TRANSPORT_POLICY,
                         GST_WEBRTC_ICE_TRANSPORT_POLICY_ALL, flags));
  g_object_class_install_property (
      gobject_class, PROP_VIDEO_CODEC,
      g_param_spec_enum ("video-codec", "Video codec",
                         "Codec raw video input is encoded to (encoded input "
                         "must already be in it)",
                         GST_TYPE_SIGNALRTC_VIDEO_CODEC, DEFAULT_VIDEO_CODEC,
                         flags));
  g_object_class_install_property (
      gobject_class, PROP_VIDEO_BITRATE,
      g_param_spec_uint ("video-bitrate", "Video bitrate",
                         "Bitrate of video encoded here, in bit/s: with "
                         "congestion-control=none all of the time; with gcc "
                         "where each call's estimate starts (and, without "
                         "video-renditions, what the one encoder makes while "
                         "no call has an estimate)",
                         10000, 100000000, DEFAULT_VIDEO_BITRATE, flags));
  g_object_class_install_property (
      gobject_class, PROP_CONGESTION_CONTROL,
      g_param_spec_enum ("congestion-control", "Congestion control",
                         "How the video bitrate follows the calls' links. "
                         "gcc: each call gets a bandwidth estimate "
                         "(transport-wide congestion control feedback, which "
                         "browsers send, else RTCP receiver reports at each "
                         "stats-interval), shown in signalrtc-peer-stats as "
                         "bandwidth-estimate, and the rendition of "
                         "video-renditions that estimate carries (without "
                         "renditions the one video encoder makes what the "
                         "lowest estimate leaves after audio, within "
                         "min-bitrate and max-bitrate); retransmissions may "
                         "take a quarter of a call's estimate; Opus in-band "
                         "FEC protects against the worst call's loss. none: "
                         "video-bitrate for everyone, one encoder. Input "
                         "that is already encoded is sent as it is",
                         GST_TYPE_SIGNALRTC_CONGESTION_CONTROL,
                         DEFAULT_CONGESTION_CONTROL, flags));
  g_object_class_install_property (
      gobject_class, PROP_MIN_BITRATE,
      g_param_spec_uint ("min-bitrate", "Minimum bitrate",
                         "With congestion control, the least video bitrate, "
                         "in bit/s, however little a link carries",
                         10000, 100000000, DEFAULT_MIN_BITRATE, flags));
  g_object_class_install_property (
      gobject_class, PROP_MAX_BITRATE,
      g_param_spec_uint ("max-bitrate", "Maximum bitrate",
                         "With congestion control, the most video bitrate, in "
                         "bit/s, however much a link carries (with a ladder: "
                         "the most a call's estimate may say, so keep it at "
                         "least the top rendition's bitrate)",
                         10000, 100000000, DEFAULT_MAX_BITRATE, flags));
  g_object_class_install_property (
      gobject_class, PROP_VIDEO_RENDITIONS,
      g_param_spec_string (
          "video-renditions", "Video renditions",
          "With congestion control, raw video is encoded once per rendition "
          "of this ladder, and each call gets the one its own bandwidth "
          "estimate carries, switching at key frames: a comma-separated "
          "list of WIDTHxHEIGHT:BITRATE (bit/s, at most 4). Each is "
          "fitted inside its box keeping the input's shape, never larger "
          "than the input (a smaller input gets fewer). A rendition's "
          "encoder makes its bitrate, or less (down to half) when the "
          "narrowest call taking it carries less; a call moves up to a "
          "rendition once its link carries the full bitrate, and down once "
          "it no longer carries half. VP8 renditions have three temporal "
          "layers, which a call drops (to 15 or 7.5 frames/s) on the way "
          "between renditions. Empty: one encoder for every call, at what "
          "the lowest estimate carries. Input already encoded is sent as "
          "it is. Takes effect on new request pads",
          DEFAULT_VIDEO_RENDITIONS, flags));
  g_object_class_install_property (
      gobject_class, PROP_LATENCY,
      g_param_spec_uint ("latency", "Latency",
                         "Jitterbuffer latency for received media, in ms: "
                         "a syncing sink shows each frame this much later, "
                         "and packets later than this are lost (20-50 suits "
                         "a LAN, 0 loopback; see docs/performance.md)",
                         0, 10000, DEFAULT_LATENCY, flags));
  g_object_class_install_property (
      gobject_class, PROP_DECODE,
      g_param_spec_boolean ("decode", "Decode",
                            "Decode received media (raw src pads); off gives "
                            "the encoded media, e.g. for recording",
                            DEFAULT_DECODE, flags));
  g_object_class_install_property (
      gobject_class, PROP_RECONNECT,
      g_param_spec_boolean ("reconnect", "Reconnect",
                            "Keep trying to reach the hub (with backoff) when "
                            "it is down or lost",
                            DEFAULT_RECONNECT, flags));
  g_object_class_install_property (
      gobject_class, PROP_LOCAL_ADDRESSES,
      g_param_spec_string ("local-addresses", "Local addresses",
                           "Comma-separated IP addresses to gather ICE host "
                           "candidates on (default: every interface that is "
                           "up, or 127.0.0.1 when loopback is the only one)",
                           nullptr, flags));

  g_object_class_install_property (
      gobject_class, PROP_SETUP_TIMEOUT,
      g_param_spec_uint ("setup-timeout", "Setup timeout",
                         "Give up on a call that is not set up (connected, "
                         "its data channel open) this many seconds after it "
                         "started: it ends with a signalrtc-peer-disconnected "
                         "saying why, and frees its max-peers slot (0: "
                         "never)",
                         0, 3600, DEFAULT_SETUP_TIMEOUT, flags));
  g_object_class_install_property (
      gobject_class, PROP_REJOIN_TIMEOUT,
      g_param_spec_uint ("rejoin-timeout", "Rejoin timeout",
                         "After a reconnection to the hub (a hub restart), "
                         "calls go on while their users come back with new "
                         "connection ids; end the call of a user who has not "
                         "come back this many seconds after we did, with a "
                         "signalrtc-peer-disconnected saying why (0: never; "
                         "keep the call as long as its media flows)",
                         0, 3600, DEFAULT_REJOIN_TIMEOUT, flags));
  g_object_class_install_property (
      gobject_class, PROP_STATS_INTERVAL,
      g_param_spec_uint ("stats-interval", "Stats interval",
                         "Post a signalrtc-peer-stats message per call this "
                         "often, in ms (0: never)",
                         0, G_MAXUINT, DEFAULT_STATS_INTERVAL, flags));

  /**
   * GstSignalrtcBaseBin::message-received:
   * @bin: the element
   * @connection_id: the hub connection id of the sender
   * @username: the sender's user name
   * @text: the chat message
   *
   * A chat message arrived over a peer's data channel. Emitted on the
   * element's own hub thread (not the application's main loop): hand
   * anything long to your own thread.
   */
  signals[SIGNAL_MESSAGE_RECEIVED] = g_signal_new (
      "message-received", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
      nullptr, nullptr, nullptr, G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_STRING,
      G_TYPE_STRING);
  /**
   * GstSignalrtcBaseBin::send-message:
   * @bin: the element
   * @peer: connection id or user name of the peer, or "" for every peer
   * @text: the chat message
   *
   * Sends a chat message over the data channel of every call that matches
   * @peer. A call still being set up gets it as soon as its data channel
   * opens (and posts a warning if the call ends before that).
   *
   * Returns: %TRUE when the message went out or waits for a call being
   * set up; %FALSE when it reached nobody: with a warning on the bus when
   * @peer names no call, the matching calls have ended, or the element is
   * not on the hub (not for "" with no call at all). It waits
   * for the element's hub thread: emit it from the application's thread
   * or from a #GstSignalrtcBaseBin::message-received handler, never from a
   * streaming thread of this element.
   */
  signals[SIGNAL_SEND_MESSAGE] = g_signal_new_class_handler (
      "send-message", G_TYPE_FROM_CLASS (klass),
      (GSignalFlags)(G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK (gst_signalrtc_base_bin_send_message), nullptr, nullptr,
      nullptr, G_TYPE_BOOLEAN, 2, G_TYPE_STRING, G_TYPE_STRING);

  element_class->send_event
      = GST_DEBUG_FUNCPTR (gst_signalrtc_base_bin_send_event);
  element_class->change_state
      = GST_DEBUG_FUNCPTR (gst_signalrtc_base_bin_change_state);
  element_class->request_new_pad
      = GST_DEBUG_FUNCPTR (gst_signalrtc_base_bin_request_new_pad);
  element_class->release_pad
      = GST_DEBUG_FUNCPTR (gst_signalrtc_base_bin_release_pad);

  gst_type_mark_as_plugin_api (GST_TYPE_SIGNALRTC_VIDEO_CODEC,
                               (GstPluginAPIFlags)0);
  gst_type_mark_as_plugin_api (GST_TYPE_SIGNALRTC_CONGESTION_CONTROL,
                               (GstPluginAPIFlags)0);
  gst_type_mark_as_plugin_api (GST_TYPE_SIGNALRTC_BASE_BIN,
                               (GstPluginAPIFlags)0);
  gst_type_mark_as_plugin_api (GST_TYPE_SIGNALRTC_PAD, (GstPluginAPIFlags)0);
  klass->receives = TRUE;
  klass->single_peer = FALSE;
}
