/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

namespace signalrtc {

/* One packet of a transport-wide congestion control feedback (TWCC): when
 * we sent it (our clock), when the peer got it (the peer's clock, any
 * origin: only differences count) or nothing if it was lost, and its size.
 * Microseconds. */
struct TwccPacket
{
  std::int64_t send_us;
  std::optional<std::int64_t> arrival_us;
  std::uint32_t size_bytes;
};

/* How much one viewer's link carries: Google congestion control as in
 * draft-ietf-rmcat-gcc-02, sender side. Pure: the caller gives the time
 * (microseconds, monotonic) and serializes the calls.
 *
 * Two estimates, the target is the lower, within [min_bps, max_bps]:
 *  - delay-based, from TWCC feedback: packets sent within 5 ms make a
 *    group; the change in one-way delay from group to group is summed into
 *    the queueing delay built up, and the slope of its trend line over the
 *    last 20 groups (times 4 and the number of deltas seen, at most 60)
 *    is the gradient. That filter is libwebrtc's, not the draft's Kalman
 *    filter: in a sustained over-use the draft's 3-sigma clamp still lets
 *    its noise estimate grow 8 % a group, its gain goes to nothing, and
 *    it went on saying over-use for 13 s after the queue had drained
 *    (test-bandwidth-estimator, StartedTooHigh), cutting the rate to the
 *    floor. The gradient, against an adaptive threshold,
 *    says over-use, under-use or normal; a rate controller (hold, increase,
 *    decrease) then grows the estimate by 8 %/s, or by about half a packet
 *    per response time once near the rate where over-use last began, and
 *    on over-use cuts it to 0.85 of the rate the peer received over the
 *    last 500 ms, at most once per round trip (10 to 200 ms) unless that
 *    rate fell under half the estimate. It never exceeds 1.5 times that received rate: what was
 *    never sent was never measured.
 *  - loss-based, once a second from the packets TWCC reports lost, or from
 *    RTCP receiver reports when the peer sends no TWCC feedback: over 10 %
 *    lost cuts the estimate by half the loss, under 2 % raises it by 5 %
 *    (and at least to the delay-based one: without loss, delay decides),
 *    in between holds it. */
class BandwidthEstimator
{
 public:
  struct Config
  {
    std::uint32_t min_bps = 100'000;
    std::uint32_t max_bps = 2'500'000;
    std::uint32_t start_bps = 1'000'000;
  };

  enum class Usage { kNormal, kOveruse, kUnderuse };
  enum class RateState { kHold, kIncrease, kDecrease };

  /* Draft §5.5: what the rate controller does next on @usage. */
  static RateState next_state (RateState state, Usage usage);

  /* Draft §6, one loss report: the loss-based estimate after @estimate_bps
   * saw @fraction_lost (0..1). */
  static double loss_based_update (double estimate_bps, double fraction_lost);

  static constexpr std::int64_t kBurstUs = 5'000;
  static constexpr std::int64_t kIncomingWindowUs = 500'000;
  static constexpr std::int64_t kLossIntervalUs = 1'000'000;
  /* Without TWCC feedback this long, receiver reports drive the loss-based
   * estimate. */
  static constexpr std::int64_t kTwccQuietUs = 2'000'000;

  explicit BandwidthEstimator (Config config);

  /* One TWCC feedback received at @now_us: its packets in sequence order. */
  void on_twcc_feedback (std::int64_t now_us,
                         const std::vector<TwccPacket> &packets);
  /* An RTCP receiver report at @now_us: @fraction_lost (0..1) since the
   * previous one. Ignored while TWCC feedback comes in. */
  void on_receiver_report (std::int64_t now_us, double fraction_lost);
  /* The round-trip time, for the controller's response time. */
  void set_rtt_us (std::int64_t rtt_us);

  std::uint32_t target_bps () const;
  std::uint32_t delay_based_bps () const;
  std::uint32_t loss_based_bps () const;
  /* What the peer received over the last 500 ms (bit/s), 0 unknown. */
  std::uint32_t incoming_bps () const;
  Usage usage () const { return usage_; }
  RateState state () const { return state_; }
  /* Fraction of the packets lost in the last loss interval. */
  double fraction_lost () const { return last_fraction_lost_; }
  bool has_twcc () const { return last_twcc_us_.has_value (); }

 private:
  struct Group
  {
    std::int64_t first_send_us;
    std::int64_t send_us;    /* last packet's */
    std::int64_t arrival_us; /* latest arrival */
  };
  struct Received
  {
    std::int64_t arrival_us;
    std::uint32_t size_bytes;
  };

  void add_received (const TwccPacket &p);
  void on_group (const Group &group);
  void detect (std::int64_t t_us);
  void update_rate (std::int64_t now_us);
  void update_loss (double fraction_lost);
  void clamp ();

  Config config_;

  /* Grouping and the arrival-time filter (draft §5.2, §5.3, with a trend
   * line for the Kalman filter). */
  std::optional<Group> current_;
  std::optional<Group> previous_;
  double accumulated_ms_ = 0.0;
  double smoothed_ms_ = 0.0;
  std::int64_t first_arrival_us_ = 0;
  /* (arrival ms since the window's first group, smoothed delay ms) */
  std::deque<std::pair<double, double>> window_;
  double slope_ = 0.0;
  int num_deltas_ = 0;

  /* Over-use detector (§5.4). */
  double threshold_ms_ = 12.5;
  double previous_trend_ = 0.0;
  std::int64_t overusing_since_us_ = -1;
  int overuse_count_ = 0;
  std::int64_t last_threshold_update_us_ = -1;
  Usage usage_ = Usage::kNormal;
  /* The strongest signal of the groups of one feedback. */
  std::optional<Usage> batch_usage_;

  /* Rate controller (§5.5). */
  RateState state_ = RateState::kIncrease;
  double delay_bps_;
  std::int64_t last_rate_update_us_ = -1;
  std::int64_t last_decrease_us_ = -1;
  std::int64_t rtt_us_ = 100'000;
  /* Where over-use began, averaged: near it the increase is additive. */
  double avg_max_kbps_ = -1.0;
  double var_max_kbps_ = 0.4;

  /* Incoming rate at the peer (R_hat). */
  std::deque<Received> received_;
  std::uint64_t received_bytes_ = 0;
  std::int64_t latest_arrival_us_ = 0;

  /* Loss-based controller (§6). */
  double loss_bps_;
  std::uint32_t interval_sent_ = 0;
  std::uint32_t interval_lost_ = 0;
  std::int64_t interval_start_us_ = -1;
  double last_fraction_lost_ = 0.0;
  std::optional<std::int64_t> last_twcc_us_;
  /* Receiver reports alone (no TWCC): the loss-based estimate is the
   * target. */
  bool fallback_ = false;
};

/* How much retransmission a call may take: a token bucket refilled at
 * kShare of its bandwidth estimate, holding at most kBurstUs of that.
 * Without it a saturated link feeds itself: the peer asks again for every
 * packet the queue dropped, the retransmissions are dropped too, and the
 * rtx traffic alone grew past 20 Mbit/s over a 1 Mbit/s link (measured,
 * tests/bench/run-network-bench, congestion-control=none). Pure; the
 * caller gives the time (microseconds) and serializes the calls. */
class RetransmissionBudget
{
 public:
  static constexpr double kShare = 0.25;
  static constexpr std::int64_t kBurstUs = 250'000;

  /* May a retransmission of @size_bytes go at @now_us, with the call's
   * estimate at @estimate_bps? Takes it from the budget if so. */
  bool allow (std::int64_t now_us, std::uint32_t estimate_bps,
              std::uint32_t size_bytes);

 private:
  double tokens_ = -1; /* bytes; < 0: not started (a full bucket) */
  std::int64_t last_us_ = 0;
};

/* When each of a call's packets may leave: no faster than kFactor times
 * the call's estimate, so that a burst (a key frame, above all the first
 * of a rendition switched to) is spread over the link instead of filling
 * its queue at once, as libwebrtc's pacer does (it paces at 2.5 times;
 * over a 1 Mbit/s link whose queue holds 300 ms, a 100 KB key frame sent
 * at 2.5 Mbit/s still overflows it, at 1.5 it does not). A virtual clock:
 * each packet takes its size at the pacing rate from the time the link is
 * free; time unused, up to kBurstUs, is credit, so a delta frame that fits
 * goes at once. No packet is held more than kMaxHoldUs: past that the
 * debt is forgotten (the queue in front of the call drops what it cannot
 * hold). Pure; the caller gives the time (microseconds) and serializes
 * the calls. */
class Pacer
{
 public:
  static constexpr double kFactor = 1.5;
  static constexpr std::int64_t kBurstUs = 40'000;
  static constexpr std::int64_t kMaxHoldUs = 250'000;

  /* @size_bytes about to leave at @now_us, the call's estimate
   * @estimate_bps (0: none, nothing is held): how long to hold it. With
   * @may_hold false (audio, retransmissions) it is counted, never held. */
  std::int64_t hold_us (std::int64_t now_us, std::uint32_t estimate_bps,
                        std::uint32_t size_bytes, bool may_hold = true);

 private:
  bool started_ = false;
  std::int64_t free_us_ = 0; /* when what was counted has left */
};

/* What one video encoder shared by every call makes (bit/s): the lowest
 * of the calls' @estimates (each what that call's link carries, all of it),
 * less @audio_bps, less 5 % for RTP headers and retransmissions, within
 * [@min_bps, @max_bps]; @fallback_bps when no call has an estimate. */
std::uint32_t shared_video_bitrate (const std::vector<std::uint32_t> &estimates,
                                    std::uint32_t audio_bps,
                                    std::uint32_t min_bps,
                                    std::uint32_t max_bps,
                                    std::uint32_t fallback_bps);

}  // namespace signalrtc
