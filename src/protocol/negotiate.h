/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace signalrtc {

struct AvailableTransport
{
  std::string transport;                   /* "WebSockets", … */
  std::vector<std::string> transfer_formats;  /* "Text", "Binary" */
};

/* The reply to POST <hub>/negotiate. */
struct NegotiateResponse
{
  enum class Kind
  {
    Connection,  /* connection_id (+ connection_token for v1), transports */
    Redirect,    /* url, access_token: negotiate again there */
    Error,       /* error: abort */
  };

  Kind kind = Kind::Connection;
  int negotiate_version = 0;
  std::string connection_id;
  std::string connection_token;  /* v1 only */
  std::vector<AvailableTransport> available_transports;
  std::string url;
  std::string access_token;
  std::string error;

  /* What goes into ?id= of the transport URL: the token for v1, the
   * connection id for v0. */
  const std::string &transport_id () const;
  bool supports_websockets_text () const;
};

/* Recognises the three kinds by their keys ("error", "url", else a
 * connection). A connection reply needs "connectionId" (and
 * "connectionToken" when negotiateVersion >= 1). Unknown fields are
 * ignored. */
std::optional<NegotiateResponse> parse_negotiate_response (
    std::string_view json, GError **error);
std::string serialize_negotiate_response (const NegotiateResponse &response);

}  // namespace signalrtc
