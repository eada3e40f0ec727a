/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "send-input.h"

#include <gst/video/video.h>

#include <vector>

GST_DEBUG_CATEGORY_EXTERN (gst_signalrtc_bin_debug);
#define GST_CAT_DEFAULT gst_signalrtc_bin_debug

namespace signalrtc {

namespace {

/* Encoded caps each RTP encoding name stands for. */
const char *
encoded_media_type (const std::string &encoding)
{
  if (encoding == "VP8")
    return "video/x-vp8";
  if (encoding == "VP9")
    return "video/x-vp9";
  if (encoding == "H264")
    return "video/x-h264";
  return "audio/x-opus";
}

GstElement *
make (const char *factory, GError **error)
{
  GstElement *e = gst_element_factory_make (factory, nullptr);
  if (!e && error && !*error) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
                 "The element '%s' is missing (install its GStreamer plugin)",
                 factory);
  }
  return e;
}

/* Encoders tuned for real-time calls: no look-ahead, constant bitrate,
 * key frames only when asked for (a new peer, a PLI). */
std::vector<GstElement *>
encoder_chain (const std::string &kind, const std::string &encoding,
               guint bitrate, GError **error)
{
  std::vector<GstElement *> chain;
  auto add = [&] (const char *factory) {
    GstElement *e = make (factory, error);
    if (e)
      chain.push_back (e);
    return e;
  };
  if (kind == "audio") {
    add ("audioconvert");
    add ("audioresample");
    if (GstElement *enc = add ("opusenc")) {
      /* In-band FEC: each packet also carries a coarse copy of the one
       * before, for the amount of loss set_packet_loss () says to expect
       * (none until then: Opus adds it only for expected loss). */
      g_object_set (enc, "perfect-timestamp", TRUE, "inband-fec", TRUE,
                    nullptr);
      gst_util_set_object_arg (G_OBJECT (enc), "audio-type", "voice");
    }
  } else {
    add ("videoconvert");
    if (encoding == "H264") {
      if (GstElement *enc = add ("x264enc")) {
        gst_util_set_object_arg (G_OBJECT (enc), "tune", "zerolatency");
        gst_util_set_object_arg (G_OBJECT (enc), "speed-preset", "ultrafast");
        g_object_set (enc, "key-int-max", 3000, nullptr);
        if (bitrate)
          g_object_set (enc, "bitrate", MAX (bitrate / 1000, 1u), nullptr);
      }
      if (GstElement *filter = add ("capsfilter")) {
        g_autoptr (GstCaps) caps = gst_caps_from_string (
            "video/x-h264,profile=constrained-baseline");
        g_object_set (filter, "caps", caps, nullptr);
      }
    } else {
      if (GstElement *enc = add (encoding == "VP9" ? "vp9enc" : "vp8enc")) {
        g_object_set (enc, "deadline", (gint64)1, "lag-in-frames", 0,
                      "keyframe-max-dist", 3000, "cpu-used", 4, nullptr);
        gst_util_set_object_arg (G_OBJECT (enc), "end-usage", "cbr");
        gst_util_set_object_arg (G_OBJECT (enc), "error-resilient", "default");
        if (bitrate)
          g_object_set (enc, "target-bitrate", (gint)bitrate, nullptr);
        /* A rate buffer of a second, not libvpx's six: over a link that
         * carries just the target, a six-second buffer lets it send bursts
         * the link queues for seconds. */
        g_object_set (enc, "buffer-size", 1000, "buffer-initial-size", 500,
                      "buffer-optimal-size", 600, nullptr);
      }
    }
  }
  if (error && *error) {
    for (GstElement *e : chain)
      gst_object_unref (gst_object_ref_sink (e));
    chain.clear ();
  }
  return chain;
}

}  // namespace

SendInput::SendInput (GstBin *bin, const std::string &pad_name,
                      const std::string &kind, const std::string &encoding,
                      guint bitrate, std::function<void ()> on_eos)
    : bin_ (bin), kind_ (kind), encoding_ (encoding), bitrate_ (bitrate),
      on_eos_ (std::move (on_eos))
{
  g_mutex_init (&lock_);
  queue_ = gst_element_factory_make ("queue", nullptr);
  tee_ = gst_element_factory_make ("tee", nullptr);
  /* Nobody may be watching yet: that is no error. */
  g_object_set (tee_, "allow-not-linked", TRUE, nullptr);
  gst_bin_add_many (bin_, queue_, tee_, nullptr);
  gst_object_ref (queue_);
  gst_object_ref (tee_);

  GstPad *tee_sink = gst_element_get_static_pad (tee_, "sink");
  gst_pad_add_probe (tee_sink, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM,
                     on_upstream_event, this, nullptr);
  /* Key frames are a video matter: audio buffers pass unwatched. */
  if (kind_ == "video")
    gst_pad_add_probe (tee_sink, GST_PAD_PROBE_TYPE_BUFFER, on_buffer, this,
                       nullptr);
  gst_object_unref (tee_sink);

  GstPad *queue_sink = gst_element_get_static_pad (queue_, "sink");
  ghost_ = gst_ghost_pad_new (pad_name.c_str (), queue_sink);
  gst_object_unref (queue_sink);

  GstPad *queue_src = gst_element_get_static_pad (queue_, "src");
  gst_pad_add_probe (queue_src, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_caps,
                     this, nullptr);
  gst_pad_add_probe (queue_src, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_event,
                     this, nullptr);
  gst_object_unref (queue_src);
  gst_element_sync_state_with_parent (queue_);
  gst_element_sync_state_with_parent (tee_);
}

SendInput::~SendInput ()
{
  g_mutex_lock (&lock_);
  std::vector<GstElement *> elements = std::move (chain_);
  encoder_ = nullptr;
  g_mutex_unlock (&lock_);
  elements.insert (elements.begin (), queue_);
  elements.push_back (tee_);
  /* Each is ours (a reference), and still in the bin unless the bin is
   * being disposed, which takes its children out first. */
  for (GstElement *e : elements) {
    gst_element_set_locked_state (e, TRUE);
    gst_element_set_state (e, GST_STATE_NULL);
    if (GST_OBJECT_PARENT (e) == GST_OBJECT (bin_))
      gst_bin_remove (bin_, e);
    gst_object_unref (e);
  }
  g_mutex_clear (&lock_);
}

GstPadProbeReturn
SendInput::on_caps (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  if (GST_EVENT_TYPE (event) != GST_EVENT_CAPS)
    return GST_PAD_PROBE_OK;
  auto *self = static_cast<SendInput *> (user_data);
  GstCaps *caps;
  gst_event_parse_caps (event, &caps);
  if (!self->build_chain (caps))
    return GST_PAD_PROBE_DROP;
  return GST_PAD_PROBE_REMOVE;
}

GstPadProbeReturn
SendInput::on_event (GstPad *, GstPadProbeInfo *info, gpointer user_data)
{
  auto *self = static_cast<SendInput *> (user_data);
  switch (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info))) {
  case GST_EVENT_EOS:
    g_mutex_lock (&self->lock_);
    self->eos_ = true;
    g_mutex_unlock (&self->lock_);
    if (self->on_eos_)
      self->on_eos_ ();
    break;
  case GST_EVENT_FLUSH_STOP:
  case GST_EVENT_STREAM_START:
    g_mutex_lock (&self->lock_);
    self->eos_ = false;
    g_mutex_unlock (&self->lock_);
    break;
  default:
    break;
  }
  return GST_PAD_PROBE_OK;
}

bool
SendInput::eos () const
{
  g_mutex_lock (const_cast<GMutex *> (&lock_));
  bool eos = eos_;
  g_mutex_unlock (const_cast<GMutex *> (&lock_));
  return eos;
}

bool
SendInput::is_live () const
{
  g_autoptr (GstQuery) query = gst_query_new_latency ();
  gboolean live = FALSE;
  if (gst_pad_peer_query (ghost_, query))
    gst_query_parse_latency (query, &live, nullptr, nullptr);
  return live;
}

/* Streaming thread, first caps: link queue -> (encoder) -> tee. */
bool
SendInput::build_chain (GstCaps *caps)
{
  GstStructure *s = gst_caps_get_structure (caps, 0);
  const char *media = gst_structure_get_name (s);
  const bool raw = g_str_has_suffix (media, "/x-raw");
  const std::string wanted = encoded_media_type (encoding_);

  if (!g_str_has_prefix (media, kind_.c_str ()) || (!raw && wanted != media)) {
    GST_ELEMENT_ERROR (bin_, STREAM, WRONG_TYPE,
                       ("The %s input takes raw %s or %s, not %s",
                        kind_.c_str (), kind_.c_str (), wanted.c_str (), media),
                       ("caps: %" GST_PTR_FORMAT, caps));
    return false;
  }

  std::vector<GstElement *> chain;
  if (raw && is_live ()) {
    /* A live source does not wait for us: when the encoder falls behind
     * (a busy machine), late frames are dropped here instead of queueing
     * up to a second of delay for every peer. A file keeps the default
     * queue, whose back-pressure paces it. */
    gst_util_set_object_arg (G_OBJECT (queue_), "leaky", "downstream");
    g_object_set (queue_, "max-size-buffers", 0, "max-size-bytes", 0,
                  "max-size-time", (guint64)100 * GST_MSECOND, nullptr);
  }
  if (raw) {
    g_autoptr (GError) error = nullptr;
    g_mutex_lock (&lock_);
    const guint bitrate = bitrate_;
    g_mutex_unlock (&lock_);
    chain = encoder_chain (kind_, encoding_, bitrate, &error);
    if (chain.empty ()) {
      GST_ELEMENT_ERROR (bin_, CORE, MISSING_PLUGIN, ("%s", error->message),
                         (nullptr));
      return false;
    }
  } else if (encoding_ == "H264") {
    /* Passthrough H.264 still needs SPS/PPS in band for late joiners. */
    GstElement *parse = gst_element_factory_make ("h264parse", nullptr);
    if (parse) {
      g_object_set (parse, "config-interval", -1, nullptr);
      chain.push_back (parse);
    }
  }

  g_mutex_lock (&lock_);
  for (GstElement *e : chain) {
    chain_.push_back ((GstElement *)gst_object_ref_sink (e));
    GstElementFactory *f = gst_element_get_factory (e);
    if (f
        && gst_element_factory_list_is_type (f,
                                             GST_ELEMENT_FACTORY_TYPE_ENCODER))
      encoder_ = e;
  }
  /* set_bitrate () and set_packet_loss () may have come before the chain. */
  if (encoder_ && bitrate_ && kind_ == "video")
    set_encoder_bitrate (encoder_, bitrate_);
  if (encoder_ && kind_ == "audio")
    g_object_set (encoder_, "packet-loss-percentage", (gint)loss_percent_,
                  nullptr);
  g_mutex_unlock (&lock_);
  GstElement *previous = queue_;
  for (GstElement *e : chain) {
    gst_bin_add (bin_, e);
    if (!gst_element_link (previous, e)) {
      GST_ELEMENT_ERROR (bin_, CORE, NEGOTIATION, (nullptr),
                         ("could not link %s to %s", GST_OBJECT_NAME (previous),
                          GST_OBJECT_NAME (e)));
      return false;
    }
    previous = e;
  }
  if (!gst_element_link (previous, tee_)) {
    GST_ELEMENT_ERROR (
        bin_, CORE, NEGOTIATION, (nullptr),
        ("could not link %s to the tee", GST_OBJECT_NAME (previous)));
    return false;
  }
  for (GstElement *e : chain)
    gst_element_sync_state_with_parent (e);
  GST_INFO_OBJECT (bin_, "%s input: %s%s", kind_.c_str (), media,
                   raw ? (" -> " + encoding_).c_str () : " (passthrough)");
  return true;
}

namespace {

/* Marks a force-key-unit event as asked for a peer that has just connected
 * (see KeyFramePolicy). */
constexpr const char *kNewPeerField = "signalrtc-new-peer";

GstEvent *
key_frame_event (bool new_peer)
{
  GstEvent *event = gst_video_event_new_upstream_force_key_unit (
      GST_CLOCK_TIME_NONE, TRUE, 0);
  if (new_peer)
    gst_structure_set (gst_event_writable_structure (event), kNewPeerField,
                       G_TYPE_BOOLEAN, TRUE, nullptr);
  return event;
}

}  // namespace

void
SendInput::set_encoder_bitrate (GstElement *encoder, guint bitrate)
{
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (encoder),
                                    "target-bitrate"))
    g_object_set (encoder, "target-bitrate", (gint)MIN (bitrate, G_MAXINT),
                  nullptr); /* vp8enc, vp9enc: bit/s */
  else
    g_object_set (encoder, "bitrate", MAX (bitrate / 1000, 1u),
                  nullptr); /* x264enc: kbit/s */
}

/* Sets @field to @value under lock_; the encoder (a new reference) if
 * that changed it and there is one to tell, else nullptr. */
GstElement *
SendInput::update_setting (guint &field, guint value)
{
  g_mutex_lock (&lock_);
  const bool changed = field != value;
  field = value;
  GstElement *encoder = changed && encoder_
                            ? (GstElement *)gst_object_ref (encoder_)
                            : nullptr;
  g_mutex_unlock (&lock_);
  return encoder;
}

void
SendInput::set_bitrate (guint bitrate)
{
  if (kind_ != "video" || !bitrate)
    return;
  g_autoptr (GstElement) encoder = update_setting (bitrate_, bitrate);
  if (encoder) {
    GST_DEBUG_OBJECT (bin_, "video encoder at %u bit/s", bitrate);
    set_encoder_bitrate (encoder, bitrate);
  }
}

void
SendInput::set_packet_loss (guint percent)
{
  if (kind_ != "audio")
    return;
  percent = MIN (percent, 100u);
  g_autoptr (GstElement) encoder = update_setting (loss_percent_, percent);
  if (encoder && g_object_class_find_property (G_OBJECT_GET_CLASS (encoder),
                                               "packet-loss-percentage")) {
    GST_DEBUG_OBJECT (bin_, "audio encoder expects %u %% loss", percent);
    g_object_set (encoder, "packet-loss-percentage", (gint)percent, nullptr);
  }
}

void
SendInput::request_key_frame ()
{
  if (kind_ != "video")
    return;
  GstPad *sink = gst_element_get_static_pad (tee_, "sink");
  gst_pad_push_event (sink, key_frame_event (true));
  gst_object_unref (sink);
}

/* Every key-frame request going up to the encoder passes here: new peers
 * (request_key_frame) and PLI/FIR from any peer, which rtpbin turns into
 * force-key-unit events. The policy says which go on now; the others are
 * held until a key frame comes out or they are due (on_buffer sends them
 * then), never lost, since the peer that asked may have no picture until
 * then. */
GstPadProbeReturn
SendInput::on_upstream_event (GstPad *, GstPadProbeInfo *info,
                              gpointer user_data)
{
  auto *self = static_cast<SendInput *> (user_data);
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  if (!gst_video_event_is_force_key_unit (event))
    return GST_PAD_PROBE_OK;
  gboolean new_peer = FALSE;
  gst_structure_get_boolean (gst_event_get_structure (event), kNewPeerField,
                             &new_peer);
  g_mutex_lock (&self->lock_);
  const bool pass
      = self->key_frames_.request (g_get_monotonic_time (), new_peer);
  g_mutex_unlock (&self->lock_);
  if (!pass)
    GST_LOG_OBJECT (self->bin_, "key frame request (%s) held until due",
                    new_peer ? "new peer" : "PLI/FIR");
  return pass ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
}

/* Streaming thread, each encoded video frame into the tee: tells the policy
 * which frames are key frames, and sends a held request once it is due. */
GstPadProbeReturn
SendInput::on_buffer (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  auto *self = static_cast<SendInput *> (user_data);
  const bool key = !GST_BUFFER_FLAG_IS_SET (GST_PAD_PROBE_INFO_BUFFER (info),
                                            GST_BUFFER_FLAG_DELTA_UNIT);
  g_mutex_lock (&self->lock_);
  const bool send = self->key_frames_.on_frame (g_get_monotonic_time (), key);
  const bool new_peer = self->key_frames_.held_for_new_peer ();
  g_mutex_unlock (&self->lock_);
  if (send)
    gst_pad_push_event (pad, key_frame_event (new_peer));
  return GST_PAD_PROBE_OK;
}

}  // namespace signalrtc
