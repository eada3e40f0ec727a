/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "bandwidth-estimator.h"

#include <algorithm>
#include <cmath>

namespace signalrtc {

namespace {

/* The arrival-time filter: a trend line over this many groups, of the
 * accumulated delay smoothed by this factor, its slope times this gain (the
 * values libwebrtc's trendline estimator uses). */
constexpr int kWindow = 20;
constexpr double kSmoothing = 0.9;
constexpr double kTrendGain = 4.0;
/* §5.4: the adaptive threshold, its gains (per ms; libwebrtc's, tuned
 * for the trend line) and bounds; over-use must last this long. */
constexpr double kThresholdUp = 0.0087;
constexpr double kThresholdDown = 0.039;
constexpr double kThresholdMinMs = 6.0;
constexpr double kThresholdMaxMs = 600.0;
constexpr double kThresholdSkipMs = 15.0;
constexpr std::int64_t kOveruseTimeUs = 10'000;
constexpr int kMaxDeltas = 60;
/* A jump this large between groups is a new clock or a stall, not
 * queueing: the filter starts again. */
constexpr std::int64_t kResetGapUs = 3'000'000;
/* §5.5. */
constexpr double kBeta = 0.85;
constexpr double kEta = 1.08;
constexpr double kMaxOverIncoming = 1.5;
constexpr double kPacketBits = 1200 * 8;

}  // namespace

BandwidthEstimator::BandwidthEstimator (Config config)
    : config_ (config), delay_bps_ (config.start_bps),
      loss_bps_ (config.start_bps)
{
  config_.max_bps = std::max (config_.max_bps, config_.min_bps);
  clamp ();
}

BandwidthEstimator::RateState
BandwidthEstimator::next_state (RateState state, Usage usage)
{
  switch (usage) {
  case Usage::kOveruse:
    return RateState::kDecrease;
  case Usage::kUnderuse:
    return RateState::kHold;
  case Usage::kNormal:
    return state == RateState::kDecrease ? RateState::kHold
                                         : RateState::kIncrease;
  }
  return state;
}

double
BandwidthEstimator::loss_based_update (double estimate_bps,
                                       double fraction_lost)
{
  if (fraction_lost > 0.10)
    return estimate_bps * (1.0 - 0.5 * fraction_lost);
  if (fraction_lost < 0.02)
    return estimate_bps * 1.05;
  return estimate_bps;
}

void
BandwidthEstimator::on_twcc_feedback (std::int64_t now_us,
                                      const std::vector<TwccPacket> &packets)
{
  if (packets.empty ())
    return;
  last_twcc_us_ = now_us;
  fallback_ = false;
  batch_usage_.reset ();
  for (const TwccPacket &p : packets) {
    interval_sent_++;
    if (!p.arrival_us) {
      interval_lost_++;
      continue;
    }
    add_received (p);
    if (!current_) {
      current_ = Group{p.send_us, p.send_us, *p.arrival_us};
    } else if (p.send_us < current_->first_send_us) {
      /* Sent before the group began (a retransmission in an old
       * sequence slot, or reordering): no use for the delay gradient. */
    } else if (p.send_us - current_->first_send_us <= kBurstUs) {
      current_->send_us = std::max (current_->send_us, p.send_us);
      current_->arrival_us = std::max (current_->arrival_us, *p.arrival_us);
    } else {
      on_group (*current_);
      current_ = Group{p.send_us, p.send_us, *p.arrival_us};
    }
  }

  if (interval_start_us_ < 0)
    interval_start_us_ = now_us;
  if (now_us - interval_start_us_ >= kLossIntervalUs && interval_sent_ > 0) {
    update_loss ((double)interval_lost_ / interval_sent_);
    interval_sent_ = interval_lost_ = 0;
    interval_start_us_ = now_us;
  }
  update_rate (now_us);
}

void
BandwidthEstimator::on_receiver_report (std::int64_t now_us,
                                        double fraction_lost)
{
  if (!std::isfinite (fraction_lost))
    return;
  if (last_twcc_us_ && now_us - *last_twcc_us_ < kTwccQuietUs)
    return;
  fallback_ = true;
  update_loss (std::clamp (fraction_lost, 0.0, 1.0));
}

void
BandwidthEstimator::set_rtt_us (std::int64_t rtt_us)
{
  if (rtt_us > 0)
    rtt_us_ = std::min<std::int64_t> (rtt_us, 2'000'000);
}

void
BandwidthEstimator::add_received (const TwccPacket &p)
{
  const std::int64_t arrival = *p.arrival_us;
  if (!received_.empty () && std::llabs (arrival - latest_arrival_us_)
                                 > kResetGapUs) {
    received_.clear ();
    received_bytes_ = 0;
  }
  if (received_.empty () || arrival > latest_arrival_us_)
    latest_arrival_us_ = arrival;
  received_.push_back ({arrival, p.size_bytes});
  received_bytes_ += p.size_bytes;
  while (!received_.empty ()
         && received_.front ().arrival_us
                < latest_arrival_us_ - kIncomingWindowUs) {
    received_bytes_ -= received_.front ().size_bytes;
    received_.pop_front ();
  }
}

std::uint32_t
BandwidthEstimator::incoming_bps () const
{
  if (received_.size () < 2)
    return 0;
  std::int64_t earliest = received_.front ().arrival_us;
  for (const Received &r : received_)
    earliest = std::min (earliest, r.arrival_us);
  const std::int64_t span = latest_arrival_us_ - earliest;
  if (span < 100'000)
    return 0;
  /* The first packet's bytes arrived before the span began. */
  const double bits
      = 8.0 * (double)(received_bytes_ - received_.front ().size_bytes);
  return (std::uint32_t)std::min (bits * 1e6 / (double)span, 4e9);
}

/* §5.2, §5.3: a group is complete; its delay variation against the one
 * before goes through the arrival-time filter, then the detector. */
void
BandwidthEstimator::on_group (const Group &group)
{
  if (!previous_) {
    previous_ = group;
    return;
  }
  const std::int64_t send_delta = group.send_us - previous_->send_us;
  const std::int64_t arrival_delta = group.arrival_us - previous_->arrival_us;
  if (send_delta <= 0 || arrival_delta < -kResetGapUs
      || arrival_delta > kResetGapUs || send_delta > kResetGapUs) {
    accumulated_ms_ = smoothed_ms_ = slope_ = 0.0;
    window_.clear ();
    num_deltas_ = 0;
    previous_ = group;
    return;
  }
  previous_ = group;

  /* The queueing delay built up so far, smoothed, against the arrival
   * time; the slope of its least-squares line over the last kWindow groups
   * is the delay gradient. */
  const double d_ms = (double)(arrival_delta - send_delta) / 1000.0;
  accumulated_ms_ += d_ms;
  smoothed_ms_ = kSmoothing * smoothed_ms_ + (1.0 - kSmoothing) * accumulated_ms_;
  if (window_.empty ())
    first_arrival_us_ = group.arrival_us;
  window_.push_back (
      {(double)(group.arrival_us - first_arrival_us_) / 1000.0, smoothed_ms_});
  if (window_.size () > (size_t)kWindow)
    window_.pop_front ();
  num_deltas_ = std::min (num_deltas_ + 1, 1000);
  if (window_.size () < (size_t)kWindow)
    return;
  double mean_x = 0, mean_y = 0;
  for (const auto &[x, y] : window_) {
    mean_x += x;
    mean_y += y;
  }
  mean_x /= window_.size ();
  mean_y /= window_.size ();
  double num = 0, den = 0;
  for (const auto &[x, y] : window_) {
    num += (x - mean_x) * (y - mean_y);
    den += (x - mean_x) * (x - mean_x);
  }
  if (den <= 0)
    return;
  slope_ = num / den;

  detect (group.send_us);
}

/* §5.4. @t_us: the group's send time, our clock. */
void
BandwidthEstimator::detect (std::int64_t t_us)
{
  const double trend
      = slope_ * kTrendGain * std::min (num_deltas_, kMaxDeltas);
  if (trend > threshold_ms_) {
    if (overusing_since_us_ < 0)
      overusing_since_us_ = t_us;
    overuse_count_++;
    if (t_us - overusing_since_us_ >= kOveruseTimeUs && overuse_count_ > 1
        && trend >= previous_trend_)
      usage_ = Usage::kOveruse;
  } else {
    overusing_since_us_ = -1;
    overuse_count_ = 0;
    usage_ = trend < -threshold_ms_ ? Usage::kUnderuse : Usage::kNormal;
  }
  previous_trend_ = trend;

  if (usage_ == Usage::kOveruse)
    batch_usage_ = Usage::kOveruse;
  else if (usage_ == Usage::kUnderuse && batch_usage_ != Usage::kOveruse)
    batch_usage_ = Usage::kUnderuse;

  /* The threshold follows |trend|: up fast, down slowly; a spike far
   * above it does not move it. */
  if (last_threshold_update_us_ < 0)
    last_threshold_update_us_ = t_us;
  const double excess = std::fabs (trend) - threshold_ms_;
  if (excess <= kThresholdSkipMs) {
    const double k = excess > 0 ? kThresholdUp : kThresholdDown;
    const double dt_ms
        = (double)std::clamp<std::int64_t> (t_us - last_threshold_update_us_,
                                            0, 100'000)
          / 1000.0;
    threshold_ms_ = std::clamp (threshold_ms_ + k * excess * dt_ms,
                                kThresholdMinMs, kThresholdMaxMs);
  }
  last_threshold_update_us_ = t_us;
}

/* §5.5, once per feedback. */
void
BandwidthEstimator::update_rate (std::int64_t now_us)
{
  const Usage usage = batch_usage_.value_or (usage_);
  state_ = next_state (state_, usage);
  const double dt_s
      = last_rate_update_us_ < 0
            ? 0.0
            : (double)std::clamp<std::int64_t> (now_us - last_rate_update_us_,
                                                0, 1'000'000)
                  / 1e6;
  last_rate_update_us_ = now_us;
  const double incoming = incoming_bps ();
  const double incoming_kbps = incoming / 1000.0;
  const double std_max = std::sqrt (var_max_kbps_ * std::max (avg_max_kbps_, 1.0));

  switch (state_) {
  case RateState::kHold:
    break;
  case RateState::kIncrease: {
    const double before = delay_bps_;
    if (avg_max_kbps_ >= 0 && incoming_kbps > avg_max_kbps_ + 3 * std_max)
      avg_max_kbps_ = -1.0; /* the link got better: search again */
    const bool near_max
        = avg_max_kbps_ >= 0
          && std::fabs (incoming_kbps - avg_max_kbps_) <= 3 * std_max;
    if (near_max) {
      const double response_s = (double)(rtt_us_ + 100'000) / 1e6;
      const double packet_bits = std::min (kPacketBits, delay_bps_ / 30.0);
      delay_bps_ += std::max (4000.0, 0.5 * packet_bits / response_s) * dt_s;
    } else {
      delay_bps_ *= std::pow (kEta, dt_s);
    }
    /* No growth past 1.5 times what arrives (+10 kbit/s), but no fall
     * either: a sender that makes less than the estimate (easy content,
     * a rendition under it) is application-limited, which says nothing of
     * the link. Pulling the estimate down to 1.5 times it did: a 640x480
     * ball pattern on loopback made 130-770 kbit/s, and the estimate
     * followed it from 1.07 Mbit/s to 200 kbit/s in a second, which sent
     * the call to the ladder's lowest rendition. (libwebrtc's
     * AimdRateControl clamps the same way.) */
    if (incoming > 0 && delay_bps_ > before) {
      const double cap = kMaxOverIncoming * incoming + 10'000;
      if (delay_bps_ > cap)
        delay_bps_ = std::max (before, cap);
    }
    break;
  }
  case RateState::kDecrease: {
    /* Once per reduction interval (the round trip, 10 to 200 ms, as
     * libwebrtc), or sooner if what arrives fell under half the estimate:
     * over-use lasts while the queue drains, and a cut at every feedback
     * (one each 50-70 ms) took 0.85 of a received rate each previous cut
     * had lowered: 3.03 -> 1.39 Mbit/s in 560 ms behind a 3 Mbit/s link. */
    const std::int64_t interval
        = std::clamp<std::int64_t> (rtt_us_, 10'000, 200'000);
    if (last_decrease_us_ >= 0 && now_us - last_decrease_us_ < interval
        && !(incoming > 0 && incoming < 0.5 * delay_bps_)) {
      state_ = RateState::kHold;
      break;
    }
    last_decrease_us_ = now_us;
    const double cut = kBeta * (incoming > 0 ? incoming : delay_bps_);
    if (cut < delay_bps_)
      delay_bps_ = cut;
    if (incoming > 0) {
      if (avg_max_kbps_ < 0)
        avg_max_kbps_ = incoming_kbps;
      else
        avg_max_kbps_ = 0.95 * avg_max_kbps_ + 0.05 * incoming_kbps;
      const double norm = std::max (avg_max_kbps_, 1.0);
      const double dev = avg_max_kbps_ - incoming_kbps;
      var_max_kbps_
          = std::clamp (0.95 * var_max_kbps_ + 0.05 * dev * dev / norm, 0.4,
                        2.5);
    }
    /* One cut per over-use signal; it cuts again if over-use goes on. */
    state_ = RateState::kHold;
    break;
  }
  }
  clamp ();
}

/* §6. A cut starts from what is being sent, not from an estimate that ran
 * ahead of it while the delay-based one held the target. */
void
BandwidthEstimator::update_loss (double fraction_lost)
{
  last_fraction_lost_ = fraction_lost;
  double base = loss_bps_;
  if (fraction_lost > 0.10 && !fallback_)
    base = std::min (loss_bps_, delay_bps_);
  loss_bps_ = loss_based_update (base, fraction_lost);
  /* Without loss the delay-based estimate decides: the loss-based one
   * climbing 5 %/s behind it would hold every recovery back. */
  if (fraction_lost < 0.02 && !fallback_)
    loss_bps_ = std::max (loss_bps_, delay_bps_);
  clamp ();
}

void
BandwidthEstimator::clamp ()
{
  const double lo = config_.min_bps, hi = config_.max_bps;
  delay_bps_ = std::clamp (delay_bps_, lo, hi);
  loss_bps_ = std::clamp (loss_bps_, lo, hi);
}

std::uint32_t
BandwidthEstimator::delay_based_bps () const
{
  return (std::uint32_t)delay_bps_;
}

std::uint32_t
BandwidthEstimator::loss_based_bps () const
{
  return (std::uint32_t)loss_bps_;
}

std::uint32_t
BandwidthEstimator::target_bps () const
{
  if (fallback_)
    return (std::uint32_t)loss_bps_;
  return (std::uint32_t)std::min (delay_bps_, loss_bps_);
}

bool
RetransmissionBudget::allow (std::int64_t now_us, std::uint32_t estimate_bps,
                             std::uint32_t size_bytes)
{
  const double rate = kShare * estimate_bps / 8.0; /* bytes per second */
  const double burst = rate * kBurstUs / 1e6;
  if (tokens_ < 0) {
    tokens_ = burst;
  } else {
    const std::int64_t dt = std::clamp<std::int64_t> (now_us - last_us_, 0,
                                                      kBurstUs);
    tokens_ = std::min (burst, tokens_ + rate * dt / 1e6);
  }
  last_us_ = now_us;
  if (tokens_ < size_bytes)
    return false;
  tokens_ -= size_bytes;
  return true;
}

std::int64_t
Pacer::hold_us (std::int64_t now_us, std::uint32_t estimate_bps,
                std::uint32_t size_bytes, bool may_hold)
{
  if (estimate_bps == 0)
    return 0;
  const double rate = kFactor * estimate_bps; /* bit/s */
  const auto duration = (std::int64_t)(size_bytes * 8.0 * 1e6 / rate);
  std::int64_t depart = started_ ? std::max (free_us_, now_us - kBurstUs)
                                 : now_us - kBurstUs;
  started_ = true;
  std::int64_t hold = std::max<std::int64_t> (0, depart - now_us);
  if (!may_hold) {
    hold = 0;
  } else if (hold > kMaxHoldUs) {
    hold = kMaxHoldUs;
    depart = now_us + kMaxHoldUs;
  }
  free_us_ = depart + duration;
  return hold;
}

std::uint32_t
shared_video_bitrate (const std::vector<std::uint32_t> &estimates,
                      std::uint32_t audio_bps, std::uint32_t min_bps,
                      std::uint32_t max_bps, std::uint32_t fallback_bps)
{
  max_bps = std::max (max_bps, min_bps);
  if (estimates.empty ())
    return std::clamp (fallback_bps, min_bps, max_bps);
  const double lowest
      = *std::min_element (estimates.begin (), estimates.end ());
  const double video = 0.95 * (lowest - (double)audio_bps);
  return (std::uint32_t)std::clamp (video, (double)min_bps, (double)max_bps);
}

}  // namespace signalrtc
