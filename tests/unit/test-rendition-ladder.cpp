/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The video-renditions property: what it accepts, and what a ladder
 * becomes for inputs of each size.
 */
#include "rendition-ladder.h"

#include <gtest/gtest.h>

namespace {

using signalrtc::Rendition;
using signalrtc::RenditionLadder;

TEST (RenditionLadder, Parses)
{
  struct Case
  {
    const char *spec;
    bool ok;
    size_t count;
  } cases[] = {
      {RenditionLadder::kDefault, true, 3},
      {"", true, 0},
      {"  ", true, 0},
      {"1920x1080:4000000", true, 1},
      {" 640x360:800000 , 320x180:250000 ", true, 2},
      {"640x360", false, 0},
      {"640x360:", false, 0},
      {"640:800000", false, 0},
      {"x360:800000", false, 0},
      {"640x360:8k", false, 0},
      {"640x360:-800000", false, 0},
      {"640x360:9999", false, 0},
      {"640x360:50000001", false, 0},
      {"8x8:100000", false, 0},
      {"7681x360:800000", false, 0},
      {"640x360:800000,", false, 0},
      {"640x360:800000,,320x180:250000", false, 0},
      {"1x2:3,4", false, 0},
      {"640x360:800000,640x360:800000,640x360:800000,640x360:800000,"
       "640x360:800000",
       false, 0},
  };
  for (const Case &c : cases) {
    std::vector<Rendition> boxes;
    std::string error;
    EXPECT_EQ (RenditionLadder::parse (c.spec, boxes, error), c.ok)
        << "'" << c.spec << "'";
    EXPECT_EQ (boxes.size (), c.count) << "'" << c.spec << "'";
    EXPECT_EQ (error.empty (), c.ok) << "'" << c.spec << "': " << error;
  }
}

TEST (RenditionLadder, PlansForEachInput)
{
  std::vector<Rendition> boxes;
  std::string error;
  ASSERT_TRUE (RenditionLadder::parse (RenditionLadder::kDefault, boxes, error));
  struct Case
  {
    int width, height;
    const char *plan;
  } cases[] = {
      {1280, 720, "1280x720:2500000,640x360:800000,320x180:250000"},
      /* Larger inputs are scaled into the boxes. */
      {1920, 1080, "1280x720:2500000,640x360:800000,320x180:250000"},
      /* Smaller inputs get fewer: never scaled up, no duplicate. */
      {640, 360, "640x360:800000,320x180:250000"},
      {320, 180, "320x180:250000"},
      {160, 120, "160x120:83333"},
      /* 4:3 keeps its shape, and the bitrate of the pixels it keeps. */
      {640, 480, "640x480:833333,480x360:600000,240x180:187500"},
      {960, 720, "960x720:1875000,480x360:600000,240x180:187500"},
      /* Portrait. */
      {720, 1280, "404x720:789063,202x360:252500,100x180:78125"},
      /* Odd sizes come out even. */
      {1279, 719, "1278x718:2489160,640x358:795556,320x178:247222"},
      {0, 0, ""},
  };
  for (const Case &c : cases) {
    EXPECT_EQ (RenditionLadder::describe (
                   RenditionLadder::plan (boxes, c.width, c.height)),
               c.plan)
        << c.width << "x" << c.height;
  }
}

TEST (RenditionLadder, EmptyLadderPlansNothing)
{
  EXPECT_TRUE (RenditionLadder::plan ({}, 1280, 720).empty ());
}

}  // namespace

namespace {

using signalrtc::RungRates;

/* 720p at 2.5 Mbit/s, 360p at 800 kbit/s, 180p at 250 kbit/s. */
RungRates
default_rates ()
{
  return RungRates ({2500000, 800000, 250000});
}

TEST (RungRates, FollowTheNarrowestCallWithinTheirRange)
{
  struct Step
  {
    const char *what;
    std::int64_t at_us;
    std::uintptr_t call;
    int rung, next;
    std::uint32_t usable;
    std::uint32_t rates[3]; /* expected after the step */
  } steps[] = {
      {"nobody: every rendition at its bitrate", 0, 0, -1, -1, 0,
       {2375000, 760000, 237500}},
      {"a wide call on 720p: still its bitrate", 0, 1, 0, -1, 9000000,
       {2375000, 760000, 237500}},
      {"a 1 Mbit/s call on 360p: at its bitrate (the call carries more)", 0,
       2, 1, -1, 900000, {2375000, 760000, 237500}},
      {"that call's estimate falls: 360p follows it", 100000, 2, 1, -1,
       600000, {2375000, 570000, 237500}},
      {"a narrower call joins 360p: the narrowest counts", 200000, 3, 1, -1,
       500000, {2375000, 475000, 237500}},
      {"under the floor: the floor (half the bitrate)", 300000, 3, 1, -1,
       100000, {2375000, 380000, 237500}},
      {"switching from 360p to 180p: both follow it", 400000, 3, 1, 2,
       200000, {2375000, 380000, 190000}},
      {"switched: 360p back to the other call", 500000, 3, 2, -1, 200000,
       {2375000, 570000, 190000}},
      {"the wide call on 720p at a 1.5 Mbit/s estimate", 600000, 1, 0, -1,
       1500000, {1425000, 570000, 190000}},
      {"the 360p call said nothing for a second: gone", 1'200'001, 1, 0, -1,
       1500000, {1425000, 760000, 190000}},
  };
  RungRates rates = default_rates ();
  for (const Step &s : steps) {
    if (s.rung >= 0)
      rates.demand (s.at_us, s.call, s.rung, s.next, s.usable);
    for (size_t r = 0; r < 3; r++)
      EXPECT_EQ (rates.rate (s.at_us, r), s.rates[r])
          << s.what << ", rendition " << r;
  }
}

TEST (RungRates, TellTheEncoderOnlyMovesWorthAReconfiguration)
{
  struct Step
  {
    std::uint32_t usable; /* the one call on 360p */
    bool told;
    std::uint32_t rate;
  } steps[] = {
      {900000, true, 760000},  /* first: always told */
      {790000, false, 0},      /* 750500: within 5 % of 760000 */
      {700000, true, 665000},  /* 12.5 % down */
      {690000, false, 0},      /* 655500: 1.4 % */
      {405000, true, 384750},  /* down to near the floor */
      {395000, true, 380000},  /* the floor itself, however close */
      {100000, false, 0},      /* still the floor */
      {5000000, true, 760000}, /* back to the bitrate at once */
  };
  RungRates rates = default_rates ();
  std::int64_t now = 0;
  for (const Step &s : steps) {
    rates.demand (now, 7, 1, -1, s.usable);
    std::uint32_t rate = 0;
    EXPECT_EQ (rates.take_change (now, 1, rate), s.told) << s.usable;
    if (s.told) {
      EXPECT_EQ (rate, s.rate) << s.usable;
    }
    now += 100000;
  }
  EXPECT_EQ (rates.floor (1), 400000u);
  EXPECT_EQ (rates.floor (5), 0u);
  std::uint32_t rate = 0;
  EXPECT_FALSE (rates.take_change (now, 5, rate));
}

TEST (RungRates, EncodeOnlyWhatACallTakes)
{
  struct Step
  {
    const char *what;
    std::int64_t at_us;
    std::uintptr_t call;
    int rung, next;
    bool wanted[3]; /* expected after the step */
  } steps[] = {
      {"nobody: only the lowest", 0, 0, -1, -1, {false, false, true}},
      {"a call on 180p", 0, 1, 2, -1, {false, false, true}},
      {"it switches up to 360p: both", 100000, 1, 2, 1, {false, true, true}},
      {"switched: 360p", 200000, 1, 1, -1, {false, true, true}},
      {"a second call on 720p", 300000, 2, 0, -1, {true, true, true}},
      {"the 720p call drops to 360p", 400000, 2, 0, 1, {true, true, true}},
      {"dropped: 720p no longer", 500000, 2, 1, -1, {false, true, true}},
      {"both calls silent for a second: only the lowest", 1'500'001, 0, -1,
       -1, {false, false, true}},
  };
  RungRates rates = default_rates ();
  for (const Step &s : steps) {
    if (s.rung >= 0)
      rates.demand (s.at_us, s.call, s.rung, s.next, 1000000);
    for (size_t r = 0; r < 3; r++)
      EXPECT_EQ (rates.wanted (s.at_us, r), s.wanted[r])
          << s.what << ", rendition " << r;
  }
  EXPECT_FALSE (rates.wanted (0, 3));
  EXPECT_TRUE (RungRates ({800000}).wanted (0, 0)) << "a ladder of one";
}

}  // namespace
