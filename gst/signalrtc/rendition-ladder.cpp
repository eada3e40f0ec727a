/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rendition-ladder.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace signalrtc {

namespace {

bool
parse_number (const std::string &s, long long lo, long long hi, long long &out)
{
  if (s.empty () || s.find_first_not_of ("0123456789") != std::string::npos)
    return false;
  errno = 0;
  char *end = nullptr;
  long long v = std::strtoll (s.c_str (), &end, 10);
  if (errno || *end || v < lo || v > hi)
    return false;
  out = v;
  return true;
}

std::string
trim (const std::string &s)
{
  size_t a = s.find_first_not_of (" \t");
  if (a == std::string::npos)
    return "";
  size_t b = s.find_last_not_of (" \t");
  return s.substr (a, b - a + 1);
}

int
even_down (double v)
{
  int i = (int)std::floor (v);
  return std::max (2, i - (i % 2));
}

}  // namespace

bool
RenditionLadder::parse (const std::string &spec, std::vector<Rendition> &boxes,
                        std::string &error)
{
  boxes.clear ();
  if (trim (spec).empty ())
    return true;
  if (trim (spec).back () == ',') {
    error = "'" + spec + "' ends with a comma";
    return false;
  }
  std::stringstream in (spec);
  std::string item;
  while (std::getline (in, item, ',')) {
    item = trim (item);
    size_t x = item.find ('x');
    size_t colon = item.find (':');
    long long w, h, b;
    if (x == std::string::npos || colon == std::string::npos || colon < x
        || !parse_number (item.substr (0, x), 16, 7680, w)
        || !parse_number (item.substr (x + 1, colon - x - 1), 16, 4320, h)
        || !parse_number (item.substr (colon + 1), 10'000, 50'000'000, b)) {
      error = "'" + item
              + "' is not WIDTHxHEIGHT:BITRATE (16..7680 x 16..4320, "
                "10000..50000000 bit/s)";
      boxes.clear ();
      return false;
    }
    boxes.push_back ({(int)w, (int)h, (std::uint32_t)b});
  }
  if (boxes.size () > kMaxRenditions) {
    error = "at most " + std::to_string (kMaxRenditions) + " renditions, not "
            + std::to_string (boxes.size ());
    boxes.clear ();
    return false;
  }
  return true;
}

std::vector<Rendition>
RenditionLadder::plan (const std::vector<Rendition> &boxes, int width,
                       int height)
{
  std::vector<Rendition> out;
  if (boxes.empty () || width <= 0 || height <= 0)
    return out;
  std::vector<Rendition> sorted = boxes;
  std::sort (sorted.begin (), sorted.end (),
             [] (const Rendition &a, const Rendition &b) {
               return (long long)a.width * a.height
                      < (long long)b.width * b.height;
             });
  for (const Rendition &box : sorted) {
    double scale = std::min (
        {(double)box.width / width, (double)box.height / height, 1.0});
    Rendition r;
    r.width = scale >= 1.0 ? width - width % 2 : even_down (width * scale);
    r.height = scale >= 1.0 ? height - height % 2 : even_down (height * scale);
    r.width = std::max (r.width, 2);
    r.height = std::max (r.height, 2);
    double kept = (double)r.width * r.height / ((double)box.width * box.height);
    r.bitrate_bps
        = (std::uint32_t)std::lround (box.bitrate_bps * std::min (kept, 1.0));
    if (!out.empty ()
        && (double)r.width * r.height
               <= 1.25 * out.back ().width * out.back ().height)
      continue;
    out.push_back (r);
  }
  std::reverse (out.begin (), out.end ());
  return out;
}

std::string
RenditionLadder::describe (const std::vector<Rendition> &renditions)
{
  std::string s;
  for (const Rendition &r : renditions) {
    if (!s.empty ())
      s += ",";
    s += std::to_string (r.width) + "x" + std::to_string (r.height) + ":"
         + std::to_string (r.bitrate_bps);
  }
  return s;
}

RungRates::RungRates (std::vector<std::uint32_t> bitrates)
    : bitrates_ (std::move (bitrates)), told_ (bitrates_.size (), 0)
{}

std::uint32_t
RungRates::floor (size_t rung) const
{
  return rung < size () ? (std::uint32_t)std::lround (kFloor * bitrates_[rung])
                        : 0;
}

void
RungRates::demand (std::int64_t now_us, std::uintptr_t call, int rung,
                   int next, std::uint32_t usable_bps)
{
  demands_[call] = Demand{rung, next, usable_bps, now_us};
  for (auto it = demands_.begin (); it != demands_.end ();) {
    if (now_us - it->second.at_us > kStaleUs)
      it = demands_.erase (it);
    else
      ++it;
  }
}

std::uint32_t
RungRates::rate (std::int64_t now_us, size_t rung) const
{
  if (rung >= size ())
    return 0;
  double most = bitrates_[rung];
  double least = most;
  for (const auto &[call, d] : demands_) {
    if (now_us - d.at_us > kStaleUs)
      continue;
    if (d.rung == (int)rung || d.next == (int)rung)
      least = std::min (least, (double)d.usable_bps);
  }
  least = std::max (least, (double)floor (rung));
  return (std::uint32_t)std::lround (kFill * least);
}

bool
RungRates::wanted (std::int64_t now_us, size_t rung) const
{
  if (rung >= size ())
    return false;
  if (rung + 1 == size ())
    return true;
  for (const auto &[call, d] : demands_) {
    if (now_us - d.at_us <= kStaleUs
        && (d.rung == (int)rung || d.next == (int)rung))
      return true;
  }
  return false;
}

bool
RungRates::take_change (std::int64_t now_us, size_t rung, std::uint32_t &rate)
{
  if (rung >= size ())
    return false;
  const std::uint32_t now = this->rate (now_us, rung);
  const double told = told_[rung];
  /* The ends are told exactly, however small the last move to them. */
  const bool at_end = now != told_[rung]
                      && (now == (std::uint32_t)std::lround (
                              kFill * bitrates_[rung])
                          || now == (std::uint32_t)std::lround (
                              kFill * floor (rung)));
  if (told > 0 && std::fabs (now - told) <= kStep * told && !at_end)
    return false;
  told_[rung] = now;
  rate = now;
  return true;
}

}  // namespace signalrtc
