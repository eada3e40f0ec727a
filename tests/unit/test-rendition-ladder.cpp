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
