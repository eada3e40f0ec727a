/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace signalrtc {

/* One encoding of the input that viewers choose from. */
struct Rendition
{
  int width = 0;
  int height = 0;
  std::uint32_t bitrate_bps = 0;

  bool operator== (const Rendition &o) const
  {
    return width == o.width && height == o.height
           && bitrate_bps == o.bitrate_bps;
  }
};

/* The renditions a shared encoder makes: parsed from the element's
 * `video-renditions` ("WIDTHxHEIGHT:BITRATE,...", e.g. the default
 * "1280x720:2500000,640x360:800000,320x180:250000"), then planned for the
 * input's size once its caps are known. Pure. */
class RenditionLadder
{
 public:
  static constexpr const char *kDefault
      = "1280x720:2500000,640x360:800000,320x180:250000";
  /* At most this many renditions: each is an encoder. */
  static constexpr size_t kMaxRenditions = 4;

  /* Parses @spec into boxes. "" is a ladder of none (one encoder, as
   * without a ladder). False, with @error set, on anything else that is
   * not a list of WxH:BITRATE with sizes 16..7680 x 16..4320 and bitrates
   * 10 kbit/s..50 Mbit/s, or more than kMaxRenditions. */
  static bool parse (const std::string &spec, std::vector<Rendition> &boxes,
                     std::string &error);

  /* What to encode for an input of @width x @height: each box's size
   * fitted inside the box keeping the input's aspect ratio, never larger
   * than the input, even; its bitrate scaled by the pixels it lost to
   * that fit. A box that comes out no more than 1.25 times the pixels of
   * a smaller one kept is dropped (a 640x360 input gets no second
   * 640x360 from the 1280x720 box). Largest first. Empty for an empty
   * ladder or an input without a size. */
  static std::vector<Rendition> plan (const std::vector<Rendition> &boxes,
                                      int width, int height);

  static std::string describe (const std::vector<Rendition> &renditions);
};

/* What each rendition's encoder is told to make. A rendition's bitrate is
 * the most it makes; when the narrowest call taking it (or switching to
 * it) carries less, it makes what that call carries, down to kFloor of
 * its bitrate. A call whose link falls between two renditions then gets
 * the upper one at the rate its link carries (a 1 Mbit/s link: 640x360
 * at what audio leaves of it, not 320x180), so RenditionSelector is given
 * the floors as the renditions' costs. Every rate is kFill of the bitrate
 * it comes from: room for RTP headers and retransmissions, as the single
 * encoder leaves (shared_video_bitrate).
 *
 * Calls say what they take on every frame (demand); one that has said
 * nothing for kStaleUs is gone (it hung up, or its pads went), so no call
 * has to be taken out by hand. Pure: the caller gives the time
 * (microseconds, monotonic) and serializes the calls. */
class RungRates
{
 public:
  static constexpr double kFloor = 0.5;
  static constexpr double kFill = 0.95;
  /* An encoder is told a new rate only when it moved by more than this
   * share of the last one told (each change reconfigures the encoder). */
  static constexpr double kStep = 0.05;
  static constexpr std::int64_t kStaleUs = 1'000'000;

  /* @bitrates: each rendition's (its most), bit/s. */
  explicit RungRates (std::vector<std::uint32_t> bitrates);

  size_t size () const { return bitrates_.size (); }
  /* The least rendition @rung is made at (before kFill). */
  std::uint32_t floor (size_t rung) const;

  /* Call @call (any key, e.g. its gate's address) takes @rung and is
   * switching to @next (-1: neither), with @usable_bps of estimate left
   * for video. Replaces what it said before. */
  void demand (std::int64_t now_us, std::uintptr_t call, int rung, int next,
               std::uint32_t usable_bps);

  /* What @rung's encoder should make at @now_us. */
  std::uint32_t rate (std::int64_t now_us, size_t rung) const;

  /* The rate @rung's encoder should be told now, if it should be told
   * (the first time, or moved by more than kStep); records it as told. */
  bool take_change (std::int64_t now_us, size_t rung, std::uint32_t &rate);

  /* Whether @rung's encoder should encode at @now_us: a call takes it or
   * is switching to it. The lowest always encodes: its frames are what
   * drive every call's choice (RenditionGate), a new call's included, so
   * a call can always say what it wants. */
  bool wanted (std::int64_t now_us, size_t rung) const;

 private:
  struct Demand
  {
    int rung;
    int next;
    std::uint32_t usable_bps;
    std::int64_t at_us;
  };
  std::vector<std::uint32_t> bitrates_;
  std::vector<std::uint32_t> told_;
  std::map<std::uintptr_t, Demand> demands_;
};

}  // namespace signalrtc
