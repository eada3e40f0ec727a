/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "negotiate.h"

#include "json-value.h"
#include "protocol-error.h"

namespace signalrtc {

namespace {

bool
fail (GError **error, const std::string &detail)
{
  g_set_error (error, SIGNALRTC_PROTOCOL_ERROR,
               SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE,
               "Negotiate response: %s", detail.c_str ());
  return false;
}

/* Absent (or null) leaves @out unset; another non-string is an error. */
bool
optional_string (JsonObject *object, const char *name,
                 std::optional<std::string> &out, GError **error)
{
  JsonNode *node = json_object_get_member (object, name);
  if (!node || JSON_NODE_HOLDS_NULL (node))
    return true;
  out = JsonValue::ref (node).as_string ();
  if (!out)
    return fail (error, std::string ("\"") + name + "\" must be a string");
  return true;
}

bool
required_string (JsonObject *object, const char *name, std::string &out,
                 GError **error)
{
  std::optional<std::string> value;
  if (!optional_string (object, name, value, error))
    return false;
  if (!value)
    return fail (error, std::string ("missing \"") + name + "\"");
  out = std::move (*value);
  return true;
}

bool
parse_transports (JsonNode *node, std::vector<AvailableTransport> &out,
                  GError **error)
{
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return fail (error, "\"availableTransports\" must be an array");
  JsonArray *array = json_node_get_array (node);
  for (guint i = 0, n = json_array_get_length (array); i < n; i++) {
    JsonNode *element = json_array_get_element (array, i);
    if (!JSON_NODE_HOLDS_OBJECT (element))
      return fail (error, "\"availableTransports\" must hold objects");
    JsonObject *object = json_node_get_object (element);

    AvailableTransport transport;
    if (!required_string (object, "transport", transport.transport, error))
      return false;
    JsonNode *formats = json_object_get_member (object, "transferFormats");
    if (!formats)
      return fail (error, "missing \"transferFormats\"");
    if (!JSON_NODE_HOLDS_ARRAY (formats))
      return fail (error, "\"transferFormats\" must be an array");
    JsonArray *formats_array = json_node_get_array (formats);
    for (guint j = 0, m = json_array_get_length (formats_array); j < m; j++) {
      auto format = JsonValue::ref (json_array_get_element (formats_array, j))
                        .as_string ();
      if (!format)
        return fail (error, "\"transferFormats\" must hold strings");
      transport.transfer_formats.push_back (std::move (*format));
    }
    out.push_back (std::move (transport));
  }
  return true;
}

}  // namespace

const std::string &
NegotiateResponse::transport_id () const
{
  return negotiate_version >= 1 ? connection_token : connection_id;
}

bool
NegotiateResponse::supports_websockets_text () const
{
  for (const auto &transport : available_transports) {
    if (transport.transport != "WebSockets")
      continue;
    for (const auto &format : transport.transfer_formats) {
      if (format == "Text")
        return true;
    }
  }
  return false;
}

std::optional<NegotiateResponse>
parse_negotiate_response (std::string_view json, GError **error)
{
  auto value = JsonValue::parse_object (json, "Negotiate response", error);
  if (!value)
    return std::nullopt;
  JsonObject *object = json_node_get_object (value->node ());

  NegotiateResponse response;
  std::optional<std::string> error_text;
  std::optional<std::string> url;
  if (!optional_string (object, "error", error_text, error)
      || !optional_string (object, "url", url, error))
    return std::nullopt;

  if (error_text) {
    response.kind = NegotiateResponse::Kind::Error;
    response.error = std::move (*error_text);
    return response;
  }

  if (url) {
    std::optional<std::string> access_token;
    if (!optional_string (object, "accessToken", access_token, error))
      return std::nullopt;
    response.kind = NegotiateResponse::Kind::Redirect;
    response.url = std::move (*url);
    response.access_token = access_token.value_or ("");
    return response;
  }

  response.kind = NegotiateResponse::Kind::Connection;
  if (JsonNode *node = json_object_get_member (object, "negotiateVersion")) {
    if (!JSON_NODE_HOLDS_VALUE (node)
        || json_node_get_value_type (node) != G_TYPE_INT64) {
      fail (error, "\"negotiateVersion\" must be an integer");
      return std::nullopt;
    }
    gint64 version = json_node_get_int (node);
    if (version < 0 || version > G_MAXINT) {
      fail (error, "\"negotiateVersion\" is out of range");
      return std::nullopt;
    }
    response.negotiate_version = static_cast<int> (version);
  }

  if (!required_string (object, "connectionId", response.connection_id, error))
    return std::nullopt;
  if (response.negotiate_version >= 1
      && !required_string (object, "connectionToken", response.connection_token,
                           error))
    return std::nullopt;

  if (JsonNode *node = json_object_get_member (object, "availableTransports")) {
    if (!parse_transports (node, response.available_transports, error))
      return std::nullopt;
  }
  return response;
}

std::string
serialize_negotiate_response (const NegotiateResponse &response)
{
  g_autoptr (JsonBuilder) builder = json_builder_new_immutable ();
  json_builder_begin_object (builder);

  switch (response.kind) {
  case NegotiateResponse::Kind::Error:
    add_string_member (builder, "error", response.error);
    break;

  case NegotiateResponse::Kind::Redirect:
    add_string_member (builder, "url", response.url);
    if (!response.access_token.empty ())
      add_string_member (builder, "accessToken", response.access_token);
    break;

  case NegotiateResponse::Kind::Connection:
    /* Version 0 (the 1.x JS client) knows neither key. */
    if (response.negotiate_version >= 1) {
      json_builder_set_member_name (builder, "negotiateVersion");
      json_builder_add_int_value (builder, response.negotiate_version);
    }
    add_string_member (builder, "connectionId", response.connection_id);
    if (response.negotiate_version >= 1)
      add_string_member (builder, "connectionToken", response.connection_token);
    json_builder_set_member_name (builder, "availableTransports");
    json_builder_begin_array (builder);
    for (const auto &transport : response.available_transports) {
      json_builder_begin_object (builder);
      add_string_member (builder, "transport", transport.transport);
      json_builder_set_member_name (builder, "transferFormats");
      json_builder_begin_array (builder);
      for (const auto &format : transport.transfer_formats)
        add_string (builder, format);
      json_builder_end_array (builder);
      json_builder_end_object (builder);
    }
    json_builder_end_array (builder);
    break;
  }

  json_builder_end_object (builder);
  return builder_to_string (builder);
}

}  // namespace signalrtc
