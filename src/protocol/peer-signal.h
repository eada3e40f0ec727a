/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include <optional>
#include <string>
#include <string_view>

namespace signalrtc {

/* What simple-peer puts inside SendSignal's `signal` string. */
struct PeerSignal
{
  enum class Type
  {
    Offer,
    Answer,
    Candidate,
    Renegotiate,
    TransceiverRequest,
  };

  Type type = Type::Offer;
  /* Offer, Answer. */
  std::string sdp;
  /* Candidate: the "candidate:…" line, its m-line index and mid. */
  std::string candidate;
  std::optional<guint> sdp_mline_index;
  std::optional<std::string> sdp_mid;
  /* TransceiverRequest: "audio" or "video", and the init dictionary as
   * compact JSON ("{}" when absent). */
  std::string kind;
  std::string init_json = "{}";
  /* FALSE when parsed from a pre-9.9.3 message without "type". */
  bool has_type = true;
};

const char *peer_signal_type_name (PeerSignal::Type type);

/* Parses simple-peer's JSON. With "type", it decides; without, the keys
 * present do (candidate, renegotiate, transceiverRequest, sdp). Any other
 * shape is an error, as is an offer/answer with no string "sdp", a candidate
 * with no string "candidate", or a transceiverRequest kind other than audio
 * or video. */
std::optional<PeerSignal> parse_peer_signal (std::string_view json,
                                             GError **error);
/* simple-peer's shape, always with "type" (what 9.9.3+ sends). */
std::string serialize_peer_signal (const PeerSignal &signal);

}  // namespace signalrtc
