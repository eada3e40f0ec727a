/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "json-value.h"

#include <glib.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace signalrtc {

/* The JSON hub protocol, version 1 (ASP.NET Core HubProtocol.md). */
inline constexpr const char *kJsonProtocolName = "json";
inline constexpr int kJsonProtocolVersion = 1;

struct HandshakeRequest
{
  std::string protocol;
  int version = 0;
};

struct HandshakeResponse
{
  /* Set when the server refuses the handshake. */
  std::optional<std::string> error;
};

/* @record is one record without its separator. A request must have a string
 * "protocol" and an integer "version"; anything else is an error. */
std::optional<HandshakeRequest> parse_handshake_request (
    std::string_view record, GError **error);
std::string serialize_handshake_request (const HandshakeRequest &request);

/* "{}" is success; {"error":"…"} a refusal. Unknown fields are ignored. */
std::optional<HandshakeResponse> parse_handshake_response (
    std::string_view record, GError **error);
std::string serialize_handshake_response (const HandshakeResponse &response);

enum class MessageType
{
  Invocation = 1,
  StreamItem = 2,
  Completion = 3,
  StreamInvocation = 4,
  CancelInvocation = 5,
  Ping = 6,
  Close = 7,
  Ack = 8,
  Sequence = 9,
};

const char *message_type_name (MessageType type);

/* One hub message. Which fields matter depends on the type:
 *   Invocation        target, arguments, invocation_id (optional),
 *                     stream_ids, headers
 *   StreamItem        invocation_id, item
 *   Completion        invocation_id, and result or error (or neither: void)
 *   StreamInvocation  invocation_id, target, arguments, stream_ids, headers
 *   CancelInvocation  invocation_id
 *   Ping              -
 *   Close             error (optional), allow_reconnect (optional)
 *   Ack, Sequence     sequence_id
 */
struct HubMessage
{
  MessageType type = MessageType::Ping;
  std::optional<std::string> invocation_id;
  std::string target;
  std::vector<JsonValue> arguments;
  std::vector<std::string> stream_ids;
  std::map<std::string, std::string> headers;
  JsonValue item;    /* StreamItem */
  JsonValue result;  /* Completion; empty = no result */
  std::optional<std::string> error;  /* Completion, Close */
  std::optional<bool> allow_reconnect;  /* Close */
  gint64 sequence_id = 0;  /* Ack, Sequence */

  /* The @index'th argument if it is a JSON string. */
  std::optional<std::string> string_argument (gsize index) const;
};

/* Parses one record (no separator). Malformed JSON, a missing or non-integer
 * "type", or a field of the wrong JSON type gives nullopt and an error;
 * a type outside 1..9 gives SIGNALRTC_PROTOCOL_ERROR_UNKNOWN_TYPE. Unknown
 * fields are ignored. */
std::optional<HubMessage> parse_message (std::string_view record,
                                         GError **error);

/* Compact JSON for @message, without the separator. Only the fields that
 * belong to the type are written; absent optionals are left out. */
std::string serialize_message (const HubMessage &message);

HubMessage make_invocation (std::string target,
                            std::vector<JsonValue> arguments,
                            std::optional<std::string> invocation_id = {});
HubMessage make_completion (std::string invocation_id,
                            JsonValue result = {});
HubMessage make_completion_error (std::string invocation_id,
                                  std::string error);
HubMessage make_ping ();
HubMessage make_close (std::optional<std::string> error = {},
                       std::optional<bool> allow_reconnect = {});

}  // namespace signalrtc
