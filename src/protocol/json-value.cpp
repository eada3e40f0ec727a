/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "json-value.h"

#include "protocol-error.h"

#include <cmath>

namespace signalrtc {

namespace {

bool
is_json_space (char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

gboolean
set_invalid_json (GError **error, gsize offset, const char *what)
{
  g_set_error (error, SIGNALRTC_PROTOCOL_ERROR,
               SIGNALRTC_PROTOCOL_ERROR_INVALID_JSON,
               "Invalid JSON at byte %" G_GSIZE_FORMAT ": %s", offset, what);
  return FALSE;
}

gsize
skip_digits (std::string_view s, gsize i)
{
  while (i < s.size () && g_ascii_isdigit (s[i]))
    i++;
  return i;
}

/* One number token against JSON's grammar,
 * -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)? (json-glib also takes "01", ".5",
 * "1."), and an integer must fit in gint64: json-glib silently wraps larger
 * ones. */
bool
check_number (std::string_view token, gsize offset, GError **error)
{
  gsize i = 0;
  bool negative = false;
  if (i < token.size () && token[i] == '-') {
    negative = true;
    i++;
  }
  gsize int_start = i;
  i = skip_digits (token, i);
  gsize int_len = i - int_start;
  if (int_len == 0 || (int_len > 1 && token[int_start] == '0'))
    return set_invalid_json (error, offset, "malformed number");

  bool integer = true;
  if (i < token.size () && token[i] == '.') {
    integer = false;
    gsize start = ++i;
    i = skip_digits (token, i);
    if (i == start)
      return set_invalid_json (error, offset, "malformed number");
  }
  if (i < token.size () && (token[i] == 'e' || token[i] == 'E')) {
    integer = false;
    i++;
    if (i < token.size () && (token[i] == '+' || token[i] == '-'))
      i++;
    gsize start = i;
    i = skip_digits (token, i);
    if (i == start)
      return set_invalid_json (error, offset, "malformed number");
  }
  if (i != token.size ())
    return set_invalid_json (error, offset, "malformed number");

  if (integer) {
    /* No leading zeros here, so the length orders the magnitudes. */
    std::string_view digits = token.substr (int_start, int_len);
    std::string_view limit
        = negative ? "9223372036854775808" : "9223372036854775807";
    if (digits.size () > limit.size ()
        || (digits.size () == limit.size () && digits > limit))
      return set_invalid_json (error, offset,
                               "integer out of the 64-bit range");
  }
  return true;
}

/* The \uXXXX at @i, or -1. */
gint
read_hex4 (std::string_view s, gsize i)
{
  if (i + 6 > s.size () || s[i] != '\\' || s[i + 1] != 'u')
    return -1;
  gint value = 0;
  for (gsize k = i + 2; k < i + 6; k++) {
    gint digit = g_ascii_xdigit_value (s[k]);
    if (digit < 0)
      return -1;
    value = value * 16 + digit;
  }
  return value;
}

/* The escape at @i (a backslash in a string): its length, or 0 with @error
 * set. json-glib (GScanner underneath) also takes octal escapes, unknown
 * letters and lone surrogates, and then yields strings that are not UTF-8;
 * only JSON's escapes pass here. */
gsize
check_escape (std::string_view s, gsize i, GError **error)
{
  if (i + 1 >= s.size ()) {
    set_invalid_json (error, i, "unterminated string");
    return 0;
  }
  switch (s[i + 1]) {
  case '"':
  case '\\':
  case '/':
  case 'b':
  case 'f':
  case 'n':
  case 'r':
  case 't':
    return 2;
  case 'u':
    break;
  default:
    set_invalid_json (error, i, "invalid escape in a string");
    return 0;
  }

  gint unit = read_hex4 (s, i);
  if (unit < 0) {
    set_invalid_json (error, i, "invalid \\u escape");
    return 0;
  }
  if (unit == 0) {
    /* Valid JSON, but json-glib hands strings out NUL-terminated: the rest
     * of the string would silently go. */
    g_set_error (error, SIGNALRTC_PROTOCOL_ERROR,
                 SIGNALRTC_PROTOCOL_ERROR_UNSUPPORTED,
                 "JSON at byte %" G_GSIZE_FORMAT ": \\u0000 in a string is "
                 "not supported",
                 i);
    return 0;
  }
  if (unit >= 0xdc00 && unit <= 0xdfff) {
    set_invalid_json (error, i, "lone low surrogate");
    return 0;
  }
  if (unit >= 0xd800 && unit <= 0xdbff) {
    gint low = read_hex4 (s, i + 6);
    if (low < 0xdc00 || low > 0xdfff) {
      set_invalid_json (error, i, "lone high surrogate");
      return 0;
    }
    return 12;
  }
  return 6;
}

/* A lexical pass before json-glib sees the text. It does not build anything;
 * it refuses what json-glib would mishandle: nesting deeper than
 * kMaxJsonDepth (json-glib recurses per level and overflows the stack),
 * integers it would wrap, data after the value (json-glib keeps the first of
 * "{} []"), and its extensions that could hide brackets from this count
 * (single quotes, comments), escapes that are not JSON's (see
 * check_escape), plus raw control characters in strings, which JSON
 * forbids. */
bool
check_json_text (std::string_view text, GError **error)
{
  if (!g_utf8_validate_len (text.data (), text.size (), nullptr)) {
    g_set_error_literal (error, SIGNALRTC_PROTOCOL_ERROR,
                         SIGNALRTC_PROTOCOL_ERROR_INVALID_JSON,
                         "Invalid JSON: not valid UTF-8 (or holds a NUL)");
    return false;
  }

  guint depth = 0;
  bool in_string = false;
  bool started = false;
  bool finished = false;

  for (gsize i = 0; i < text.size (); i++) {
    char c = text[i];
    if (in_string) {
      if (static_cast<guchar> (c) < 0x20)
        return set_invalid_json (error, i, "control character in a string");
      if (c == '\\') {
        gsize length = check_escape (text, i, error);
        if (length == 0)
          return false;
        i += length - 1;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (is_json_space (c))
      continue;
    if (finished)
      return set_invalid_json (error, i, "data after the JSON value");
    started = true;

    switch (c) {
    case '"':
      in_string = true;
      break;
    case '[':
    case '{':
      if (++depth > kMaxJsonDepth) {
        g_set_error (error, SIGNALRTC_PROTOCOL_ERROR,
                     SIGNALRTC_PROTOCOL_ERROR_INVALID_JSON,
                     "Invalid JSON: nested deeper than %u levels",
                     kMaxJsonDepth);
        return false;
      }
      break;
    case ']':
    case '}':
      if (depth == 0)
        return set_invalid_json (error, i, "unbalanced bracket");
      if (--depth == 0)
        finished = true;
      break;
    case ',':
    case ':':
      break;
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9': {
      gsize end = i;
      while (end < text.size ()
             && (g_ascii_isdigit (text[end]) || text[end] == '-'
                 || text[end] == '+' || text[end] == '.' || text[end] == 'e'
                 || text[end] == 'E'))
        end++;
      if (!check_number (text.substr (i, end - i), i, error))
        return false;
      i = end - 1;
      break;
    }
    case 't':
    case 'f':
    case 'n': {
      std::string_view literal
          = c == 't' ? "true" : (c == 'f' ? "false" : "null");
      if (text.substr (i, literal.size ()) != literal)
        return set_invalid_json (error, i, "unknown literal");
      i += literal.size () - 1;
      break;
    }
    default:
      return set_invalid_json (error, i, "unexpected character");
    }
  }

  if (in_string)
    return set_invalid_json (error, text.size (), "unterminated string");
  if (!started) {
    g_set_error_literal (error, SIGNALRTC_PROTOCOL_ERROR,
                         SIGNALRTC_PROTOCOL_ERROR_INVALID_JSON,
                         "Invalid JSON: empty");
    return false;
  }
  return true;
}

/* What json-glib accepted but cannot write back: it reads 1e400 as
 * infinity (and would write "inf.0"); a string that is not UTF-8 should not
 * get past check_json_text, but the generator would copy it as it is. */
const char *
check_tree (JsonNode *node)
{
  switch (JSON_NODE_TYPE (node)) {
  case JSON_NODE_OBJECT: {
    JsonObjectIter iter;
    const gchar *name;
    JsonNode *member;
    json_object_iter_init (&iter, json_node_get_object (node));
    while (json_object_iter_next (&iter, &name, &member)) {
      if (!g_utf8_validate (name, -1, nullptr))
        return "member name is not UTF-8";
      if (const char *problem = check_tree (member))
        return problem;
    }
    return nullptr;
  }
  case JSON_NODE_ARRAY: {
    JsonArray *array = json_node_get_array (node);
    guint n = json_array_get_length (array);
    for (guint i = 0; i < n; i++) {
      if (const char *problem = check_tree (json_array_get_element (array, i)))
        return problem;
    }
    return nullptr;
  }
  case JSON_NODE_VALUE:
    if (json_node_get_value_type (node) == G_TYPE_DOUBLE
        && !std::isfinite (json_node_get_double (node)))
      return "number out of range";
    if (json_node_get_value_type (node) == G_TYPE_STRING
        && !g_utf8_validate (json_node_get_string (node), -1, nullptr))
      return "string is not UTF-8";
    return nullptr;
  case JSON_NODE_NULL:
    break;
  }
  return nullptr;
}

/* json-glib 1.6 writes a double with g_ascii_dtostr ("%.17g") and appends
 * ".0" when the text has no '.', so 2e20 comes out as "2e+20.0", which is
 * not JSON: any peer that sent such a number would make us send invalid
 * records to everyone. Drop that ".0" after an exponent (outside strings;
 * valid JSON never has it there, so this is a no-op on a fixed json-glib). */
void
repair_exponents (std::string &text)
{
  if (text.find (".0") == std::string::npos)
    return;

  std::string out;
  out.reserve (text.size ());
  bool in_string = false;
  for (gsize i = 0; i < text.size (); i++) {
    char c = text[i];
    out.push_back (c);
    if (in_string) {
      if (c == '\\' && i + 1 < text.size ())
        out.push_back (text[++i]);
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
      continue;
    }
    if (c != 'e' && c != 'E')
      continue;
    /* [eE][+-]?digits, then the bogus ".0" (true and false have an 'e'
     * followed by no digit, and stay as they are). */
    gsize j = i + 1;
    if (j < text.size () && (text[j] == '+' || text[j] == '-'))
      j++;
    gsize digits = skip_digits (text, j);
    if (digits == j)
      continue;
    out.append (text, i + 1, digits - i - 1);
    i = digits - 1;
    if (text.compare (digits, 2, ".0") == 0
        && (digits + 2 == text.size () || !g_ascii_isdigit (text[digits + 2])))
      i = digits + 1;
  }
  text = std::move (out);
}

}  // namespace

std::optional<JsonValue>
JsonValue::parse_object (std::string_view json, const char *what,
                         GError **error)
{
  auto value = parse (json, error);
  if (!value)
    return std::nullopt;
  if (!JSON_NODE_HOLDS_OBJECT (value->node ())) {
    g_set_error (error, SIGNALRTC_PROTOCOL_ERROR,
                 SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE,
                 "%s: not a JSON object", what);
    return std::nullopt;
  }
  return value;
}

JsonValue
JsonValue::adopt (JsonNode *node)
{
  return JsonValue (node);
}

JsonValue
JsonValue::ref (JsonNode *node)
{
  return JsonValue (node ? json_node_ref (node) : nullptr);
}

JsonValue
JsonValue::from_string (std::string_view s)
{
  JsonNode *node = json_node_new (JSON_NODE_VALUE);
  /* The generator copies string bytes as they are: keep the output valid
   * UTF-8 (this also turns NULs into U+FFFD rather than cutting there). */
  if (g_utf8_validate_len (s.data (), s.size (), nullptr)) {
    std::string copy (s);
    json_node_set_string (node, copy.c_str ());
  } else {
    g_autofree gchar *valid
        = g_utf8_make_valid (s.data (), static_cast<gssize> (s.size ()));
    json_node_set_string (node, valid);
  }
  json_node_seal (node);
  return JsonValue (node);
}

JsonValue
JsonValue::from_int (gint64 v)
{
  JsonNode *node = json_node_new (JSON_NODE_VALUE);
  json_node_set_int (node, v);
  json_node_seal (node);
  return JsonValue (node);
}

JsonValue
JsonValue::from_bool (bool v)
{
  JsonNode *node = json_node_new (JSON_NODE_VALUE);
  json_node_set_boolean (node, v);
  json_node_seal (node);
  return JsonValue (node);
}

JsonValue
JsonValue::null ()
{
  JsonNode *node = json_node_new (JSON_NODE_NULL);
  json_node_seal (node);
  return JsonValue (node);
}

std::optional<JsonValue>
JsonValue::parse (std::string_view json, GError **error)
{
  if (!check_json_text (json, error))
    return std::nullopt;

  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GError) parse_error = nullptr;
  if (!json_parser_load_from_data (parser, json.data (),
                                   static_cast<gssize> (json.size ()),
                                   &parse_error)) {
    g_set_error (error, SIGNALRTC_PROTOCOL_ERROR,
                 SIGNALRTC_PROTOCOL_ERROR_INVALID_JSON, "Invalid JSON: %s",
                 parse_error->message);
    return std::nullopt;
  }

  JsonValue value = adopt (json_parser_steal_root (parser));
  if (!value) {
    g_set_error_literal (error, SIGNALRTC_PROTOCOL_ERROR,
                         SIGNALRTC_PROTOCOL_ERROR_INVALID_JSON,
                         "Invalid JSON: empty");
    return std::nullopt;
  }
  if (const char *problem = check_tree (value.node ())) {
    g_set_error (error, SIGNALRTC_PROTOCOL_ERROR,
                 SIGNALRTC_PROTOCOL_ERROR_INVALID_JSON, "Invalid JSON: %s",
                 problem);
    return std::nullopt;
  }
  return value;
}

JsonValue::JsonValue (const JsonValue &other)
    : node_ (other.node_ ? json_node_ref (other.node_) : nullptr)
{}

JsonValue::JsonValue (JsonValue &&other) noexcept : node_ (other.node_)
{
  other.node_ = nullptr;
}

JsonValue &
JsonValue::operator= (const JsonValue &other)
{
  if (this != &other) {
    JsonNode *old = node_;
    node_ = other.node_ ? json_node_ref (other.node_) : nullptr;
    if (old)
      json_node_unref (old);
  }
  return *this;
}

JsonValue &
JsonValue::operator= (JsonValue &&other) noexcept
{
  if (this != &other) {
    if (node_)
      json_node_unref (node_);
    node_ = other.node_;
    other.node_ = nullptr;
  }
  return *this;
}

JsonValue::~JsonValue ()
{
  if (node_)
    json_node_unref (node_);
}

bool
JsonValue::is_string () const
{
  return node_ && JSON_NODE_HOLDS_VALUE (node_)
         && json_node_get_value_type (node_) == G_TYPE_STRING;
}

std::optional<std::string>
JsonValue::as_string () const
{
  if (!is_string ())
    return std::nullopt;
  const char *s = json_node_get_string (node_);
  return std::string (s ? s : "");
}

std::string
JsonValue::to_json () const
{
  return json_to_string (node_);
}

bool
JsonValue::operator== (const JsonValue &other) const
{
  if (!node_ || !other.node_)
    return node_ == other.node_;
  return json_node_equal (node_, other.node_);
}

std::string
json_to_string (JsonNode *node)
{
  if (!node)
    return {};
  g_autofree gchar *text = ::json_to_string (node, FALSE);
  std::string result = text ? std::string (text) : std::string ();
  repair_exponents (result);
  return result;
}

void
add_string (JsonBuilder *builder, const std::string &value)
{
  json_builder_add_value (
      builder, json_node_ref (JsonValue::from_string (value).node ()));
}

void
add_string_member (JsonBuilder *builder, const char *name,
                   const std::string &value)
{
  json_builder_set_member_name (builder, name);
  add_string (builder, value);
}

std::string
builder_to_string (JsonBuilder *builder)
{
  g_autoptr (JsonNode) root = json_builder_get_root (builder);
  return json_to_string (root);
}

}  // namespace signalrtc
