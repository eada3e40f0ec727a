/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* The negotiate reply codec: whatever parses must serialize to something
 * that parses again to the same reply. */

#include "protocol/negotiate.h"
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
same_response (const NegotiateResponse &a, const NegotiateResponse &b)
{
  if (a.kind != b.kind)
    return false;
  switch (a.kind) {
  case NegotiateResponse::Kind::Error:
    return a.error == b.error;
  case NegotiateResponse::Kind::Redirect:
    return a.url == b.url && a.access_token == b.access_token;
  case NegotiateResponse::Kind::Connection:
    break;
  }
  if (a.negotiate_version != b.negotiate_version
      || a.connection_id != b.connection_id
      || a.connection_token != b.connection_token
      || a.available_transports.size () != b.available_transports.size ()
      || a.transport_id () != b.transport_id ()
      || a.supports_websockets_text () != b.supports_websockets_text ())
    return false;
  for (gsize i = 0; i < a.available_transports.size (); i++) {
    if (a.available_transports[i].transport
            != b.available_transports[i].transport
        || a.available_transports[i].transfer_formats
               != b.available_transports[i].transfer_formats)
      return false;
  }
  return true;
}

} // namespace

extern "C" int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  std::string_view input (reinterpret_cast<const char *> (data), size);
  g_autoptr (GError) error = nullptr;
  auto response = parse_negotiate_response (input, &error);
  if (!response) {
    check (error != nullptr && error->domain == SIGNALRTC_PROTOCOL_ERROR
               && error->message && error->message[0],
           "failure without a proper error");
    return 0;
  }
  check (error == nullptr, "success with an error");
  if (response->kind == NegotiateResponse::Kind::Connection)
    check (response->negotiate_version < 1
               || !response->connection_token.empty ()
               || input.find ("connectionToken") != std::string_view::npos,
           "v1 reply without a token");

  std::string text = serialize_negotiate_response (*response);
  g_autoptr (GError) error2 = nullptr;
  auto again = parse_negotiate_response (text, &error2);
  check (again.has_value (), "serialized reply does not parse",
         text + "\n" + (error2 ? error2->message : ""));
  check (same_response (*response, *again), "round trip changed the reply",
         text);
  check (serialize_negotiate_response (*again) == text,
         "serialization not stable", text);
  return 0;
}
