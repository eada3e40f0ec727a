/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rendition-selector.h"

#include <algorithm>
#include <cmath>

namespace signalrtc {

namespace {

/* Cumulative share of a rendition's bitrate at layers 0..l, for 1, 2 and
 * 3 temporal layers. */
constexpr double kShares[3][3] = {
    {1.0, 1.0, 1.0},
    {0.6, 1.0, 1.0},
    {0.4, 0.6, 1.0},
};

}  // namespace

RenditionSelector::RenditionSelector (std::vector<std::uint32_t> bitrates,
                                      int layers)
    : bitrates_ (std::move (bitrates)), measured_ (bitrates_.size (), 0),
      layers_ (std::clamp (layers, 1, 3)),
      next_probe_us_ (bitrates_.size (), 0),
      backoff_us_ (bitrates_.size (), kBackoffStartUs)
{}

double
RenditionSelector::cost (int rendition, int layer) const
{
  if (rendition < 0 || rendition >= count ())
    return 0;
  double bitrate
      = measured_[rendition] ? measured_[rendition] : bitrates_[rendition];
  /* No estimate shows more than the ceiling: a rendition whose encoder
   * makes more (a top rung at max-bitrate, with audio on top) costs what
   * the ceiling shows, or the first cut of the estimate under it (GCC's
   * saw tooth, or a key frame's queueing) would send the call down. */
  if (ceiling_ > 0)
    bitrate = std::min (bitrate, ceiling_);
  return bitrate * kShares[layers_ - 1][std::clamp (layer, 0, top_layer ())];
}

double
RenditionSelector::floor_cost (int rendition, int layer) const
{
  if (rendition < 0 || rendition >= (int)floors_.size ())
    return cost (rendition, layer);
  double floor = floors_[rendition];
  if (ceiling_ > 0)
    floor = std::min (floor, ceiling_);
  return std::min (cost (rendition, layer),
                   floor * kShares[layers_ - 1][std::clamp (layer, 0,
                                                            top_layer ())]);
}

void
RenditionSelector::set_measured (int rendition, std::uint32_t bps)
{
  if (rendition >= 0 && rendition < count ())
    measured_[rendition] = bps;
}

int
RenditionSelector::best_full (int from, double usable, double margin) const
{
  for (int r = std::max (from, 0); r < count (); r++) {
    if (margin * floor_cost (r, top_layer ()) <= usable)
      return r;
  }
  return count () - 1;
}

/* Makes @rendition (at layers 0..@layer) the one to switch to at its next
 * key frame; the current one cancels a switch. Returns the rendition to
 * ask a key frame of, or -1: a new target at once, the same one again
 * after kKeyRetryUs without its key frame. */
int
RenditionSelector::retarget (std::int64_t now_us, int rendition, int layer)
{
  if (rendition == cur_) {
    target_ = cur_;
    return -1;
  }
  if (rendition != target_) {
    target_ = rendition;
    target_layer_ = layer;
    key_asked_us_ = now_us;
    return rendition;
  }
  target_layer_ = std::min (target_layer_, layer);
  if (now_us - key_asked_us_ >= kKeyRetryUs) {
    key_asked_us_ = now_us;
    return rendition;
  }
  return -1;
}

/* A step up from a level costing @from to one costing @to: until the
 * estimate has had the time to grow into @to at kAssumedGrowth a second
 * (half of GCC's 8 %: near the rate of its last over-use it grows slower;
 * 5 %/s was seen), plus kGraceUs, only a fall under @from counts, as long
 * as the estimate keeps growing. */
void
RenditionSelector::begin_grace (std::int64_t now_us, double from, double to)
{
  const double start = std::max (last_usable_, 1.0);
  const double ramp_s = std::log (std::max (1.0, kDownMargin * to / start))
                        / std::log (1.0 + kAssumedGrowth);
  grace_cost_ = from;
  grace_until_us_ = now_us + kGraceUs
                    + std::min ((std::int64_t) (ramp_s * 1e6), kMaxRampUs);
  grace_peak_ = last_usable_;
  grace_peak_us_ = now_us;
}

/* Layers 0..@l from now; at full frame rate, or short of it (@restart:
 * the partial time, and the estimate's peak in it, start again). */
void
RenditionSelector::set_layers (std::int64_t now_us, int l, bool restart)
{
  layer_max_ = l;
  if (l == top_layer ()) {
    full_since_us_ = now_us;
    partial_since_us_ = -1;
    return;
  }
  full_since_us_ = -1;
  if (restart) {
    partial_since_us_ = now_us;
    partial_peak_ = last_usable_;
  }
}

void
RenditionSelector::probe_failed (std::int64_t now_us, int rendition)
{
  next_probe_us_[rendition] = now_us + backoff_us_[rendition];
  backoff_us_[rendition] = std::min (backoff_us_[rendition] * 2, kBackoffMaxUs);
  if (probe_ == rendition)
    probe_ = -1;
}

int
RenditionSelector::on_estimate (std::int64_t now_us, std::int64_t usable_bps)
{
  if (count () == 0)
    return -1;
  const double usable = (double)usable_bps;
  if (usable < kFall * last_usable_)
    last_fall_us_ = now_us;
  last_usable_ = usable;
  if (count () == 1 && layers_ == 1)
    return -1;
  if (cur_ < 0)
    return retarget (now_us, best_full (0, start_share_ * usable, 1.0),
                     top_layer ());

  const bool at_ceiling = ceiling_ > 0 && usable >= kAtCeiling * ceiling_;
  /* Just after a step up the estimate grows into the new level; once it
   * stops growing (GCC holds or cuts: over-use), the step is judged. */
  if (now_us < grace_until_us_) {
    if (usable > grace_peak_) {
      grace_peak_ = usable;
      grace_peak_us_ = now_us;
    } else if (usable < kFall * grace_peak_
               || (now_us - grace_peak_us_ >= kStallUs && !at_ceiling)) {
      grace_until_us_ = 0;
    }
  }

  /* Down: shed layers now, switch at the lower rendition's key frame. */
  const double held_cost = now_us < grace_until_us_
                               ? grace_cost_
                               : floor_cost (cur_, layer_max_);
  if (!at_ceiling && usable < kDownMargin * held_cost) {
    grace_until_us_ = 0;
    up_since_us_ = -1;
    if (pad_for_ >= 0)
      probe_failed (now_us, pad_for_);
    stop_padding ();
    int l = layer_max_;
    while (l > 0 && usable < kDownMargin * floor_cost (cur_, l))
      l--;
    if (l < layer_max_) {
      /* From full frame rate, the partial time starts now. */
      set_layers (now_us, l, full_since_us_ >= 0);
      next_layer_up_us_ = now_us + kLayerBackoffUs;
    }
    int r = best_full (cur_, usable, kDownMargin);
    if (r != cur_ && probe_ == cur_)
      probe_failed (now_us, cur_);
    /* The link is congested now: no probe up for a while, to any of the
     * renditions above where this goes. */
    for (int k = 0; k < r; k++)
      next_probe_us_[k]
          = std::max (next_probe_us_[k], now_us + kBackoffStartUs);
    return retarget (now_us, r, top_layer ());
  }

  /* A switch on its way: ask again if its key frame does not come. */
  if (target_ != cur_)
    return retarget (now_us, target_, target_layer_);

  if (layer_max_ == top_layer ()) {
    if (probe_ == cur_ && now_us - full_since_us_ >= kSettledUs) {
      backoff_us_[cur_] = kBackoffStartUs;
      probe_ = -1;
    }
  } else if (usable > partial_peak_) {
    /* Still growing toward the next layer: no time runs out. */
    partial_peak_ = usable;
    partial_since_us_ = now_us;
  } else if (cur_ < count () - 1 && now_us >= grace_until_us_
             && now_us - partial_since_us_ >= kPartialUs) {
    /* No layer more in time: settle lower, at full frame rate. */
    up_since_us_ = -1;
    probe_failed (now_us, cur_);
    return retarget (now_us, best_full (cur_ + 1, usable, kDownMargin),
                     top_layer ());
  }

  /* Up, one level: a layer, or the next rendition's lowest layers. */
  const bool layer_step = layer_max_ < top_layer ();
  if (!layer_step && cur_ == 0) {
    up_since_us_ = -1;
    return -1;
  }
  const int next_r = layer_step ? cur_ : cur_ - 1;
  const int next_l = layer_step ? layer_max_ + 1 : 0;
  const bool blocked = layer_step ? now_us < next_layer_up_us_
                                  : now_us < next_probe_us_[next_r];
  if (!layer_step && can_pad_)
    return pad_up (now_us, usable, next_r, blocked);
  stop_padding ();
  /* A layer of this rendition needs what its floor does (the encoder
   * follows the call); a rendition up, what it is made at. */
  const bool wanted
      = usable >= (layer_step ? floor_cost (next_r, next_l)
                              : cost (next_r, next_l))
        || usable >= kPinned * cost (cur_, layer_max_);
  if (blocked || !wanted) {
    up_since_us_ = -1;
    return -1;
  }
  if (up_since_us_ < 0)
    up_since_us_ = now_us;
  if (now_us - up_since_us_ < (layer_step ? kLayerUpHoldUs : kUpHoldUs))
    return -1;
  up_since_us_ = -1;
  if (layer_step) {
    begin_grace (now_us, floor_cost (cur_, layer_max_), cost (cur_, next_l));
    set_layers (now_us, next_l, true);
    return -1;
  }
  /* The estimate may already afford more than the lowest layers. */
  int l = 0;
  while (l < top_layer () && cost (next_r, l + 1) <= usable)
    l++;
  return retarget (now_us, next_r, l);
}

/* At full frame rate, below the top, with padding: pad toward @next_r,
 * switch to it once the estimate carries its full frame rate. */
int
RenditionSelector::pad_up (std::int64_t now_us, double usable, int next_r,
                           bool blocked)
{
  /* What the next rendition needs, with room; an estimate at its ceiling
   * (max-bitrate) cannot show more, and carries it. */
  double need = kPadUpMargin * cost (next_r, top_layer ());
  if (ceiling_ > 0)
    need = std::min (need, kAtCeiling * ceiling_);
  if (target_ == cur_ && usable >= need) {
    if (up_since_us_ < 0)
      up_since_us_ = now_us;
    if (now_us - up_since_us_ < kUpHoldUs)
      return -1;
    up_since_us_ = -1;
    stop_padding ();
    return retarget (now_us, next_r, top_layer ());
  }
  up_since_us_ = -1;
  if (pad_release_until_us_ > 0) {
    /* A failed probe's padding follows the estimate down for a while: cut
     * at once, what the call is sent would fall to its rendition's rate,
     * and the estimator, still seeing the over-use drain, would cut again
     * from there. */
    if (now_us >= pad_release_until_us_) {
      pad_release_until_us_ = 0;
      stop_padding ();
    } else {
      pad_to_ = std::min (pad_to_, usable);
    }
    return -1;
  }
  if (pad_for_ >= 0) {
    if (usable > pad_peak_)
      pad_peak_ = usable;
    if (usable < kFall * pad_peak_ || now_us - pad_since_us_ >= kPadMaxUs) {
      probe_failed (now_us, pad_for_);
      pad_for_ = -1;
      pad_to_ = std::min (pad_to_, usable);
      pad_release_until_us_ = now_us + kPadReleaseUs;
      return -1;
    }
    pad_to_ = std::min (usable, need);
    return -1;
  }
  if (blocked || usable < kPinned * cost (cur_, layer_max_)
      || now_us - last_fall_us_ < kUpHoldUs)
    return -1;
  pad_for_ = next_r;
  pad_peak_ = usable;
  pad_since_us_ = now_us;
  pad_to_ = std::min (usable, need);
  return -1;
}

RenditionSelector::Verdict
RenditionSelector::on_frame (std::int64_t now_us, const Frame &frame)
{
  Verdict v{false, frame.pts_us, false};
  if (count () == 1 && layers_ == 1) {
    /* Nothing to choose (input sent as it came): all of it, at once. */
    v.pass = frame.rendition == 0;
    v.switched = v.pass && cur_ < 0;
    if (v.pass)
      cur_ = target_ = 0;
    return v;
  }
  const int layer = std::clamp (frame.layer, 0, top_layer ());
  if (frame.rendition == target_ && target_ != cur_ && frame.key) {
    const int from = cur_;
    cur_ = target_;
    set_layers (now_us, target_layer_, true);
    if (from >= 0)
      switches_++;
    if (from > cur_) {
      probe_ = cur_;
      begin_grace (now_us, floor_cost (from, top_layer ()),
                   cost (cur_, layer_max_));
    } else {
      grace_until_us_ = 0;
    }
    up_since_us_ = -1;
    for (int t = 0; t < 3; t++)
      layer_on_[t] = t <= layer_max_;
    v.switched = true;
  } else if (frame.rendition != cur_) {
    return v;
  } else {
    for (int t = layer_max_ + 1; t < 3; t++)
      layer_on_[t] = false;
    if (frame.key) {
      for (int t = 0; t <= layer_max_; t++)
        layer_on_[t] = true;
    }
    if (layer > layer_max_)
      return v;
    if (layer > 0) {
      if (frame.layer_sync) {
        /* Needs layer 0 alone: a layer that had stopped starts here. */
        if (!layer_on_[0])
          return v;
        layer_on_[layer] = true;
      } else if (!std::all_of (layer_on_, layer_on_ + layer + 1,
                               [] (bool on) { return on; })) {
        return v;
      }
    } else if (!layer_on_[0]) {
      return v;
    }
  }
  std::int64_t pts = frame.pts_us;
  if (pts >= 0) {
    if (last_pts_us_ >= 0 && pts <= last_pts_us_)
      pts = last_pts_us_ + kPtsStepUs;
    last_pts_us_ = pts;
  }
  v.pass = true;
  v.pts_us = pts;
  return v;
}

}  // namespace signalrtc
