/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The per-viewer bandwidth estimate (GCC): the controller's rules as
 * tables, then whole calls over a simulated bottleneck (a FIFO with a
 * rate, a 300 ms queue limit like tbf's, random loss, a sender that
 * sends what the estimate says) fed back as TWCC every 100 ms.
 */
#include "bandwidth-estimator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <string>

namespace {

using signalrtc::BandwidthEstimator;
using signalrtc::TwccPacket;
using RateState = BandwidthEstimator::RateState;
using Usage = BandwidthEstimator::Usage;

constexpr std::int64_t kMs = 1000;

bool
env_set (const char *name)
{
  return std::getenv (name) != nullptr;
}
constexpr std::int64_t kS = 1'000'000;

TEST (BandwidthEstimator, RateControllerStates)
{
  struct Row
  {
    RateState from;
    Usage usage;
    RateState to;
  } rows[] = {
    {RateState::kHold, Usage::kOveruse, RateState::kDecrease},
    {RateState::kIncrease, Usage::kOveruse, RateState::kDecrease},
    {RateState::kDecrease, Usage::kOveruse, RateState::kDecrease},
    {RateState::kHold, Usage::kNormal, RateState::kIncrease},
    {RateState::kIncrease, Usage::kNormal, RateState::kIncrease},
    {RateState::kDecrease, Usage::kNormal, RateState::kHold},
    {RateState::kHold, Usage::kUnderuse, RateState::kHold},
    {RateState::kIncrease, Usage::kUnderuse, RateState::kHold},
    {RateState::kDecrease, Usage::kUnderuse, RateState::kHold},
  };
  for (const Row &r : rows)
    EXPECT_EQ (BandwidthEstimator::next_state (r.from, r.usage), r.to)
        << (int)r.from << " on " << (int)r.usage;
}

TEST (BandwidthEstimator, LossBasedRule)
{
  struct Row
  {
    double loss, expected;
  } rows[] = {
    {0.0, 1'050'000},   {0.019, 1'050'000}, {0.02, 1'000'000},
    {0.05, 1'000'000},  {0.10, 1'000'000},  {0.20, 900'000},
    {0.50, 750'000},    {1.0, 500'000},
  };
  for (const Row &r : rows)
    EXPECT_DOUBLE_EQ (BandwidthEstimator::loss_based_update (1e6, r.loss),
                      r.expected)
        << "loss " << r.loss;
}

/* A peer that sends no TWCC: its receiver reports alone set the target. */
TEST (BandwidthEstimator, ReceiverReportsWithoutTwcc)
{
  BandwidthEstimator e ({100'000, 2'500'000, 1'000'000});
  struct Row
  {
    double loss;
    std::uint32_t expected;
  } rows[] = {
    {0.0, 1'050'000},  {0.15, 971'250}, {0.05, 971'250},
    {0.5, 728'437},    {std::numeric_limits<double>::quiet_NaN (), 728'437},
    {-3.0, 764'859},   /* clamped to 0 */
    {7.0, 382'429},    /* clamped to 1 */
  };
  std::int64_t now = 0;
  for (const Row &r : rows) {
    now += kS;
    e.on_receiver_report (now, r.loss);
    EXPECT_EQ (e.target_bps (), r.expected) << "loss " << r.loss;
  }
}

TEST (BandwidthEstimator, ReceiverReportsYieldToTwcc)
{
  BandwidthEstimator e ({100'000, 2'500'000, 1'000'000});
  e.on_twcc_feedback (0, {{0, 50 * kMs, 1200}});
  e.on_receiver_report (kS, 0.5);
  EXPECT_EQ (e.loss_based_bps (), 1'000'000u);
  /* TWCC stopped: reports count again. */
  e.on_receiver_report (kS + BandwidthEstimator::kTwccQuietUs, 0.5);
  EXPECT_EQ (e.target_bps (), 750'000u);
}

/* Feedback nothing can be made of: no crash, no NaN, the target stays
 * within its bounds. */
TEST (BandwidthEstimator, MalformedFeedback)
{
  const BandwidthEstimator::Config c{200'000, 2'000'000, 1'000'000};
  struct Row
  {
    const char *name;
    std::vector<std::vector<TwccPacket>> batches;
  } rows[] = {
    {"empty", {{}, {}}},
    {"all lost", {{{0, {}, 1200}, {10 * kMs, {}, 1200}}, {{20 * kMs, {}, 1}}}},
    {"same send time",
     {{{0, 10 * kMs, 1200}, {0, 11 * kMs, 1200}, {0, 9 * kMs, 1200}}}},
    {"arrival going back",
     {{{0, 100 * kMs, 1200}, {20 * kMs, 50 * kMs, 1200},
       {40 * kMs, 10 * kMs, 1200}, {60 * kMs, -5 * kS, 1200}}}},
    {"clock jumps",
     {{{0, 0, 1200}, {10 * kMs, 10 * kS, 1200}, {20 * kMs, -10 * kS, 1200},
       {30 * kMs, 3 * kS, 1200}}}},
    {"send time going back",
     {{{50 * kMs, 50 * kMs, 1200}, {0, 60 * kMs, 1200},
       {-10 * kS, 70 * kMs, 1200}}}},
    {"zero and huge sizes",
     {{{0, 0, 0}, {10 * kMs, 10 * kMs, 0xffffffffu},
       {20 * kMs, 20 * kMs, 0}}}},
  };
  for (const Row &r : rows) {
    BandwidthEstimator e (c);
    std::int64_t now = 0;
    for (const auto &batch : r.batches) {
      now += 100 * kMs;
      e.on_twcc_feedback (now, batch);
      EXPECT_GE (e.target_bps (), c.min_bps) << r.name;
      EXPECT_LE (e.target_bps (), c.max_bps) << r.name;
    }
  }
}

TEST (BandwidthEstimator, SharedVideoBitrate)
{
  struct Row
  {
    std::vector<std::uint32_t> estimates;
    std::uint32_t audio, min, max, fallback, expected;
  } rows[] = {
    {{}, 64'000, 100'000, 2'500'000, 1'000'000, 1'000'000},
    {{}, 0, 100'000, 2'500'000, 5'000'000, 2'500'000},
    {{1'064'000}, 64'000, 100'000, 2'500'000, 1, 950'000},
    {{3'000'000, 1'064'000, 2'000'000}, 64'000, 100'000, 2'500'000, 1,
     950'000},
    {{1'000'000}, 0, 100'000, 2'500'000, 1, 950'000},
    {{50'000}, 64'000, 100'000, 2'500'000, 1, 100'000}, /* below audio */
    {{9'000'000}, 64'000, 100'000, 2'500'000, 1, 2'500'000},
    {{1'000'000}, 0, 300'000, 200'000, 1, 300'000}, /* max below min */
  };
  for (const Row &r : rows)
    EXPECT_EQ (signalrtc::shared_video_bitrate (r.estimates, r.audio, r.min,
                                                r.max, r.fallback),
               r.expected);
}

/* At 1 Mbit/s a quarter is 31 250 bytes/s, 7 812 bytes in a full bucket:
 * six 1200-byte packets at once, then one every 38.4 ms. */
/* A packet of 1200 bytes every 5 ms (1.92 Mbit/s), feedback every 50 ms;
 * 4 s with a steady delay, then a queue that grows 4 ms every 5 ms for
 * 600 ms (a sustained over-use while it drains). With the round trip at
 * 100 ms the estimate may be cut at most once per 100 ms: no cascade of a
 * cut at every feedback. */
TEST (BandwidthEstimator, OneCutPerRoundTripWhileOveruseLasts)
{
  BandwidthEstimator e ({100'000, 10'000'000, 1'500'000});
  e.set_rtt_us (100'000);
  std::int64_t queue_us = 0;
  std::vector<TwccPacket> batch;
  std::vector<std::int64_t> cuts;
  std::uint32_t last = e.target_bps ();
  for (std::int64_t t = 0; t < 4'600'000; t += 5'000) {
    if (t >= 4'000'000)
      queue_us += 4'000;
    batch.push_back ({t, t + 20'000 + queue_us, 1200});
    if (batch.size () == 10) {
      e.on_twcc_feedback (t + 25'000, batch);
      batch.clear ();
      if (e.target_bps () < last && t >= 4'000'000)
        cuts.push_back (t);
      last = e.target_bps ();
    }
  }
  ASSERT_GE (cuts.size (), 1u);
  for (size_t i = 1; i < cuts.size (); i++)
    EXPECT_GE (cuts[i] - cuts[i - 1], 100'000) << "cut " << i;
  EXPECT_LE (cuts.size (), 6u);
  printf ("%zu cuts in 600 ms of over-use, target %u bit/s\n", cuts.size (),
          e.target_bps ());
}

/* A sender that makes less than the estimate (easy content, a rendition
 * under it) is application-limited: the delay-based estimate neither
 * falls to 1.5 times what arrives nor grows past it (the loss-based one,
 * under it, may grow up to it). Phases of a clean link (constant
 * delay), each with the packet interval the sender keeps; each is judged
 * from its second second on, once the received rate (measured over the
 * last second) is the phase's. */
TEST (BandwidthEstimator, AnApplicationLimitedSenderKeepsItsEstimate)
{
  struct Phase
  {
    const char *what;
    std::int64_t until_us;
    std::int64_t interval_us; /* one 1200-byte packet each */
    bool may_grow, may_fall;
  } phases[] = {
      {"1.9 Mbit/s sent: grows from its 1 Mbit/s start", 3'000'000, 5'000,
       true, false},
      {"240 kbit/s sent: neither falls nor grows", 8'000'000, 40'000, false,
       false},
      {"1.9 Mbit/s again: grows again", 10'000'000, 5'000, true, false},
  };
  BandwidthEstimator e ({100'000, 10'000'000, 1'000'000});
  e.set_rtt_us (50'000);
  std::vector<TwccPacket> batch;
  std::int64_t t = 0, next_feedback = 50'000;
  for (const Phase &p : phases) {
    const std::int64_t judged_from = t + 1'000'000;
    std::uint32_t start = 0, low = 0, high = 0;
    for (; t < p.until_us; t += p.interval_us) {
      batch.push_back ({t, t + 20'000, 1200});
      if (t >= next_feedback) {
        e.on_twcc_feedback (t + 25'000, batch);
        batch.clear ();
        next_feedback = t + 50'000;
        if (t < judged_from)
          continue;
        if (!start)
          start = low = high = e.delay_based_bps ();
        low = std::min (low, e.delay_based_bps ());
        high = std::max (high, e.delay_based_bps ());
      }
    }
    printf ("%s: delay-based %u -> %u bit/s (low %u, high %u)\n", p.what,
            start, e.delay_based_bps (), low, high);
    if (p.may_grow) {
      EXPECT_GT (high, start) << p.what;
    } else {
      EXPECT_LE (high, start) << p.what;
    }
    if (!p.may_fall) {
      EXPECT_GE (low, start) << p.what;
    }
  }
}

TEST (RetransmissionBudget, TakesAQuarterOfTheEstimate)
{
  signalrtc::RetransmissionBudget b;
  struct Row
  {
    std::int64_t at_ms;
    std::uint32_t estimate, size;
    bool allowed;
  } rows[] = {
    {0, 1'000'000, 1200, true},     {0, 1'000'000, 1200, true},
    {0, 1'000'000, 1200, true},     {0, 1'000'000, 1200, true},
    {0, 1'000'000, 1200, true},     {0, 1'000'000, 1200, true},
    {0, 1'000'000, 1200, false},    /* 612 bytes left */
    {10, 1'000'000, 1200, false},   /* 924.5 */
    {20, 1'000'000, 1200, true},    /* 1237 */
    {20, 1'000'000, 100, false},    /* 37 */
    {1000, 1'000'000, 1200, true},  /* refilled, capped at 7812.5 */
    {1000, 100'000, 1200, false},   /* the bucket shrank to 781.25 */
    {1000, 0, 1, false},            /* no estimate, nothing */
  };
  for (const Row &r : rows)
    EXPECT_EQ (b.allow (r.at_ms * kMs, r.estimate, r.size), r.allowed)
        << "at " << r.at_ms << " ms, " << r.size << " bytes";
}

TEST (Pacer, SpreadsABurstAtOneAndAHalfTimesTheEstimate)
{
  /* 1 Mbit/s: paced at 1.5, a 1200-byte packet takes 6.4 ms; 40 ms of
   * credit is 7500 bytes. Every row at the same instant unless it says. */
  signalrtc::Pacer p;
  struct Row
  {
    std::int64_t at_ms;
    std::uint32_t estimate, size;
    bool may_hold;
    std::int64_t hold_us;
  } rows[] = {
    {0, 1'000'000, 1200, true, 0},      /* the link free since -40 ms */
    {0, 1'000'000, 1200, true, 0},      /* free at -27.2 ms */
    {0, 1'000'000, 1200, true, 0},      {0, 1'000'000, 1200, true, 0},
    {0, 1'000'000, 1200, true, 0},      {0, 1'000'000, 1200, true, 0},
    {0, 1'000'000, 1200, true, 0},      /* the credit is spent: free at 4.8 */
    {0, 1'000'000, 1200, true, 4'800},  /* free at 11.2 */
    {0, 1'000'000, 1200, false, 0},     /* audio: counted, not held */
    {0, 1'000'000, 1200, true, 17'600}, /* behind it */
    {100, 1'000'000, 1200, true, 0},    /* idle since: credit again */
    {100, 1'000'000, 60'000, true, 0},  /* takes 320 ms of the link */
    {100, 1'000'000, 1200, true, 250'000}, /* held the most, debt forgotten */
    {100, 0, 1200, true, 0},               /* no estimate: nothing held */
    {350, 2'000'000, 1200, true, 6'400},   /* the link free at 356.4 ms */
  };
  for (const Row &r : rows)
    EXPECT_EQ (p.hold_us (r.at_ms * kMs, r.estimate, r.size, r.may_hold),
               r.hold_us)
        << "at " << r.at_ms << " ms, " << r.size << " bytes";
}

TEST (Pacer, AKeyFrameSentByOneThreadLeavesAtThePacingRate)
{
  /* The caller sleeps what it is told, so the next packet comes that much
   * later: 84 packets of 1200 bytes (a 100 KB key frame) at 1 Mbit/s,
   * the first seven on the 40 ms of credit, the last leaving 83 packets
   * of 6.4 ms after the credit's start: 491.2 ms after the first. */
  signalrtc::Pacer p;
  std::int64_t now = 1'000'000;
  for (int i = 0; i < 84; i++)
    now += p.hold_us (now, 1'000'000, 1200);
  EXPECT_EQ (now - 1'000'000, 491'200);
}

/* splitmix64: the same random losses on every machine. */
class Random
{
 public:
  explicit Random (std::uint64_t seed) : state_ (seed) {}
  double
  uniform ()
  {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (double)(z >> 11) / (double)(1ull << 53);
  }

 private:
  std::uint64_t state_;
};

/* A call through one bottleneck: 30 frames/s of what the estimate says,
 * in packets of at most 1200 bytes sent together (no pacer, like
 * webrtcbin), a FIFO at capacity(t) that drops what would wait longer
 * than 300 ms, then random loss, 20 ms each way. Every 100 ms the peer
 * reports, in sequence order, every packet up to the last one it got. */
struct Link
{
  std::function<double (std::int64_t t_us)> capacity_bps;
  std::function<double (std::int64_t t_us)> loss;
};

struct Sent
{
  std::int64_t send_us;
  std::int64_t arrival_us; /* -1: lost */
  std::uint32_t size;
};

class Simulation
{
 public:
  Simulation (BandwidthEstimator::Config config, Link link)
      : estimator_ (config), link_ (std::move (link))
  {
  }

  /* Runs until @until_us; returns the target then. */
  std::uint32_t
  run_until (std::int64_t until_us)
  {
    for (; now_ < until_us; now_ += kMs) {
      if (now_ >= next_frame_) {
        send_frame ();
        next_frame_ += kS / 30;
      }
      if (now_ >= next_feedback_) {
        feedback ();
        next_feedback_ += 100 * kMs;
        if (trace_ && now_ % (500 * kMs) == 0)
          print_row ();
      }
    }
    return estimator_.target_bps ();
  }

  const BandwidthEstimator &estimator () const { return estimator_; }

 private:
  /* BWE_TRACE=1: a row every 500 ms, to see why a case fails. */
  void
  print_row () const
  {
    const BandwidthEstimator &e = estimator_;
    printf ("%6.1f s  target %8u  delay %8u  loss %8u  incoming %8u  "
            "usage %d  state %d  lost %.3f  capacity %.0f\n",
            now_ / 1e6, e.target_bps (), e.delay_based_bps (),
            e.loss_based_bps (), e.incoming_bps (), (int)e.usage (),
            (int)e.state (), e.fraction_lost (), link_.capacity_bps (now_));
  }

  static constexpr std::int64_t kOneWayUs = 20 * kMs;
  /* The peer's clock is elsewhere: only differences may count. */
  static constexpr std::int64_t kRemoteClockOffsetUs = 987'654'321;

  void
  send_frame ()
  {
    std::int64_t bytes = estimator_.target_bps () / 8 / 30;
    while (bytes > 0) {
      const std::uint32_t size = (std::uint32_t)std::min<std::int64_t> (
          bytes, 1200);
      bytes -= size;
      const std::int64_t start = std::max (now_, queue_free_us_);
      Sent s{now_, -1, size};
      if (start - now_ <= 300 * kMs) {
        const double rate = link_.capacity_bps (start);
        queue_free_us_ = start + (std::int64_t)(size * 8 * 1e6 / rate);
        if (random_.uniform () >= link_.loss (now_))
          s.arrival_us = queue_free_us_ + kOneWayUs;
      }
      sent_.push_back (s);
    }
  }

  void
  feedback ()
  {
    /* The peer reports at now_ what arrived by then; we read it 20 ms
     * later, which this simulation folds into now_. */
    size_t last = reported_;
    for (size_t i = reported_; i < sent_.size (); i++)
      if (sent_[i].arrival_us >= 0 && sent_[i].arrival_us <= now_)
        last = i + 1;
    if (last == reported_)
      return;
    std::vector<TwccPacket> packets;
    for (size_t i = reported_; i < last; i++) {
      const Sent &s = sent_[i];
      TwccPacket p{s.send_us, {}, s.size};
      if (s.arrival_us >= 0 && s.arrival_us <= now_)
        p.arrival_us = s.arrival_us + kRemoteClockOffsetUs;
      packets.push_back (p);
    }
    reported_ = last;
    estimator_.set_rtt_us (2 * kOneWayUs);
    estimator_.on_twcc_feedback (now_ + kOneWayUs, packets);
  }

  BandwidthEstimator estimator_;
  Link link_;
  Random random_{42};
  std::vector<Sent> sent_;
  size_t reported_ = 0;
  std::int64_t now_ = 0;
  std::int64_t next_frame_ = 0;
  std::int64_t next_feedback_ = 100 * kMs;
  std::int64_t queue_free_us_ = 0;
  const bool trace_ = env_set ("BWE_TRACE");
};

std::function<double (std::int64_t)>
constant (double v)
{
  return [v] (std::int64_t) { return v; };
}

std::function<double (std::int64_t)>
step (double before, std::int64_t at_us, double after)
{
  return [=] (std::int64_t t) { return t < at_us ? before : after; };
}

std::function<double (std::int64_t)>
burst (std::int64_t from_us, std::int64_t to_us, double during)
{
  return [=] (std::int64_t t) { return t >= from_us && t < to_us ? during : 0; };
}

struct Check
{
  double at_s;
  double min_bps, max_bps;
};

struct CallCase
{
  std::string name;
  BandwidthEstimator::Config config;
  Link link;
  std::vector<Check> checks;
};

void
PrintTo (const CallCase &c, std::ostream *os)
{
  *os << c.name;
}

class Calls : public ::testing::TestWithParam<CallCase>
{
};

TEST_P (Calls, TargetFollowsTheLink)
{
  const CallCase &c = GetParam ();
  Simulation sim (c.config, c.link);
  for (const Check &check : c.checks) {
    const double target = sim.run_until ((std::int64_t)(check.at_s * kS));
    EXPECT_GE (target, check.min_bps) << "at " << check.at_s << " s";
    EXPECT_LE (target, check.max_bps) << "at " << check.at_s << " s";
  }
}

const BandwidthEstimator::Config kDefault{100'000, 2'500'000, 1'000'000};

INSTANTIATE_TEST_SUITE_P (
    BandwidthEstimator, Calls,
    ::testing::Values (
        /* Nothing in the way: up to the maximum at about 8 %/s. */
        CallCase{"Steady",
                 kDefault,
                 {constant (10e6), constant (0)},
                 {{5, 1.2e6, 1.6e6}, {20, 2.4e6, 2.5e6}, {60, 2.4e6, 2.5e6}}},
        /* Started above what the link carries: down within 3 s, then
         * around the capacity (GCC probes a few % over it and cuts to
         * 0.85 of it, a saw tooth), never collapsing. */
        CallCase{"StartedTooHigh",
                 {100'000, 2'500'000, 2'500'000},
                 {constant (1e6), constant (0)},
                 {{3, 0.5e6, 1.0e6}, {30, 0.6e6, 1.1e6}, {60, 0.6e6, 1.1e6}}},
        /* A step from 3 to 1 Mbit/s mid-call: settled within 5 s. */
        CallCase{"StepDown",
                 kDefault,
                 {step (3e6, 20 * kS, 1e6), constant (0)},
                 {{19, 2.0e6, 2.5e6}, {21, 0.5e6, 1.0e6}, {25, 0.6e6, 1.1e6},
                  {45, 0.6e6, 1.1e6}}},
        /* The link gets better: the estimate searches up again. */
        CallCase{"Recovery",
                 kDefault,
                 {step (500e3, 15 * kS, 3e6), constant (0)},
                 {{14, 300e3, 550e3}, {40, 2.0e6, 2.5e6}}},
        /* 3 % random loss is no congestion: the estimate holds. */
        CallCase{"RandomLoss3Percent",
                 kDefault,
                 {constant (10e6), constant (0.03)},
                 {{10, 0.95e6, 2.5e6}, {40, 0.95e6, 2.5e6}}},
        /* Heavy loss cuts it to the floor. */
        CallCase{"RandomLoss20Percent",
                 kDefault,
                 {constant (10e6), constant (0.20)},
                 {{30, 100e3, 200e3}}},
        /* A 3 s burst of 30 % loss cuts; after it the estimate comes
         * back. */
        CallCase{"LossBurst",
                 {100'000, 2'500'000, 2'500'000},
                 {constant (10e6), burst (10 * kS, 13 * kS, 0.30)},
                 {{9.5, 2.4e6, 2.5e6}, {13.5, 1.0e6, 1.9e6}, {30, 2.4e6, 2.5e6}}},
        /* Below the floor the floor holds. */
        CallCase{"Floor",
                 {300'000, 2'500'000, 1'000'000},
                 {constant (100e3), constant (0)},
                 {{20, 300e3, 300e3}}}),
    [] (const ::testing::TestParamInfo<CallCase> &info) {
      return info.param.name;
    });

}  // namespace
