/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rendition-gate.h"

#include "congestion-control.h"
#include "send-input.h"

#include <gst/video/video.h>

#include <limits>

GST_DEBUG_CATEGORY_EXTERN (gst_signalrtc_bin_debug);
#define GST_CAT_DEFAULT gst_signalrtc_bin_debug

namespace signalrtc {

/* What a probe holds: the gate, and which tee its pad is fed by (kSrc:
 * the funnel's src pad). */
struct RenditionGate::Probe
{
  static constexpr size_t kSrc = std::numeric_limits<size_t>::max ();
  std::shared_ptr<RenditionGate> gate;
  size_t tee;
};

std::shared_ptr<RenditionGate>
RenditionGate::create (SendInput *input,
                       std::shared_ptr<CongestionControl> congestion,
                       std::uint32_t audio_bps, std::string peer)
{
  return std::shared_ptr<RenditionGate> (new RenditionGate (
      input, std::move (congestion), audio_bps, std::move (peer)));
}

RenditionGate::RenditionGate (SendInput *input,
                              std::shared_ptr<CongestionControl> congestion,
                              std::uint32_t audio_bps, std::string peer)
    : input_ (input), congestion_ (std::move (congestion)),
      audio_bps_ (audio_bps), peer_ (std::move (peer))
{}

bool
RenditionGate::link (GstElement *funnel, std::vector<GstPad *> &tee_pads)
{
  GDestroyNotify free_probe
      = [] (gpointer data) { delete static_cast<Probe *> (data); };
  g_autoptr (GstPad) src = gst_element_get_static_pad (funnel, "src");
  gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, on_upstream,
                     new Probe{shared_from_this (), Probe::kSrc}, free_probe);
  bool ok = true;
  for (size_t i = 0; i < input_->ladder_size (); i++) {
    g_autoptr (GstPad) sink
        = gst_element_request_pad_simple (funnel, "sink_%u");
    gst_pad_add_probe (sink, GST_PAD_PROBE_TYPE_BUFFER, on_buffer,
                       new Probe{shared_from_this (), i}, free_probe);
    GstPad *tee_pad
        = gst_element_request_pad_simple (input_->rendition_tee (i), "src_%u");
    tee_pads.push_back (tee_pad);
    ok = ok && gst_pad_link (tee_pad, sink) == GST_PAD_LINK_OK;
  }
  return ok;
}

bool
RenditionGate::ensure_selector ()
{
  if (selector_)
    return true;
  renditions_ = input_->renditions ();
  if (renditions_.empty ())
    return false;
  index_of_tee_.assign (renditions_.size (), -1);
  tee_of_index_.clear ();
  std::vector<std::uint32_t> bitrates, floors;
  /* The plan is largest first; tees it left out carry nothing. */
  for (size_t i = 0; i < renditions_.size (); i++) {
    if (renditions_[i].width <= 0)
      continue;
    index_of_tee_[i] = (int)tee_of_index_.size ();
    tee_of_index_.push_back (i);
    bitrates.push_back (renditions_[i].bitrate_bps);
    /* What a call must carry to keep it: the encoders follow the calls
     * down to their floors (SendInput::demand). */
    floors.push_back (input_->rendition_floor (i));
  }
  selector_.emplace (bitrates, input_->temporal_layers ());
  selector_->set_floors (std::move (floors));
  if (congestion_) {
    selector_->set_ceiling ((std::int64_t)congestion_->max_bps ()
                            - (std::int64_t)audio_bps_);
    /* Half of where the estimate starts: climbing from there costs a
     * few seconds, starting over the link a queue full of one rendition
     * and seconds without a picture (a 500 kbit/s link, 640x360 chosen
     * at the first 1 Mbit/s estimate: 4 s frozen). */
    selector_->set_start_share (0.5);
  }
  return true;
}

GstPadProbeReturn
RenditionGate::on_buffer (GstPad *pad, GstPadProbeInfo *info,
                          gpointer user_data)
{
  auto *probe = static_cast<Probe *> (user_data);
  RenditionGate &g = *probe->gate;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);

  /* The selector keeps the call's timestamps going forward in running
   * time: a new segment (a playlist's next item, its timestamps from 0
   * again) is no step back. */
  GstSegment segment;
  gst_segment_init (&segment, GST_FORMAT_TIME);
  if (GstEvent *event = gst_pad_get_sticky_event (pad, GST_EVENT_SEGMENT, 0)) {
    const GstSegment *s = nullptr;
    gst_event_parse_segment (event, &s);
    if (s->format == GST_FORMAT_TIME)
      gst_segment_copy_into (s, &segment);
    gst_event_unref (event);
  }
  RenditionSelector::Frame frame{};
  frame.pts_us = -1;
  if (GST_BUFFER_PTS_IS_VALID (buffer)) {
    const guint64 running = gst_segment_to_running_time (
        &segment, GST_FORMAT_TIME, GST_BUFFER_PTS (buffer));
    if (GST_CLOCK_TIME_IS_VALID (running))
      frame.pts_us = (std::int64_t)(running / GST_USECOND);
  }
  frame.key = !GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DELTA_UNIT);
  if (GstCustomMeta *meta = gst_buffer_get_custom_meta (buffer, "GstVP8Meta")) {
    const GstStructure *s = gst_custom_meta_get_structure (meta);
    gboolean scaling = FALSE, sync = FALSE;
    guint layer = 0;
    if (gst_structure_get_boolean (s, "use-temporal-scaling", &scaling)
        && scaling && gst_structure_get_uint (s, "layer-id", &layer)
        && gst_structure_get_boolean (s, "layer-sync", &sync)) {
      frame.layer = (int)layer;
      frame.layer_sync = sync;
    }
  }

  RenditionSelector::Verdict verdict{false, frame.pts_us, false};
  int key_tee = -1, cur_tee = -1, next_tee = -1;
  std::uint32_t usable = 0;
  {
    std::lock_guard<std::mutex> lock (g.lock_);
    if (!g.ensure_selector () || probe->tee >= g.index_of_tee_.size ()
        || g.index_of_tee_[probe->tee] < 0)
      return GST_PAD_PROBE_DROP;
    frame.rendition = g.index_of_tee_[probe->tee];
    const std::int64_t now = g_get_monotonic_time ();
    const std::int64_t estimate
        = g.congestion_ ? (std::int64_t)g.congestion_->target_bps ()
                        : std::numeric_limits<std::int32_t>::max ();
    if (g.congestion_ && !g.can_pad_ && now >= g.next_pad_check_us_) {
      /* Known once the call has negotiated retransmission. */
      g.can_pad_ = g.congestion_->can_pad ();
      g.selector_->set_can_pad (g.can_pad_);
      g.next_pad_check_us_ = now + 500'000;
    }
    /* Until the peer's first feedback the estimate is only where it
     * starts: it picks the first rendition (the selector's start share)
     * and the encoders' rates, halved likewise, but makes no step up. A
     * step then (a 720p key frame into a 1 Mbit/s link before any feedback)
     * filled the link's queue, and the estimate fell to 110 kbit/s. */
    const bool measured = !g.congestion_ || g.congestion_->measured ();
    std::int64_t for_video = estimate - (std::int64_t)g.audio_bps_;
    const int key = measured || g.selector_->target () < 0
                        ? g.selector_->on_estimate (now, for_video)
                        : -1;
    if (!measured)
      for_video /= 2;
    if (g.congestion_)
      g.congestion_->set_padding_to (
          (std::uint32_t)g.selector_->padding_to_bps ());
    if (key >= 0)
      key_tee = (int)g.tee_of_index_[key];
    verdict = g.selector_->on_frame (now, frame);
    const int cur = g.selector_->rendition (), target = g.selector_->target ();
    cur_tee = cur >= 0 ? (int)g.tee_of_index_[cur] : -1;
    next_tee = target >= 0 && target != cur ? (int)g.tee_of_index_[target] : -1;
    usable = (std::uint32_t)CLAMP (for_video, 0, (std::int64_t)G_MAXUINT32);
    if (verdict.switched) {
      const Rendition &r = g.renditions_[probe->tee];
      GST_INFO ("peer %s: video rendition %d (%dx%d, %u bit/s), %d layer(s), "
                "estimate %" G_GINT64_FORMAT " bit/s",
                g.peer_.c_str (), frame.rendition, r.width, r.height,
                r.bitrate_bps, g.selector_->layers (), estimate);
    }
  }
  if (cur_tee >= 0 || next_tee >= 0)
    g.input_->demand ((std::uintptr_t)&g, cur_tee, next_tee, usable);
  if (key_tee >= 0)
    g.input_->request_key_frame ((size_t)key_tee, true);
  if (!verdict.pass)
    return GST_PAD_PROBE_DROP;
  if (verdict.pts_us >= 0 && verdict.pts_us != frame.pts_us) {
    /* The encoders share timestamps, but a key frame asked of another may
     * come out after frames of this one with later ones: keep them going
     * forward (in running time, back in the segment's position). */
    const guint64 pts = gst_segment_position_from_running_time (
        &segment, GST_FORMAT_TIME, (guint64)verdict.pts_us * GST_USECOND);
    if (GST_CLOCK_TIME_IS_VALID (pts)) {
      buffer = gst_buffer_make_writable (buffer);
      GST_BUFFER_PTS (buffer) = pts;
      if (GST_BUFFER_DTS_IS_VALID (buffer))
        GST_BUFFER_DTS (buffer) = pts;
      GST_PAD_PROBE_INFO_DATA (info) = buffer;
    }
  }
  return GST_PAD_PROBE_OK;
}

/* The call's PLI/FIR (rtpbin's force-key-unit, up through the payloader):
 * a key frame of the rendition it gets, from that encoder only. */
GstPadProbeReturn
RenditionGate::on_upstream (GstPad *, GstPadProbeInfo *info, gpointer user_data)
{
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  if (!gst_video_event_is_force_key_unit (event))
    return GST_PAD_PROBE_OK;
  RenditionGate &g = *static_cast<Probe *> (user_data)->gate;
  int tee = -1;
  {
    std::lock_guard<std::mutex> lock (g.lock_);
    if (g.selector_) {
      const int r = g.selector_->key_frame_for_loss ();
      if (r >= 0)
        tee = (int)g.tee_of_index_[r];
    }
  }
  if (tee >= 0)
    g.input_->request_key_frame ((size_t)tee, false);
  return GST_PAD_PROBE_DROP;
}

void
RenditionGate::request_key_frame ()
{
  int tee = -1;
  {
    std::lock_guard<std::mutex> lock (lock_);
    if (selector_) {
      const int r = selector_->key_frame_for_loss ();
      if (r >= 0)
        tee = (int)tee_of_index_[r];
    }
  }
  if (tee >= 0)
    input_->request_key_frame ((size_t)tee, true);
}

void
RenditionGate::add_stats (GstStructure *stats)
{
  std::lock_guard<std::mutex> lock (lock_);
  if (!selector_ || selector_->rendition () < 0)
    return;
  const int r = selector_->rendition ();
  const Rendition &rendition = renditions_[tee_of_index_[r]];
  gst_structure_set (stats, "video-rendition", G_TYPE_INT, r, "video-width",
                     G_TYPE_INT, rendition.width, "video-height", G_TYPE_INT,
                     rendition.height, "video-temporal-layers", G_TYPE_INT,
                     selector_->layers (), "video-rendition-switches",
                     G_TYPE_UINT, selector_->switches (),
                     "video-rendition-bitrate", G_TYPE_UINT,
                     input_->measured_bps (tee_of_index_[r]),
                     "video-rendition-target", G_TYPE_UINT,
                     input_->rendition_rate (tee_of_index_[r]), nullptr);
}

}  // namespace signalrtc
