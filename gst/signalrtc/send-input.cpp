/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "send-input.h"

#include <gst/video/video.h>

#include <atomic>
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

/* make (), appended to @chain when made. */
GstElement *
append (std::vector<GstElement *> &chain, const char *factory, GError **error)
{
  GstElement *e = make (factory, error);
  if (e)
    chain.push_back (e);
  return e;
}

/* Sets an array property from its items' serialized values: vp8enc's
 * temporal-scalability-* are GValueArray or GstValueArray, which
 * gst-launch cannot parse. */
void
set_array (GstElement *element, const char *property,
           const std::vector<const char *> &items)
{
  GParamSpec *pspec = g_object_class_find_property (
      G_OBJECT_GET_CLASS (element), property);
  GParamSpec *item_spec = nullptr;
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  const bool value_array
      = pspec && G_PARAM_SPEC_VALUE_TYPE (pspec) == g_value_array_get_type ();
  if (value_array)
    item_spec = reinterpret_cast<GParamSpecValueArray *> (pspec)->element_spec;
  G_GNUC_END_IGNORE_DEPRECATIONS
  if (pspec && GST_IS_PARAM_SPEC_ARRAY_LIST (pspec))
    item_spec = GST_PARAM_SPEC_ARRAY_LIST (pspec)->element_spec;
  if (!item_spec) {
    GST_WARNING ("%s has no array property %s", GST_OBJECT_NAME (element),
                 property);
    return;
  }
  GValue array = G_VALUE_INIT;
  g_value_init (&array, G_PARAM_SPEC_VALUE_TYPE (pspec));
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  GValueArray *values = value_array ? g_value_array_new (items.size ()) : nullptr;
  for (const char *item : items) {
    GValue v = G_VALUE_INIT;
    g_value_init (&v, item_spec->value_type);
    if (!gst_value_deserialize (&v, item))
      GST_WARNING ("%s: '%s' is no %s", property, item,
                   g_type_name (item_spec->value_type));
    if (values)
      g_value_array_append (values, &v);
    else
      gst_value_array_append_value (&array, &v);
    g_value_unset (&v);
  }
  if (values)
    g_value_take_boxed (&array, values);
  G_GNUC_END_IGNORE_DEPRECATIONS
  g_object_set_property (G_OBJECT (element), property, &array);
  g_value_unset (&array);
}

/* @bitrate split over three temporal layers by their cumulative shares
 * (0.4, 0.6, 1): at set_temporal_layers (), and again for each new rate
 * while the encoder runs. */
void
set_layer_bitrates (GstElement *enc, guint bitrate)
{
  const std::string b0 = std::to_string (bitrate * 2 / 5),
                    b1 = std::to_string (bitrate * 3 / 5),
                    b2 = std::to_string (bitrate);
  set_array (enc, "temporal-scalability-target-bitrate",
             {b0.c_str (), b1.c_str (), b2.c_str ()});
}

/* Three temporal layers in vp8enc, as libwebrtc makes them: a period of
 * four frames, layer ids 0, 2, 1, 2; layer 0 refers only to the layer-0
 * frame before it, layer 1 to that too (and is kept, in the golden
 * buffer, for the second layer-2 frame), layer 2 to what is under it and
 * is kept by nothing. So dropping layer 2 (15 frames/s), or layers 1 and
 * 2 (7.5), leaves a stream that decodes. Cumulative shares of the
 * bitrate: 0.4, 0.6, 1 (RenditionSelector counts on these). */
void
set_temporal_layers (GstElement *enc, guint bitrate)
{
  g_object_set (enc, "temporal-scalability-number-layers", 3,
                "temporal-scalability-periodicity", 4, nullptr);
  set_array (enc, "temporal-scalability-layer-id", {"0", "2", "1", "2"});
  set_array (enc, "temporal-scalability-rate-decimator", {"4", "2", "1"});
  set_layer_bitrates (enc, bitrate);
  set_array (enc, "temporal-scalability-layer-flags",
             {"no-ref-golden+no-ref-alt+no-upd-golden+no-upd-alt",
              "no-ref-golden+no-ref-alt+no-upd-last+no-upd-golden+no-upd-alt"
              "+no-upd-entropy",
              "no-ref-golden+no-ref-alt+no-upd-last+no-upd-alt+no-upd-entropy",
              "no-ref-alt+no-upd-last+no-upd-golden+no-upd-alt"
              "+no-upd-entropy"});
  set_array (enc, "temporal-scalability-layer-sync-flags",
             {"false", "true", "true", "false"});
}

/* A video encoder tuned for real-time calls: no look-ahead, constant
 * bitrate, key frames only when asked for (a new peer, a PLI); @layers
 * temporal layers (3 for VP8 in a ladder, else 1). */
std::vector<GstElement *>
video_encoder (const std::string &encoding, guint bitrate, int layers,
               GError **error)
{
  std::vector<GstElement *> chain;
  auto add
      = [&] (const char *factory) { return append (chain, factory, error); };
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
      /* libvpx lets a frame overshoot its share by 100 % by default: a
       * 640x360 rung with temporal layers told 684 kbit/s made 0.9-1.3
       * Mbit/s into a 1 Mbit/s link. 15 %, as libwebrtc sets it. */
      g_object_set (enc, "overshoot", 15, nullptr);
      if (layers == 3 && encoding == "VP8" && bitrate)
        set_temporal_layers (enc, bitrate);
    }
  }
  return chain;
}

/* The chain in front of the tee for raw input of @kind. */
std::vector<GstElement *>
encoder_chain (const std::string &kind, const std::string &encoding,
               guint bitrate, GError **error)
{
  std::vector<GstElement *> chain;
  auto add
      = [&] (const char *factory) { return append (chain, factory, error); };
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
    for (GstElement *e : video_encoder (encoding, bitrate, 1, error))
      chain.push_back (e);
  }
  if (error && *error) {
    for (GstElement *e : chain)
      gst_object_unref (gst_object_ref_sink (e));
    chain.clear ();
  }
  return chain;
}

GstElement *
new_tee ()
{
  GstElement *tee = gst_element_factory_make ("tee", nullptr);
  /* Nobody may be watching yet: that is no error. */
  g_object_set (tee, "allow-not-linked", TRUE, nullptr);
  return tee;
}

}  // namespace

/* A tee of encoded video whose key-frame requests a policy thins, and
 * what it carries: bit/s, measured over kRateWindowUs windows and
 * smoothed (0 before the first window). */
struct SendInput::Keyed
{
  static constexpr gint64 kRateWindowUs = 500'000;
  SendInput *input;
  KeyFramePolicy policy; /* input->lock_ */
  /* input->lock_: */
  gint64 window_start_us = 0;
  guint64 window_bytes = 0;
  std::atomic<std::uint32_t> rate_bps{0};
};

/* One rendition of a ladder. */
struct SendInput::Rung
{
  Keyed keyed;
  GstElement *tee = nullptr; /* a reference, fixed */
  /* input->lock_: */
  Rendition rendition;
  std::vector<GstElement *> chain; /* references */
  /* The rate for the encoder to take before its next frame (0: none),
   * and the last it took; its layers (1 or 3). */
  std::atomic<std::uint32_t> pending_bps{0};
  std::atomic<std::uint32_t> rate_bps{0};
  int layers = 1;
  size_t index = 0;
  /* The raw video thread (the input tee's), rendition_input: whether the
   * last frame was dropped because no call takes this rendition. */
  bool idle = false;
  /* Set when frames come again after idling; the encoder's thread takes
   * it (on_encoder_input). */
  std::atomic<bool> resumed{false};
  /* The encoder's thread only (on_encoder_input, on_encoder_output): the
   * time its idle spells took out of its input's timestamps, and the
   * last frame it took. */
  GstClockTime hidden = 0;
  GstClockTime last_end = GST_CLOCK_TIME_NONE;
};

SendInput::SendInput (GstBin *bin, const std::string &pad_name,
                      const std::string &kind, const std::string &encoding,
                      guint bitrate, std::function<void ()> on_eos,
                      std::vector<Rendition> ladder)
    : bin_ (bin), kind_ (kind), encoding_ (encoding), bitrate_ (bitrate),
      keyed_ (new Keyed{this, {}}),
      ladder_ (kind == "video" ? std::move (ladder)
                               : std::vector<Rendition> ()),
      on_eos_ (std::move (on_eos))
{
  g_mutex_init (&lock_);
  queue_ = gst_element_factory_make ("queue", nullptr);
  tee_ = new_tee ();
  gst_bin_add_many (bin_, queue_, tee_, nullptr);
  gst_object_ref (queue_);
  gst_object_ref (tee_);

  /* Key frames are a video matter; with a ladder tee_ carries raw video,
   * and each rendition tee is watched instead. */
  if (ladder_.empty ())
    watch_key_frames (tee_, keyed_.get ());
  for (size_t i = 0; i < ladder_.size (); i++) {
    auto rung = std::make_unique<Rung> ();
    rung->keyed.input = this;
    rung->index = i;
    rung->tee = new_tee ();
    gst_bin_add (bin_, rung->tee);
    gst_object_ref (rung->tee);
    watch_key_frames (rung->tee, &rung->keyed);
    gst_element_sync_state_with_parent (rung->tee);
    rungs_.push_back (std::move (rung));
  }

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
  for (auto &rung : rungs_) {
    elements.insert (elements.end (), rung->chain.begin (), rung->chain.end ());
    rung->chain.clear ();
  }
  g_mutex_unlock (&lock_);
  elements.insert (elements.begin (), queue_);
  elements.push_back (tee_);
  for (auto &rung : rungs_)
    elements.push_back (rung->tee);
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

void
SendInput::watch_key_frames (GstElement *tee, Keyed *keyed)
{
  GstPad *tee_sink = gst_element_get_static_pad (tee, "sink");
  gst_pad_add_probe (tee_sink, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM,
                     on_upstream_event, keyed, nullptr);
  /* Audio buffers pass unwatched. */
  if (kind_ == "video")
    gst_pad_add_probe (tee_sink, GST_PAD_PROBE_TYPE_BUFFER, on_buffer, keyed,
                       nullptr);
  gst_object_unref (tee_sink);
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
  if (raw && !rungs_.empty ())
    return build_ladder (caps);
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
  if (!rungs_.empty ()) {
    /* Encoded input, one rendition: as it comes. */
    GstVideoInfo info;
    if (gst_video_info_from_caps (&info, caps))
      rungs_[0]->rendition = {(int)GST_VIDEO_INFO_WIDTH (&info),
                              (int)GST_VIDEO_INFO_HEIGHT (&info), 0};
    else
      rungs_[0]->rendition = {1, 1, 0};
    planned_ = true;
    layers_ = 1;
  }
  g_mutex_unlock (&lock_);
  GstElement *out = rungs_.empty () ? tee_ : rungs_[0]->tee;
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
  if (!gst_element_link (previous, out)) {
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

/* Streaming thread, first caps of raw video with a ladder:
 * queue -> videoconvert -> tee, and from it a scaler and an encoder into
 * each planned rendition's tee. */
bool
SendInput::build_ladder (GstCaps *caps)
{
  GstVideoInfo info;
  if (!gst_video_info_from_caps (&info, caps)) {
    GST_ELEMENT_ERROR (bin_, STREAM, FORMAT, (nullptr),
                       ("video caps without a size: %" GST_PTR_FORMAT, caps));
    return false;
  }
  const std::vector<Rendition> plan = RenditionLadder::plan (
      ladder_, GST_VIDEO_INFO_WIDTH (&info), GST_VIDEO_INFO_HEIGHT (&info));
  const int layers = encoding_ == "VP8" ? 3 : 1;
  const bool live = is_live ();

  g_autoptr (GError) error = nullptr;
  GstElement *convert = make ("videoconvert", &error);
  std::vector<std::vector<GstElement *>> branches;
  for (const Rendition &r : plan) {
    std::vector<GstElement *> b;
    for (const char *factory : {"queue", "videoscale", "capsfilter"}) {
      if (GstElement *e = make (factory, &error))
        b.push_back (e);
    }
    /* RungRates::kFill of the rendition's bitrate until calls say what
     * they carry: room for RTP headers and retransmissions (a 720p rung
     * at max-bitrate made 2.6 Mbit/s and with its headers filled a
     * 3 Mbit/s link until it lost packets). */
    const auto target = (guint)(RungRates::kFill * r.bitrate_bps);
    for (GstElement *e : video_encoder (encoding_, target, layers, &error))
      b.push_back (e);
    branches.push_back (std::move (b));
  }
  if (error) {
    if (convert)
      gst_object_unref (gst_object_ref_sink (convert));
    for (auto &b : branches)
      for (GstElement *e : b)
        gst_object_unref (gst_object_ref_sink (e));
    GST_ELEMENT_ERROR (bin_, CORE, MISSING_PLUGIN, ("%s", error->message),
                       (nullptr));
    return false;
  }

  for (size_t i = 0; i < branches.size (); i++) {
    GstElement *queue = branches[i][0];
    if (live) {
      /* As the input's queue: a rendition's encoder that falls behind
       * drops its own late frames. */
      gst_util_set_object_arg (G_OBJECT (queue), "leaky", "downstream");
      g_object_set (queue, "max-size-buffers", 0, "max-size-bytes", 0,
                    "max-size-time", (guint64)100 * GST_MSECOND, nullptr);
    }
    g_autoptr (GstCaps) size = gst_caps_new_simple (
        "video/x-raw", "width", G_TYPE_INT, plan[i].width, "height",
        G_TYPE_INT, plan[i].height, "pixel-aspect-ratio", GST_TYPE_FRACTION,
        1, 1, nullptr);
    g_object_set (branches[i][2], "caps", size, nullptr);
  }

  std::vector<std::uint32_t> bitrates;
  for (const Rendition &r : plan)
    bitrates.push_back (r.bitrate_bps);
  g_mutex_lock (&lock_);
  chain_.push_back ((GstElement *)gst_object_ref_sink (convert));
  for (size_t i = 0; i < branches.size (); i++) {
    rungs_[i]->rendition = plan[i];
    rungs_[i]->layers = layers;
    rungs_[i]->rate_bps.store ((guint)(RungRates::kFill * plan[i].bitrate_bps));
    for (GstElement *e : branches[i])
      rungs_[i]->chain.push_back ((GstElement *)gst_object_ref_sink (e));
    /* The encoder (after queue, videoscale, capsfilter) takes new rates
     * on its own thread, never while it encodes on another. */
    g_autoptr (GstPad) enc_sink
        = gst_element_get_static_pad (branches[i][3], "sink");
    gst_pad_add_probe (enc_sink,
                       (GstPadProbeType)(GST_PAD_PROBE_TYPE_BUFFER
                                         | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
                       on_encoder_input, rungs_[i].get (), nullptr);
    g_autoptr (GstPad) enc_src
        = gst_element_get_static_pad (branches[i][3], "src");
    gst_pad_add_probe (enc_src, GST_PAD_PROBE_TYPE_BUFFER, on_encoder_output,
                       rungs_[i].get (), nullptr);
    /* A rendition no call takes is not scaled nor encoded. */
    g_autoptr (GstPad) queue_sink
        = gst_element_get_static_pad (branches[i][0], "sink");
    gst_pad_add_probe (queue_sink, GST_PAD_PROBE_TYPE_BUFFER,
                       on_rendition_input, rungs_[i].get (), nullptr);
  }
  rates_ = std::make_unique<RungRates> (std::move (bitrates));
  planned_ = true;
  layers_ = layers;
  g_mutex_unlock (&lock_);

  gst_bin_add (bin_, convert);
  bool ok = gst_element_link_many (queue_, convert, tee_, nullptr);
  for (size_t i = 0; ok && i < branches.size (); i++) {
    GstElement *previous = tee_;
    for (GstElement *e : branches[i]) {
      gst_bin_add (bin_, e);
      ok = ok && gst_element_link (previous, e);
      previous = e;
    }
    ok = ok && gst_element_link (previous, rungs_[i]->tee);
  }
  if (!ok) {
    GST_ELEMENT_ERROR (bin_, CORE, NEGOTIATION, (nullptr),
                       ("could not link the video ladder"));
    return false;
  }
  gst_element_sync_state_with_parent (convert);
  for (auto &b : branches)
    for (GstElement *e : b)
      gst_element_sync_state_with_parent (e);
  GST_INFO_OBJECT (bin_, "video input: %dx%d -> %s ladder %s, %d layer(s)",
                   GST_VIDEO_INFO_WIDTH (&info), GST_VIDEO_INFO_HEIGHT (&info),
                   encoding_.c_str (), RenditionLadder::describe (plan).c_str (),
                   layers);
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
  /* A ladder's encoders keep their renditions' bitrates. */
  if (kind_ != "video" || !bitrate || !rungs_.empty ())
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
  if (kind_ != "video" || !rungs_.empty ())
    return;
  GstPad *sink = gst_element_get_static_pad (tee_, "sink");
  gst_pad_push_event (sink, key_frame_event (true));
  gst_object_unref (sink);
}

void
SendInput::request_key_frame (size_t i, bool new_peer)
{
  if (i >= rungs_.size ())
    return;
  GstPad *sink = gst_element_get_static_pad (rungs_[i]->tee, "sink");
  gst_pad_push_event (sink, key_frame_event (new_peer));
  gst_object_unref (sink);
}

GstElement *
SendInput::rendition_tee (size_t i) const
{
  return rungs_[i]->tee;
}

std::vector<Rendition>
SendInput::renditions () const
{
  std::vector<Rendition> out;
  g_mutex_lock (const_cast<GMutex *> (&lock_));
  if (planned_) {
    for (auto &rung : rungs_)
      out.push_back (rung->rendition);
  }
  g_mutex_unlock (const_cast<GMutex *> (&lock_));
  return out;
}

std::uint32_t
SendInput::measured_bps (size_t i) const
{
  return i < rungs_.size () ? rungs_[i]->keyed.rate_bps.load () : 0;
}

std::uint32_t
SendInput::rendition_floor (size_t i) const
{
  g_mutex_lock (const_cast<GMutex *> (&lock_));
  std::uint32_t floor = 0;
  if (planned_ && i < rungs_.size ())
    floor = rates_ ? rates_->floor (i) : rungs_[i]->rendition.bitrate_bps;
  g_mutex_unlock (const_cast<GMutex *> (&lock_));
  return floor;
}

std::uint32_t
SendInput::rendition_rate (size_t i) const
{
  return i < rungs_.size () ? rungs_[i]->rate_bps.load () : 0;
}

void
SendInput::demand (std::uintptr_t call, int i, int next,
                   std::uint32_t usable_bps)
{
  const std::int64_t now = g_get_monotonic_time ();
  g_mutex_lock (&lock_);
  if (rates_) {
    rates_->demand (now, call, i, next, usable_bps);
    for (size_t r = 0; r < rungs_.size (); r++) {
      std::uint32_t rate = 0;
      if (rates_->take_change (now, r, rate) && rate)
        rungs_[r]->pending_bps.store (rate);
    }
  }
  g_mutex_unlock (&lock_);
}

/* The input tee's thread, each raw frame into a rendition's branch: on
 * only while a call takes that rendition or is switching to it
 * (RungRates::wanted). The others cost nothing: a 720p encoder no call
 * takes is most of a ladder's work. */
GstPadProbeReturn
SendInput::on_rendition_input (GstPad *, GstPadProbeInfo *, gpointer data)
{
  auto *rung = static_cast<Rung *> (data);
  SendInput *self = rung->keyed.input;
  g_mutex_lock (&self->lock_);
  const bool wanted
      = !self->rates_
        || self->rates_->wanted (g_get_monotonic_time (), rung->index);
  const Rendition r = rung->rendition;
  g_mutex_unlock (&self->lock_);
  if (wanted == !rung->idle)
    return wanted ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
  rung->idle = !wanted;
  GST_DEBUG_OBJECT (self->bin_, "rendition %zu (%dx%d): %s", rung->index,
                    r.width, r.height,
                    wanted ? "a call takes it, encoding again"
                           : "no call takes it, not encoded");
  if (!wanted)
    return GST_PAD_PROBE_DROP;
  rung->resumed.store (true);
  return GST_PAD_PROBE_OK;
}

/* A rendition encoder's streaming thread, before each frame: a new rate
 * from demand (), and after an idle spell a key frame (no call has a
 * picture to go on from) and its timestamps shifted back by the spell.
 * libvpx takes its frame rate from the timestamps it is given: a frame
 * seconds after the last counts as a frame rate near zero, whose share of
 * the bitrate is many frames' worth, so the key frame that comes again
 * would be seconds of the link's worth. on_encoder_output puts the time
 * back. A new segment starts over. */
GstPadProbeReturn
SendInput::on_encoder_input (GstPad *pad, GstPadProbeInfo *info,
                             gpointer data)
{
  auto *rung = static_cast<Rung *> (data);
  if (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) == GST_EVENT_SEGMENT) {
      rung->hidden = 0;
      rung->last_end = GST_CLOCK_TIME_NONE;
    }
    return GST_PAD_PROBE_OK;
  }
  g_autoptr (GstElement) encoder = gst_pad_get_parent_element (pad);
  if (!encoder)
    return GST_PAD_PROBE_OK;

  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  const GstClockTime pts = GST_BUFFER_PTS (buffer);
  if (rung->resumed.exchange (false)) {
    g_autoptr (GstPad) src = gst_element_get_static_pad (encoder, "src");
    /* Taken before this frame: GstVideoEncoder looks for pending
     * requests as each frame comes in. */
    gst_pad_send_event (src, key_frame_event (true));
    if (GST_CLOCK_TIME_IS_VALID (pts) && GST_CLOCK_TIME_IS_VALID (rung->last_end)
        && pts > rung->last_end)
      rung->hidden += pts - rung->last_end;
  }
  if (GST_CLOCK_TIME_IS_VALID (pts)) {
    const GstClockTime duration = GST_BUFFER_DURATION_IS_VALID (buffer)
                                      ? GST_BUFFER_DURATION (buffer)
                                      : 0;
    rung->last_end = pts + duration;
    if (rung->hidden) {
      buffer = gst_buffer_make_writable (buffer);
      GST_BUFFER_PTS (buffer) = pts - rung->hidden;
      if (GST_BUFFER_DTS_IS_VALID (buffer))
        GST_BUFFER_DTS (buffer) -= MIN (GST_BUFFER_DTS (buffer), rung->hidden);
      GST_PAD_PROBE_INFO_DATA (info) = buffer;
    }
  }

  const std::uint32_t rate = rung->pending_bps.exchange (0);
  if (!rate || rate == rung->rate_bps.load ())
    return GST_PAD_PROBE_OK;
  GST_DEBUG_OBJECT (encoder, "rendition encoder at %u bit/s", rate);
  if (rung->layers == 3)
    set_layer_bitrates (encoder, rate);
  set_encoder_bitrate (encoder, rate);
  rung->rate_bps.store (rate);
  return GST_PAD_PROBE_OK;
}

/* The same thread, each encoded frame: its own timestamps back
 * (on_encoder_input). The encoders run with no lag: a frame comes out
 * while the frame it came from goes in. */
GstPadProbeReturn
SendInput::on_encoder_output (GstPad *, GstPadProbeInfo *info, gpointer data)
{
  auto *rung = static_cast<Rung *> (data);
  if (!rung->hidden)
    return GST_PAD_PROBE_OK;
  GstBuffer *buffer = gst_buffer_make_writable (GST_PAD_PROBE_INFO_BUFFER (info));
  if (GST_BUFFER_PTS_IS_VALID (buffer))
    GST_BUFFER_PTS (buffer) += rung->hidden;
  if (GST_BUFFER_DTS_IS_VALID (buffer))
    GST_BUFFER_DTS (buffer) += rung->hidden;
  GST_PAD_PROBE_INFO_DATA (info) = buffer;
  return GST_PAD_PROBE_OK;
}

int
SendInput::temporal_layers () const
{
  g_mutex_lock (const_cast<GMutex *> (&lock_));
  const int layers = layers_;
  g_mutex_unlock (const_cast<GMutex *> (&lock_));
  return layers;
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
  auto *keyed = static_cast<Keyed *> (user_data);
  SendInput *self = keyed->input;
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  if (!gst_video_event_is_force_key_unit (event))
    return GST_PAD_PROBE_OK;
  gboolean new_peer = FALSE;
  gst_structure_get_boolean (gst_event_get_structure (event), kNewPeerField,
                             &new_peer);
  g_mutex_lock (&self->lock_);
  const bool pass
      = keyed->policy.request (g_get_monotonic_time (), new_peer);
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
  auto *keyed = static_cast<Keyed *> (user_data);
  SendInput *self = keyed->input;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  const bool key = !GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DELTA_UNIT);
  const gint64 now = g_get_monotonic_time ();
  g_mutex_lock (&self->lock_);
  const bool send = keyed->policy.on_frame (now, key);
  const bool new_peer = keyed->policy.held_for_new_peer ();
  if (!keyed->window_start_us)
    keyed->window_start_us = now;
  keyed->window_bytes += gst_buffer_get_size (buffer);
  const gint64 elapsed = now - keyed->window_start_us;
  if (elapsed >= Keyed::kRateWindowUs) {
    const double rate = keyed->window_bytes * 8.0 * 1e6 / elapsed;
    const std::uint32_t old = keyed->rate_bps.load ();
    keyed->rate_bps = (std::uint32_t)(old ? 0.7 * old + 0.3 * rate : rate);
    keyed->window_start_us = now;
    keyed->window_bytes = 0;
  }
  g_mutex_unlock (&self->lock_);
  if (send)
    gst_pad_push_event (pad, key_frame_event (new_peer));
  return GST_PAD_PROBE_OK;
}

}  // namespace signalrtc
