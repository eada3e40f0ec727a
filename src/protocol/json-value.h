/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

#include <optional>
#include <string>
#include <string_view>

namespace signalrtc {

/* JsonValue::parse (and so every codec) refuses JSON nested deeper than this
 * many arrays and objects: json-glib's parser recurses once per level and
 * would overflow the stack on a few hundred thousand '['. */
inline constexpr guint kMaxJsonDepth = 64;

/* An owned reference to an immutable JsonNode (json-glib nodes are
 * reference counted), so that messages holding arbitrary JSON values can be
 * copied cheaply. An empty JsonValue means "absent", which is not the same
 * as JSON null. */
class JsonValue
{
 public:
  JsonValue () = default;
  /* Takes ownership of @node (may be nullptr). */
  static JsonValue adopt (JsonNode *node);
  /* Adds a reference to @node. */
  static JsonValue ref (JsonNode *node);

  static JsonValue from_string (std::string_view s);
  static JsonValue from_int (gint64 v);
  static JsonValue from_bool (bool v);
  static JsonValue null ();
  /* Parses @json; nullopt and @error set when it is not valid JSON. */
  static std::optional<JsonValue> parse (std::string_view json, GError **error);
  /* Parses @json, which must be an object: otherwise nullopt and
   * SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE "@what: not a JSON object". */
  static std::optional<JsonValue>
  parse_object (std::string_view json, const char *what, GError **error);

  JsonValue (const JsonValue &other);
  JsonValue (JsonValue &&other) noexcept;
  JsonValue &operator= (const JsonValue &other);
  JsonValue &operator= (JsonValue &&other) noexcept;
  ~JsonValue ();

  explicit operator bool () const { return node_ != nullptr; }
  JsonNode *node () const { return node_; }

  bool is_string () const;
  /* The string value, or nullopt when this is not a JSON string. */
  std::optional<std::string> as_string () const;
  /* Compact JSON text of the value ("" when absent). */
  std::string to_json () const;

  bool operator== (const JsonValue &other) const;

 private:
  explicit JsonValue (JsonNode *owned) : node_ (owned) {}
  JsonNode *node_ = nullptr;
};

/* JsonBuilder helpers for the codecs. Strings go through
 * JsonValue::from_string, so invalid UTF-8 never reaches the output. */
void add_string (JsonBuilder *builder, const std::string &value);
void add_string_member (JsonBuilder *builder, const char *name,
                        const std::string &value);
/* Compact JSON text of what @builder built. */
std::string builder_to_string (JsonBuilder *builder);

/* Compact JSON text of @node. */
std::string json_to_string (JsonNode *node);

}  // namespace signalrtc
