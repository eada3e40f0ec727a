/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* The simple-peer signal codec: whatever parses must serialize (always with
 * "type") to something that parses again to the same signal. */

#include "protocol/peer-signal.h"
#include "protocol/protocol-error.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace signalrtc;

namespace {

void
check (bool condition, const char *what, const std::string &detail = {})
{
  if (!condition) {
    fprintf (stderr, "invariant broken: %s\n%s\n", what, detail.c_str ());
    abort ();
  }
}

bool
same_signal (const PeerSignal &a, const PeerSignal &b)
{
  if (a.type != b.type)
    return false;
  switch (a.type) {
  case PeerSignal::Type::Offer:
  case PeerSignal::Type::Answer:
    return a.sdp == b.sdp;
  case PeerSignal::Type::Candidate:
    return a.candidate == b.candidate && a.sdp_mline_index == b.sdp_mline_index
           && a.sdp_mid == b.sdp_mid;
  case PeerSignal::Type::Renegotiate:
    return true;
  case PeerSignal::Type::TransceiverRequest:
    return a.kind == b.kind && a.init_json == b.init_json;
  }
  return false;
}

} // namespace

extern "C" int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  std::string_view input (reinterpret_cast<const char *> (data), size);
  g_autoptr (GError) error = nullptr;
  auto signal = parse_peer_signal (input, &error);
  if (!signal) {
    check (error != nullptr && error->domain == SIGNALRTC_PROTOCOL_ERROR
               && error->message && error->message[0],
           "failure without a proper error");
    return 0;
  }
  check (error == nullptr, "success with an error");
  check (signal->type != PeerSignal::Type::TransceiverRequest
             || signal->kind == "audio" || signal->kind == "video",
         "transceiver kind neither audio nor video");

  std::string text = serialize_peer_signal (*signal);
  g_autoptr (GError) error2 = nullptr;
  auto again = parse_peer_signal (text, &error2);
  check (again.has_value (), "serialized signal does not parse",
         text + "\n" + (error2 ? error2->message : ""));
  check (again->has_type, "serialized signal has no type", text);
  check (same_signal (*signal, *again), "round trip changed the signal", text);
  check (serialize_peer_signal (*again) == text, "serialization not stable",
         text);
  return 0;
}
