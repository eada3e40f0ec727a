/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "peer-session.h"

#include "congestion-control.h"
#include "gstsignalrtcpad.h"
#include "rendition-gate.h"
#include "send-input.h"

#include <gst/rtp/rtp.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/nice/nice.h>
#include <nice/agent.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

GST_DEBUG_CATEGORY_STATIC (session_debug);
#define GST_CAT_DEFAULT session_debug

namespace signalrtc {

namespace {

void
ensure_debug_category ()
{
  static gsize once = 0;
  if (g_once_init_enter (&once)) {
    GST_DEBUG_CATEGORY_INIT (session_debug, "signalrtc-session", 0,
                             "signalrtc peer sessions (one webrtcbin each)");
    g_once_init_leave (&once, 1);
  }
}

struct RtpCodec
{
  const char *encoding;
  const char *media;
  guint default_pt;
  guint clock_rate;
  const char *payloader;
  const char *depayloader;
  const char *parser; /* after the depayloader, or nullptr */
  const char *decoder;
};

constexpr RtpCodec kCodecs[] = {
    {"VP8", "video", 96, 90000, "rtpvp8pay", "rtpvp8depay", nullptr, "vp8dec"},
    {"VP9", "video", 98, 90000, "rtpvp9pay", "rtpvp9depay", nullptr, "vp9dec"},
    {"H264", "video", 102, 90000, "rtph264pay", "rtph264depay", "h264parse",
     "avdec_h264"},
    {"OPUS", "audio", 111, 48000, "rtpopuspay", "rtpopusdepay", nullptr,
     "opusdec"},
};

const RtpCodec *
find_codec (const char *encoding)
{
  for (const auto &c : kCodecs) {
    if (encoding && g_ascii_strcasecmp (c.encoding, encoding) == 0)
      return &c;
  }
  return nullptr;
}

/* @uri (turn(s)://user:password@host:port...) without its password, for
 * messages; "none" when empty. */
std::string
redact_turn (const std::string &uri)
{
  if (uri.empty ())
    return "none";
  const size_t at = uri.rfind ('@');
  const size_t scheme = uri.find ("://");
  if (at == std::string::npos || scheme == std::string::npos || at < scheme)
    return uri;
  const size_t colon = uri.find (':', scheme + 3);
  if (colon == std::string::npos || colon > at)
    return uri;
  return uri.substr (0, colon) + ":***" + uri.substr (at);
}

/* The id our offers give the TWCC header extension (any of 1-14 would
 * do: nothing else we send has one). */
constexpr guint kTwccOfferId = 3;

/* @twcc_id: the id of the TWCC header extension on this stream, 0 none.
 * webrtcbin writes the extmap and rtcp-fb transport-cc lines from these
 * caps into its offer or answer, and rtpbin stamps transport-wide
 * sequence numbers into the extension the payloader reserves. */
GstCaps *
rtp_caps (const RtpCodec &codec, guint pt, guint twcc_id)
{
  GstCaps *caps = gst_caps_new_simple (
      "application/x-rtp", "media", G_TYPE_STRING, codec.media, "encoding-name",
      G_TYPE_STRING, codec.encoding, "payload", G_TYPE_INT, (gint)pt,
      "clock-rate", G_TYPE_INT, (gint)codec.clock_rate, nullptr);
  if (g_str_equal (codec.encoding, "OPUS"))
    gst_caps_set_simple (caps, "encoding-params", G_TYPE_STRING, "2", nullptr);
  if (g_str_equal (codec.encoding, "H264"))
    gst_caps_set_simple (caps, "packetization-mode", G_TYPE_STRING, "1",
                         nullptr);
  if (twcc_id) {
    g_autofree gchar *field = g_strdup_printf ("extmap-%u", twcc_id);
    gst_caps_set_simple (caps, field, G_TYPE_STRING, kTwccUri,
                         "rtcp-fb-transport-cc", G_TYPE_BOOLEAN, TRUE,
                         nullptr);
  }
  return caps;
}

/* @sdp's first m-line of @media, or nullptr. */
const GstSDPMedia *
first_media (const GstSDPMessage *sdp, const char *media)
{
  for (guint i = 0; i < gst_sdp_message_medias_len (sdp); i++) {
    const GstSDPMedia *m = gst_sdp_message_get_media (sdp, i);
    if (g_strcmp0 (gst_sdp_media_get_media (m), media) == 0)
      return m;
  }
  return nullptr;
}

/* The id @sdp's first m-line of @media gives the TWCC header extension. */
std::optional<guint>
offered_twcc_id (const GstSDPMessage *sdp, const char *media)
{
  const GstSDPMedia *m = first_media (sdp, media);
  const char *extmap;
  for (guint n = 0;
       m && (extmap = gst_sdp_media_get_attribute_val_n (m, "extmap", n));
       n++) {
    /* "3 http://..." or "3/sendrecv http://..." */
    g_auto (GStrv) parts = g_strsplit (extmap, " ", 3);
    if (!parts[0] || !parts[1] || g_strcmp0 (parts[1], kTwccUri) != 0)
      continue;
    const guint id = (guint)g_ascii_strtoull (parts[0], nullptr, 10);
    if (id >= 1 && id <= 14)
      return id;
  }
  return std::nullopt;
}

/* The payload type @sdp gives @encoding in an m-line of @media. */
std::optional<guint>
offered_pt (const GstSDPMessage *sdp, const char *media, const char *encoding)
{
  for (guint i = 0; i < gst_sdp_message_medias_len (sdp); i++) {
    const GstSDPMedia *m = gst_sdp_message_get_media (sdp, i);
    if (g_strcmp0 (gst_sdp_media_get_media (m), media) != 0)
      continue;
    for (guint f = 0; f < gst_sdp_media_formats_len (m); f++) {
      const char *format = gst_sdp_media_get_format (m, f);
      guint pt = (guint)atoi (format);
      g_autofree gchar *key = nullptr;
      for (guint a = 0; a < gst_sdp_media_attributes_len (m); a++) {
        const GstSDPAttribute *attr = gst_sdp_media_get_attribute (m, a);
        if (g_strcmp0 (attr->key, "rtpmap") != 0 || !attr->value)
          continue;
        /* "96 VP8/90000" */
        g_auto (GStrv) parts = g_strsplit_set (attr->value, " /", 3);
        if (parts[0] && parts[1] && (guint)atoi (parts[0]) == pt
            && g_ascii_strcasecmp (parts[1], encoding) == 0)
          return pt;
      }
    }
  }
  return std::nullopt;
}

bool
has_known_codec (const GstSDPMessage *sdp)
{
  for (const auto &c : kCodecs) {
    if (offered_pt (sdp, c.media, c.encoding))
      return true;
  }
  return false;
}

}  // namespace

/* A payloader branch: shared tee -> queue -> payloader -> capsfilter ->
 * webrtcbin. */
struct PeerSession::Branch
{
  SendInput *input;
  /* On the input's tee, or on each of its rendition tees (references). */
  std::vector<GstPad *> tee_pads;
  std::vector<GstElement *> elements;
};

/* How long stop () waits for the EOS of a call's tracks to go downstream. */
constexpr int kEosWaitSeconds = 10;

/* A receive chain behind one src pad: depayloader (-> decoder); or, for a
 * track nobody receives, the fakesink that swallows it (no ghost). */
struct PeerSession::Track
{
  GstElement *bin;
  GstPad *ghost; /* on the signalrtcbin, or nullptr */
};

namespace {

/* References that a hop to the hub thread carries: freed with the hop,
 * whether it ran or not. */
template <typename T>
std::shared_ptr<T>
hold_object (T *object)
{
  return std::shared_ptr<T> (object, [] (T *o) {
    if (o)
      gst_object_unref (o);
  });
}

std::shared_ptr<GstWebRTCSessionDescription>
hold_description (GstWebRTCSessionDescription *desc)
{
  return std::shared_ptr<GstWebRTCSessionDescription> (
      desc, [] (GstWebRTCSessionDescription *d) {
        if (d)
          gst_webrtc_session_description_free (d);
      });
}

}  // namespace

std::shared_ptr<PeerSession>
PeerSession::create (GstBin *bin, Delegate *delegate, Config config)
{
  ensure_debug_category ();
  return std::shared_ptr<PeerSession> (
      new PeerSession (bin, delegate, std::move (config)));
}

PeerSession::PeerSession (GstBin *bin, Delegate *delegate, Config config)
    : bin_ (bin), delegate_ (delegate), config_ (std::move (config))
{}

PeerSession::~PeerSession ()
{
  stop ();
}

template <typename Fn>
void
PeerSession::hop (Fn fn)
{
  delegate_->run_on_hub (
      [weak = weak_from_this (), fn = std::move (fn)] () mutable {
        if (auto self = weak.lock ())
          fn (*self);
      });
}

/* A weak_ptr on the heap for a C callback's user data. */
using WeakSession = std::weak_ptr<PeerSession>;

static void
free_weak (gpointer data, GClosure * = nullptr)
{
  delete static_cast<WeakSession *> (data);
}

bool
PeerSession::start (GError **error)
{
  g_autofree gchar *name
      = g_strdup_printf ("webrtc-%s", config_.connection_id.c_str ());
  webrtc_ = gst_element_factory_make ("webrtcbin", name);
  if (!webrtc_) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
                 "webrtcbin is missing (install gstreamer1.0-plugins-bad "
                 "and gstreamer1.0-nice)");
    return false;
  }
  gst_object_ref_sink (webrtc_);
  gst_util_set_object_arg (G_OBJECT (webrtc_), "bundle-policy", "max-bundle");
  g_object_set (webrtc_, "latency", config_.latency_ms, nullptr);
  if (!config_.stun_server.empty ())
    g_object_set (webrtc_, "stun-server", config_.stun_server.c_str (),
                  nullptr);
  if (config_.relay_only)
    g_object_set (webrtc_, "ice-transport-policy",
                  GST_WEBRTC_ICE_TRANSPORT_POLICY_RELAY, nullptr);
  if (!config_.turn_server.empty ())
    g_object_set (webrtc_, "turn-server", config_.turn_server.c_str (),
                  nullptr);
  configure_ice ();
  if (config_.congestion) {
    congestion_ = CongestionControl::create (
        *config_.congestion, [weak = weak_from_this ()] (std::uint32_t) {
          if (auto self = weak.lock ())
            self->hop ([] (PeerSession &s) {
              if (!s.stopped_)
                s.delegate_->bandwidth_changed (s);
            });
        });
    /* webrtcbin puts what this returns between rtx and the RTP session,
     * where rtpbin's TWCC feedback events pass on their way upstream. */
    g_signal_connect_data (
        webrtc_, "request-aux-sender",
        G_CALLBACK (+[] (GstElement *, GstWebRTCDTLSTransport *,
                         gpointer data) -> GstElement * {
          auto *cc = static_cast<std::shared_ptr<CongestionControl> *> (data);
          return (*cc)->aux_sender ();
        }),
        new std::shared_ptr<CongestionControl> (congestion_),
        [] (gpointer data, GClosure *) {
          delete static_cast<std::shared_ptr<CongestionControl> *> (data);
        },
        (GConnectFlags)0);
  }
  g_signal_connect_data (webrtc_, "element-added",
                         G_CALLBACK (on_element_added),
                         new WeakSession (weak_from_this ()), free_weak,
                         (GConnectFlags)0);
  /* webrtcbin 1.22 sets each new jitterbuffer's do-retransmission from
   * every transceiver of its (bundled) transport in turn, so the last
   * m-line's decides for all: a bot whose offer puts audio after video
   * never asked for lost video. Connected after webrtcbin's own handler,
   * this one sets it again for the SSRCs the remote description gives
   * video (on_jitterbuffer). */
  if (receive_nack ()) {
    if (GstElement *rtpbin = gst_bin_get_by_name (GST_BIN (webrtc_), "rtpbin")) {
      g_signal_connect_data (rtpbin, "new-jitterbuffer",
                             G_CALLBACK (on_jitterbuffer),
                             new WeakSession (weak_from_this ()), free_weak,
                             (GConnectFlags)0);
      gst_object_unref (rtpbin);
    } else {
      GST_WARNING ("peer %s: no rtpbin in webrtcbin: lost video is not "
                   "asked for again when this element offers",
                   config_.connection_id.c_str ());
    }
  }

  g_signal_connect_data (
      webrtc_, "on-ice-candidate",
      G_CALLBACK (
          +[] (GstElement *, guint mline, gchar *candidate, gpointer data) {
            if (auto self = static_cast<WeakSession *> (data)->lock ())
              self->hop ([mline, c = std::string (candidate)] (PeerSession &s) {
                s.send_local_candidate (mline, c);
              });
          }),
      new WeakSession (weak_from_this ()), free_weak, (GConnectFlags)0);
  /* A remote track appeared (a webrtcbin thread): hold its data where it
   * is until the hub thread has linked it, or dropped it. */
  g_signal_connect_data (
      webrtc_, "pad-added",
      G_CALLBACK (+[] (GstElement *, GstPad *pad, gpointer data) {
        if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
          return;
        auto self = static_cast<WeakSession *> (data)->lock ();
        if (!self)
          return;
        GstCaps *caps = gst_pad_get_current_caps (pad);
        if (!caps)
          caps = gst_pad_query_caps (pad, nullptr);
        auto held_caps = std::shared_ptr<GstCaps> (caps, [] (GstCaps *c) {
          if (c)
            gst_caps_unref (c);
        });
        if (!self->hold_track (pad))
          return; /* the call is ending: stop () drops it */
        auto held_pad = hold_object ((GstPad *)gst_object_ref (pad));
        self->hop ([held_pad, held_caps] (PeerSession &s) {
          /* Linked before it is let go, so that nothing is pushed into
           * an unlinked pad; after stop () there is nothing to let go. */
          if (!s.stopped_)
            s.add_track (held_pad.get (), held_caps.get ());
          s.release_held_track (held_pad.get ());
        });
      }),
      new WeakSession (weak_from_this ()), free_weak, (GConnectFlags)0);
  g_signal_connect_data (
      webrtc_, "on-data-channel",
      G_CALLBACK (
          +[] (GstElement *, GstWebRTCDataChannel *channel, gpointer data) {
            if (auto self = static_cast<WeakSession *> (data)->lock ()) {
              /* Watched here, at once: the peer may send the moment its
               * side opens, before a hop would have connected us. */
              self->watch_data_channel (channel);
              auto held = hold_object (
                  (GstWebRTCDataChannel *)gst_object_ref (channel));
              self->hop ([held] (PeerSession &s) {
                if (!s.channel_ && !s.stopped_)
                  s.adopt_data_channel (held.get ());
              });
            }
          }),
      new WeakSession (weak_from_this ()), free_weak, (GConnectFlags)0);
  g_signal_connect_data (
      webrtc_, "notify::connection-state",
      G_CALLBACK (+[] (GstElement *webrtc, GParamSpec *, gpointer data) {
        GstWebRTCPeerConnectionState state;
        g_object_get (webrtc, "connection-state", &state, nullptr);
        if (auto self = static_cast<WeakSession *> (data)->lock ())
          self->hop ([state] (PeerSession &s) {
            if (s.stopped_)
              return;
            if (state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED) {
              s.transport_connected_ = true;
              s.maybe_connected ();
            } else if (state == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED) {
              s.fail ("the connection failed (ICE or DTLS)");
            }
          });
      }),
      new WeakSession (weak_from_this ()), free_weak, (GConnectFlags)0);
  /* Relay only: a gathering that ends with no candidate (the TURN server
   * did not answer, or refused the credentials) can never connect; say so
   * at once rather than at setup-timeout. */
  if (config_.relay_only)
    g_signal_connect_data (
        webrtc_, "notify::ice-gathering-state",
        G_CALLBACK (+[] (GstElement *webrtc, GParamSpec *, gpointer data) {
          GstWebRTCICEGatheringState state;
          g_object_get (webrtc, "ice-gathering-state", &state, nullptr);
          if (state != GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
            return;
          if (auto self = static_cast<WeakSession *> (data)->lock ())
            self->hop ([] (PeerSession &s) {
              if (!s.stopped_ && s.local_candidates_ == 0)
                s.fail ("no relay candidate: the TURN server (" + redact_turn (s.config_.turn_server)
                        + ") did not answer or refused the credentials, "
                          "and ice-transport-policy is relay");
            });
        }),
        new WeakSession (weak_from_this ()), free_weak, (GConnectFlags)0);

  gst_bin_add (bin_, webrtc_);
  gst_element_sync_state_with_parent (webrtc_);

  if (config_.setup_timeout_ms) {
    /* start () runs on the hub thread, whose context is its default. */
    setup_timer_ = g_timeout_source_new (config_.setup_timeout_ms);
    g_source_set_callback (
        setup_timer_,
        [] (gpointer data) -> gboolean {
          if (auto self = static_cast<WeakSession *> (data)->lock ())
            self->setup_timed_out ();
          return G_SOURCE_REMOVE;
        },
        new WeakSession (weak_from_this ()), [] (gpointer data) {
          free_weak (data);
        });
    g_source_attach (setup_timer_, g_main_context_get_thread_default ());
  }

  if (config_.initiator) {
    for (SendInput *input : delegate_->send_inputs ()) {
      const RtpCodec *codec = find_codec (input->encoding ().c_str ());
      if (codec)
        link_input (input, codec->default_pt, congestion_ ? kTwccOfferId : 0);
    }
    if (config_.receive)
      add_receive_transceivers ();
    /* simple-peer's connect waits for a data channel: the initiator makes
     * one before the offer. */
    create_data_channel ();
    create_offer ();
  }
  return true;
}

/* PROTOCOL.md §6: libnice gathers nothing on loopback unless told to, and
 * UPnP discovery only delays gathering. */
void
PeerSession::configure_ice ()
{
  GstWebRTCICE *ice = nullptr;
  g_object_get (webrtc_, "ice-agent", &ice, nullptr);
  if (!ice)
    return;
  NiceAgent *agent = nullptr;
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (ice), "agent"))
    g_object_get (ice, "agent", &agent, nullptr);
  if (agent) {
    g_object_set (agent, "upnp", FALSE, nullptr);
    for (const auto &address : config_.local_addresses) {
      NiceAddress a;
      nice_address_init (&a);
      if (nice_address_set_from_string (&a, address.c_str ()))
        nice_agent_add_local_address (agent, &a);
      else
        GST_WARNING ("ignoring local address '%s'", address.c_str ());
    }
    g_object_unref (agent);
  }
  gst_object_unref (ice);
}

/* webrtcbin (1.22) sends each stream through a clocksync (sync=true) of
 * its own, which holds every frame until its running time plus the latency
 * upstream: for a live input, a frame's capture latency (33 ms at 30 fps)
 * again after it was captured and encoded. A live input paces itself, so
 * for those the wait is turned off: 23 ms less from capture to the peer's
 * decoder at 720p (tests/bench/run-latency-bench). A file (not live) keeps
 * it: it is what sends a file in real time, and so does a clocksync made
 * before any input is linked. Whichever thread adds the element (the one
 * requesting a pad, or negotiating). */
void
PeerSession::on_element_added (GstBin *webrtc, GstElement *element,
                               gpointer user_data)
{
  GstElementFactory *factory = gst_element_get_factory (element);
  if (!factory || !g_str_equal (GST_OBJECT_NAME (factory), "clocksync"))
    return;
  auto self = static_cast<WeakSession *> (user_data)->lock ();
  if (!self)
    return;
  if (self->send_live_.load () > 0) {
    GST_DEBUG_OBJECT (webrtc, "live input: %s does not wait for the clock",
                      GST_OBJECT_NAME (element));
    g_object_set (element, "sync", FALSE, nullptr);
  }
}

/* Video we send is retransmitted when the viewer asks (RFC 4588): with
 * do-nack on its transceiver, webrtcbin offers (or accepts) an rtx payload
 * type with apt= and an FID ssrc group, and rtpbin keeps what it sent in an
 * rtprtxsend to answer the viewer's NACKs from. Audio is not: browsers do
 * not NACK Opus (they conceal a lost packet), and a late audio packet is no
 * use to them. */
static void
enable_retransmission (GstPad *webrtc_sink, const RtpCodec &codec)
{
  if (!g_str_equal (codec.media, "video"))
    return;
  GstWebRTCRTPTransceiver *trans = nullptr;
  g_object_get (webrtc_sink, "transceiver", &trans, nullptr);
  if (!trans)
    return;
  g_object_set (trans, "do-nack", TRUE, nullptr);
  gst_object_unref (trans);
}

bool
PeerSession::link_input (SendInput *input, guint pt, guint twcc_id)
{
  const RtpCodec *codec = find_codec (input->encoding ().c_str ());
  GstElement *queue = gst_element_factory_make ("queue", nullptr);
  GstElement *pay = gst_element_factory_make (codec->payloader, nullptr);
  GstElement *filter = gst_element_factory_make ("capsfilter", nullptr);
  if (!queue || !pay || !filter) {
    for (GstElement *e : {queue, pay, filter})
      if (e)
        gst_object_unref (gst_object_ref_sink (e));
    GST_ELEMENT_WARNING (bin_, CORE, MISSING_PLUGIN,
                         ("The element '%s' is missing", codec->payloader),
                         (nullptr));
    return false;
  }
  /* Leaky: a slow peer drops its own packets, never stalls the tee. */
  gst_util_set_object_arg (G_OBJECT (queue), "leaky", "downstream");
  g_object_set (queue, "max-size-buffers", 0, "max-size-bytes", 0,
                "max-size-time", (guint64)500 * GST_MSECOND, nullptr);
  /* Our SSRC, chosen now and in the caps webrtcbin builds its SDP from:
   * it names the stream (a=ssrc) and, with retransmission, pairs it with
   * its rtx stream (a=ssrc-group:FID) before any media has flowed.
   * Firefox drops rtx packets of a stream the SDP did not name, so a lost
   * packet stayed lost until the next key frame; Chromium maps rtx by
   * payload type alone. */
  const guint ssrc = g_random_int ();
  g_object_set (pay, "pt", pt, "ssrc", ssrc, nullptr);
  if (g_str_equal (codec->encoding, "H264")) {
    g_object_set (pay, "config-interval", -1, nullptr);
    gst_util_set_object_arg (G_OBJECT (pay), "aggregate-mode", "zero-latency");
  } else if (g_str_has_prefix (codec->encoding, "VP")) {
    gst_util_set_object_arg (G_OBJECT (pay), "picture-id-mode", "15-bit");
  }
  if (twcc_id) {
    GstRTPHeaderExtension *ext
        = gst_rtp_header_extension_create_from_uri (kTwccUri);
    if (ext) {
      gst_rtp_header_extension_set_id (ext, twcc_id);
      g_signal_emit_by_name (pay, "add-extension", ext);
      gst_object_unref (ext);
    } else {
      GST_WARNING ("no rtphdrexttwcc: peer %s gets no TWCC",
                   config_.connection_id.c_str ());
      twcc_id = 0;
    }
  }
  g_autoptr (GstCaps) caps = rtp_caps (*codec, pt, twcc_id);
  gst_caps_set_simple (caps, "ssrc", G_TYPE_UINT, ssrc, nullptr);
  g_object_set (filter, "caps", caps, nullptr);

  int unknown = 0;
  if (!input->is_live ())
    send_live_ = -1;
  else
    send_live_.compare_exchange_strong (unknown, 1);
  gst_bin_add_many (bin_, queue, pay, filter, nullptr);
  GstPadTemplate *templ = gst_element_class_get_pad_template (
      GST_ELEMENT_GET_CLASS (webrtc_), "sink_%u");
  g_autoptr (GstPad) sink
      = gst_element_request_pad (webrtc_, templ, nullptr, caps);
  g_autoptr (GstPad) filter_src = gst_element_get_static_pad (filter, "src");
  if (!sink || !gst_element_link_many (queue, pay, filter, nullptr)
      || gst_pad_link (filter_src, sink) != GST_PAD_LINK_OK) {
    GST_ELEMENT_WARNING (bin_, CORE, NEGOTIATION, (nullptr),
                         ("could not link the %s input to the peer %s",
                          input->kind ().c_str (),
                          config_.connection_id.c_str ()));
    return false;
  }
  for (GstElement *e : {queue, pay, filter})
    gst_element_sync_state_with_parent (e);
  enable_retransmission (sink, *codec);
  if (congestion_ && g_str_equal (codec->media, "video"))
    congestion_->pace_payload_type (pt);

  /* Last, so that data only flows into a ready branch. */
  auto branch
      = std::make_unique<Branch> (Branch{input, {}, {queue, pay, filter}});
  if (input->ladder_size () && congestion_) {
    /* A ladder: this call's gate picks one rendition (and its layers)
     * into a funnel in front of the queue. */
    GstElement *funnel = gst_element_factory_make ("funnel", nullptr);
    bool audio = false;
    for (SendInput *i : delegate_->send_inputs ())
      audio |= i->kind () == "audio";
    auto gate = RenditionGate::create (input, congestion_,
                                       audio ? SendInput::kAudioBitrate : 0,
                                       config_.connection_id);
    gst_bin_add (bin_, funnel);
    branch->elements.push_back (funnel);
    if (!gst_element_link (funnel, queue)) {
      GST_ELEMENT_WARNING (bin_, CORE, NEGOTIATION, (nullptr),
                           ("could not link the video ladder to the peer %s",
                            config_.connection_id.c_str ()));
      return false;
    }
    gst_element_sync_state_with_parent (funnel);
    if (!gate->link (funnel, branch->tee_pads))
      GST_WARNING ("peer %s: a rendition did not link",
                   config_.connection_id.c_str ());
    gates_.push_back (gate);
  } else {
    GstPad *tee_pad = gst_element_request_pad_simple (input->tee (), "src_%u");
    g_autoptr (GstPad) queue_sink = gst_element_get_static_pad (queue, "sink");
    gst_pad_link (tee_pad, queue_sink);
    branch->tee_pads.push_back (tee_pad);
  }
  branches_.push_back (std::move (branch));
  GST_INFO ("peer %s: sending %s as %s pt %u", config_.connection_id.c_str (),
            input->kind ().c_str (), codec->encoding, pt);
  return true;
}

/* The initiator also wants what the peer sends, for each kind it has no
 * input of (a sendrecv transceiver covers the others). */
void
PeerSession::add_receive_transceivers ()
{
  bool have_video = false, have_audio = false;
  for (const auto &b : branches_) {
    have_video |= b->input->kind () == "video";
    have_audio |= b->input->kind () == "audio";
  }
  if (!have_video)
    add_receive_transceiver ("video");
  if (!have_audio)
    add_receive_transceiver ("audio");
}

/* A recvonly transceiver for every codec of @media we can take: as
 * offerer with our payload types, as answerer with those @offer gives
 * (nothing if it offers none). Its codec preferences carry the TWCC
 * extension (ours, or the offer's id): webrtcbin writes it into an offer,
 * and leaves it out of an answer unless they carry it. With it, rtpbin
 * sends the peer transport-wide feedback on what arrives, and a browser
 * sender runs its congestion control against us. Video asks for what is
 * lost (do-nack: rtx in the offer or answer, the jitterbuffer's
 * retransmission requests) when the latency leaves time for it. */
void
PeerSession::add_receive_transceiver (const char *media,
                                      const GstSDPMessage *offer)
{
  const guint twcc
      = offer ? offered_twcc_id (offer, media).value_or (0) : kTwccOfferId;
  GstCaps *caps = gst_caps_new_empty ();
  for (const auto &codec : kCodecs) {
    if (!g_str_equal (codec.media, media))
      continue;
    const std::optional<guint> pt
        = offer ? offered_pt (offer, codec.media, codec.encoding)
                : std::optional<guint> (codec.default_pt);
    if (pt)
      gst_caps_append (caps, rtp_caps (codec, *pt, twcc));
  }
  if (gst_caps_is_empty (caps)) {
    gst_caps_unref (caps);
    return;
  }
  GstWebRTCRTPTransceiver *trans = nullptr;
  g_signal_emit_by_name (webrtc_, "add-transceiver",
                         GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps,
                         &trans);
  gst_caps_unref (caps);
  if (!trans)
    return;
  if (g_str_equal (media, "video") && receive_nack ())
    g_object_set (trans, "do-nack", TRUE, nullptr);
  gst_object_unref (trans);
}

/* rtpbin's new-jitterbuffer (a streaming thread): a jitterbuffer of a
 * video SSRC the remote description names asks for what is lost. */
void
PeerSession::on_jitterbuffer (GstElement *, GstElement *jitterbuffer,
                              guint session, guint ssrc, gpointer data)
{
  auto self = static_cast<WeakSession *> (data)->lock ();
  if (!self)
    return;
  bool video, webrtcbin;
  {
    std::lock_guard<std::mutex> lock (self->ssrc_lock_);
    video = self->remote_video_ssrcs_.count (ssrc) > 0;
    webrtcbin = self->remote_is_webrtcbin_;
  }
  if (webrtcbin) {
    /* Our own senders (another webrtcbin): a jitterbuffer asking them for
     * retransmissions got 12-15 of their 30 frames/s (two GStreamer
     * viewers of a bot, the three-viewer test of browser-network-send),
     * with or without their padding on rtx; 30 without asking. The cause
     * is not found yet: until it is, no requests toward a webrtcbin. */
    g_object_set (jitterbuffer, "do-retransmission", FALSE, nullptr);
    return;
  }
  if (!video)
    return;
  GST_DEBUG ("peer %s: session %u, video ssrc %u: retransmissions asked for",
             self->config_.connection_id.c_str (), session, ssrc);
  g_object_set (jitterbuffer, "do-retransmission", TRUE, nullptr);
}

/* A lost packet can come again within about a round trip and the
 * sender's reaction; a jitterbuffer that holds less than kNackLatencyMs
 * gives up on it first, and its requests would only cost the link. */
bool
PeerSession::receive_nack () const
{
  return config_.latency_ms >= kNackLatencyMs;
}

void
PeerSession::create_data_channel ()
{
  /* A random 40-hex label, as simple-peer's. */
  std::string label;
  for (int i = 0; i < 5; i++) {
    g_autofree gchar *chunk = g_strdup_printf ("%08x", g_random_int ());
    label += chunk;
  }
  GstWebRTCDataChannel *channel = nullptr;
  g_signal_emit_by_name (webrtc_, "create-data-channel", label.c_str (),
                         nullptr, &channel);
  if (channel) {
    watch_data_channel (channel);
    adopt_data_channel (channel);
    gst_object_unref (channel);
  } else {
    GST_WARNING ("peer %s: could not create a data channel",
                 config_.connection_id.c_str ());
  }
}

/* simple-peer's "connect": the transport is up and the data channel open.
 * Only then is the call there for chat, and the peer ready for the key
 * frame that the delegate asks for. */
void
PeerSession::maybe_connected ()
{
  if (connected_ || stopped_ || !transport_connected_ || !channel_open_)
    return;
  connected_ = true;
  delegate_->session_connected (*this);
}

/* Hub thread: @channel is the call's chat. */
void
PeerSession::adopt_data_channel (GstWebRTCDataChannel *channel)
{
  channel_ = (GstWebRTCDataChannel *)gst_object_ref (channel);
  GstWebRTCDataChannelState state;
  g_object_get (channel, "ready-state", &state, nullptr);
  if (state == GST_WEBRTC_DATA_CHANNEL_STATE_OPEN) {
    channel_open_ = true;
    flush_outbox ();
    maybe_connected ();
  }
}

/* Any thread: what @channel says reaches the hub thread. Touches nothing
 * of the session. */
void
PeerSession::watch_data_channel (GstWebRTCDataChannel *channel)
{
  g_signal_connect_data (
      channel, "on-open",
      G_CALLBACK (+[] (GstWebRTCDataChannel *, gpointer data) {
        if (auto self = static_cast<WeakSession *> (data)->lock ())
          self->hop ([] (PeerSession &s) {
            if (s.stopped_ || s.channel_open_ || !s.channel_)
              return;
            s.channel_open_ = true;
            s.flush_outbox ();
            s.maybe_connected ();
          });
      }),
      new WeakSession (weak_from_this ()), free_weak, (GConnectFlags)0);
  g_signal_connect_data (
      channel, "on-message-string",
      G_CALLBACK (+[] (GstWebRTCDataChannel *, gchar *text, gpointer data) {
        if (auto self = static_cast<WeakSession *> (data)->lock ())
          self->hop ([t = std::string (text ? text : "")] (PeerSession &s) {
            if (!s.stopped_)
              s.delegate_->message_received (s, t);
          });
      }),
      new WeakSession (weak_from_this ()), free_weak, (GConnectFlags)0);
  g_signal_connect_data (
      channel, "on-close",
      G_CALLBACK (+[] (GstWebRTCDataChannel *, gpointer data) {
        /* simple-peer ends the call when the channel closes: so do we. */
        if (auto self = static_cast<WeakSession *> (data)->lock ())
          self->hop ([] (PeerSession &s) {
            if (!s.stopped_ && s.channel_open_)
              s.fail ("the peer closed the data channel");
          });
      }),
      new WeakSession (weak_from_this ()), free_weak, (GConnectFlags)0);
}

void
PeerSession::create_offer ()
{
  GstPromise *promise = gst_promise_new_with_change_func (
      [] (GstPromise *promise, gpointer data) {
        auto self = static_cast<WeakSession *> (data)->lock ();
        const GstStructure *reply = gst_promise_get_reply (promise);
        GstWebRTCSessionDescription *offer = nullptr;
        g_autoptr (GError) error = nullptr;
        if (reply) {
          gst_structure_get (reply, "offer",
                             GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer,
                             nullptr);
          gst_structure_get (reply, "error", G_TYPE_ERROR, &error, nullptr);
        }
        gst_promise_unref (promise);
        auto held = hold_description (offer);
        if (!self)
          return;
        if (!offer) {
          std::string why
              = std::string ("could not create an offer")
                + (error ? ": " + std::string (error->message) : "");
          self->hop ([why] (PeerSession &s) { s.fail (why); });
          return;
        }
        self->hop ([held] (PeerSession &s) {
          s.set_local_description (held.get ());
        });
      },
      new WeakSession (weak_from_this ()),
      [] (gpointer data) { delete static_cast<WeakSession *> (data); });
  g_signal_emit_by_name (webrtc_, "create-offer", nullptr, promise);
}

/* Hub thread: our offer or answer is made; webrtcbin takes it, and the
 * peer gets it. */
void
PeerSession::set_local_description (GstWebRTCSessionDescription *desc)
{
  if (stopped_)
    return;
  g_signal_emit_by_name (webrtc_, "set-local-description", desc, nullptr);
  send_local_description (desc);
}

void
PeerSession::send_local_description (GstWebRTCSessionDescription *desc)
{
  if (stopped_)
    return;
  g_autofree gchar *text = gst_sdp_message_as_text (desc->sdp);
  PeerSignal signal;
  signal.type = desc->type == GST_WEBRTC_SDP_TYPE_OFFER
                    ? PeerSignal::Type::Offer
                    : PeerSignal::Type::Answer;
  signal.sdp = text;
  delegate_->send_signal (config_.connection_id, signal);
}

void
PeerSession::send_local_candidate (guint mline, const std::string &candidate)
{
  if (stopped_ || candidate.empty ())
    return;
  local_candidates_++;
  PeerSignal signal;
  signal.type = PeerSignal::Type::Candidate;
  signal.candidate = candidate;
  signal.sdp_mline_index = mline;
  /* simple-peer wants the mid too; webrtcbin gives only the index. */
  GstWebRTCSessionDescription *local = nullptr;
  g_object_get (webrtc_, "local-description", &local, nullptr);
  if (local) {
    if (mline < gst_sdp_message_medias_len (local->sdp)) {
      const char *mid = gst_sdp_media_get_attribute_val (
          gst_sdp_message_get_media (local->sdp, mline), "mid");
      if (mid)
        signal.sdp_mid = mid;
    }
    gst_webrtc_session_description_free (local);
  }
  delegate_->send_signal (config_.connection_id, signal);
}

void
PeerSession::handle_signal (const PeerSignal &signal)
{
  if (stopped_)
    return;
  switch (signal.type) {
  case PeerSignal::Type::Offer:
  case PeerSignal::Type::Answer:
    handle_description (signal);
    break;
  case PeerSignal::Type::Candidate:
    if (remote_set_)
      add_remote_candidate (signal);
    else
      pending_candidates_.push_back (signal);
    break;
  case PeerSignal::Type::Renegotiate:
    if (config_.initiator)
      create_offer ();
    break;
  case PeerSignal::Type::TransceiverRequest:
    if (config_.initiator) {
      /* The peer has a track with no m-line: make one, offer again. */
      add_receive_transceiver (signal.kind == "audio" ? "audio" : "video");
      create_offer ();
    }
    break;
  }
}

void
PeerSession::handle_description (const PeerSignal &signal)
{
  const bool offer = signal.type == PeerSignal::Type::Offer;
  if (offer == config_.initiator) {
    GST_ELEMENT_WARNING (bin_, STREAM, WRONG_TYPE,
                         ("Peer %s sent an unexpected %s",
                          config_.username.c_str (),
                          offer ? "offer" : "answer"),
                         ("connection %s", config_.connection_id.c_str ()));
    return;
  }
  GstSDPMessage *sdp = nullptr;
  gst_sdp_message_new (&sdp);
  if (gst_sdp_message_parse_buffer ((const guint8 *)signal.sdp.data (),
                                    signal.sdp.size (), sdp)
          != GST_SDP_OK
      || gst_sdp_message_medias_len (sdp) == 0) {
    gst_sdp_message_free (sdp);
    fail ("its SDP could not be parsed");
    return;
  }
  if (!has_known_codec (sdp)) {
    gst_sdp_message_free (sdp);
    fail ("it offers no codec in common (VP8, VP9, H.264, Opus)");
    return;
  }
  remote_mids_.clear ();
  std::set<guint32> video_ssrcs;
  for (guint i = 0; i < gst_sdp_message_medias_len (sdp); i++) {
    const GstSDPMedia *m = gst_sdp_message_get_media (sdp, i);
    const char *mid = gst_sdp_media_get_attribute_val (m, "mid");
    remote_mids_.push_back (mid ? mid : "");
    if (g_strcmp0 (gst_sdp_media_get_media (m), "video") != 0)
      continue;
    const char *ssrc;
    for (guint n = 0; (ssrc = gst_sdp_media_get_attribute_val_n (m, "ssrc", n));
         n++)
      video_ssrcs.insert ((guint32)g_ascii_strtoull (ssrc, nullptr, 10));
  }
  /* webrtcbin's origin line: "o=- <id> 0 IN IP4 0.0.0.0" (Chromium gives
   * its own address, Firefox a user name of its own). */
  const GstSDPOrigin *origin = gst_sdp_message_get_origin (sdp);
  const bool webrtcbin = origin && g_strcmp0 (origin->username, "-") == 0
                         && g_strcmp0 (origin->addr, "0.0.0.0") == 0;
  {
    std::lock_guard<std::mutex> lock (ssrc_lock_);
    remote_video_ssrcs_ = std::move (video_ssrcs);
    remote_is_webrtcbin_ = webrtcbin;
  }

  /* As answerer, link the inputs first, with the payload types the offer
   * gives, so that the offered m-lines find them (a mismatch would make
   * webrtcbin answer recvonly). */
  if (offer && branches_.empty ()) {
    for (SendInput *input : delegate_->send_inputs ()) {
      const RtpCodec *codec = find_codec (input->encoding ().c_str ());
      auto pt = codec ? offered_pt (sdp, codec->media, codec->encoding)
                      : std::nullopt;
      /* TWCC only if the offer has it (else receiver reports). */
      const guint twcc
          = pt && congestion_
                ? offered_twcc_id (sdp, codec->media).value_or (0)
                : 0;
      if (pt)
        link_input (input, *pt, twcc);
      else
        GST_INFO ("peer %s does not take %s: not sending that input",
                  config_.connection_id.c_str (), input->encoding ().c_str ());
    }
    /* What we only receive: before the offer is set, so that its m-lines
     * find these transceivers (with the TWCC extension and rtx) rather
     * than make their own. */
    if (config_.receive) {
      bool have_video = false, have_audio = false;
      for (const auto &b : branches_) {
        have_video |= b->input->kind () == "video";
        have_audio |= b->input->kind () == "audio";
      }
      if (!have_video)
        add_receive_transceiver ("video", sdp);
      if (!have_audio)
        add_receive_transceiver ("audio", sdp);
    }
  }

  GstWebRTCSessionDescription *desc = gst_webrtc_session_description_new (
      offer ? GST_WEBRTC_SDP_TYPE_OFFER : GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
  GstPromise *promise = gst_promise_new_with_change_func (
      [] (GstPromise *promise, gpointer data) {
        auto *ctx = static_cast<std::pair<WeakSession, bool> *> (data);
        const GstStructure *reply = gst_promise_get_reply (promise);
        g_autoptr (GError) error = nullptr;
        if (reply)
          gst_structure_get (reply, "error", G_TYPE_ERROR, &error, nullptr);
        bool was_offer = ctx->second;
        std::string why = error ? error->message : "";
        gst_promise_unref (promise);
        if (auto self = ctx->first.lock ()) {
          self->hop ([was_offer, why] (PeerSession &s) {
            if (!why.empty ())
              s.fail ("its description was refused: " + why);
            else
              s.on_remote_description_set (was_offer);
          });
        }
      },
      new std::pair<WeakSession, bool> (weak_from_this (), offer),
      [] (gpointer data) {
        delete static_cast<std::pair<WeakSession, bool> *> (data);
      });
  g_signal_emit_by_name (webrtc_, "set-remote-description", desc, promise);
  gst_webrtc_session_description_free (desc);
}

void
PeerSession::on_remote_description_set (bool offer)
{
  if (stopped_)
    return;
  remote_set_ = true;
  auto pending = std::move (pending_candidates_);
  pending_candidates_.clear ();
  for (const auto &c : pending)
    add_remote_candidate (c);
  if (!offer)
    return;

  GstPromise *promise = gst_promise_new_with_change_func (
      [] (GstPromise *promise, gpointer data) {
        auto self = static_cast<WeakSession *> (data)->lock ();
        const GstStructure *reply = gst_promise_get_reply (promise);
        GstWebRTCSessionDescription *answer = nullptr;
        if (reply)
          gst_structure_get (reply, "answer",
                             GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &answer,
                             nullptr);
        gst_promise_unref (promise);
        auto held = hold_description (answer);
        if (!self)
          return;
        if (!answer) {
          self->hop ([] (PeerSession &s) {
            s.fail ("no answer could be made to its offer");
          });
          return;
        }
        self->hop ([held] (PeerSession &s) {
          s.set_local_description (held.get ());
        });
      },
      new WeakSession (weak_from_this ()),
      [] (gpointer data) { delete static_cast<WeakSession *> (data); });
  g_signal_emit_by_name (webrtc_, "create-answer", nullptr, promise);
}

void
PeerSession::add_remote_candidate (const PeerSignal &signal)
{
  if (signal.candidate.empty ())
    return; /* end of candidates */
  /* Browsers hide host addresses behind mDNS names we cannot resolve. */
  if (signal.candidate.find (".local ") != std::string::npos) {
    GST_DEBUG ("ignoring an mDNS candidate: %s", signal.candidate.c_str ());
    return;
  }
  guint mline = 0;
  if (signal.sdp_mline_index) {
    mline = *signal.sdp_mline_index;
  } else if (signal.sdp_mid) {
    auto it = std::find (remote_mids_.begin (), remote_mids_.end (),
                         *signal.sdp_mid);
    if (it == remote_mids_.end ())
      return;
    mline = it - remote_mids_.begin ();
  }
  g_signal_emit_by_name (webrtc_, "add-ice-candidate", mline,
                         signal.candidate.c_str ());
}

bool
PeerSession::send_message (const std::string &text)
{
  if (stopped_ || failed_)
    return false;
  if (!channel_open_) {
    /* Not open yet: it goes out when the channel opens. */
    outbox_.push_back (text);
    return true;
  }
  GstWebRTCDataChannelState state;
  g_object_get (channel_, "ready-state", &state, nullptr);
  if (state != GST_WEBRTC_DATA_CHANNEL_STATE_OPEN)
    return false;
  gst_webrtc_data_channel_send_string (channel_, text.c_str ());
  return true;
}

void
PeerSession::flush_outbox ()
{
  auto waiting = std::move (outbox_);
  outbox_.clear ();
  for (const auto &text : waiting)
    gst_webrtc_data_channel_send_string (channel_, text.c_str ());
}

void
PeerSession::set_connection_id (const std::string &id)
{
  config_.connection_id = id;
  for (auto &t : tracks_) {
    if (t->ghost)
      gst_signalrtc_pad_set_connection_id (t->ghost, id.c_str ());
  }
}

/* Hub thread: the setup timer fired. */
void
PeerSession::setup_timed_out ()
{
  g_source_unref (setup_timer_);
  setup_timer_ = nullptr;
  if (connected_ || stopped_)
    return;
  const char *stage = !remote_set_ ? (config_.initiator ? "no answer came"
                                                        : "its offer was not taken")
                      : !transport_connected_
                          ? "ICE/DTLS did not connect"
                          : "the data channel did not open";
  g_autofree gchar *why
      = g_strdup_printf ("the call was not set up within %u s (%s)",
                         config_.setup_timeout_ms / 1000, stage);
  fail (why);
}

void
PeerSession::fail (const std::string &why)
{
  if (stopped_ || failed_)
    return;
  failed_ = true;
  delegate_->session_failed (*this, why);
}

/* A webrtcbin thread, in pad-added: blocks @pad until the hub thread has
 * linked it (release_held_track) or the call ends (release_held_tracks).
 * False when the call is already ending: @pad is then left alone, and
 * stop () takes the webrtcbin down with it. */
bool
PeerSession::hold_track (GstPad *pad)
{
  std::lock_guard<std::mutex> lock (held_lock_);
  if (held_closed_)
    return false;
  gulong block = gst_pad_add_probe (
      pad, GST_PAD_PROBE_TYPE_BLOCK_DOWNSTREAM,
      [] (GstPad *, GstPadProbeInfo *, gpointer) { return GST_PAD_PROBE_OK; },
      nullptr, nullptr);
  held_.push_back ({(GstPad *)gst_object_ref (pad), block});
  return true;
}

/* Hub thread: lets @pad go, unless stop () already did. */
bool
PeerSession::release_held_track (GstPad *pad)
{
  HeldTrack held{nullptr, 0};
  {
    std::lock_guard<std::mutex> lock (held_lock_);
    auto it = std::find_if (held_.begin (), held_.end (),
                            [pad] (const HeldTrack &h) { return h.pad == pad; });
    if (it == held_.end ())
      return false;
    held = *it;
    held_.erase (it);
  }
  gst_pad_remove_probe (held.pad, held.block);
  gst_object_unref (held.pad);
  return true;
}

/* Hub thread, in stop (): no track is held from now on, and those still
 * held are let go into a probe that drops all they carry, since nothing
 * will link them. */
void
PeerSession::release_held_tracks ()
{
  std::vector<HeldTrack> held;
  {
    std::lock_guard<std::mutex> lock (held_lock_);
    held_closed_ = true;
    held.swap (held_);
  }
  for (HeldTrack &h : held) {
    gst_pad_add_probe (
        h.pad, GST_PAD_PROBE_TYPE_DATA_DOWNSTREAM,
        [] (GstPad *, GstPadProbeInfo *, gpointer) {
          return GST_PAD_PROBE_DROP;
        },
        nullptr, nullptr);
    gst_pad_remove_probe (h.pad, h.block);
    gst_object_unref (h.pad);
  }
  if (!held.empty ())
    GST_DEBUG ("peer %s: %u track(s) ended before they were linked",
               config_.connection_id.c_str (), (guint)held.size ());
}

/* Hub thread: a remote track arrived; @pad (webrtcbin's) is blocked until
 * this returns. */
void
PeerSession::add_track (GstPad *pad, GstCaps *caps)
{
  const GstStructure *s
      = caps && !gst_caps_is_empty (caps) ? gst_caps_get_structure (caps, 0)
                                          : nullptr;
  const RtpCodec *codec
      = find_codec (s ? gst_structure_get_string (s, "encoding-name") : nullptr);

  GstElement *track_bin = gst_bin_new (nullptr);
  std::vector<GstElement *> chain;
  auto add = [&] (const char *factory) {
    GstElement *e
        = factory ? gst_element_factory_make (factory, nullptr) : nullptr;
    if (e)
      chain.push_back (e);
    return e != nullptr || factory == nullptr;
  };
  bool ok = config_.receive && codec != nullptr && add (codec->depayloader)
            && add (codec->parser);
  if (ok && !config_.decode && g_str_equal (codec->encoding, "OPUS")
      && add ("capssetter")) {
    /* rtpopusdepay leaves the rate out of its caps, and muxers (webmmux,
     * matroskamux, ...) refuse Opus without one. RTP Opus is always
     * 48 kHz (RFC 7587). */
    g_autoptr (GstCaps) rate
        = gst_caps_from_string ("audio/x-opus, rate=(int)48000");
    g_object_set (chain.back (), "caps", rate, nullptr);
  }
  if (ok && config_.decode) {
    ok = add (codec->decoder);
    if (g_str_equal (codec->media, "video"))
      ok = ok && add ("videoconvert");
    else
      ok = ok && add ("audioconvert") && add ("audioresample");
  }
  if (!ok) {
    for (GstElement *e : chain)
      gst_object_unref (gst_object_ref_sink (e));
    gst_object_unref (gst_object_ref_sink (track_bin));
    /* Swallow it so that webrtcbin does not stop on not-linked; it goes
     * with the call. */
    GstElement *sink = gst_element_factory_make ("fakesink", nullptr);
    g_object_set (sink, "async", FALSE, "sync", FALSE, nullptr);
    gst_bin_add (bin_, sink);
    gst_element_sync_state_with_parent (sink);
    g_autoptr (GstPad) sink_pad = gst_element_get_static_pad (sink, "sink");
    gst_pad_link (pad, sink_pad);
    tracks_.push_back (std::make_unique<Track> (Track{sink, nullptr}));
    if (config_.receive)
      GST_ELEMENT_WARNING (bin_, STREAM, CODEC_NOT_FOUND,
                           ("Cannot receive %s from %s",
                            codec ? codec->encoding : "this codec",
                            config_.username.c_str ()),
                           ("caps %" GST_PTR_FORMAT, caps));
    return;
  }

  /* Ask the sender for a key frame (PLI) whenever the picture cannot be
   * decoded, and decode nothing before one. */
  GObjectClass *depay_class = G_OBJECT_GET_CLASS (chain.front ());
  for (const char *prop : {"request-keyframe", "wait-for-keyframe"}) {
    if (g_object_class_find_property (depay_class, prop))
      g_object_set (chain.front (), prop, TRUE, nullptr);
  }
  for (GstElement *e : chain)
    gst_bin_add (GST_BIN (track_bin), e);
  for (gsize i = 1; i < chain.size (); i++)
    gst_element_link (chain[i - 1], chain[i]);
  g_autoptr (GstPad) first
      = gst_element_get_static_pad (chain.front (), "sink");
  g_autoptr (GstPad) last = gst_element_get_static_pad (chain.back (), "src");
  gst_element_add_pad (track_bin, gst_ghost_pad_new ("sink", first));
  gst_element_add_pad (track_bin, gst_ghost_pad_new ("src", last));
  gst_bin_add (bin_, track_bin);
  gst_element_sync_state_with_parent (track_bin);

  g_autoptr (GstPad) track_sink
      = gst_element_get_static_pad (track_bin, "sink");
  gst_pad_link (pad, track_sink);

  guint &n = next_track_[g_str_equal (codec->media, "video") ? 0 : 1];
  std::string name
      = config_.stable_pad_names
            ? std::string (codec->media) + "_" + std::to_string (n++)
            : std::string (codec->media) + "_" + config_.connection_id + "_"
                  + std::to_string (n++);
  g_autoptr (GstPad) track_src = gst_element_get_static_pad (track_bin, "src");
  if (g_str_equal (codec->media, "video"))
    gst_pad_add_probe (
        track_src, GST_PAD_PROBE_TYPE_BUFFER,
        [] (GstPad *, GstPadProbeInfo *, gpointer data) {
          static_cast<std::atomic<guint64> *> (data)->fetch_add (1);
          return GST_PAD_PROBE_OK;
        },
        &frames_received_, nullptr);
  GstPad *ghost = gst_signalrtc_pad_new (
      name.c_str (), track_src, config_.connection_id.c_str (),
      config_.username.c_str (), codec->media);
  /* A track nobody links (a gst-launch line that links only the first video
   * track; a track added by renegotiation) is dropped here: not-linked
   * would be a fatal flow error inside webrtcbin and end the call. */
  gst_pad_add_probe (
      track_src,
      (GstPadProbeType)(GST_PAD_PROBE_TYPE_BUFFER
                        | GST_PAD_PROBE_TYPE_BUFFER_LIST),
      [] (GstPad *, GstPadProbeInfo *, gpointer data) {
        return gst_pad_is_linked (GST_PAD (data)) ? GST_PAD_PROBE_OK
                                                  : GST_PAD_PROBE_DROP;
      },
      gst_object_ref (ghost), gst_object_unref);
  gst_pad_set_active (ghost, TRUE);
  tracks_.push_back (std::make_unique<Track> (Track{track_bin, ghost}));
  gst_element_add_pad (GST_ELEMENT (bin_), ghost);
  GST_INFO ("peer %s: new %s track on %s", config_.connection_id.c_str (),
            codec->encoding, name.c_str ());
  delegate_->track_added (*this, ghost, codec->media);
}

struct StatsTotals
{
  guint64 bytes_sent = 0, bytes_received = 0, packets_sent = 0,
          packets_received = 0;
  gint64 packets_lost = 0;
  /* What we receive: packets a retransmission repaired, retransmissions
   * our jitterbuffers asked for, packets that came too late to be used,
   * PLIs we sent. */
  guint64 repaired = 0, requested = 0, late = 0, plis = 0;
  double rtt = -1;
  /* The worst a receiver report of the peer's gives, -1 none. */
  double fraction_lost = -1;
};

namespace {

gboolean
add_stat (GQuark, const GValue *value, gpointer data)
{
  if (!GST_VALUE_HOLDS_STRUCTURE (value))
    return TRUE;
  const GstStructure *stat = gst_value_get_structure (value);
  auto *t = static_cast<StatsTotals *> (data);
  GstWebRTCStatsType type;
  if (!gst_structure_get (stat, "type", GST_TYPE_WEBRTC_STATS_TYPE, &type,
                          nullptr))
    return TRUE;
  guint64 u = 0;
  gint64 i = 0;
  double d = 0;
  switch (type) {
  case GST_WEBRTC_STATS_OUTBOUND_RTP:
    if (gst_structure_get_uint64 (stat, "bytes-sent", &u))
      t->bytes_sent += u;
    if (gst_structure_get_uint64 (stat, "packets-sent", &u))
      t->packets_sent += u;
    break;
  case GST_WEBRTC_STATS_INBOUND_RTP: {
    GST_LOG ("%" GST_PTR_FORMAT, stat);
    if (gst_structure_get_uint64 (stat, "bytes-received", &u))
      t->bytes_received += u;
    if (gst_structure_get_uint64 (stat, "packets-received", &u))
      t->packets_received += u;
    if (gst_structure_get_int64 (stat, "packets-lost", &i))
      t->packets_lost += i;
    if (gst_structure_get_uint64 (stat, "packets-repaired", &u))
      t->repaired += u;
    guint n = 0;
    if (gst_structure_get_uint (stat, "pli-count", &n))
      t->plis += n;
    GstStructure *jb = nullptr;
    if (gst_structure_get (stat, "gst-rtpjitterbuffer-stats", GST_TYPE_STRUCTURE,
                           &jb, nullptr)) {
      if (gst_structure_get_uint64 (jb, "rtx-count", &u))
        t->requested += u;
      if (gst_structure_get_uint64 (jb, "num-late", &u))
        t->late += u;
      gst_structure_free (jb);
    }
    break;
  }
  case GST_WEBRTC_STATS_REMOTE_INBOUND_RTP:
    if (gst_structure_get_double (stat, "round-trip-time", &d))
      t->rtt = MAX (t->rtt, d);
    if (gst_structure_get_double (stat, "fraction-lost", &d))
      t->fraction_lost = MAX (t->fraction_lost, d);
    break;
  default:
    break;
  }
  return TRUE;
}

}  // namespace

std::uint32_t
PeerSession::bandwidth_estimate () const
{
  return congestion_ ? congestion_->target_bps () : 0;
}

double
PeerSession::fraction_lost () const
{
  return congestion_ ? congestion_->fraction_lost () : 0.0;
}

/* webrtcbin's stats, summed (StatsTotals), handed to @use on the hub
 * thread while the session goes on. */
void
PeerSession::ask_stats (
    std::function<void (PeerSession &, const StatsTotals &)> use)
{
  if (stopped_ || !webrtc_)
    return;
  struct Ask
  {
    WeakSession session;
    std::function<void (PeerSession &, const StatsTotals &)> use;
  };
  GstPromise *promise = gst_promise_new_with_change_func (
      [] (GstPromise *promise, gpointer data) {
        StatsTotals totals;
        if (const GstStructure *reply = gst_promise_get_reply (promise))
          gst_structure_foreach (reply, add_stat, &totals);
        gst_promise_unref (promise);
        auto *ask = static_cast<Ask *> (data);
        if (auto self = ask->session.lock ())
          self->hop ([totals, use = ask->use] (PeerSession &s) {
            if (!s.stopped_)
              use (s, totals);
          });
      },
      new Ask{weak_from_this (), std::move (use)},
      [] (gpointer data) { delete static_cast<Ask *> (data); });
  g_signal_emit_by_name (webrtc_, "get-stats", nullptr, promise);
}

void
PeerSession::request_stats ()
{
  ask_stats ([] (PeerSession &s, const StatsTotals &totals) {
    const gint64 now = g_get_monotonic_time ();
    const double seconds = (now - s.stats_time_us_) / 1e6;
    auto rate = [seconds] (guint64 now_bytes, guint64 then_bytes) {
      return seconds > 0 && now_bytes >= then_bytes
                 ? (guint64)((now_bytes - then_bytes) * 8 / seconds)
                 : (guint64)0;
    };
    GstStructure *st = gst_structure_new (
        "signalrtc-peer-stats", "username", G_TYPE_STRING,
        s.config_.username.c_str (), "connection-id", G_TYPE_STRING,
        s.config_.connection_id.c_str (), "bitrate-sent", G_TYPE_UINT64,
        s.stats_time_us_ ? rate (totals.bytes_sent, s.bytes_sent_)
                         : (guint64)0,
        "bitrate-received", G_TYPE_UINT64,
        s.stats_time_us_ ? rate (totals.bytes_received, s.bytes_received_)
                         : (guint64)0,
        "packets-sent", G_TYPE_UINT64, totals.packets_sent,
        "packets-received", G_TYPE_UINT64, totals.packets_received,
        "packets-lost", G_TYPE_INT64, totals.packets_lost, "round-trip-time",
        G_TYPE_DOUBLE, totals.rtt, "frames-received", G_TYPE_UINT64,
        s.frames_received_.load (), "packets-repaired", G_TYPE_UINT64,
        totals.repaired, "retransmissions-requested", G_TYPE_UINT64,
        totals.requested, "packets-late", G_TYPE_UINT64, totals.late,
        "plis-sent", G_TYPE_UINT64, totals.plis, nullptr);
    if (s.congestion_)
      s.congestion_->add_stats (st);
    for (auto &gate : s.gates_)
      gate->add_stats (st);
    s.stats_time_us_ = now;
    s.bytes_sent_ = totals.bytes_sent;
    s.bytes_received_ = totals.bytes_received;
    s.delegate_->peer_stats (s, st);
  });
}

void
PeerSession::poll_feedback ()
{
  if (!congestion_)
    return;
  ask_stats ([] (PeerSession &s, const StatsTotals &totals) {
    if (s.congestion_)
      s.congestion_->on_receiver_report (totals.fraction_lost, totals.rtt);
  });
}

void
PeerSession::request_key_frames ()
{
  for (auto &gate : gates_)
    gate->request_key_frame ();
}

void
PeerSession::stop ()
{
  if (stopped_)
    return;
  stopped_ = true;
  /* Tracks still held for a hop that will not link them now: let them go
   * first (into a probe that drops what they carry), or stopping the
   * webrtcbin waits for ever for the streaming threads those blocks hold,
   * while their hop waits behind this call on the hub thread. */
  release_held_tracks ();
  if (setup_timer_) {
    g_source_destroy (setup_timer_);
    g_source_unref (setup_timer_);
    setup_timer_ = nullptr;
  }
  if (!outbox_.empty ()) {
    GST_ELEMENT_WARNING (bin_, RESOURCE, WRITE,
                         ("%u chat message(s) to %s were not sent: the call "
                          "ended before its data channel opened",
                          (guint)outbox_.size (), config_.username.c_str ()),
                         ("connection %s", config_.connection_id.c_str ()));
    outbox_.clear ();
  }
  /* 1. Off the shared tees first: a released tee pad is skipped, while a
   * flushing branch would stop the tee for every peer. */
  for (auto &b : branches_) {
    for (GstPad *pad : b->tee_pads) {
      if (GstElement *tee = gst_pad_get_parent_element (pad)) {
        gst_element_release_request_pad (tee, pad);
        gst_object_unref (tee);
      }
      gst_object_unref (pad);
    }
    b->tee_pads.clear ();
  }
  /* 2. EOS down every track, while the webrtcbin still runs, each from a
   * thread of its own, and wait for them. The application downstream may
   * hold a streaming thread of ours: a muxer waiting for this call's other
   * track (which has stopped) leaves the first track's queue full, and the
   * thread pushing into it keeps the pad locks that stopping the webrtcbin
   * needs. Only the other track's EOS frees it; sent one after the other
   * from here, the first EOS could wait behind the full queue for ever
   * (seen in the soak: signalrtc-record's hub thread stopped for good, and
   * with it every call). Buffers that come after are dropped at the door. */
  auto tracks = std::move (tracks_);
  tracks_.clear ();
  struct EosSenders
  {
    std::mutex lock;
    std::condition_variable done;
    size_t left = 0;
  };
  auto senders = std::make_shared<EosSenders> ();
  senders->left = tracks.size ();
  for (auto &t : tracks) {
    GstPad *sink = gst_element_get_static_pad (t->bin, "sink");
    gst_pad_add_probe (
        sink,
        (GstPadProbeType)(GST_PAD_PROBE_TYPE_BUFFER
                          | GST_PAD_PROBE_TYPE_BUFFER_LIST),
        [] (GstPad *, GstPadProbeInfo *, gpointer) {
          return GST_PAD_PROBE_DROP;
        },
        nullptr, nullptr);
    std::thread ([sink, senders] {
      gst_pad_send_event (sink, gst_event_new_eos ());
      gst_object_unref (sink);
      std::lock_guard<std::mutex> lock (senders->lock);
      if (--senders->left == 0)
        senders->done.notify_all ();
    }).detach ();
  }
  {
    /* Bounded, so that an application that never lets go (a paused
     * pipeline downstream) costs this call a warning, not the hub thread. */
    std::unique_lock<std::mutex> lock (senders->lock);
    if (!senders->done.wait_for (lock, std::chrono::seconds (kEosWaitSeconds),
                                 [&] { return senders->left == 0; }))
      GST_WARNING ("peer %s: the application downstream took no EOS in %d s",
                   config_.connection_id.c_str (), kEosWaitSeconds);
  }
  /* 3. Stop the webrtcbin: nothing more comes out of it. */
  if (webrtc_) {
    gst_element_set_locked_state (webrtc_, TRUE);
    gst_element_set_state (webrtc_, GST_STATE_NULL);
  }
  if (channel_) {
    gst_object_unref (channel_);
    channel_ = nullptr;
  }
  /* 4. Remove the tracks' src pads and bins. */
  for (auto &t : tracks) {
    if (t->ghost)
      gst_element_remove_pad (GST_ELEMENT (bin_), t->ghost);
    gst_element_set_locked_state (t->bin, TRUE);
    gst_element_set_state (t->bin, GST_STATE_NULL);
    gst_bin_remove (bin_, t->bin);
  }
  for (auto &b : branches_) {
    for (GstElement *e : b->elements) {
      gst_element_set_locked_state (e, TRUE);
      gst_element_set_state (e, GST_STATE_NULL);
      gst_bin_remove (bin_, e);
    }
  }
  branches_.clear ();
  gates_.clear ();
  if (webrtc_) {
    gst_bin_remove (bin_, webrtc_);
    gst_object_unref (webrtc_);
    webrtc_ = nullptr;
  }
}

}  // namespace signalrtc
