/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "signalr-messages.h"

#include "protocol-error.h"

#include <cstdarg>

namespace signalrtc {

namespace {

/* Strict access to the members of one JSON object. Every failure sets an
 * INVALID_MESSAGE error prefixed with @what ("Invocation", "Handshake
 * request", …). As in ASP.NET Core's reader, a null where a string is
 * optional counts as absent. */
class FieldReader
{
 public:
  FieldReader (JsonObject *object, const char *what)
      : object_ (object), what_ (what)
  {}

  void set_what (const char *what) { what_ = what; }

  JsonNode *member (const char *name) const
  {
    return json_object_get_member (object_, name);
  }

  bool fail (GError **error, const char *format, ...) const G_GNUC_PRINTF (3, 4)
  {
    va_list args;
    va_start (args, format);
    g_autofree gchar *detail = g_strdup_vprintf (format, args);
    va_end (args);
    g_set_error (error, SIGNALRTC_PROTOCOL_ERROR,
                 SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE, "%s: %s", what_,
                 detail);
    return false;
  }

  bool optional_string (const char *name, std::optional<std::string> &out,
                        GError **error) const
  {
    JsonNode *node = member (name);
    if (!node || JSON_NODE_HOLDS_NULL (node))
      return true;
    out = JsonValue::ref (node).as_string ();
    if (!out)
      return fail (error, "\"%s\" must be a string", name);
    return true;
  }

  bool required_string (const char *name, std::string &out,
                        GError **error) const
  {
    std::optional<std::string> value;
    if (!optional_string (name, value, error))
      return false;
    if (!value)
      return fail (error, "missing \"%s\"", name);
    out = std::move (*value);
    return true;
  }

  bool optional_int (const char *name, std::optional<gint64> &out,
                     GError **error) const
  {
    JsonNode *node = member (name);
    if (!node)
      return true;
    if (!JSON_NODE_HOLDS_VALUE (node)
        || json_node_get_value_type (node) != G_TYPE_INT64)
      return fail (error, "\"%s\" must be an integer", name);
    out = json_node_get_int (node);
    return true;
  }

  bool optional_bool (const char *name, std::optional<bool> &out,
                      GError **error) const
  {
    JsonNode *node = member (name);
    if (!node)
      return true;
    if (!JSON_NODE_HOLDS_VALUE (node)
        || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
      return fail (error, "\"%s\" must be a boolean", name);
    out = json_node_get_boolean (node);
    return true;
  }

 private:
  JsonObject *object_;
  const char *what_;
};

/* The builder takes a reference; JSON null for an absent value. */
void
add_value (JsonBuilder *builder, const JsonValue &value)
{
  if (value)
    json_builder_add_value (builder, json_node_ref (value.node ()));
  else
    json_builder_add_null_value (builder);
}

/* The fields of every message type read and type-checked, whatever the
 * type: a known field of the wrong JSON type is an error even where the
 * type does not use it (as in ASP.NET Core, which reads fields before it
 * knows the type). */
struct RawFields
{
  std::optional<std::string> invocation_id;
  std::optional<std::string> target;
  JsonArray *arguments = nullptr;
  std::vector<std::string> stream_ids;
  std::map<std::string, std::string> headers;
  JsonNode *item = nullptr;
  JsonNode *result = nullptr;
  std::optional<std::string> error;
  std::optional<bool> allow_reconnect;
  std::optional<gint64> sequence_id;
};

bool
read_fields (const FieldReader &reader, RawFields &f, GError **error)
{
  if (!reader.optional_string ("invocationId", f.invocation_id, error)
      || !reader.optional_string ("target", f.target, error)
      || !reader.optional_string ("error", f.error, error)
      || !reader.optional_bool ("allowReconnect", f.allow_reconnect, error)
      || !reader.optional_int ("sequenceId", f.sequence_id, error))
    return false;

  if (JsonNode *node = reader.member ("arguments")) {
    if (!JSON_NODE_HOLDS_ARRAY (node))
      return reader.fail (error, "\"arguments\" must be an array");
    f.arguments = json_node_get_array (node);
  }

  if (JsonNode *node = reader.member ("streamIds")) {
    if (!JSON_NODE_HOLDS_ARRAY (node))
      return reader.fail (error, "\"streamIds\" must be an array");
    JsonArray *array = json_node_get_array (node);
    guint n = json_array_get_length (array);
    for (guint i = 0; i < n; i++) {
      auto id = JsonValue::ref (json_array_get_element (array, i)).as_string ();
      if (!id)
        return reader.fail (error, "\"streamIds\" must hold strings");
      f.stream_ids.push_back (std::move (*id));
    }
  }

  if (JsonNode *node = reader.member ("headers")) {
    if (!JSON_NODE_HOLDS_OBJECT (node))
      return reader.fail (error, "\"headers\" must be an object");
    JsonObjectIter iter;
    const gchar *name;
    JsonNode *value_node;
    json_object_iter_init (&iter, json_node_get_object (node));
    while (json_object_iter_next (&iter, &name, &value_node)) {
      auto value = JsonValue::ref (value_node).as_string ();
      if (!value)
        return reader.fail (error, "header \"%s\" must be a string", name);
      f.headers[name] = std::move (*value);
    }
  }

  f.item = reader.member ("item");
  f.result = reader.member ("result");
  return true;
}

}  // namespace

std::optional<HandshakeRequest>
parse_handshake_request (std::string_view record, GError **error)
{
  auto value = JsonValue::parse_object (record, "Handshake request", error);
  if (!value)
    return std::nullopt;
  FieldReader reader (json_node_get_object (value->node ()),
                      "Handshake request");

  HandshakeRequest request;
  std::optional<gint64> version;
  if (!reader.required_string ("protocol", request.protocol, error)
      || !reader.optional_int ("version", version, error))
    return std::nullopt;
  if (!version) {
    reader.fail (error, "missing \"version\"");
    return std::nullopt;
  }
  if (*version < G_MININT || *version > G_MAXINT) {
    reader.fail (error, "\"version\" is out of range");
    return std::nullopt;
  }
  request.version = static_cast<int> (*version);
  return request;
}

std::string
serialize_handshake_request (const HandshakeRequest &request)
{
  g_autoptr (JsonBuilder) builder = json_builder_new_immutable ();
  json_builder_begin_object (builder);
  add_string_member (builder, "protocol", request.protocol);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, request.version);
  json_builder_end_object (builder);
  return builder_to_string (builder);
}

std::optional<HandshakeResponse>
parse_handshake_response (std::string_view record, GError **error)
{
  auto value = JsonValue::parse_object (record, "Handshake response", error);
  if (!value)
    return std::nullopt;
  FieldReader reader (json_node_get_object (value->node ()),
                      "Handshake response");

  HandshakeResponse response;
  if (!reader.optional_string ("error", response.error, error))
    return std::nullopt;
  return response;
}

std::string
serialize_handshake_response (const HandshakeResponse &response)
{
  g_autoptr (JsonBuilder) builder = json_builder_new_immutable ();
  json_builder_begin_object (builder);
  if (response.error)
    add_string_member (builder, "error", *response.error);
  json_builder_end_object (builder);
  return builder_to_string (builder);
}

const char *
message_type_name (MessageType type)
{
  switch (type) {
  case MessageType::Invocation:
    return "Invocation";
  case MessageType::StreamItem:
    return "StreamItem";
  case MessageType::Completion:
    return "Completion";
  case MessageType::StreamInvocation:
    return "StreamInvocation";
  case MessageType::CancelInvocation:
    return "CancelInvocation";
  case MessageType::Ping:
    return "Ping";
  case MessageType::Close:
    return "Close";
  case MessageType::Ack:
    return "Ack";
  case MessageType::Sequence:
    return "Sequence";
  }
  return "Unknown";
}

std::optional<std::string>
HubMessage::string_argument (gsize index) const
{
  if (index >= arguments.size ())
    return std::nullopt;
  return arguments[index].as_string ();
}

std::optional<HubMessage>
parse_message (std::string_view record, GError **error)
{
  auto value = JsonValue::parse_object (record, "Hub message", error);
  if (!value)
    return std::nullopt;
  FieldReader reader (json_node_get_object (value->node ()), "Hub message");

  std::optional<gint64> type;
  if (!reader.optional_int ("type", type, error))
    return std::nullopt;
  if (!type) {
    reader.fail (error, "missing \"type\"");
    return std::nullopt;
  }
  if (*type < static_cast<gint64> (MessageType::Invocation)
      || *type > static_cast<gint64> (MessageType::Sequence)) {
    g_set_error (error, SIGNALRTC_PROTOCOL_ERROR,
                 SIGNALRTC_PROTOCOL_ERROR_UNKNOWN_TYPE,
                 "Hub message: unknown type %" G_GINT64_FORMAT, *type);
    return std::nullopt;
  }

  HubMessage message;
  message.type = static_cast<MessageType> (*type);
  reader.set_what (message_type_name (message.type));

  RawFields f;
  if (!read_fields (reader, f, error))
    return std::nullopt;

  switch (message.type) {
  case MessageType::Invocation:
  case MessageType::StreamInvocation:
    if (message.type == MessageType::StreamInvocation && !f.invocation_id) {
      reader.fail (error, "missing \"invocationId\"");
      return std::nullopt;
    }
    /* ASP.NET Core takes an empty target as a missing one. */
    if (!f.target || f.target->empty ()) {
      reader.fail (error, "missing \"target\"");
      return std::nullopt;
    }
    if (!f.arguments) {
      reader.fail (error, "missing \"arguments\"");
      return std::nullopt;
    }
    message.invocation_id = std::move (f.invocation_id);
    message.target = std::move (*f.target);
    for (guint i = 0, n = json_array_get_length (f.arguments); i < n; i++)
      message.arguments.push_back (
          JsonValue::ref (json_array_get_element (f.arguments, i)));
    message.stream_ids = std::move (f.stream_ids);
    message.headers = std::move (f.headers);
    break;

  case MessageType::StreamItem:
    if (!f.invocation_id) {
      reader.fail (error, "missing \"invocationId\"");
      return std::nullopt;
    }
    if (!f.item) {
      reader.fail (error, "missing \"item\"");
      return std::nullopt;
    }
    message.invocation_id = std::move (f.invocation_id);
    message.item = JsonValue::ref (f.item);
    break;

  case MessageType::Completion:
    if (!f.invocation_id) {
      reader.fail (error, "missing \"invocationId\"");
      return std::nullopt;
    }
    if (f.error && f.result) {
      reader.fail (error, "\"error\" and \"result\" are mutually exclusive");
      return std::nullopt;
    }
    message.invocation_id = std::move (f.invocation_id);
    message.error = std::move (f.error);
    message.result = JsonValue::ref (f.result);
    break;

  case MessageType::CancelInvocation:
    if (!f.invocation_id) {
      reader.fail (error, "missing \"invocationId\"");
      return std::nullopt;
    }
    message.invocation_id = std::move (f.invocation_id);
    break;

  case MessageType::Ping:
    break;

  case MessageType::Close:
    message.error = std::move (f.error);
    message.allow_reconnect = f.allow_reconnect;
    break;

  case MessageType::Ack:
  case MessageType::Sequence:
    if (!f.sequence_id) {
      reader.fail (error, "missing \"sequenceId\"");
      return std::nullopt;
    }
    message.sequence_id = *f.sequence_id;
    break;
  }
  return message;
}

std::string
serialize_message (const HubMessage &message)
{
  g_autoptr (JsonBuilder) builder = json_builder_new_immutable ();
  json_builder_begin_object (builder);
  /* ASP.NET Core's order: type, headers, invocationId, then the rest. */
  json_builder_set_member_name (builder, "type");
  json_builder_add_int_value (builder, static_cast<gint64> (message.type));

  switch (message.type) {
  case MessageType::Invocation:
  case MessageType::StreamInvocation:
    if (!message.headers.empty ()) {
      json_builder_set_member_name (builder, "headers");
      json_builder_begin_object (builder);
      for (const auto &[name, value] : message.headers) {
        /* A member name is written as it is: keep it valid UTF-8. */
        g_autofree gchar *valid_name = g_utf8_make_valid (
            name.data (), static_cast<gssize> (name.size ()));
        add_string_member (builder, valid_name, value);
      }
      json_builder_end_object (builder);
    }
    if (message.invocation_id)
      add_string_member (builder, "invocationId", *message.invocation_id);
    add_string_member (builder, "target", message.target);
    json_builder_set_member_name (builder, "arguments");
    json_builder_begin_array (builder);
    for (const auto &argument : message.arguments)
      add_value (builder, argument);
    json_builder_end_array (builder);
    if (!message.stream_ids.empty ()) {
      json_builder_set_member_name (builder, "streamIds");
      json_builder_begin_array (builder);
      for (const auto &id : message.stream_ids)
        add_string (builder, id);
      json_builder_end_array (builder);
    }
    break;

  case MessageType::StreamItem:
    if (message.invocation_id)
      add_string_member (builder, "invocationId", *message.invocation_id);
    json_builder_set_member_name (builder, "item");
    add_value (builder, message.item);
    break;

  case MessageType::Completion:
    if (message.invocation_id)
      add_string_member (builder, "invocationId", *message.invocation_id);
    if (message.error) {
      add_string_member (builder, "error", *message.error);
    } else if (message.result) {
      json_builder_set_member_name (builder, "result");
      add_value (builder, message.result);
    }
    break;

  case MessageType::CancelInvocation:
    if (message.invocation_id)
      add_string_member (builder, "invocationId", *message.invocation_id);
    break;

  case MessageType::Ping:
    break;

  case MessageType::Close:
    if (message.error)
      add_string_member (builder, "error", *message.error);
    if (message.allow_reconnect) {
      json_builder_set_member_name (builder, "allowReconnect");
      json_builder_add_boolean_value (builder, *message.allow_reconnect);
    }
    break;

  case MessageType::Ack:
  case MessageType::Sequence:
    json_builder_set_member_name (builder, "sequenceId");
    json_builder_add_int_value (builder, message.sequence_id);
    break;
  }

  json_builder_end_object (builder);
  return builder_to_string (builder);
}

HubMessage
make_invocation (std::string target, std::vector<JsonValue> arguments,
                 std::optional<std::string> invocation_id)
{
  HubMessage message;
  message.type = MessageType::Invocation;
  message.target = std::move (target);
  message.arguments = std::move (arguments);
  message.invocation_id = std::move (invocation_id);
  return message;
}

HubMessage
make_completion (std::string invocation_id, JsonValue result)
{
  HubMessage message;
  message.type = MessageType::Completion;
  message.invocation_id = std::move (invocation_id);
  message.result = std::move (result);
  return message;
}

HubMessage
make_completion_error (std::string invocation_id, std::string error)
{
  HubMessage message;
  message.type = MessageType::Completion;
  message.invocation_id = std::move (invocation_id);
  message.error = std::move (error);
  return message;
}

HubMessage
make_ping ()
{
  return HubMessage ();
}

HubMessage
make_close (std::optional<std::string> error,
            std::optional<bool> allow_reconnect)
{
  HubMessage message;
  message.type = MessageType::Close;
  message.error = std::move (error);
  message.allow_reconnect = allow_reconnect;
  return message;
}

}  // namespace signalrtc
