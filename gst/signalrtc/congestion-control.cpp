/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "congestion-control.h"

#include <gst/rtp/gstrtpbuffer.h>

#include <algorithm>
#include <cmath>
#include <vector>

GST_DEBUG_CATEGORY_EXTERN (gst_signalrtc_bin_debug);
#define GST_CAT_DEFAULT gst_signalrtc_bin_debug

namespace signalrtc {

namespace {

/* The RTP payload type of @buffer, read from its second byte without
 * mapping the whole packet (every packet of every call passes here), or
 * -1 if it is too short. */
int
payload_type (GstBuffer *buffer)
{
  guint8 header[2];
  if (!buffer || gst_buffer_extract (buffer, 0, header, 2) != 2)
    return -1;
  return header[1] & 0x7f;
}

}  // namespace

std::shared_ptr<CongestionControl>
CongestionControl::create (BandwidthEstimator::Config config,
                           std::function<void (std::uint32_t)> on_change)
{
  return std::shared_ptr<CongestionControl> (
      new CongestionControl (config, std::move (on_change)));
}

CongestionControl::CongestionControl (
    BandwidthEstimator::Config config,
    std::function<void (std::uint32_t)> on_change)
    : max_bps_ (config.max_bps), estimator_ (config),
      target_ (estimator_.target_bps ()),
      announced_ (target_.load ()), on_change_ (std::move (on_change))
{
  g_weak_ref_init (&tap_, nullptr);
}

CongestionControl::~CongestionControl ()
{
  g_weak_ref_clear (&tap_);
}

/* A probe on @pad that holds @self weakly: it does nothing once the call
 * is gone. */
void
CongestionControl::watch (GstPad *pad, GstPadProbeType type,
                          GstPadProbeCallback callback)
{
  gst_pad_add_probe (
      pad, type, callback,
      new std::weak_ptr<CongestionControl> (weak_from_this ()),
      [] (gpointer data) {
        delete static_cast<std::weak_ptr<CongestionControl> *> (data);
      });
}

GstElement *
CongestionControl::aux_sender ()
{
  GstElement *tap = gst_element_factory_make ("identity", nullptr);
  if (!tap)
    return nullptr;
  g_object_set (tap, "silent", TRUE, nullptr);
  g_weak_ref_set (&tap_, tap);
  const auto data = (GstPadProbeType)(GST_PAD_PROBE_TYPE_BUFFER
                                      | GST_PAD_PROBE_TYPE_BUFFER_LIST);
  GstPad *src = gst_element_get_static_pad (tap, "src");
  watch (src, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, on_upstream_event);
  watch (src, data, on_pace);
  gst_object_unref (src);
  GstPad *sink = gst_element_get_static_pad (tap, "sink");
  watch (sink, data, on_outgoing);
  gst_object_unref (sink);
  return tap;
}

GstPadProbeReturn
CongestionControl::on_outgoing (GstPad *pad, GstPadProbeInfo *info,
                                gpointer user_data)
{
  auto self = static_cast<std::weak_ptr<CongestionControl> *> (user_data)
                  ->lock ();
  if (!self)
    return GST_PAD_PROBE_OK;
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER)
    return self->admit (pad, GST_PAD_PROBE_INFO_BUFFER (info))
               ? GST_PAD_PROBE_OK
               : GST_PAD_PROBE_DROP;
  GstBufferList *list = GST_PAD_PROBE_INFO_BUFFER_LIST (info);
  const guint n = gst_buffer_list_length (list);
  std::vector<bool> keep (n);
  bool all = true;
  for (guint i = 0; i < n; i++)
    all &= (keep[i] = self->admit (pad, gst_buffer_list_get (list, i)));
  if (all)
    return GST_PAD_PROBE_OK;
  list = gst_buffer_list_make_writable (list);
  GST_PAD_PROBE_INFO_DATA (info) = list;
  for (guint i = n; i > 0; i--)
    if (!keep[i - 1])
      gst_buffer_list_remove (list, i - 1, 1);
  return GST_PAD_PROBE_OK;
}

void
CongestionControl::pace_payload_type (guint pt)
{
  if (pt < paced_.size ())
    paced_[pt] = true;
}

/* On the aux sender's src pad, after the budget: holds a paced packet (or
 * list) until the pacer lets it go, on the thread that pushes it (a call's
 * own queue thread for its video), so that only this call waits. */
GstPadProbeReturn
CongestionControl::on_pace (GstPad *, GstPadProbeInfo *info,
                            gpointer user_data)
{
  auto self = static_cast<std::weak_ptr<CongestionControl> *> (user_data)
                  ->lock ();
  if (!self)
    return GST_PAD_PROBE_OK;
  GstBuffer *first = nullptr;
  gsize size = 0;
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    first = GST_PAD_PROBE_INFO_BUFFER (info);
    size = gst_buffer_get_size (first);
  } else {
    GstBufferList *list = GST_PAD_PROBE_INFO_BUFFER_LIST (info);
    first = gst_buffer_list_length (list) ? gst_buffer_list_get (list, 0)
                                          : nullptr;
    size = gst_buffer_list_calculate_size (list);
  }
  const int pt = payload_type (first);
  if (pt < 0)
    return GST_PAD_PROBE_OK;
  const bool may_hold = self->paced_[pt].load ();
  std::int64_t hold;
  {
    std::lock_guard<std::mutex> lock (self->pace_lock_);
    /* Not before the first feedback: the estimate is only where it
     * starts, and holding the call's first key frame to it would delay
     * its first picture for nothing the link has said. */
    hold = self->pacer_.hold_us (
        g_get_monotonic_time (),
        self->measured_.load () ? self->target_.load () : 0,
        (std::uint32_t)size, may_hold);
    if (hold > 0) {
      self->held_packets_++;
      self->held_us_ += hold;
    }
  }
  if (hold > 0)
    g_usleep ((gulong)hold);
  return GST_PAD_PROBE_OK;
}

bool
CongestionControl::can_pad ()
{
  if (has_rtx_.load ())
    return true;
  GstElement *tap = (GstElement *)g_weak_ref_get (&tap_);
  if (!tap)
    return false;
  GstPad *sink = gst_element_get_static_pad (tap, "sink");
  learn_payload_types (sink, 128);
  gst_object_unref (sink);
  gst_object_unref (tap);
  return has_rtx_.load ();
}

/* A video packet going out while padding is asked for: ask rtprtxsend to
 * send it again (it keeps what it sent) for as many bytes as the video
 * is short of pad_to_bps_. On the video's sending thread. */
void
CongestionControl::pad (GstPad *sink, GstBuffer *buffer)
{
  const std::uint32_t to = pad_to_bps_.load ();
  const std::int64_t now = g_get_monotonic_time ();
  const double size = (double)gst_buffer_get_size (buffer);
  if (to == 0 || !has_rtx_.load ()) {
    pad_last_us_ = -1;
    return;
  }
  if (pad_last_us_ < 0) {
    pad_tokens_ = 0;
  } else {
    /* At most 100 ms of credit or debt: a key frame is no reason to pad
     * less for long, nor a pause to pad in a burst. */
    const double limit = to / 8.0 * 0.1;
    pad_tokens_ = std::clamp (
        pad_tokens_ + to / 8.0 * (double)(now - pad_last_us_) / 1e6, -limit,
        limit);
  }
  pad_last_us_ = now;
  pad_tokens_ -= size;
  if (pad_tokens_ < size)
    return;
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (!gst_rtp_buffer_map (buffer, GST_MAP_READ, &rtp))
    return;
  const guint seqnum = gst_rtp_buffer_get_seq (&rtp);
  const guint ssrc = gst_rtp_buffer_get_ssrc (&rtp);
  gst_rtp_buffer_unmap (&rtp);
  for (int i = 0; i < 4 && pad_tokens_ >= size; i++) {
    pad_tokens_ -= size;
    pad_pending_++;
    gst_pad_push_event (
        sink, gst_event_new_custom (
                  GST_EVENT_CUSTOM_UPSTREAM,
                  gst_structure_new ("GstRTPRetransmissionRequest", "seqnum",
                                     G_TYPE_UINT, seqnum, "ssrc", G_TYPE_UINT,
                                     ssrc, nullptr)));
  }
}

bool
CongestionControl::admit (GstPad *sink, GstBuffer *buffer)
{
  const int pt_or_none = payload_type (buffer);
  if (pt_or_none < 0)
    return true;
  const guint8 pt = (guint8)pt_or_none;
  if (pt_kind_[pt].load () == kUnknown)
    learn_payload_types (sink, pt);
  if (pt_kind_[pt].load () != kRetransmission) {
    if (paced_[pt].load ())
      pad (sink, buffer);
    return true;
  }
  /* Padding we asked for: not a retransmission the peer asked for. */
  int pending = pad_pending_.load ();
  while (pending > 0
         && !pad_pending_.compare_exchange_weak (pending, pending - 1)) {
  }
  if (pending > 0) {
    std::lock_guard<std::mutex> lock (lock_);
    padding_sent_++;
    return true;
  }
  std::lock_guard<std::mutex> lock (lock_);
  if (rtx_budget_.allow (g_get_monotonic_time (), target_.load (),
                         (std::uint32_t)gst_buffer_get_size (buffer))) {
    rtx_sent_++;
    return true;
  }
  if (rtx_dropped_++ % 100 == 0)
    GST_DEBUG ("retransmissions over budget: %" G_GUINT64_FORMAT
               " dropped so far",
               rtx_dropped_);
  return false;
}

/* A payload type not seen yet on @sink's streaming thread: is it one of
 * rtprtxsend's (the element upstream of @sink)? Asked without lock_, since
 * reading the map takes rtprtxsend's own lock. */
void
CongestionControl::learn_payload_types (GstPad *sink, guint8 pt)
{
  GstPad *peer = gst_pad_get_peer (sink);
  GstObject *rtx = peer ? gst_pad_get_parent (peer) : nullptr;
  GstStructure *map = nullptr;
  if (rtx && g_object_class_find_property (G_OBJECT_GET_CLASS (rtx),
                                           "payload-type-map"))
    g_object_get (rtx, "payload-type-map", &map, nullptr);
  for (gint i = 0; map && i < gst_structure_n_fields (map); i++) {
    guint rtx_pt = 0;
    if (gst_structure_get_uint (map, gst_structure_nth_field_name (map, i),
                                &rtx_pt)
        && rtx_pt < 128) {
      pt_kind_[rtx_pt] = kRetransmission;
      has_rtx_ = true;
    }
  }
  guint8 unknown = kUnknown;
  if (pt < 128)
    pt_kind_[pt].compare_exchange_strong (unknown, kMedia);
  if (map)
    gst_structure_free (map);
  if (rtx)
    gst_object_unref (rtx);
  if (peer)
    gst_object_unref (peer);
}

GstPadProbeReturn
CongestionControl::on_upstream_event (GstPad *, GstPadProbeInfo *info,
                                      gpointer user_data)
{
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  if (GST_EVENT_TYPE (event) != GST_EVENT_CUSTOM_UPSTREAM
      || !gst_event_has_name (event, "RTPTWCCPackets"))
    return GST_PAD_PROBE_OK;
  if (auto self
      = static_cast<std::weak_ptr<CongestionControl> *> (user_data)->lock ())
    self->on_feedback (gst_event_get_structure (event));
  /* Nothing upstream (rtx, payloaders, the shared encoders) wants it. */
  return GST_PAD_PROBE_DROP;
}

/* RTPTWCCPackets (rtpmanager 1.22): "packets", an array of RTPTWCCPacket
 * structures with local-ts (when we sent it), remote-ts (when the peer got
 * it, or none), size and lost; nanoseconds. */
void
CongestionControl::on_feedback (const GstStructure *s)
{
  const GValue *array = gst_structure_get_value (s, "packets");
  /* rtpmanager 1.22 builds it as a GValueArray, deprecated or not. */
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  if (!array || !G_VALUE_HOLDS (array, g_value_array_get_type ()))
    return;
  auto *values = (GValueArray *)g_value_get_boxed (array);
  G_GNUC_END_IGNORE_DEPRECATIONS
  if (!values)
    return;
  std::vector<TwccPacket> packets;
  packets.reserve (values->n_values);
  for (guint i = 0; i < values->n_values; i++) {
    const GValue *v = &values->values[i];
    if (!GST_VALUE_HOLDS_STRUCTURE (v))
      continue;
    const GstStructure *p = gst_value_get_structure (v);
    guint64 local = GST_CLOCK_TIME_NONE, remote = GST_CLOCK_TIME_NONE;
    guint size = 0;
    gboolean lost = FALSE;
    gst_structure_get_uint64 (p, "local-ts", &local);
    gst_structure_get_uint64 (p, "remote-ts", &remote);
    gst_structure_get_uint (p, "size", &size);
    gst_structure_get_boolean (p, "lost", &lost);
    if (!GST_CLOCK_TIME_IS_VALID (local))
      continue; /* not one of ours, or forgotten */
    TwccPacket packet{(std::int64_t)(local / 1000), std::nullopt, size};
    if (!lost && GST_CLOCK_TIME_IS_VALID (remote))
      packet.arrival_us = (std::int64_t)(remote / 1000);
    packets.push_back (packet);
  }
  {
    std::lock_guard<std::mutex> lock (lock_);
    estimator_.on_twcc_feedback (g_get_monotonic_time (), packets);
    target_ = estimator_.target_bps ();
    if (G_UNLIKELY (gst_debug_category_get_threshold (GST_CAT_DEFAULT)
                    >= GST_LEVEL_LOG)) {
      guint lost = 0;
      std::int64_t first = G_MAXINT64, last = G_MININT64;
      for (const TwccPacket &p : packets) {
        if (!p.arrival_us) {
          lost++;
          continue;
        }
        first = std::min (first, *p.arrival_us);
        last = std::max (last, *p.arrival_us);
      }
      GST_LOG ("TWCC feedback: %zu packets, %u lost, arrivals over %"
               G_GINT64_FORMAT " us; received %u bit/s, delay-based %u, "
               "loss-based %u, target %u",
               packets.size (), lost, lost < packets.size () ? last - first : 0,
               estimator_.incoming_bps (), estimator_.delay_based_bps (),
               estimator_.loss_based_bps (), target_.load ());
    }
  }
  measured_ = true;
  publish ();
}

void
CongestionControl::on_receiver_report (double fraction_lost, double rtt_s)
{
  {
    std::lock_guard<std::mutex> lock (lock_);
    if (rtt_s > 0 && std::isfinite (rtt_s))
      estimator_.set_rtt_us ((std::int64_t)(rtt_s * 1e6));
    if (fraction_lost >= 0)
      estimator_.on_receiver_report (g_get_monotonic_time (), fraction_lost);
    target_ = estimator_.target_bps ();
  }
  if (fraction_lost >= 0)
    measured_ = true;
  publish ();
}

void
CongestionControl::publish ()
{
  const std::uint32_t target = target_.load ();
  {
    std::lock_guard<std::mutex> lock (lock_);
    if (std::fabs ((double)target - (double)announced_)
        < 0.03 * (double)announced_)
      return;
    announced_ = target;
  }
  if (on_change_)
    on_change_ (target);
}

double
CongestionControl::fraction_lost () const
{
  std::lock_guard<std::mutex> lock (lock_);
  return estimator_.fraction_lost ();
}

void
CongestionControl::add_stats (GstStructure *stats) const
{
  std::lock_guard<std::mutex> lock (lock_);
  const char *usage = "normal";
  if (estimator_.usage () == BandwidthEstimator::Usage::kOveruse)
    usage = "overuse";
  else if (estimator_.usage () == BandwidthEstimator::Usage::kUnderuse)
    usage = "underuse";
  gst_structure_set (
      stats, "bandwidth-estimate", G_TYPE_UINT64,
      (guint64)estimator_.target_bps (), "bandwidth-delay-based",
      G_TYPE_UINT64, (guint64)estimator_.delay_based_bps (),
      "bandwidth-loss-based", G_TYPE_UINT64,
      (guint64)estimator_.loss_based_bps (), "bandwidth-usage", G_TYPE_STRING,
      usage, "bandwidth-feedback", G_TYPE_STRING,
      estimator_.has_twcc () ? "twcc" : "receiver-reports",
      "retransmissions-sent", G_TYPE_UINT64, (guint64)rtx_sent_,
      "retransmissions-dropped", G_TYPE_UINT64, (guint64)rtx_dropped_,
      "padding-sent", G_TYPE_UINT64, (guint64)padding_sent_, nullptr);
  std::lock_guard<std::mutex> pace_lock (pace_lock_);
  gst_structure_set (stats, "paced-packets", G_TYPE_UINT64, held_packets_,
                     "pacing-delay", G_TYPE_UINT64,
                     (guint64)held_us_ * GST_USECOND, nullptr);
}

}  // namespace signalrtc
