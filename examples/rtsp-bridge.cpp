/* signalrtc-rtsp-bridge: a hub user that turns every browser caller into an
 * RTSP stream, for media servers, recorders and players that speak RTSP.
 *
 *   signalrtc-rtsp-bridge [--hub URL] [--username NAME] [--address ADDRESS]
 *                         [--port PORT]
 *
 * Call it from the browser client: it prints
 *
 *   rtsp-bridge: alice at rtsp://127.0.0.1:8554/alice
 *
 * and `gst-launch-1.0 rtspsrc location=rtsp://127.0.0.1:8554/alice ! ...`,
 * VLC or ffplay play the caller's camera (VP8) and microphone (Opus). When
 * the call ends the path goes away (a new client gets 404) and the clients
 * watching it are disconnected. --port 0 picks a free port; the printed
 * URLs have it. The bridge sends nothing back: callers see no video.
 *
 * Paths: the caller's user name, percent-encoded (RFC 3986: everything but
 * letters, digits and -._~ becomes %XX of its UTF-8 bytes), so that
 * "José M" is /Jos%C3%A9%20M ("", "." and "..", which clients would not
 * keep as they are, become "_", "_" and "__"). Two callers with one name
 * get /name and /name-2.
 *
 * How it works, as an example of taking encoded media out of signalrtcbin:
 *  - one signalrtcbin with decode=false and no sink pads: it answers every
 *    call receive-only, and each remote track is a src pad carrying the
 *    depayloaded VP8 or Opus, announced by a `signalrtc-track` bus message
 *    (pad name, kind, user name, connection id);
 *  - each such pad goes into an appsink (sync=false: the jitterbuffer
 *    already paced it). Until we link it, the bin drops the track's data;
 *  - each caller gets a shared GstRTSPMediaFactory mounted at its path,
 *    whose pipeline is "( appsrc name=videosrc ! rtpvp8pay name=pay0
 *    appsrc name=audiosrc ! rtpopuspay name=pay1 )" (the tracks it has):
 *    the media is re-payloaded, never decoded. Shared: one media pipeline
 *    per caller serves every RTSP client;
 *  - the appsinks' callbacks push each buffer into the appsrcs of the
 *    caller's media pipelines (a "feed", made on "media-configure", dropped
 *    on "unprepared"). Both pipelines run on the system clock, so a
 *    buffer's time moves from one to the other through the clock time it
 *    stands for (our running time + our base time - the media's base
 *    time): video and audio stay in sync, and so does a media that pauses
 *    and plays again;
 *  - a VP8 stream can be decoded from a key frame only, so a new media
 *    drops video until one comes, and the bridge asks the caller's browser
 *    for one (a GstForceKeyUnit upstream event on the track pad, which
 *    becomes an RTCP PLI) when an RTSP client starts playing (the client's
 *    "play-request"), and when a media is made or still waits for one (at
 *    most once a second);
 *  - the path is mounted once the caller has a video and an audio track,
 *    or a second after its first track (a caller with one kind only), and
 *    unmounted on `signalrtc-peer-disconnected`.
 *
 * Threads: the main thread runs the GLib main loop with the bus watch and
 * the RTSP server's listening socket; it owns the callers (map by
 * connection id), mounts and unmounts, and links tracks. The RTSP clients
 * run on gst-rtsp-server's thread pool ("media-configure",
 * "play-request", "unprepared" come from there); the appsinks' callbacks on
 * the WebRTC streaming threads. Those only touch a caller's feeds, under
 * the caller's lock, and post anything else to the main loop. Callbacks
 * hold the caller by weak pointer.
 *
 * Stop it with Ctrl-C.
 */
#include "example-util.h"

#include <gst/app/app.h>
#include <gst/gst.h>
#include <gst/rtsp-server/rtsp-server.h>
#include <gst/video/video.h>

#include <glib-unix.h>

#include <atomic>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace {

using signalrtc::examples::say;
using signalrtc::examples::run_on_main;

enum Kind
{
  VIDEO = 0,
  AUDIO = 1,
};
constexpr Kind kKinds[] = {VIDEO, AUDIO};
const char *const kKindNames[] = {"video", "audio"};

/* Key-frame requests per caller, at most. */
constexpr gint64 kKeyFrameIntervalUs = G_USEC_PER_SEC;
/* How long a caller with one track waits for its other one. */
constexpr guint kMountDelayMs = 1000;

/* One media pipeline of a caller's factory. */
struct Feed
{
  GstRTSPMedia *media = nullptr;
  GstAppSrc *src[2] = {}; /* null for a kind the media does not have */
  GstCaps *caps[2] = {};  /* what src was last given */
  bool key_frame_seen = false;

  ~Feed ()
  {
    for (Kind kind : kKinds) {
      gst_clear_object (&src[kind]);
      gst_clear_caps (&caps[kind]);
    }
    g_clear_object (&media);
  }
};

struct Caller;
using WeakCaller = std::weak_ptr<Caller>;

struct Bridge;

/* A browser in a call with the bridge. Main thread, but for `lock` and what
 * it guards. */
struct Caller : std::enable_shared_from_this<Caller>
{
  Bridge *bridge = nullptr;
  std::string connection_id, username, path, url;
  GstPad *track[2] = {}; /* the bin's src pads we took */
  GstElement *appsink[2] = {};
  GstRTSPMediaFactory *factory = nullptr; /* while mounted */
  guint mount_timer = 0;

  std::mutex lock; /* guards feeds */
  std::vector<std::unique_ptr<Feed>> feeds;
  std::atomic<gint64> last_key_frame_request_us = 0;

  ~Caller ()
  {
    for (Kind kind : kKinds)
      gst_clear_object (&track[kind]);
    g_clear_object (&factory);
  }

  std::string launch_line () const;
  void feed (Kind kind, GstSample *sample, GstClockTime base_time);
};

struct Bridge
{
  GstElement *pipeline = nullptr;
  GstElement *bin = nullptr;
  GstRTSPServer *server = nullptr;
  GstRTSPMountPoints *mounts = nullptr;
  std::string address;
  int port = 0;
  GMainLoop *loop = nullptr;
  const gchar *username = nullptr;
  int status = 0;
  std::map<std::string, std::shared_ptr<Caller>> callers;

  std::string unique_path (const std::string &username) const;
  std::shared_ptr<Caller> caller_at (const std::string &path) const;
  void add_track (const gchar *pad_name, const gchar *kind,
                  const gchar *username, const gchar *connection_id);
  void schedule_mount (const std::shared_ptr<Caller> &caller);
  void mount (const std::shared_ptr<Caller> &caller);
  void unmount (Caller &caller, bool now);
  void remove_caller (const std::string &connection_id, bool now = false);
  void request_key_frame (const std::shared_ptr<Caller> &caller);
};

/* ---- streaming and RTSP threads ---------------------------------------- */

/* Asks the caller's browser for a key frame, from any thread. */
void
request_key_frame_soon (const std::shared_ptr<Caller> &caller)
{
  const gint64 now = g_get_monotonic_time ();
  gint64 last = caller->last_key_frame_request_us;
  if (now - last < kKeyFrameIntervalUs
      || !caller->last_key_frame_request_us.compare_exchange_strong (last, now))
    return;
  run_on_main ([weak = WeakCaller (caller)] {
    if (auto c = weak.lock ())
      c->bridge->request_key_frame (c);
  });
}

/* The running time of @element's pipeline that clock time @time is, if
 * that pipeline plays. */
GstClockTimeDiff
running_time_at (GstElement *element, GstClockTime time)
{
  GST_OBJECT_LOCK (element);
  const bool playing = GST_STATE (element) == GST_STATE_PLAYING;
  const GstClockTime base = GST_ELEMENT_CAST (element)->base_time;
  GST_OBJECT_UNLOCK (element);
  return playing ? GST_CLOCK_DIFF (base, time) : -1;
}

/* A WebRTC streaming thread: one buffer of a track, to every media of the
 * caller. @base_time: the WebRTC pipeline's. */
void
Caller::feed (Kind kind, GstSample *sample, GstClockTime base_time)
{
  GstBuffer *buffer = gst_sample_get_buffer (sample);
  const GstSegment *segment = gst_sample_get_segment (sample);
  GstCaps *sample_caps = gst_sample_get_caps (sample);
  if (!buffer || !segment || !GST_BUFFER_PTS_IS_VALID (buffer))
    return;
  const GstClockTime rt = gst_segment_to_running_time (segment, GST_FORMAT_TIME,
                                                       GST_BUFFER_PTS (buffer));
  if (!GST_CLOCK_TIME_IS_VALID (rt))
    return;
  const bool key_frame
      = !GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DELTA_UNIT);

  std::vector<std::pair<GstAppSrc *, GstBuffer *>> out;
  bool want_key_frame = false;
  {
    std::lock_guard<std::mutex> guard (lock);
    for (auto &f : feeds) {
      GstAppSrc *src = f->src[kind];
      if (!src)
        continue;
      /* Both pipelines run on the system clock: the buffer's clock time,
       * in the media's running time. Known while the media plays (a live
       * media plays from its preparation on); its base time changes when
       * it pauses and plays again, so this is worked out every time. */
      const GstClockTimeDiff pts
          = running_time_at (GST_ELEMENT (src), rt + base_time);
      if (pts < 0)
        continue;
      if (kind == VIDEO && !f->key_frame_seen) {
        if (!key_frame) {
          want_key_frame = true;
          continue;
        }
        f->key_frame_seen = true;
      }
      if (sample_caps
          && (!f->caps[kind]
              || !gst_caps_is_equal (f->caps[kind], sample_caps))) {
        gst_caps_replace (&f->caps[kind], sample_caps);
        gst_app_src_set_caps (src, sample_caps);
      }
      /* A new buffer on the same memory, with the media's time. */
      GstBuffer *copy = gst_buffer_copy (buffer);
      GST_BUFFER_PTS (copy) = (GstClockTime)pts;
      GST_BUFFER_DTS (copy) = GST_CLOCK_TIME_NONE;
      out.emplace_back (GST_APP_SRC (gst_object_ref (src)), copy);
    }
  }
  for (auto &[src, copy] : out) {
    gst_app_src_push_buffer (src, copy);
    gst_object_unref (src);
  }
  if (want_key_frame)
    request_key_frame_soon (shared_from_this ());
}

struct SinkContext
{
  WeakCaller caller;
  Kind kind;
};

GstFlowReturn
on_new_sample (GstAppSink *sink, gpointer data)
{
  auto *ctx = static_cast<SinkContext *> (data);
  g_autoptr (GstSample) sample = gst_app_sink_pull_sample (sink);
  auto caller = ctx->caller.lock ();
  if (sample && caller)
    caller->feed (ctx->kind, sample,
                  gst_element_get_base_time (GST_ELEMENT (sink)));
  return GST_FLOW_OK;
}

/* An RTSP client thread: a media pipeline for a caller's path was made.
 * Find its appsrcs and feed them from now on. */
void
on_media_configure (GstRTSPMediaFactory *, GstRTSPMedia *media, gpointer data)
{
  auto caller = static_cast<WeakCaller *> (data)->lock ();
  if (!caller)
    return;
  auto feed = std::make_unique<Feed> ();
  feed->media = GST_RTSP_MEDIA (g_object_ref (media));
  g_autoptr (GstElement) element = gst_rtsp_media_get_element (media);
  for (Kind kind : kKinds) {
    g_autofree gchar *name = g_strdup_printf ("%ssrc", kKindNames[kind]);
    GstElement *src = gst_bin_get_by_name (GST_BIN (element), name);
    if (src)
      feed->src[kind] = GST_APP_SRC (src);
  }
  g_signal_connect_data (
      media, "unprepared",
      G_CALLBACK (+[] (GstRTSPMedia *media, gpointer data) {
        auto caller = static_cast<WeakCaller *> (data)->lock ();
        if (!caller)
          return;
        std::unique_ptr<Feed> gone; /* freed after the lock is let go */
        std::lock_guard<std::mutex> guard (caller->lock);
        auto &feeds = caller->feeds;
        for (auto it = feeds.begin (); it != feeds.end (); ++it) {
          if ((*it)->media == media) {
            gone = std::move (*it);
            feeds.erase (it);
            break;
          }
        }
      }),
      new WeakCaller (caller),
      [] (gpointer data, GClosure *) {
        delete static_cast<WeakCaller *> (data);
      },
      (GConnectFlags)0);
  {
    std::lock_guard<std::mutex> guard (caller->lock);
    caller->feeds.push_back (std::move (feed));
  }
  request_key_frame_soon (caller);
}

/* An RTSP client thread: a client starts playing @path. */
void
on_play_request (GstRTSPClient *, GstRTSPContext *ctx, Bridge *b)
{
  if (!ctx->uri || !ctx->uri->abspath)
    return;
  run_on_main ([b, path = std::string (ctx->uri->abspath)] {
    if (auto caller = b->caller_at (path))
      b->request_key_frame (caller);
  });
}

/* ---- the main thread --------------------------------------------------- */

/* The caller whose path @path is, or is under ("/alice/stream=0"). */
std::shared_ptr<Caller>
Bridge::caller_at (const std::string &path) const
{
  for (auto &[id, caller] : callers) {
    const std::string &p = caller->path;
    if (caller->factory && path.compare (0, p.size (), p) == 0
        && (path.size () == p.size () || path[p.size ()] == '/'))
      return caller;
  }
  return nullptr;
}

std::string
Bridge::unique_path (const std::string &name) const
{
  g_autofree gchar *escaped
      = g_uri_escape_string (name.c_str (), nullptr, FALSE);
  std::string segment = escaped;
  /* "", "." and "..": no names a client would keep as they are. */
  if (segment.empty ())
    segment = "_";
  else if (segment.find_first_not_of ('.') == std::string::npos)
    segment = std::string (segment.size (), '_');
  const std::string base = "/" + segment;
  std::string path = base;
  for (int n = 2;; n++) {
    bool taken = false;
    for (auto &[id, caller] : callers)
      taken = taken || (caller && caller->path == path);
    if (!taken)
      return path;
    path = base + "-" + std::to_string (n);
  }
}

void
Bridge::request_key_frame (const std::shared_ptr<Caller> &caller)
{
  caller->last_key_frame_request_us = g_get_monotonic_time ();
  if (caller->track[VIDEO])
    gst_pad_send_event (caller->track[VIDEO],
                        gst_video_event_new_upstream_force_key_unit (
                            GST_CLOCK_TIME_NONE, TRUE, 0));
}

/* A `signalrtc-track` message: link the track into an appsink. */
void
Bridge::add_track (const gchar *pad_name, const gchar *kind_name,
                   const gchar *username, const gchar *connection_id)
{
  const Kind kind = g_strcmp0 (kind_name, "audio") == 0 ? AUDIO : VIDEO;
  auto &caller = callers[connection_id];
  if (!caller) {
    caller = std::make_shared<Caller> ();
    caller->bridge = this;
    caller->connection_id = connection_id;
    caller->username = username;
    caller->path = unique_path (username);
    g_autofree gchar *host = strchr (address.c_str (), ':')
                                 ? g_strdup_printf ("[%s]", address.c_str ())
                                 : g_strdup (address.c_str ());
    caller->url = "rtsp://" + std::string (host) + ":" + std::to_string (port)
                  + caller->path;
  }
  GstPad *pad = gst_element_get_static_pad (bin, pad_name);
  if (!pad)
    return;
  if (caller->track[kind]) {
    say ("rtsp-bridge: %s sends a second %s track; ignoring it", username,
         kind_name);
    gst_object_unref (pad);
    return;
  }
  GstElement *sink = gst_element_factory_make ("appsink", nullptr);
  g_object_set (sink, "sync", FALSE, "async", FALSE, "enable-last-sample",
                FALSE, nullptr);
  GstAppSinkCallbacks callbacks = {};
  callbacks.new_sample = on_new_sample;
  gst_app_sink_set_callbacks (
      GST_APP_SINK (sink), &callbacks, new SinkContext{caller, kind},
      [] (gpointer data) { delete static_cast<SinkContext *> (data); });
  gst_bin_add (GST_BIN (pipeline), sink);
  gst_element_sync_state_with_parent (sink);
  g_autoptr (GstPad) sink_pad = gst_element_get_static_pad (sink, "sink");
  if (gst_pad_link (pad, sink_pad) != GST_PAD_LINK_OK) {
    g_printerr ("rtsp-bridge: cannot take %s's %s track\n", username,
                kind_name);
    gst_element_set_state (sink, GST_STATE_NULL);
    gst_bin_remove (GST_BIN (pipeline), sink);
    gst_object_unref (pad);
    return;
  }
  caller->track[kind] = pad;
  caller->appsink[kind] = sink;
  schedule_mount (caller);
}

void
Bridge::schedule_mount (const std::shared_ptr<Caller> &caller)
{
  if (caller->factory) {
    /* A track after the mount: medias made from now on have it too. */
    std::string line = caller->launch_line ();
    gst_rtsp_media_factory_set_launch (caller->factory, line.c_str ());
    return;
  }
  if (caller->track[VIDEO] && caller->track[AUDIO]) {
    mount (caller);
    return;
  }
  if (caller->mount_timer)
    return;
  struct Later
  {
    Bridge *bridge;
    WeakCaller caller;
  };
  caller->mount_timer = g_timeout_add_full (
      G_PRIORITY_DEFAULT, kMountDelayMs,
      [] (gpointer data) -> gboolean {
        auto *later = static_cast<Later *> (data);
        if (auto c = later->caller.lock ()) {
          c->mount_timer = 0;
          later->bridge->mount (c);
        }
        return G_SOURCE_REMOVE;
      },
      new Later{this, caller},
      [] (gpointer data) { delete static_cast<Later *> (data); });
}

std::string
Caller::launch_line () const
{
  std::string line = "(";
  int n = 0;
  for (Kind kind : kKinds) {
    if (!track[kind])
      continue;
    line += " appsrc name=" + std::string (kKindNames[kind])
            + "src is-live=true format=time max-time=1000000000 "
              "min-latency=0 max-latency=1000000000 "
              "leaky-type=downstream ! "
            + (kind == VIDEO ? "rtpvp8pay" : "rtpopuspay") + " name=pay"
            + std::to_string (n) + " pt=" + std::to_string (96 + n);
    n++;
  }
  return line + " )";
}

void
Bridge::mount (const std::shared_ptr<Caller> &caller)
{
  if (caller->mount_timer) {
    g_source_remove (caller->mount_timer);
    caller->mount_timer = 0;
  }
  if (caller->factory)
    return;
  GstRTSPMediaFactory *factory = gst_rtsp_media_factory_new ();
  std::string line = caller->launch_line ();
  gst_rtsp_media_factory_set_launch (factory, line.c_str ());
  gst_rtsp_media_factory_set_shared (factory, TRUE);
  g_autoptr (GstClock) clock = gst_system_clock_obtain ();
  gst_rtsp_media_factory_set_clock (factory, clock);
  g_signal_connect_data (
      factory, "media-configure", G_CALLBACK (on_media_configure),
      new WeakCaller (caller),
      [] (gpointer data, GClosure *) {
        delete static_cast<WeakCaller *> (data);
      },
      (GConnectFlags)0);
  caller->factory = GST_RTSP_MEDIA_FACTORY (g_object_ref (factory));
  gst_rtsp_mount_points_add_factory (mounts, caller->path.c_str (), factory);
  say ("rtsp-bridge: %s at %s", caller->username.c_str (),
       caller->url.c_str ());
}

/* Disconnects the RTSP clients with a session on one of @medias. */
void
close_watchers (GstRTSPServer *server, std::vector<GstRTSPMedia *> &medias)
{
  GList *clients = gst_rtsp_server_client_filter (
      server,
      [] (GstRTSPServer *, GstRTSPClient *client,
          gpointer data) -> GstRTSPFilterResult {
        GList *sessions = gst_rtsp_client_session_filter (
            client,
            [] (GstRTSPClient *, GstRTSPSession *session,
                gpointer data) -> GstRTSPFilterResult {
              GList *hits = gst_rtsp_session_filter (
                  session,
                  [] (GstRTSPSession *, GstRTSPSessionMedia *sm,
                      gpointer data) -> GstRTSPFilterResult {
                    auto *medias
                        = static_cast<std::vector<GstRTSPMedia *> *> (data);
                    GstRTSPMedia *m = gst_rtsp_session_media_get_media (sm);
                    for (GstRTSPMedia *mine : *medias) {
                      if (m == mine)
                        return GST_RTSP_FILTER_REF;
                    }
                    return GST_RTSP_FILTER_KEEP;
                  },
                  data);
              const bool watching = hits != nullptr;
              g_list_free_full (hits, g_object_unref);
              return watching ? GST_RTSP_FILTER_REF : GST_RTSP_FILTER_KEEP;
            },
            data);
        const bool watching = sessions != nullptr;
        g_list_free_full (sessions, g_object_unref);
        return watching ? GST_RTSP_FILTER_REF : GST_RTSP_FILTER_KEEP;
      },
      &medias);
  for (GList *l = clients; l; l = l->next)
    gst_rtsp_client_close (GST_RTSP_CLIENT (l->data));
  g_list_free_full (clients, g_object_unref);
}

/* Takes the caller's path away and ends its media: EOS now (the clients get
 * an RTCP BYE and end their stream), and a second later the clients still
 * connected are disconnected (at once when @now). */
void
Bridge::unmount (Caller &caller, bool now)
{
  if (!caller.factory)
    return;
  gst_rtsp_mount_points_remove_factory (mounts, caller.path.c_str ());
  g_clear_object (&caller.factory);
  say ("rtsp-bridge: %s left; %s is gone", caller.username.c_str (),
       caller.url.c_str ());

  struct Ending
  {
    GstRTSPServer *server;
    std::vector<GstRTSPMedia *> medias;
  };
  auto *ending = new Ending{GST_RTSP_SERVER (g_object_ref (server)), {}};
  {
    std::lock_guard<std::mutex> guard (caller.lock);
    for (auto &f : caller.feeds) {
      ending->medias.push_back (GST_RTSP_MEDIA (g_object_ref (f->media)));
      for (Kind kind : kKinds) {
        if (f->src[kind])
          gst_app_src_end_of_stream (f->src[kind]);
      }
    }
  }
  auto run = [] (gpointer data) -> gboolean {
    auto *e = static_cast<Ending *> (data);
    close_watchers (e->server, e->medias);
    return G_SOURCE_REMOVE;
  };
  auto done = [] (gpointer data) {
    auto *e = static_cast<Ending *> (data);
    for (GstRTSPMedia *m : e->medias)
      g_object_unref (m);
    g_object_unref (e->server);
    delete e;
  };
  if (now) {
    run (ending);
    done (ending);
  } else {
    g_timeout_add_full (G_PRIORITY_DEFAULT, 1000, run, ending, done);
  }
}

void
Bridge::remove_caller (const std::string &connection_id, bool now)
{
  auto it = callers.find (connection_id);
  if (it == callers.end ())
    return;
  std::shared_ptr<Caller> caller = it->second;
  callers.erase (it);
  if (caller->mount_timer) {
    g_source_remove (caller->mount_timer);
    caller->mount_timer = 0;
  }
  unmount (*caller, now);
  for (Kind kind : kKinds) {
    if (!caller->appsink[kind])
      continue;
    gst_element_set_state (caller->appsink[kind], GST_STATE_NULL);
    gst_bin_remove (GST_BIN (pipeline), caller->appsink[kind]);
    caller->appsink[kind] = nullptr;
  }
}

gboolean
on_bus_message (GstBus *, GstMessage *message, Bridge *b)
{
  switch (GST_MESSAGE_TYPE (message)) {
  case GST_MESSAGE_ERROR: {
    g_autoptr (GError) error = nullptr;
    g_autofree gchar *debug = nullptr;
    gst_message_parse_error (message, &error, &debug);
    g_printerr ("rtsp-bridge: error: %s (%s)\n", error->message,
                debug ? debug : "no details");
    b->status = 1;
    g_main_loop_quit (b->loop);
    break;
  }
  case GST_MESSAGE_ELEMENT: {
    const GstStructure *s = gst_message_get_structure (message);
    if (GST_MESSAGE_SRC (message) != GST_OBJECT (b->bin) || !s)
      break;
    const gchar *name = gst_structure_get_name (s);
    const gchar *who = gst_structure_get_string (s, "username");
    const gchar *id = gst_structure_get_string (s, "connection-id");
    if (g_str_equal (name, "signalrtc-hub-connected")) {
      say ("rtsp-bridge: on the hub as %s", b->username);
    } else if (g_str_equal (name, "signalrtc-peer-connected")) {
      say ("rtsp-bridge: %s connected", who);
    } else if (g_str_equal (name, "signalrtc-track")) {
      b->add_track (gst_structure_get_string (s, "pad-name"),
                    gst_structure_get_string (s, "kind"), who, id);
    } else if (g_str_equal (name, "signalrtc-peer-disconnected")) {
      if (id && !b->callers.contains (id))
        say ("rtsp-bridge: %s left", who);
      if (id)
        b->remove_caller (id);
    }
    break;
  }
  default:
    break;
  }
  return G_SOURCE_CONTINUE;
}

gboolean
on_signal (gpointer data)
{
  auto *b = static_cast<Bridge *> (data);
  say ("rtsp-bridge: stopping");
  g_main_loop_quit (b->loop);
  return G_SOURCE_CONTINUE;
}

}  // namespace

int
main (int argc, char **argv)
{
  g_autofree gchar *hub = g_strdup ("http://127.0.0.1:5000/signalrtc");
  g_autofree gchar *username = g_strdup ("rtsp");
  g_autofree gchar *address = g_strdup ("127.0.0.1");
  gint port = 8554;
  const GOptionEntry entries[] = {
      {"hub", 0, 0, G_OPTION_ARG_STRING, &hub, "The hub's URL", "URL"},
      {"username", 0, 0, G_OPTION_ARG_STRING, &username,
       "The user name on the hub", "NAME"},
      {"address", 0, 0, G_OPTION_ARG_STRING, &address,
       "The address the RTSP server listens on (default 127.0.0.1)", "ADDRESS"},
      {"port", 0, 0, G_OPTION_ARG_INT, &port,
       "The RTSP server's TCP port; 0 picks a free one (default 8554)", "PORT"},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr},
  };
  g_autoptr (GOptionContext) context = g_option_context_new (
      "- serve every caller's camera and microphone over RTSP");
  g_option_context_add_main_entries (context, entries, nullptr);
  g_option_context_add_group (context, gst_init_get_option_group ());
  g_autoptr (GError) error = nullptr;
  if (!g_option_context_parse (context, &argc, &argv, &error)) {
    g_printerr ("signalrtc-rtsp-bridge: %s\n", error->message);
    return 2;
  }
  if (port < 0 || port > 65535) {
    g_printerr ("signalrtc-rtsp-bridge: --port wants 0 to 65535\n");
    return 2;
  }

  Bridge b;
  b.username = username;
  b.address = address;

  b.server = gst_rtsp_server_new ();
  gst_rtsp_server_set_address (b.server, address);
  g_autofree gchar *service = g_strdup_printf ("%d", port);
  gst_rtsp_server_set_service (b.server, service);
  b.mounts = gst_rtsp_server_get_mount_points (b.server);
  g_signal_connect (
      b.server, "client-connected",
      G_CALLBACK (+[] (GstRTSPServer *, GstRTSPClient *client, Bridge *b) {
        g_signal_connect (client, "play-request", G_CALLBACK (on_play_request),
                          b);
      }),
      &b);
  guint server_source = gst_rtsp_server_attach (b.server, nullptr);
  if (!server_source) {
    g_printerr ("signalrtc-rtsp-bridge: cannot listen on %s:%d\n", address,
                port);
    g_object_unref (b.mounts);
    g_object_unref (b.server);
    return 1;
  }
  b.port = gst_rtsp_server_get_bound_port (b.server);

  b.pipeline = gst_pipeline_new ("rtsp-bridge");
  b.bin = gst_element_factory_make ("signalrtcbin", "bridge");
  if (!b.bin) {
    g_printerr ("signalrtc-rtsp-bridge: no signalrtcbin element: is the "
                "signalrtc plugin installed or on GST_PLUGIN_PATH?\n");
    return 1;
  }
  /* Passthrough: the callers' VP8 and Opus as they come. */
  g_object_set (b.bin, "hub-url", hub, "username", username, "decode", FALSE,
                nullptr);
  gst_bin_add (GST_BIN (b.pipeline), b.bin);
  g_autoptr (GstClock) clock = gst_system_clock_obtain ();
  gst_pipeline_use_clock (GST_PIPELINE (b.pipeline), clock);

  b.loop = g_main_loop_new (nullptr, FALSE);
  g_autoptr (GstBus) bus = gst_element_get_bus (b.pipeline);
  gst_bus_add_watch (bus, (GstBusFunc)on_bus_message, &b);
  guint sigint = g_unix_signal_add (SIGINT, on_signal, &b);
  guint sigterm = g_unix_signal_add (SIGTERM, on_signal, &b);

  say ("rtsp-bridge: serving rtsp://%s:%d/", address, b.port);
  if (gst_element_set_state (b.pipeline, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE) {
    g_printerr ("signalrtc-rtsp-bridge: cannot start (is the hub URL "
                "right?)\n");
    b.status = 1;
  } else {
    g_main_loop_run (b.loop);
  }

  std::vector<std::string> ids;
  for (auto &[id, caller] : b.callers)
    ids.push_back (id);
  for (auto &id : ids)
    b.remove_caller (id, true);
  gst_element_set_state (b.pipeline, GST_STATE_NULL);
  g_source_remove (sigint);
  g_source_remove (sigterm);
  gst_bus_remove_watch (bus);
  gst_object_unref (b.pipeline);
  g_source_remove (server_source);
  g_object_unref (b.mounts);
  g_object_unref (b.server);
  g_main_loop_unref (b.loop);
  return b.status;
}
