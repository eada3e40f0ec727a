/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "user-info.h"

#include "json-value.h"
#include "protocol-error.h"

namespace signalrtc {

namespace {

bool
get_string_member (JsonObject *object, const char *name, std::string &out,
                   GError **error)
{
  JsonNode *node = json_object_get_member (object, name);
  if (!node) {
    g_set_error (error, SIGNALRTC_PROTOCOL_ERROR,
                 SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE,
                 "User info: missing \"%s\"", name);
    return false;
  }
  auto value = JsonValue::ref (node).as_string ();
  if (!value) {
    g_set_error (error, SIGNALRTC_PROTOCOL_ERROR,
                 SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE,
                 "User info: \"%s\" must be a string", name);
    return false;
  }
  out = std::move (*value);
  return true;
}

}  // namespace

std::string
serialize_user_info (const UserInfo &info)
{
  g_autoptr (JsonBuilder) builder = json_builder_new_immutable ();
  json_builder_begin_object (builder);
  add_string_member (builder, "userName", info.user_name);
  add_string_member (builder, "connectionId", info.connection_id);
  json_builder_end_object (builder);
  return builder_to_string (builder);
}

std::optional<UserInfo>
parse_user_info (std::string_view json, GError **error)
{
  auto value = JsonValue::parse_object (json, "User info", error);
  if (!value)
    return std::nullopt;
  JsonObject *object = json_node_get_object (value->node ());

  UserInfo info;
  if (!get_string_member (object, "userName", info.user_name, error)
      || !get_string_member (object, "connectionId", info.connection_id, error))
    return std::nullopt;
  return info;
}

}  // namespace signalrtc
