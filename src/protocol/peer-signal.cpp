/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "peer-signal.h"

#include "json-value.h"
#include "protocol-error.h"

namespace signalrtc {

namespace {

bool
fail (GError **error, const std::string &detail,
      gint code = SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE)
{
  g_set_error (error, SIGNALRTC_PROTOCOL_ERROR, code, "Peer signal: %s",
               detail.c_str ());
  return false;
}

bool
get_string (JsonObject *object, const char *name, std::string &out,
            GError **error)
{
  JsonNode *node = json_object_get_member (object, name);
  if (!node)
    return fail (error, std::string ("missing \"") + name + "\"");
  auto value = JsonValue::ref (node).as_string ();
  if (!value)
    return fail (error, std::string ("\"") + name + "\" must be a string");
  out = std::move (*value);
  return true;
}

bool
parse_candidate (JsonObject *object, PeerSignal &signal, GError **error)
{
  JsonNode *node = json_object_get_member (object, "candidate");
  if (!node)
    return fail (error, "missing \"candidate\"");
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return fail (error, "\"candidate\" must be an object");
  JsonObject *candidate = json_node_get_object (node);

  if (!get_string (candidate, "candidate", signal.candidate, error))
    return false;

  /* Browsers give null for an unknown index or mid. */
  JsonNode *index = json_object_get_member (candidate, "sdpMLineIndex");
  if (index && !JSON_NODE_HOLDS_NULL (index)) {
    if (!JSON_NODE_HOLDS_VALUE (index)
        || json_node_get_value_type (index) != G_TYPE_INT64)
      return fail (error, "\"sdpMLineIndex\" must be an integer");
    gint64 value = json_node_get_int (index);
    if (value < 0 || value > G_MAXUINT)
      return fail (error, "\"sdpMLineIndex\" is out of range");
    signal.sdp_mline_index = static_cast<guint> (value);
  }

  JsonNode *mid = json_object_get_member (candidate, "sdpMid");
  if (mid && !JSON_NODE_HOLDS_NULL (mid)) {
    signal.sdp_mid = JsonValue::ref (mid).as_string ();
    if (!signal.sdp_mid)
      return fail (error, "\"sdpMid\" must be a string");
  }
  return true;
}

bool
parse_renegotiate (JsonObject *object, GError **error)
{
  JsonNode *node = json_object_get_member (object, "renegotiate");
  if (!node || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_BOOLEAN
      || !json_node_get_boolean (node))
    return fail (error, "\"renegotiate\" must be true");
  return true;
}

bool
parse_transceiver_request (JsonObject *object, PeerSignal &signal,
                           GError **error)
{
  JsonNode *node = json_object_get_member (object, "transceiverRequest");
  if (!node)
    return fail (error, "missing \"transceiverRequest\"");
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return fail (error, "\"transceiverRequest\" must be an object");
  JsonObject *request = json_node_get_object (node);

  if (!get_string (request, "kind", signal.kind, error))
    return false;
  if (signal.kind != "audio" && signal.kind != "video")
    return fail (error, "transceiver kind \"" + signal.kind
                            + "\" is neither audio nor video");

  /* simple-peer leaves "init" out (undefined) when it has none. */
  JsonNode *init = json_object_get_member (request, "init");
  if (init && !JSON_NODE_HOLDS_NULL (init)) {
    if (!JSON_NODE_HOLDS_OBJECT (init))
      return fail (error, "\"init\" must be an object");
    signal.init_json = json_to_string (init);
  }
  return true;
}

bool
parse_typed (JsonObject *object, const std::string &type, PeerSignal &signal,
             GError **error)
{
  if (type == "offer" || type == "answer") {
    signal.type
        = type == "offer" ? PeerSignal::Type::Offer : PeerSignal::Type::Answer;
    return get_string (object, "sdp", signal.sdp, error);
  }
  if (type == "candidate") {
    signal.type = PeerSignal::Type::Candidate;
    return parse_candidate (object, signal, error);
  }
  if (type == "renegotiate") {
    signal.type = PeerSignal::Type::Renegotiate;
    return parse_renegotiate (object, error);
  }
  if (type == "transceiverRequest") {
    signal.type = PeerSignal::Type::TransceiverRequest;
    return parse_transceiver_request (object, signal, error);
  }
  return fail (error, "unknown type \"" + type + "\"",
               SIGNALRTC_PROTOCOL_ERROR_UNKNOWN_TYPE);
}

/* Before 9.9.3 simple-peer sent no "type"; its signal() goes by the keys. */
bool
parse_untyped (JsonObject *object, PeerSignal &signal, GError **error)
{
  signal.has_type = false;
  if (json_object_has_member (object, "candidate")) {
    signal.type = PeerSignal::Type::Candidate;
    return parse_candidate (object, signal, error);
  }
  if (json_object_has_member (object, "renegotiate")) {
    signal.type = PeerSignal::Type::Renegotiate;
    return parse_renegotiate (object, error);
  }
  if (json_object_has_member (object, "transceiverRequest")) {
    signal.type = PeerSignal::Type::TransceiverRequest;
    return parse_transceiver_request (object, signal, error);
  }
  /* A description always came with its type (RTCSessionDescription needs
   * one): an "sdp" alone cannot say whether it is an offer or an answer. */
  if (json_object_has_member (object, "sdp"))
    return fail (error, "\"sdp\" without \"type\"");
  return fail (error, "not a simple-peer signal (no type, candidate, "
                      "renegotiate, transceiverRequest or sdp)");
}

}  // namespace

const char *
peer_signal_type_name (PeerSignal::Type type)
{
  switch (type) {
  case PeerSignal::Type::Offer:
    return "offer";
  case PeerSignal::Type::Answer:
    return "answer";
  case PeerSignal::Type::Candidate:
    return "candidate";
  case PeerSignal::Type::Renegotiate:
    return "renegotiate";
  case PeerSignal::Type::TransceiverRequest:
    return "transceiverRequest";
  }
  return "unknown";
}

std::optional<PeerSignal>
parse_peer_signal (std::string_view json, GError **error)
{
  auto value = JsonValue::parse_object (json, "Peer signal", error);
  if (!value)
    return std::nullopt;
  JsonObject *object = json_node_get_object (value->node ());

  PeerSignal signal;
  bool ok;
  if (JsonNode *type = json_object_get_member (object, "type")) {
    auto name = JsonValue::ref (type).as_string ();
    if (!name) {
      fail (error, "\"type\" must be a string");
      return std::nullopt;
    }
    ok = parse_typed (object, *name, signal, error);
  } else {
    ok = parse_untyped (object, signal, error);
  }
  if (!ok)
    return std::nullopt;
  return signal;
}

std::string
serialize_peer_signal (const PeerSignal &signal)
{
  g_autoptr (JsonBuilder) builder = json_builder_new_immutable ();
  json_builder_begin_object (builder);
  add_string_member (builder, "type", peer_signal_type_name (signal.type));

  switch (signal.type) {
  case PeerSignal::Type::Offer:
  case PeerSignal::Type::Answer:
    add_string_member (builder, "sdp", signal.sdp);
    break;

  case PeerSignal::Type::Candidate:
    json_builder_set_member_name (builder, "candidate");
    json_builder_begin_object (builder);
    add_string_member (builder, "candidate", signal.candidate);
    if (signal.sdp_mline_index) {
      json_builder_set_member_name (builder, "sdpMLineIndex");
      json_builder_add_int_value (builder, *signal.sdp_mline_index);
    }
    if (signal.sdp_mid)
      add_string_member (builder, "sdpMid", *signal.sdp_mid);
    json_builder_end_object (builder);
    break;

  case PeerSignal::Type::Renegotiate:
    json_builder_set_member_name (builder, "renegotiate");
    json_builder_add_boolean_value (builder, TRUE);
    break;

  case PeerSignal::Type::TransceiverRequest: {
    json_builder_set_member_name (builder, "transceiverRequest");
    json_builder_begin_object (builder);
    add_string_member (builder, "kind", signal.kind);
    json_builder_set_member_name (builder, "init");
    /* init_json is ours to trust only so far: anything but an object
     * goes out as {} rather than as a shape simple-peer would choke on. */
    auto init = JsonValue::parse (signal.init_json, nullptr);
    if (init && JSON_NODE_HOLDS_OBJECT (init->node ())) {
      json_builder_add_value (builder, json_node_ref (init->node ()));
    } else {
      json_builder_begin_object (builder);
      json_builder_end_object (builder);
    }
    json_builder_end_object (builder);
    break;
  }
  }

  json_builder_end_object (builder);
  return builder_to_string (builder);
}

}  // namespace signalrtc
