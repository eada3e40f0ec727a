/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One viewer's choice of rendition and temporal layers: frame by frame
 * (what may pass, when a switch happens, timestamps), then against a
 * simulated link whose estimate behaves as GCC's does (it grows 8 %/s up
 * to 1.5 times what is sent, and falls to 0.85 of the link when more is
 * sent than it carries).
 */
#include "rendition-selector.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>

namespace {

using signalrtc::RenditionSelector;
using Frame = RenditionSelector::Frame;

constexpr std::int64_t kMs = 1000;
constexpr std::int64_t kS = 1000 * kMs;
constexpr std::int64_t kFrameUs = 33'333;
const std::vector<std::uint32_t> kLadder = {2'500'000, 800'000, 250'000};
/* vp8enc's pattern for three layers: layer ids 0,2,1,2, and which of
 * those frames need only layer 0. */
constexpr int kLayerOf[4] = {0, 2, 1, 2};
constexpr bool kSyncOf[4] = {false, true, true, false};

Frame
frame (int rendition, int index, bool key = false)
{
  return {rendition, index * kFrameUs, key, key ? 0 : kLayerOf[index % 4],
          !key && kSyncOf[index % 4]};
}

TEST (RenditionSelector, CostsFollowTheLayerShares)
{
  RenditionSelector s (kLadder, 3);
  EXPECT_DOUBLE_EQ (s.cost (0, 0), 1'000'000);
  EXPECT_DOUBLE_EQ (s.cost (0, 1), 1'500'000);
  EXPECT_DOUBLE_EQ (s.cost (0, 2), 2'500'000);
  RenditionSelector one (kLadder, 1);
  EXPECT_DOUBLE_EQ (one.cost (1, 0), 800'000);
}

/* Content easy to code makes less than its encoder was given, noise
 * more: costs follow what was measured. */
TEST (RenditionSelector, CostsFollowWhatTheEncodersMake)
{
  RenditionSelector s (kLadder, 3);
  s.set_measured (0, 500'000);
  EXPECT_DOUBLE_EQ (s.cost (0, 2), 500'000);
  EXPECT_DOUBLE_EQ (s.cost (0, 0), 200'000);
  /* A talking head at 720p fits where the given 2.5 Mbit/s would not. */
  EXPECT_EQ (s.on_estimate (0, 600'000), 0);
  RenditionSelector noisy (kLadder, 3);
  noisy.set_measured (1, 6'000'000);
  EXPECT_EQ (noisy.on_estimate (0, 1'000'000), 2);
  noisy.set_measured (1, 0);
  EXPECT_DOUBLE_EQ (noisy.cost (1, 2), 800'000);
}

TEST (RenditionSelector, StartsWithTheBestAffordableAtItsKeyFrame)
{
  struct Case
  {
    std::int64_t usable;
    int rendition;
  } cases[] = {{5'000'000, 0}, {2'500'000, 0}, {2'499'999, 1},
               {800'000, 1},   {799'999, 2},   {100'000, 2}};
  for (const Case &c : cases) {
    RenditionSelector s (kLadder, 3);
    EXPECT_EQ (s.on_estimate (0, c.usable), c.rendition) << c.usable;
    /* Nothing before that rendition's key frame, nothing of the others. */
    for (int r = 0; r < 3; r++)
      EXPECT_FALSE (s.on_frame (0, frame (r, 1)).pass) << c.usable;
    for (int r = 0; r < 3; r++) {
      if (r != c.rendition) {
        EXPECT_FALSE (s.on_frame (0, frame (r, 2, true)).pass) << c.usable;
      }
    }
    auto v = s.on_frame (0, frame (c.rendition, 2, true));
    EXPECT_TRUE (v.pass && v.switched) << c.usable;
    EXPECT_EQ (s.rendition (), c.rendition);
    EXPECT_EQ (s.layers (), 3);
    EXPECT_EQ (s.switches (), 0u);
    for (int i = 3; i < 12; i++) {
      for (int r = 0; r < 3; r++)
        EXPECT_EQ (s.on_frame (0, frame (r, i)).pass, r == c.rendition);
    }
  }
}

TEST (RenditionSelector, ShedsLayersAtOnceAndSwitchesDownAtTheKeyFrame)
{
  RenditionSelector s (kLadder, 3);
  ASSERT_EQ (s.on_estimate (0, 3'000'000), 0);
  ASSERT_TRUE (s.on_frame (0, frame (0, 0, true)).pass);
  /* 1.4 Mbit/s holds layers 0-1 of 720p (1.5 Mbit/s, with the margin), and
   * 640x360 whole: that is the target. */
  EXPECT_EQ (s.on_estimate (kS, 1'400'000), 1);
  EXPECT_EQ (s.layers (), 2);
  int passed_top = 0, passed = 0;
  for (int i = 1; i < 9; i++) {
    auto v = s.on_frame (kS, frame (0, i));
    passed += v.pass;
    passed_top += v.pass && kLayerOf[i % 4] == 2;
    EXPECT_FALSE (s.on_frame (kS, frame (1, i)).pass);
  }
  EXPECT_EQ (passed_top, 0);
  EXPECT_EQ (passed, 4);
  EXPECT_TRUE (s.on_frame (kS, frame (1, 9, true)).switched);
  EXPECT_EQ (s.rendition (), 1);
  EXPECT_EQ (s.layers (), 3);
  EXPECT_EQ (s.switches (), 1u);
  EXPECT_FALSE (s.on_frame (kS, frame (0, 10)).pass);
  EXPECT_TRUE (s.on_frame (kS, frame (1, 10)).pass);
}

TEST (RenditionSelector, DeepFallShedsToTheLowestLayer)
{
  RenditionSelector s (kLadder, 3);
  s.on_estimate (0, 3'000'000);
  s.on_frame (0, frame (0, 0, true));
  EXPECT_EQ (s.on_estimate (kS, 300'000), 2);
  EXPECT_EQ (s.layers (), 1);
  for (int i = 1; i < 9; i++)
    EXPECT_EQ (s.on_frame (kS, frame (0, i)).pass, kLayerOf[i % 4] == 0);
}

TEST (RenditionSelector, KeyFrameAskedAgainIfItDoesNotCome)
{
  RenditionSelector s (kLadder, 3);
  EXPECT_EQ (s.on_estimate (0, 1'000'000), 1);
  EXPECT_EQ (s.on_estimate (500 * kMs, 1'000'000), -1);
  EXPECT_EQ (s.on_estimate (RenditionSelector::kKeyRetryUs, 1'000'000), 1);
  EXPECT_EQ (s.on_estimate (RenditionSelector::kKeyRetryUs + kMs, 1'000'000),
             -1);
  EXPECT_EQ (s.key_frame_for_loss (), 1);
}

TEST (RenditionSelector, TimestampsNeverGoBackAtASwitch)
{
  RenditionSelector s (kLadder, 3);
  s.on_estimate (0, 3'000'000);
  ASSERT_TRUE (s.on_frame (0, {0, 100 * kMs, true, 0, false}).pass);
  ASSERT_TRUE (s.on_frame (0, {0, 133 * kMs, false, 2, true}).pass);
  s.on_estimate (kS, 1'000'000);
  /* The lower encoder's key frame comes out with an older timestamp. */
  auto v = s.on_frame (kS, {1, 120 * kMs, true, 0, false});
  ASSERT_TRUE (v.pass);
  EXPECT_EQ (v.pts_us, 134 * kMs);
  v = s.on_frame (kS, {1, 133 * kMs, false, 2, true});
  EXPECT_EQ (v.pts_us, 135 * kMs);
  v = s.on_frame (kS, {1, 166 * kMs, false, 1, true});
  EXPECT_EQ (v.pts_us, 166 * kMs);
  /* No timestamp: none made up. */
  v = s.on_frame (kS, {1, -1, false, 2, false});
  EXPECT_EQ (v.pts_us, -1);
}

/* Layers come back one at a time, each at a frame that needs only the
 * layers under it. */
TEST (RenditionSelector, RaisesALayerOnlyAtASyncFrame)
{
  RenditionSelector s ({800'000}, 3);
  s.on_estimate (0, 800'000);
  s.on_frame (0, frame (0, 0, true));
  s.on_estimate (kS, 300'000); /* layer 0 only */
  ASSERT_EQ (s.layers (), 1);
  int i = 1;
  std::int64_t now = kS;
  /* Up again: after the layer back-off, and holding. */
  std::map<int, bool> seen;
  while (s.layers () < 3 && now < 30 * kS) {
    now += kFrameUs;
    s.on_estimate (now, 900'000);
    const int layer = kLayerOf[i % 4];
    auto v = s.on_frame (now, frame (0, i));
    if (v.pass && layer > 0) {
      /* The first frame of a layer that had stopped is a sync frame. */
      if (!seen[layer]) {
        EXPECT_TRUE (kSyncOf[i % 4]) << "layer " << layer << " frame " << i;
        seen[layer] = true;
      }
    }
    i++;
  }
  EXPECT_EQ (s.layers (), 3);
  EXPECT_GE (now, kS + RenditionSelector::kLayerBackoffUs);
  /* A frame of layer 2 that needs layer 1 (index 3) passes only once
   * layer 1 has. */
  RenditionSelector t ({800'000}, 3);
  t.on_estimate (0, 800'000);
  t.on_frame (0, frame (0, 0, true));
  t.on_estimate (kS, 300'000);
  for (int j = 1; j < 4; j++)
    t.on_frame (kS, frame (0, j));
  std::int64_t later = kS + RenditionSelector::kLayerBackoffUs;
  for (int k = 0; k < 10 * 30 && t.layers () < 3; k++)
    t.on_estimate (later + k * kFrameUs, 900'000);
  ASSERT_EQ (t.layers (), 3);
  /* The pattern resumes at index 4 (layer 0), 5 (layer 2, sync),
   * 6 (layer 1, sync), 7 (layer 2, needs 6). Start at 7: layer 1 has not
   * restarted, so 7 waits. */
  EXPECT_FALSE (t.on_frame (later, frame (0, 7)).pass);
  EXPECT_TRUE (t.on_frame (later, frame (0, 8)).pass);
  EXPECT_TRUE (t.on_frame (later, frame (0, 9)).pass);
  EXPECT_TRUE (t.on_frame (later, frame (0, 10)).pass);
  EXPECT_TRUE (t.on_frame (later, frame (0, 11)).pass);
}

/* A link the selector's viewer is behind: GCC's estimate as the selector
 * sees it (less 64 kbit/s of audio), the encoders' frames, and what
 * passed. */
class Link
{
 public:
  /* @max_bps: the estimate's ceiling (max-bitrate), 0 for 10 Mbit/s. */
  Link (std::vector<std::uint32_t> ladder, int layers, bool pad = false,
        double max_bps = 0)
      : sel_ (ladder, layers), keys_ (ladder.size (), true),
        count_ (ladder.size ()), max_bps_ (max_bps ? max_bps : 10'000'000)
  {
    if (pad) {
      sel_.set_can_pad (true);
      sel_.set_start_share (0.5);
    }
    if (max_bps)
      sel_.set_ceiling ((std::int64_t)(max_bps - kAudio));
  }

  /* Each rendition's encoder follows the estimate down to half its
   * bitrate (RungRates). */
  void set_elastic ()
  {
    std::vector<std::uint32_t> floors;
    for (int r = 0; r < count_; r++)
      floors.push_back ((std::uint32_t)(sel_.cost (r, 2) / 2));
    sel_.set_floors (floors);
    elastic_ = true;
  }

  /* Runs until @until_us with the link carrying capacity (@now) bit/s. */
  void run (std::int64_t until_us,
            const std::function<double (std::int64_t)> &capacity)
  {
    for (; now_ < until_us; now_ += kFrameUs, index_++) {
      /* Padding makes the video up to what the selector asks. */
      double media = 0;
      if (sel_.rendition () >= 0) {
        const int r = sel_.rendition (), l = sel_.layers () - 1;
        media = sel_.cost (r, l);
        if (elastic_) {
          /* The encoder follows the estimate between floor and bitrate. */
          const double share = sel_.cost (r, l) / sel_.cost (r, 2);
          media = std::clamp (estimate_ - kAudio,
                              sel_.floor_cost (r, 2), sel_.cost (r, 2))
                  * share;
        }
      }
      const double sent = std::max (media, sel_.padding_to_bps ()) + kAudio;
      padded_us_ += sel_.padding_to_bps () > 0 ? kFrameUs : 0;
      const double cap = capacity (now_);
      const double dt = kFrameUs / 1e6;
      if (sent > cap) {
        if (now_ - last_cut_us_ >= 500 * kMs) {
          estimate_ = 0.85 * cap;
          last_cut_us_ = now_;
        }
        congested_us_ += kFrameUs;
      } else {
        estimate_ = std::min (estimate_ * (1 + 0.08 * dt), 1.5 * sent);
      }
      estimate_ = std::clamp (estimate_, 100'000.0, max_bps_);
      int key = sel_.on_estimate (now_, (std::int64_t)(estimate_ - kAudio));
      for (int r = 0; r < count_; r++) {
        Frame f = frame (r, index_, keys_[r]);
        keys_[r] = false;
        auto v = sel_.on_frame (now_, f);
        if (!v.pass)
          continue;
        EXPECT_GT (v.pts_us, last_pts_);
        last_pts_ = v.pts_us;
        if (last_pass_us_ >= 0)
          max_gap_us_ = std::max (max_gap_us_, now_ - last_pass_us_);
        last_pass_us_ = now_;
        passed_.push_back ({now_, r, f.layer});
      }
      if (key >= 0)
        keys_[key] = true; /* out of that encoder with its next frame */
    }
  }

  /* Over [from, to): frames passed per second, and the share of that
   * time spent at @rendition with every layer. */
  double fps (std::int64_t from, std::int64_t to) const
  {
    size_t n = std::count_if (passed_.begin (), passed_.end (),
                              [&] (const Passed &p) {
                                return p.time >= from && p.time < to;
                              });
    return n / ((to - from) / 1e6);
  }
  std::map<int, size_t> frames_by_rendition (std::int64_t from,
                                             std::int64_t to) const
  {
    std::map<int, size_t> m;
    for (const Passed &p : passed_) {
      if (p.time >= from && p.time < to)
        m[p.rendition]++;
    }
    return m;
  }
  std::int64_t now () const { return now_; }
  std::int64_t max_gap_us () const { return max_gap_us_; }
  std::int64_t congested_us () const { return congested_us_; }
  std::int64_t padded_us () const { return padded_us_; }
  RenditionSelector &selector () { return sel_; }

 private:
  static constexpr double kAudio = 64'000;
  struct Passed
  {
    std::int64_t time;
    int rendition, layer;
  };
  RenditionSelector sel_;
  std::vector<bool> keys_;
  int count_;
  std::int64_t now_ = 0;
  int index_ = 0;
  double estimate_ = 1'000'000; /* BandwidthEstimator's start */
  std::int64_t last_cut_us_ = -kS;
  std::int64_t last_pts_ = -1;
  std::int64_t last_pass_us_ = -1;
  std::int64_t max_gap_us_ = 0;
  std::int64_t congested_us_ = 0;
  std::int64_t padded_us_ = 0;
  double max_bps_;
  bool elastic_ = false;
  std::vector<Passed> passed_;
};

/* One link, two minutes: where the viewer settles, at what frame rate
 * over the last minute, and how much it sent more than the link carries
 * (its probes). */
struct LinkCase
{
  double capacity;
  int rendition;        /* where most frames of the last minute are from */
  double min_share;     /* of the last minute's frames */
  double min_fps;       /* over the last minute */
  double max_congested; /* share of the two minutes */
};

void
check_link (const LinkCase &c, bool pad, bool elastic = false)
{
  Link link (kLadder, 3, pad);
  if (elastic)
    link.set_elastic ();
  link.run (120 * kS, [&] (std::int64_t) { return c.capacity; });
  auto by = link.frames_by_rendition (60 * kS, 120 * kS);
  size_t total = 0;
  for (auto &[r, n] : by)
    total += n;
  ASSERT_GT (total, 0u) << c.capacity;
  const double share = (double)by[c.rendition] / total;
  const double fps = link.fps (60 * kS, 120 * kS);
  const double congested = link.congested_us () / (120.0 * kS);
  EXPECT_GE (share, c.min_share) << c.capacity;
  EXPECT_GE (fps, c.min_fps) << c.capacity;
  EXPECT_LE (congested, c.max_congested) << c.capacity;
  printf ("%s%slink %8.0f: rendition %d for %.2f of the last minute, %.1f fps, "
          "congested %.3f, padded %.1f s, %u switches, longest gap %lld ms\n",
          pad ? "padding, " : "", elastic ? "elastic, " : "", c.capacity, c.rendition, share, fps,
          congested, link.padded_us () / 1e6, link.selector ().switches (),
          (long long)(link.max_gap_us () / kMs));
}

TEST (RenditionSelector, SettlesOnEachLink)
{
  const LinkCase cases[] = {
      {10'000'000, 0, 1.00, 29.9, 0.00},
      {3'000'000, 0, 1.00, 29.9, 0.00},
      /* Probes up now and then, with a longer wait each time. */
      {2'000'000, 1, 0.75, 27.0, 0.02},
      {1'000'000, 1, 0.98, 29.5, 0.01},
      {500'000, 2, 0.95, 29.0, 0.01},
      {350'000, 2, 0.98, 29.5, 0.01},
      /* Under the lowest rendition: its lowest layers, 7.5 frames/s, and
       * a try at the next layer now and then. */
      {200'000, 2, 1.00, 7.0, 0.10},
  };
  for (const LinkCase &c : cases)
    check_link (c, false);
}

/* Probing by padding instead of switching: the same links, and over the
 * last minute every frame at full frame rate (a failed probe costs
 * padding, not frames); on a link with room it still climbs to the top.
 * The same with encoders that follow the calls down to half their
 * bitrates: a rendition is stepped up to only when the link carries its
 * full bitrate (2 Mbit/s stays at 640x360 rather than 720p at 1.3
 * Mbit/s), so the links settle where they did. */
TEST (RenditionSelector, PaddingProbesKeepTheFrameRate)
{
  const LinkCase cases[] = {
      {10'000'000, 0, 1.00, 29.9, 0.00},
      {3'000'000, 0, 1.00, 29.9, 0.00},
      {2'000'000, 1, 1.00, 29.9, 0.02},
      {1'000'000, 1, 1.00, 29.9, 0.01},
      {500'000, 2, 1.00, 29.9, 0.02},
      {350'000, 2, 1.00, 29.9, 0.02},
  };
  for (bool elastic : {false, true})
    for (const LinkCase &c : cases)
      check_link (c, true, elastic);
}

/* Elastic renditions settle as fixed ones do (above), but a link that falls between two renditions keeps the upper one,
 * at what the link carries: 3 Mbit/s then 1.6 Mbit/s keeps 720p (at 1.4
 * Mbit/s), 1 Mbit/s then 600 kbit/s keeps 640x360; fixed bitrates go
 * down a rendition each time. Never a gap in the frames. */
TEST (RenditionSelector, ElasticRenditionsKeepTheUpperOneOnAFall)
{
  struct Case
  {
    double before, after;
    int rendition_before, fixed_after, elastic_after;
  } cases[] = {
      {3'000'000, 1'600'000, 0, 1, 0},
      {1'000'000, 600'000, 1, 2, 1},
  };
  for (const Case &c : cases) {
    for (bool elastic : {false, true}) {
      Link link (kLadder, 3, true);
      if (elastic)
        link.set_elastic ();
      link.run (60 * kS, [&] (std::int64_t) { return c.before; });
      ASSERT_EQ (link.selector ().rendition (), c.rendition_before)
          << c.before;
      const std::int64_t step = link.now ();
      link.run (step + 60 * kS, [&] (std::int64_t) { return c.after; });
      EXPECT_EQ (link.selector ().rendition (),
                 elastic ? c.elastic_after : c.fixed_after)
          << c.before << " -> " << c.after << (elastic ? ", elastic" : "");
      EXPECT_EQ (link.selector ().layers (), 3) << c.after;
      EXPECT_GE (link.fps (step + 30 * kS, step + 60 * kS), 29.5) << c.after;
      EXPECT_LE (link.max_gap_us (), 200 * kMs) << c.after;
    }
  }
}

/* The estimate cannot exceed max-bitrate (2.5 Mbit/s) and the 720p
 * encoder makes 2.3: padding toward 720p asks no more than the ceiling
 * shows, and the call gets there. */
TEST (RenditionSelector, PaddingReachesATopNearTheCeiling)
{
  Link link (kLadder, 3, true, 2'500'000);
  link.selector ().set_measured (0, 2'300'000);
  link.run (60 * kS, [] (std::int64_t) { return 10'000'000.0; });
  EXPECT_EQ (link.selector ().rendition (), 0);
  EXPECT_EQ (link.selector ().layers (), 3);
}

/* 3 Mbit/s, then 1 Mbit/s: down within the 5 s, never a gap in
 * the frames passed, and settled at 640x360. */
TEST (RenditionSelector, StepDownMovesDownAndKeepsPlaying)
{
  Link link (kLadder, 3);
  link.run (60 * kS, [] (std::int64_t) { return 3'000'000.0; });
  ASSERT_EQ (link.selector ().rendition (), 0);
  ASSERT_EQ (link.selector ().layers (), 3);
  std::int64_t step = link.now ();
  std::int64_t down_at = -1;
  while (link.now () < step + 60 * kS) {
    link.run (link.now () + kFrameUs,
              [] (std::int64_t) { return 1'000'000.0; });
    if (down_at < 0 && link.selector ().rendition () == 1)
      down_at = link.now ();
  }
  ASSERT_GE (down_at, 0);
  printf ("down %lld ms after the step\n", (long long)((down_at - step) / kMs));
  EXPECT_LT (down_at - step, 5 * kS);
  EXPECT_LE (link.max_gap_us (), 4 * kFrameUs + kMs);
  EXPECT_EQ (link.selector ().rendition (), 1);
  EXPECT_GE (link.fps (step + 10 * kS, step + 60 * kS), 29.9);
}

/* 1 Mbit/s, then 5: back up to 720p within a minute. */
TEST (RenditionSelector, StepUpClimbsBack)
{
  Link link (kLadder, 3);
  link.run (60 * kS, [] (std::int64_t) { return 1'000'000.0; });
  ASSERT_EQ (link.selector ().rendition (), 1);
  std::int64_t step = link.now ();
  std::int64_t top_at = -1;
  while (link.now () < step + 120 * kS && top_at < 0) {
    link.run (link.now () + kFrameUs,
              [] (std::int64_t) { return 5'000'000.0; });
    if (link.selector ().rendition () == 0 && link.selector ().layers () == 3)
      top_at = link.now ();
  }
  ASSERT_GE (top_at, 0) << "never back at 720p";
  printf ("720p %lld ms after the step\n", (long long)((top_at - step) / kMs));
  EXPECT_LT (top_at - step, 60 * kS);
}

/* A link just under 720p: probes up, fails, and waits longer each time. */
TEST (RenditionSelector, FailedProbesBackOff)
{
  Link link (kLadder, 3);
  std::vector<std::int64_t> probes;
  int last = -1;
  while (link.now () < 300 * kS) {
    link.run (link.now () + kFrameUs,
              [] (std::int64_t) { return 2'000'000.0; });
    int r = link.selector ().rendition ();
    if (r == 0 && last == 1)
      probes.push_back (link.now ());
    last = r;
  }
  ASSERT_GE (probes.size (), 4u);
  for (size_t i = 2; i < probes.size (); i++) {
    const std::int64_t gap = probes[i] - probes[i - 1];
    const std::int64_t before = probes[i - 1] - probes[i - 2];
    if (before < RenditionSelector::kBackoffMaxUs) {
      EXPECT_GT (gap, before) << "probe " << i;
    } else {
      EXPECT_EQ (gap, before) << "probe " << i;
    }
    EXPECT_LE (gap, RenditionSelector::kBackoffMaxUs + 15 * kS);
  }
  EXPECT_LE (probes.size (), 8u);
}

/* The estimate at its ceiling (max-bitrate) says nothing against a top
 * rendition whose encoder makes a little more than that. */
TEST (RenditionSelector, AnEstimateAtItsCeilingKeepsTheTop)
{
  RenditionSelector s (kLadder, 3);
  s.set_ceiling (2'500'000);
  ASSERT_EQ (s.on_estimate (0, 2'500'000), 0);
  ASSERT_TRUE (s.on_frame (0, frame (0, 0, true)).pass);
  s.set_measured (0, 3'000'000);
  for (int i = 1; i < 300; i++) {
    EXPECT_EQ (s.on_estimate (i * kFrameUs, 2'480'000), -1);
    s.on_frame (i * kFrameUs, frame (0, i));
  }
  EXPECT_EQ (s.rendition (), 0);
  EXPECT_EQ (s.layers (), 3);
  /* A first cut under the ceiling (GCC's saw tooth) keeps it: it costs
   * what the ceiling shows, 2.5 Mbit/s, not the 3 its encoder makes. */
  EXPECT_EQ (s.on_estimate (300 * kFrameUs, 2'300'000), -1);
  EXPECT_EQ (s.rendition (), 0);
  /* Under kDownMargin of the ceiling it is too much. */
  EXPECT_EQ (s.on_estimate (301 * kFrameUs, 2'200'000), 1);
}

/* Input sent as it came: one rendition, no layers, nothing to wait for. */
TEST (RenditionSelector, OneRenditionWithoutLayersPassesEverything)
{
  RenditionSelector s ({0}, 1);
  EXPECT_EQ (s.on_estimate (0, 100'000), -1);
  auto v = s.on_frame (0, {0, 0, false, 0, false});
  EXPECT_TRUE (v.pass && v.switched);
  EXPECT_TRUE (s.on_frame (0, {0, 33 * kMs, false, 0, false}).pass);
  EXPECT_EQ (s.rendition (), 0);
  EXPECT_EQ (s.layers (), 1);
}

/* VP9 and H.264 ladders have no temporal layers: renditions only. */
TEST (RenditionSelector, WithoutLayers)
{
  struct Case
  {
    double capacity;
    int rendition;
  } cases[] = {{5'000'000, 0}, {1'000'000, 1}, {400'000, 2}};
  for (const Case &c : cases) {
    Link link (kLadder, 1);
    link.run (60 * kS, [&] (std::int64_t) { return c.capacity; });
    auto by = link.frames_by_rendition (30 * kS, 60 * kS);
    EXPECT_GE (by[c.rendition], (size_t)(0.7 * 30 * 30)) << c.capacity;
    EXPECT_EQ (link.selector ().layers (), 1);
  }
}

}  // namespace
