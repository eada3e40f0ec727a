/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <cstdint>
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

}  // namespace signalrtc
