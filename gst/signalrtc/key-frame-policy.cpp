/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "key-frame-policy.h"

namespace signalrtc {

bool
KeyFramePolicy::pending (std::int64_t now_us) const
{
  return pending_ && now_us - last_request_us_ < kPendingTimeoutUs;
}

bool
KeyFramePolicy::request (std::int64_t now_us, bool new_peer)
{
  const std::int64_t interval = new_peer ? kNewPeerIntervalUs : kLossIntervalUs;
  if (!pending (now_us) && now_us - last_request_us_ >= interval) {
    last_request_us_ = now_us;
    pending_ = true;
    held_ = false;
    held_new_peer_ = false;
    return true;
  }
  /* Held even when a key frame is on its way: that one serves this request
   * (on_frame clears it), but if it never comes, this one is not lost. */
  held_ = true;
  held_new_peer_ = held_new_peer_ || new_peer;
  return false;
}

bool
KeyFramePolicy::on_frame (std::int64_t now_us, bool key)
{
  if (key) {
    /* Whoever asked, before it, gets it. */
    pending_ = false;
    held_ = false;
    held_new_peer_ = false;
    return false;
  }
  if (!held_ || pending (now_us))
    return false;
  const std::int64_t interval
      = held_new_peer_ ? kNewPeerIntervalUs : kLossIntervalUs;
  return now_us - last_request_us_ >= interval;
}

}  // namespace signalrtc
