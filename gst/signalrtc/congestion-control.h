/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "bandwidth-estimator.h"

#include <gst/gst.h>

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>

namespace signalrtc {

/* The RTP header extension that carries transport-wide sequence numbers. */
constexpr const char *kTwccUri
    = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-"
      "extensions-01";

/* One call's bandwidth estimate, fed by the peer's feedback, and the
 * budget its retransmissions are held to.
 *
 * Threads: TWCC feedback arrives on the webrtcbin's RTCP thread (rtpbin
 * sends it upstream as an RTPTWCCPackets event, which the element
 * aux_sender () makes sees first); receiver reports and reads come from
 * the hub thread. lock_ guards the estimator; target_bps () is an atomic
 * read from anywhere. @on_change runs on the feedback thread, without the
 * lock, when the target has moved by 3 % or more since it last ran. */
class CongestionControl : public std::enable_shared_from_this<CongestionControl>
{
 public:
  static std::shared_ptr<CongestionControl>
  create (BandwidthEstimator::Config config,
          std::function<void (std::uint32_t target_bps)> on_change);
  ~CongestionControl ();

  /* For webrtcbin's request-aux-sender: a new element (floating) placed
   * between rtprtxsend and the RTP session. Its src pad takes the
   * feedback events; its sink pad drops retransmissions over the budget;
   * its src pad paces what goes out (the Pacer: the streaming thread of a
   * paced payload type sleeps there, the others are only counted). */
  GstElement *aux_sender ();
  /* Packets of payload type @pt (the call's video) may be held by the
   * pacer. Any thread, before media flows. */
  void pace_payload_type (guint pt);
  /* Whether padding can be sent: the call retransmits (rtprtxsend has a
   * payload type map). Any thread. */
  bool can_pad ();
  /* Make the call's video up to @bps (0: stop) with padding: each video
   * packet passing, while the video sent falls short of @bps, is asked
   * again of rtprtxsend (RFC 4588, on the rtx stream), so that the peer's
   * feedback measures the link at that rate without a bigger picture.
   * Padding passes the retransmission budget. Any thread. */
  void set_padding_to (std::uint32_t bps) { pad_to_bps_ = bps; }
  /* A receiver report's loss (0..1) and the round-trip time (s, <= 0
   * unknown): the fallback when the peer sends no TWCC. Hub thread. */
  void on_receiver_report (double fraction_lost, double rtt_s);

  std::uint32_t target_bps () const { return target_.load (); }
  /* target_bps () comes from the peer's feedback (TWCC or a receiver
   * report), not only from where it started. */
  bool measured () const { return measured_.load (); }
  /* The most target_bps () may say (the configured max_bps). */
  std::uint32_t max_bps () const { return max_bps_; }
  /* The share of packets lost over the last second (TWCC) or report. */
  double fraction_lost () const;
  /* bandwidth-estimate, -delay-based, -loss-based, the usage and the
   * feedback kind, into a stats structure. */
  void add_stats (GstStructure *stats) const;

 private:
  CongestionControl (BandwidthEstimator::Config config,
                     std::function<void (std::uint32_t)> on_change);
  void watch (GstPad *pad, GstPadProbeType type, GstPadProbeCallback callback);
  static GstPadProbeReturn on_upstream_event (GstPad *pad,
                                              GstPadProbeInfo *info,
                                              gpointer user_data);
  static GstPadProbeReturn on_outgoing (GstPad *pad, GstPadProbeInfo *info,
                                        gpointer user_data);
  static GstPadProbeReturn on_pace (GstPad *pad, GstPadProbeInfo *info,
                                    gpointer user_data);
  void on_feedback (const GstStructure *packets);
  void publish ();
  /* FALSE: @buffer is a retransmission over the budget. */
  bool admit (GstPad *sink, GstBuffer *buffer);
  void learn_payload_types (GstPad *sink, guint8 pt);

  const std::uint32_t max_bps_;
  mutable std::mutex lock_;
  BandwidthEstimator estimator_;
  std::atomic<std::uint32_t> target_;
  /* Feedback has come: the target is a measure, not the start value. */
  std::atomic<bool> measured_{false};
  /* The aux sender (weak), to ask rtprtxsend for its map. */
  GWeakRef tap_;
  std::atomic<bool> has_rtx_{false};
  std::atomic<std::uint32_t> pad_to_bps_{0};
  /* Padding asked of rtprtxsend and not yet seen going out. */
  std::atomic<int> pad_pending_{0};
  /* The padding bucket (bytes the video is short of pad_to_bps_), on the
   * video's sending thread. */
  double pad_tokens_ = 0;
  std::int64_t pad_last_us_ = -1;
  guint64 padding_sent_ = 0;
  void pad (GstPad *sink, GstBuffer *buffer);
  std::uint32_t announced_;
  std::function<void (std::uint32_t)> on_change_;
  /* What each payload type is, from rtprtxsend's payload-type-map; written
   * by the sending threads, without lock_. */
  enum : guint8 { kUnknown, kMedia, kRetransmission };
  std::array<std::atomic<guint8>, 128> pt_kind_{};
  /* lock_ */
  RetransmissionBudget rtx_budget_;
  guint64 rtx_sent_ = 0; /* let through to the peer */
  guint64 rtx_dropped_ = 0;
  /* Written before media flows, read by the sending threads. */
  std::array<std::atomic<bool>, 128> paced_{};
  /* The pacer and its counts, apart from lock_ so that the sending
   * threads do not wait on the feedback thread's estimation. */
  mutable std::mutex pace_lock_;
  Pacer pacer_;
  guint64 held_packets_ = 0;
  std::int64_t held_us_ = 0;
};

}  // namespace signalrtc
