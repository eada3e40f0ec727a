/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * When a shared encoder makes key frames: new peers promptly, PLI/FIR at
 * most once a second, nothing lost, nothing asked twice.
 */
#include "key-frame-policy.h"

#include <gtest/gtest.h>

namespace {

using signalrtc::KeyFramePolicy;

constexpr std::int64_t kMs = 1000;

TEST (KeyFramePolicy, FirstRequestsPass)
{
  KeyFramePolicy a, b;
  EXPECT_TRUE (a.request (0, true));
  EXPECT_TRUE (b.request (0, false));
}

TEST (KeyFramePolicy, RequestWhileOneIsOnItsWayWaitsForIt)
{
  KeyFramePolicy p;
  ASSERT_TRUE (p.request (0, true));
  EXPECT_FALSE (p.request (5 * kMs, true));
  EXPECT_FALSE (p.request (10 * kMs, false));
  EXPECT_TRUE (p.held ());
  /* The key frame on its way serves them: nothing more is asked. */
  EXPECT_FALSE (p.on_frame (33 * kMs, true));
  EXPECT_FALSE (p.held ());
  EXPECT_FALSE (p.on_frame (266 * kMs, false));
}

/* The bug this policy fixed: a PLI of the previous call used up the
 * second, and the next caller waited for the rest of it. */
TEST (KeyFramePolicy, NewPeerShortlyAfterAPliWaitsOnlyTheShortInterval)
{
  KeyFramePolicy p;
  ASSERT_TRUE (p.request (0, false)); /* PLI */
  EXPECT_FALSE (p.on_frame (30 * kMs, true));
  /* 300 ms later a new peer connects: more than 200 ms, it passes. */
  EXPECT_TRUE (p.request (300 * kMs, true));
}

TEST (KeyFramePolicy, NewPeerTooSoonIsHeldForTheShortInterval)
{
  KeyFramePolicy p;
  ASSERT_TRUE (p.request (0, true));
  EXPECT_FALSE (p.on_frame (33 * kMs, true));
  EXPECT_FALSE (p.request (100 * kMs, true));
  EXPECT_TRUE (p.held ());
  EXPECT_TRUE (p.held_for_new_peer ());
  EXPECT_FALSE (p.on_frame (133 * kMs, false));
  EXPECT_FALSE (p.on_frame (166 * kMs, false));
  /* Due 200 ms after the last request. */
  ASSERT_TRUE (p.on_frame (200 * kMs, false));
  /* What the caller then sends passes and clears the hold. */
  EXPECT_TRUE (p.request (200 * kMs, p.held_for_new_peer ()));
  EXPECT_FALSE (p.held ());
}

TEST (KeyFramePolicy, PliPassesAtMostOnceASecond)
{
  KeyFramePolicy p;
  ASSERT_TRUE (p.request (0, false));
  EXPECT_FALSE (p.on_frame (33 * kMs, true));
  EXPECT_FALSE (p.request (300 * kMs, false));
  EXPECT_TRUE (p.held ());
  EXPECT_FALSE (p.held_for_new_peer ());
  EXPECT_FALSE (p.on_frame (500 * kMs, false));
  EXPECT_FALSE (p.on_frame (999 * kMs, false));
  EXPECT_TRUE (p.on_frame (1000 * kMs, false));
}

TEST (KeyFramePolicy, HeldPliGetsTheShortIntervalOnceANewPeerWaitsToo)
{
  KeyFramePolicy p;
  ASSERT_TRUE (p.request (0, false));
  EXPECT_FALSE (p.on_frame (33 * kMs, true));
  EXPECT_FALSE (p.request (50 * kMs, false));
  EXPECT_FALSE (p.request (60 * kMs, true));
  EXPECT_FALSE (p.on_frame (150 * kMs, false));
  EXPECT_TRUE (p.on_frame (200 * kMs, false));
}

TEST (KeyFramePolicy, AnyKeyFrameServesAHeldRequest)
{
  KeyFramePolicy p;
  ASSERT_TRUE (p.request (0, false));
  EXPECT_FALSE (p.on_frame (33 * kMs, true));
  EXPECT_FALSE (p.request (100 * kMs, false));
  ASSERT_TRUE (p.held ());
  /* The encoder's own key frame (its key-int-max) comes first. */
  EXPECT_FALSE (p.on_frame (500 * kMs, true));
  EXPECT_FALSE (p.held ());
  EXPECT_FALSE (p.on_frame (1500 * kMs, false));
}

/* An input that cannot make a key frame on demand (encoded passthrough)
 * must not block every later request. */
TEST (KeyFramePolicy, AKeyFrameThatNeverComesStopsCountingAfterASecond)
{
  KeyFramePolicy p;
  ASSERT_TRUE (p.request (0, true));
  for (std::int64_t t = 33; t < 1000; t += 33)
    EXPECT_FALSE (p.on_frame (t * kMs, false));
  EXPECT_TRUE (p.request (1000 * kMs, true));
}

/* A request that came while a key frame was on its way is not lost when
 * that key frame never comes out (the encoder lost the request, say). */
TEST (KeyFramePolicy, RequestWaitingForAKeyFrameThatNeverComesIsSent)
{
  KeyFramePolicy p;
  ASSERT_TRUE (p.request (0, false));
  EXPECT_FALSE (p.request (400 * kMs, true));
  ASSERT_TRUE (p.held ());
  for (std::int64_t t = 433; t < 1000; t += 33)
    EXPECT_FALSE (p.on_frame (t * kMs, false)) << t;
  EXPECT_TRUE (p.on_frame (1000 * kMs, false));
  EXPECT_TRUE (p.request (1000 * kMs, p.held_for_new_peer ()));
}

}  // namespace
