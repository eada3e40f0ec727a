/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <cstdint>

namespace signalrtc {

/* When a shared encoder makes a key frame for its peers. Pure: the caller
 * gives the time (microseconds, monotonic) and serializes the calls.
 *
 * A key frame costs many delta frames and every peer gets it, so requests
 * are thinned, differently by who asks:
 *  - a peer that has just connected has no picture at all: its request
 *    passes if no key frame was asked for in the last kNewPeerIntervalUs,
 *    else it waits that long (not a second: it was the wait for a second
 *    that made calls arriving just after another call start late);
 *  - a PLI/FIR (a peer lost packets) passes at most once a second.
 * A request made while a key frame is already on its way (asked for, not
 * out of the encoder yet) waits for it: that key frame reaches every peer
 * connected now. No request is lost: a held one is served by any key frame
 * out of the encoder, or on_frame() says when it is due. A key frame that never comes (an input that cannot make one on
 * demand) stops counting as on its way after kPendingTimeoutUs. */
class KeyFramePolicy
{
 public:
  static constexpr std::int64_t kNewPeerIntervalUs = 200'000;
  static constexpr std::int64_t kLossIntervalUs = 1'000'000;
  static constexpr std::int64_t kPendingTimeoutUs = 1'000'000;

  /* A key-frame request at @now_us; @new_peer: from a peer that has just
   * connected (else a PLI/FIR). True: send it to the encoder now. */
  bool request (std::int64_t now_us, bool new_peer);

  /* An encoded frame left the encoder at @now_us (@key: a key frame).
   * True: a held request is due now; send it, flagged @held_for_new_peer,
   * which request() will then pass. */
  bool on_frame (std::int64_t now_us, bool key);

  bool held () const { return held_; }
  bool held_for_new_peer () const { return held_new_peer_; }

 private:
  bool pending (std::int64_t now_us) const;

  std::int64_t last_request_us_ = INT64_MIN / 2;
  bool pending_ = false;
  bool held_ = false;
  bool held_new_peer_ = false;
};

}  // namespace signalrtc
