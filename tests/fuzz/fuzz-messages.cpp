/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* The hub message codec (and the other record-level codecs: handshake, user
 * info, JsonValue): whatever parses must serialize to something that parses
 * again to the same message, and serializing that gives the same text. */

#include "protocol/protocol-error.h"
#include "protocol/signalr-messages.h"
#include "protocol/user-info.h"

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

void
check_error (const GError *error)
{
  check (error != nullptr, "failure without an error");
  check (error->domain == SIGNALRTC_PROTOCOL_ERROR, "foreign error domain");
  check (error->code >= SIGNALRTC_PROTOCOL_ERROR_INVALID_JSON
             && error->code <= SIGNALRTC_PROTOCOL_ERROR_UNSUPPORTED,
         "unknown error code");
  check (error->message && error->message[0], "empty error message");
}

bool
same_value (const JsonValue &a, const JsonValue &b)
{
  return a == b && a.to_json () == b.to_json ();
}

bool
same_message (const HubMessage &a, const HubMessage &b)
{
  if (a.type != b.type || a.invocation_id != b.invocation_id
      || a.target != b.target || a.stream_ids != b.stream_ids
      || a.headers != b.headers || a.error != b.error
      || a.allow_reconnect != b.allow_reconnect
      || a.sequence_id != b.sequence_id
      || a.arguments.size () != b.arguments.size ()
      || !same_value (a.item, b.item) || !same_value (a.result, b.result))
    return false;
  for (gsize i = 0; i < a.arguments.size (); i++) {
    if (!same_value (a.arguments[i], b.arguments[i]))
      return false;
  }
  return true;
}

void
fuzz_message (std::string_view input)
{
  g_autoptr (GError) error = nullptr;
  auto message = parse_message (input, &error);
  if (!message) {
    check_error (error);
    return;
  }
  check (error == nullptr, "success with an error");

  std::string text = serialize_message (*message);
  g_autoptr (GError) error2 = nullptr;
  auto again = parse_message (text, &error2);
  check (again.has_value (), "serialized message does not parse",
         text + "\n" + (error2 ? error2->message : ""));
  check (same_message (*message, *again), "round trip changed the message",
         text);
  check (serialize_message (*again) == text, "serialization not stable", text);
}

void
fuzz_json_value (std::string_view input)
{
  g_autoptr (GError) error = nullptr;
  auto value = JsonValue::parse (input, &error);
  if (!value) {
    check_error (error);
    return;
  }
  std::string text = value->to_json ();
  auto again = JsonValue::parse (text, nullptr);
  check (again.has_value (), "JSON text does not parse again", text);
  check (*again == *value, "JSON round trip changed the value", text);
  check (again->to_json () == text, "JSON text not stable", text);
  if (auto s = value->as_string ())
    check (JsonValue::from_string (*s) == *value, "string value differs");
}

void
fuzz_handshake (std::string_view input)
{
  g_autoptr (GError) error = nullptr;
  if (auto request = parse_handshake_request (input, &error)) {
    std::string text = serialize_handshake_request (*request);
    auto again = parse_handshake_request (text, nullptr);
    check (again && again->protocol == request->protocol
               && again->version == request->version,
           "handshake request round trip", text);
  } else {
    check_error (error);
  }

  g_clear_error (&error);
  if (auto response = parse_handshake_response (input, &error)) {
    std::string text = serialize_handshake_response (*response);
    auto again = parse_handshake_response (text, nullptr);
    check (again && again->error == response->error,
           "handshake response round trip", text);
  } else {
    check_error (error);
  }
}

void
fuzz_user_info (std::string_view input)
{
  g_autoptr (GError) error = nullptr;
  auto info = parse_user_info (input, &error);
  if (!info) {
    check_error (error);
    return;
  }
  std::string text = serialize_user_info (*info);
  auto again = parse_user_info (text, nullptr);
  check (again && *again == *info, "user info round trip", text);
}

} // namespace

extern "C" int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  std::string_view input (reinterpret_cast<const char *> (data), size);
  fuzz_message (input);
  fuzz_json_value (input);
  fuzz_handshake (input);
  fuzz_user_info (input);
  return 0;
}
