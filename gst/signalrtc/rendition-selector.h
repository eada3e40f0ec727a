/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <cstdint>
#include <vector>

namespace signalrtc {

/* Which rendition of a shared ladder, and which of its temporal layers,
 * one viewer gets: the gate before that viewer's own payloader. Pure: the
 * caller gives the time (microseconds, monotonic) and serializes the
 * calls.
 *
 * Renditions are indexed from the top (0, the largest). With L temporal
 * layers (1 or 3), a rendition at layers 0..l costs its bitrate (what its
 * encoder was given, or what it was measured to make, set_measured) times
 * kShares[L][l] (0.4, 0.6, 1.0 for three: the cumulative split the
 * encoders are given). A level is (rendition, l); the viewer settles only
 * at full frame rate (l = L - 1); lower l are steps on the way up and
 * relief on the way down.
 *
 * The estimate a viewer's link gives (GCC, BandwidthEstimator) never
 * exceeds 1.5 times what it was sent, so the next level is often out of
 * its reach: going up is a probe. When the estimate affords the next level,
 * or is pinned near that cap (kPinned times the current level's cost: the
 * link has carried all it was given), for kUpHoldUs (kLayerUpHoldUs for a
 * layer), the selector steps up one level: a layer, at that layer's next
 * sync frame; a rendition, at its next key frame, which it asks for, with
 * the layers the estimate affords (at least the lowest). After a step the
 * estimate is held only to the level stepped from while it grows into the
 * new one (the time that takes at kAssumedGrowth a second, plus
 * kGraceUs), and only while it does grow: one that falls kFall under its
 * peak, or makes no new peak for kStallUs, has met over-use, and the new
 * level is judged as any other. Going down is at once: when the
 * estimate falls under kDownMargin of the current cost, layers are shed
 * at the next frame, and the best rendition the estimate holds at full
 * frame rate becomes the target, switched to at its key frame.
 * A rendition probed and left before it settled (kSettledUs at full frame
 * rate), or short of its full frame rate with an estimate that made no new
 * peak for kPartialUs, is not probed again for a back-off that
 * starts at 10 s and doubles to 60 s; staying there kSettledUs resets it.
 * A fall of the estimate (congestion) holds every probe above where it
 * goes for kBackoffStartUs.
 *
 * A single rendition without layers (input sent as it came) passes
 * whole, from its first frame. The output stays one stream: timestamps never go back at a switch (a
 * key frame not after the last frame passed gets that frame's + 1 ms). */
class RenditionSelector
{
 public:
  static constexpr double kDownMargin = 0.9;
  static constexpr double kPinned = 1.25;
  static constexpr std::int64_t kGraceUs = 1'500'000;
  static constexpr std::int64_t kMaxRampUs = 20'000'000;
  static constexpr double kAssumedGrowth = 0.04;
  static constexpr double kFall = 0.95;
  static constexpr double kAtCeiling = 0.98;
  static constexpr std::int64_t kStallUs = 1'000'000;
  static constexpr std::int64_t kUpHoldUs = 2'000'000;
  static constexpr std::int64_t kLayerUpHoldUs = 1'000'000;
  static constexpr std::int64_t kLayerBackoffUs = 5'000'000;
  static constexpr std::int64_t kPartialUs = 5'000'000;
  static constexpr std::int64_t kSettledUs = 10'000'000;
  static constexpr std::int64_t kBackoffStartUs = 10'000'000;
  static constexpr std::int64_t kBackoffMaxUs = 60'000'000;
  static constexpr std::int64_t kKeyRetryUs = 1'000'000;
  static constexpr std::int64_t kPtsStepUs = 1'000;

  /* @bitrates: each rendition's, largest first; @layers: temporal layers
   * per rendition, 1 (none) or 3. */
  RenditionSelector (std::vector<std::uint32_t> bitrates, int layers);

  struct Frame
  {
    int rendition;
    std::int64_t pts_us; /* < 0: none */
    bool key;
    int layer;       /* temporal layer id, 0 without layers */
    bool layer_sync; /* decodable from layer 0 alone */
  };
  struct Verdict
  {
    bool pass;
    std::int64_t pts_us; /* what to stamp on it when passed */
    bool switched;       /* the first frame of a new rendition */
  };

  /* What @rendition's encoder really makes (bit/s): costs follow it from
   * now on instead of the bitrate it was given, since content that is
   * easy to code makes less (and noise more). 0: back to the given one. */
  void set_measured (int rendition, std::uint32_t bps);

  /* The least each rendition is made at (RungRates: its encoder follows
   * the narrowest call taking it, down to this), largest first; empty:
   * each at its bitrate. A rendition is held, chosen on the way down and
   * at the start, and its layers shed, by its floor; it is stepped up to
   * by its bitrate (what its encoder makes for a call that carries it),
   * so a link between the two keeps what it has. */
  void set_floors (std::vector<std::uint32_t> floors)
  {
    floors_ = std::move (floors);
  }

  /* The most on_estimate () can be given (the estimator's ceiling less
   * audio; 0: none). An estimate at it says the link carries all it is
   * allowed to, not how much more: a rendition that costs more than the
   * ceiling (its encoder overshooting) is not left for that. */
  void set_ceiling (std::int64_t usable_bps) { ceiling_ = (double)usable_bps; }

  /* The call can be sent padding (retransmissions of what it was just
   * sent): a rendition above is then probed by padding, not by switching
   * to it. The estimate (GCC) grows only toward 1.5 times what the call is
   * sent; while the current level is at full frame rate, the estimate is
   * pinned near that cap (kPinned), and the next rendition is not backing
   * off, padding_to_bps () asks for the call's video to be made up to the
   * estimate, at most what the next rendition costs at full frame rate,
   * (kPadUpMargin times, so that the switch's key frame and the encoder's
   * overshoot find room), so the estimate can grow into it; once it
   * carries that (kUpHoldUs) the call switches, at full frame rate, with
   * no partial-rate probe. Padding starts only when the estimate has not
   * fallen (kFall) for kUpHoldUs: its first fall, from where it starts to
   * what the call is sent, is no failed probe. A fall while padding, or
   * no success within kPadMaxUs, fails the probe, which backs off as a
   * failed switch does. */
  void set_can_pad (bool can) { can_pad_ = can; }
  static constexpr std::int64_t kPadMaxUs = 20'000'000;
  static constexpr double kPadUpMargin = 1.15;
  /* How long a failed probe's padding follows the estimate down. */
  static constexpr std::int64_t kPadReleaseUs = 2'000'000;
  /* The first rendition is the best whose full frame rate costs no more
   * than @share of the first estimate (1 by default): where an estimate
   * starts is no measure of the link, and too high a start fills the
   * link's queue before the first feedback. */
  void set_start_share (double share) { start_share_ = share; }

  /* The viewer's usable bitrate (its estimate less audio) at @now_us.
   * Returns the rendition to ask a key frame of now, or -1. */
  int on_estimate (std::int64_t now_us, std::int64_t usable_bps);

  /* What the call's video (media and padding) should be sent at now:
   * 0 when not probing. */
  double padding_to_bps () const { return pad_to_; }

  Verdict on_frame (std::int64_t now_us, const Frame &frame);

  /* What the viewer's PLI asks: a key frame of the rendition it gets
   * (or is waiting for). */
  int key_frame_for_loss () const { return cur_ >= 0 ? cur_ : target_; }

  double cost (int rendition, int layer) const;
  /* What @rendition at layers 0..@layer costs at its floor. */
  double floor_cost (int rendition, int layer) const;
  int rendition () const { return cur_; }
  int target () const { return target_; }
  /* Temporal layers passed now (1..L); 0 before the first frame. */
  int layers () const { return cur_ < 0 ? 0 : layer_max_ + 1; }
  unsigned switches () const { return switches_; }

 private:
  int count () const { return (int)bitrates_.size (); }
  int top_layer () const { return layers_ - 1; }
  /* The best rendition at or under @from whose full frame rate costs
   * @margin times no more than @usable; the last if none. */
  int best_full (int from, double usable, double margin) const;
  int retarget (std::int64_t now_us, int rendition, int layer);
  void probe_failed (std::int64_t now_us, int rendition);
  void begin_grace (std::int64_t now_us, double from, double to);
  void set_layers (std::int64_t now_us, int l, bool restart);
  int pad_up (std::int64_t now_us, double usable, int next_r, bool blocked);

  std::vector<std::uint32_t> bitrates_;
  std::vector<std::uint32_t> measured_;
  std::vector<std::uint32_t> floors_;
  int layers_;
  int cur_ = -1;
  int layer_max_ = 0;
  bool layer_on_[3] = {false, false, false};
  int target_ = -1;
  int target_layer_ = 0;
  std::int64_t key_asked_us_ = 0;
  std::int64_t up_since_us_ = -1;
  /* After a step up: the cost of the level stepped from, and until when
   * only a fall under it counts. */
  double grace_cost_ = 0;
  std::int64_t grace_until_us_ = 0;
  double grace_peak_ = 0;
  std::int64_t grace_peak_us_ = 0;
  double last_usable_ = 0;
  double ceiling_ = 0;
  std::int64_t next_layer_up_us_ = 0;
  /* The rendition being probed (switched up to, not settled yet), and
   * since when the current one is at full or partial frame rate. */
  int probe_ = -1;
  std::int64_t full_since_us_ = -1;
  std::int64_t partial_since_us_ = -1;
  double partial_peak_ = 0; /* the estimate's peak while partial */
  std::vector<std::int64_t> next_probe_us_;
  std::vector<std::int64_t> backoff_us_;
  std::int64_t last_pts_us_ = -1;
  unsigned switches_ = 0;
  /* Probing by padding: toward which rendition, since when, to what. */
  bool can_pad_ = false;
  double start_share_ = 1.0;
  int pad_for_ = -1;
  double pad_to_ = 0;
  double pad_peak_ = 0;
  std::int64_t pad_since_us_ = 0;
  std::int64_t last_fall_us_ = 0;
  std::int64_t pad_release_until_us_ = 0;
  void stop_padding ()
  {
    pad_for_ = -1;
    pad_to_ = 0;
    pad_release_until_us_ = 0;
  }
};

}  // namespace signalrtc
