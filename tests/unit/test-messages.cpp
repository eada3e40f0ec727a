/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "protocol/protocol-error.h"
#include "protocol/signalr-messages.h"

#include <gtest/gtest.h>

#include <tuple>
#include <string>
#include <vector>

using namespace signalrtc;

namespace {

void
expect_error (const GError *error, gint code)
{
  ASSERT_NE (error, nullptr);
  EXPECT_EQ (error->domain, SIGNALRTC_PROTOCOL_ERROR);
  EXPECT_EQ (error->code, code) << error->message;
  EXPECT_STRNE (error->message, "");
}

JsonValue
json (const char *text)
{
  auto value = JsonValue::parse (text, nullptr);
  EXPECT_TRUE (value.has_value ()) << text;
  return value ? *value : JsonValue ();
}

/* Every field of a message as one comparable line. */
std::string
describe (const HubMessage &m)
{
  std::string s = message_type_name (m.type);
  if (m.invocation_id)
    s += " id=" + *m.invocation_id;
  if (!m.target.empty ())
    s += " target=" + m.target;
  if (m.type == MessageType::Invocation
      || m.type == MessageType::StreamInvocation || !m.arguments.empty ()) {
    s += " args=[";
    for (gsize i = 0; i < m.arguments.size (); i++)
      s += (i ? "," : "") + m.arguments[i].to_json ();
    s += "]";
  }
  if (!m.stream_ids.empty ()) {
    s += " streams=";
    for (const auto &id : m.stream_ids)
      s += id + ";";
  }
  if (!m.headers.empty ()) {
    s += " headers=";
    for (const auto &[k, v] : m.headers)
      s += k + ":" + v + ";";
  }
  if (m.item)
    s += " item=" + m.item.to_json ();
  if (m.result)
    s += " result=" + m.result.to_json ();
  if (m.error)
    s += " error=" + *m.error;
  if (m.allow_reconnect)
    s += std::string (" allowReconnect=") + (*m.allow_reconnect ? "1" : "0");
  if (m.type == MessageType::Ack || m.type == MessageType::Sequence)
    s += " seq=" + std::to_string (m.sequence_id);
  return s;
}

/* ---- JsonValue ---------------------------------------------------------- */

TEST (JsonValue, Basics)
{
  EXPECT_FALSE (JsonValue ());
  EXPECT_EQ (JsonValue ().to_json (), "");
  EXPECT_EQ (JsonValue::from_string ("a\"b").to_json (), "\"a\\\"b\"");
  EXPECT_EQ (JsonValue::from_string ("x").as_string (), "x");
  EXPECT_TRUE (JsonValue::from_string ("").is_string ());
  EXPECT_EQ (JsonValue::from_int (-42).to_json (), "-42");
  EXPECT_EQ (JsonValue::from_bool (true).to_json (), "true");
  EXPECT_EQ (JsonValue::null ().to_json (), "null");
  EXPECT_FALSE (JsonValue::null ().is_string ());
  EXPECT_EQ (JsonValue::from_int (1).as_string (), std::nullopt);
  /* The record separator must never appear raw inside a record. */
  EXPECT_EQ (JsonValue::from_string ("a\x1e").to_json (), "\"a\\u001e\"");
}

TEST (JsonValue, EmptyViews)
{
  EXPECT_EQ (JsonValue::from_string (std::string_view ()).to_json (), "\"\"");
  g_autoptr (GError) error = nullptr;
  EXPECT_FALSE (JsonValue::parse (std::string_view (), &error));
  expect_error (error, SIGNALRTC_PROTOCOL_ERROR_INVALID_JSON);
  g_clear_error (&error);
  EXPECT_FALSE (parse_message (std::string_view (), &error));
  expect_error (error, SIGNALRTC_PROTOCOL_ERROR_INVALID_JSON);
}

TEST (JsonValue, FromStringKeepsOutputValidUtf8)
{
  auto bad = JsonValue::from_string (std::string_view ("a\xff"
                                                       "b",
                                                       3));
  EXPECT_EQ (bad.as_string (), "a\xef\xbf\xbd"
                               "b");
  auto nul = JsonValue::from_string (std::string_view ("a\0b", 3));
  EXPECT_EQ (nul.as_string (), "a\xef\xbf\xbd"
                               "b");
  EXPECT_TRUE (JsonValue::parse (bad.to_json (), nullptr));
  auto utf8 = JsonValue::from_string ("h\xc3\xa9llo \xf0\x9f\x98\x80");
  EXPECT_EQ (utf8.as_string (), "h\xc3\xa9llo \xf0\x9f\x98\x80");
}

TEST (JsonValue, CopyMoveAndEquality)
{
  JsonValue a = json ("{\"x\":[1,2,{\"y\":null}],\"z\":\"s\"}");
  JsonValue b = a;
  EXPECT_EQ (a, b);
  EXPECT_EQ (a.node (), b.node ());
  JsonValue c = std::move (b);
  EXPECT_FALSE (b);
  EXPECT_EQ (a, c);
  b = c;
  EXPECT_EQ (a, b);
  const JsonValue &self = b;
  b = self; /* self-assignment keeps the value */
  EXPECT_EQ (a, b);
  c = JsonValue ();
  EXPECT_FALSE (c);
  EXPECT_EQ (c, JsonValue ());
  EXPECT_FALSE (a == c);
  EXPECT_EQ (json ("{\"z\":\"s\",\"x\":[1,2,{\"y\":null}]}"), a);
  EXPECT_FALSE (json ("[1,2]") == json ("[2,1]"));
  EXPECT_EQ (JsonValue::null (), json ("null"));
  EXPECT_FALSE (JsonValue::null () == JsonValue ());
  EXPECT_EQ (JsonValue::from_int (7), json ("7"));
  EXPECT_EQ (JsonValue::from_string ("7"), json ("\"7\""));
  EXPECT_FALSE (JsonValue::from_string ("7") == json ("7"));
}

TEST (JsonValue, AdoptAndRef)
{
  JsonNode *node = json_node_new (JSON_NODE_VALUE);
  json_node_set_int (node, 5);
  {
    JsonValue ref = JsonValue::ref (node);
    EXPECT_EQ (ref.to_json (), "5");
  }
  JsonValue owned = JsonValue::adopt (node);
  EXPECT_EQ (owned.to_json (), "5");
  EXPECT_FALSE (JsonValue::adopt (nullptr));
  EXPECT_FALSE (JsonValue::ref (nullptr));
  EXPECT_EQ (json_to_string (nullptr), "");
}

TEST (JsonValue, ParseAcceptsJson)
{
  const std::vector<std::pair<const char *, const char *>> rows = {
      {"{}", "{}"},
      {" [ 1 , -2 , 3.5 , true , false , null ] ",
       "[1,-2,3.5,true,false,null]"},
      {"\"\\u00e9\\/\\n\"", "\"\xc3\xa9/\\n\""},
      {"-9223372036854775808", "-9223372036854775808"},
      {"9223372036854775807", "9223372036854775807"},
      {"0", "0"},
      {"-0", "0"},
      {"1e2", "100.0"},
      {"1E-2", "0.01"},
      {"{\"a\":{\"b\":{\"c\":[]}}}", "{\"a\":{\"b\":{\"c\":[]}}}"},
      {"\"[[[[{{{\"", "\"[[[[{{{\""},
      {"\"\\\"[\"", "\"\\\"[\""},
      {"{\"a\":1,\"a\":2}", "{\"a\":2}"},
      {"\"\\ud83d\\ude00\\uFFFF\\u0001\"",
       "\"\xf0\x9f\x98\x80\xef\xbf\xbf\\u0001\""},
      {"\"\\b\\f\\n\\r\\t\\/\\\\\\\"\"", "\"\\b\\f\\n\\r\\t/\\\\\\\"\""},
  };
  for (const auto &[input, expected] : rows) {
    SCOPED_TRACE (input);
    g_autoptr (GError) error = nullptr;
    auto value = JsonValue::parse (input, &error);
    ASSERT_TRUE (value) << error->message;
    EXPECT_EQ (value->to_json (), expected);
  }
}

TEST (JsonValue, ParseRejectsBadJson)
{
  const std::vector<std::string> rows = {
      "",
      "   ",
      "{",
      "{\"a\":}",
      "[1,]",
      "nul",
      "truex",
      "{'a':1}",
      "/* c */ {}",
      "// c\n{}",
      "{} []",
      "{}}",
      "[]]",
      "]",
      "{} x",
      "0x10",
      "01",
      "-01",
      ".5",
      "1.",
      "1e",
      "+1",
      "-",
      "[NaN]",
      "[Infinity]",
      "1e400",
      "[-1e400]",
      "9223372036854775808",
      "-9223372036854775809",
      "99999999999999999999",
      "18446744073709551617",
      "\"unterminated",
      "\"a\tb\"",
      "\"a\nb\"",
      std::string ("\"a\0b\"", 5),
      std::string ("{}\0", 3),
      "\"\xff\"",
      "\"\xc3\"",
      "{}\x1e",
      "\"\\ud800\"",
      /* Found by fuzz-messages: GScanner's own escapes gave strings that
       * are not UTF-8, which the generator then wrote out raw. */
      "\"\\333\"",
      "{\"\\333\":1}",
      "[\"abc\",\"{\\\"type\\o.0:\\33333\"]",
      "\"\\ud800x\"",
      "\"\\ud800\\u0041\"",
      "\"\\udc00\"",
      "\"\\uzzzz\"",
      "\"\\u00\"",
      "\"\\x41\"",
      "\"\\o\"",
      "\"\\",
      "\"abc",
  };
  for (const auto &input : rows) {
    SCOPED_TRACE (input);
    g_autoptr (GError) error = nullptr;
    auto value = JsonValue::parse (input, &error);
    EXPECT_FALSE (value);
    expect_error (error, SIGNALRTC_PROTOCOL_ERROR_INVALID_JSON);
  }
}

/* Found by fuzz-messages: json-glib 1.6 writes 2e20 as "2e+20.0". */
TEST (JsonValue, ExponentDoublesStayJson)
{
  const std::vector<std::pair<const char *, const char *>> rows = {
      {"2e20", "2e+20"},
      {"[2e20,-1e17,{\"a\":5E21},1e-300]",
       "[2e+20,-1e+17,{\"a\":5e+21},1e-300]"},
      {"[\"2e+20.0\",\"e1.0\",true,false,1.0]",
       "[\"2e+20.0\",\"e1.0\",true,false,1.0]"},
      {"{\"e+1.0\":2e20}", "{\"e+1.0\":2e+20}"},
      {"[\"\\\"\",1e20]", "[\"\\\"\",1e+20]"},
  };
  for (const auto &[input, expected] : rows) {
    SCOPED_TRACE (input);
    auto value = JsonValue::parse (input, nullptr);
    ASSERT_TRUE (value);
    EXPECT_EQ (value->to_json (), expected);
    auto again = JsonValue::parse (value->to_json (), nullptr);
    ASSERT_TRUE (again);
    EXPECT_EQ (*again, *value);
  }
  auto message = parse_message (
      "{\"type\":1,\"target\":\"t\",\"arguments\":[2e20]}", nullptr);
  ASSERT_TRUE (message);
  EXPECT_EQ (serialize_message (*message),
             "{\"type\":1,\"target\":\"t\",\"arguments\":[2e+20]}");
}

TEST (JsonValue, NulEscapeIsUnsupported)
{
  for (const char *input : {"\"a\\u0000b\"", "{\"k\\u0000\":1}"}) {
    SCOPED_TRACE (input);
    g_autoptr (GError) error = nullptr;
    EXPECT_FALSE (JsonValue::parse (input, &error));
    expect_error (error, SIGNALRTC_PROTOCOL_ERROR_UNSUPPORTED);
  }
}

TEST (JsonValue, DepthLimit)
{
  auto nested = [] (guint depth, const char *open, const char *close,
                    const char *inner = "") {
    std::string s;
    for (guint i = 0; i < depth; i++)
      s += open;
    s += inner;
    for (guint i = 0; i < depth; i++)
      s += close;
    return s;
  };
  EXPECT_TRUE (JsonValue::parse (nested (kMaxJsonDepth, "[", "]"), nullptr));
  EXPECT_TRUE (
      JsonValue::parse (nested (kMaxJsonDepth, "{\"a\":", "}", "1"), nullptr));
  EXPECT_TRUE (parse_message ("{\"type\":1,\"target\":\"x\",\"arguments\":"
                                  + nested (kMaxJsonDepth - 1, "[", "]") + "}",
                              nullptr));
  EXPECT_TRUE (
      JsonValue::parse ("[\"" + std::string (100000, '[') + "\"]", nullptr));

  for (const std::string &input :
       {nested (kMaxJsonDepth + 1, "[", "]"), std::string (100000, '['),
        std::string (1000000, '{'), nested (100000, "{\"a\":", "}", "1"),
        nested (kMaxJsonDepth + 1, "{\"a\":", "}", "1"),
        "{\"type\":1,\"target\":\"x\",\"arguments\":"
            + std::string (100000, '[')}) {
    g_autoptr (GError) error = nullptr;
    EXPECT_FALSE (JsonValue::parse (input, &error));
    expect_error (error, SIGNALRTC_PROTOCOL_ERROR_INVALID_JSON);
    g_clear_error (&error);
    EXPECT_FALSE (parse_message (input, &error));
    expect_error (error, SIGNALRTC_PROTOCOL_ERROR_INVALID_JSON);
  }
}

/* ---- handshake ---------------------------------------------------------- */

TEST (Handshake, Request)
{
  const std::vector<std::tuple<const char *, const char *, int>> rows = {
      {"{\"protocol\":\"json\",\"version\":1}", "json", 1},
      {"{\"version\":1,\"protocol\":\"json\"}", "json", 1},
      {"{\"protocol\":\"messagepack\",\"version\":2}", "messagepack", 2},
      {"{\"protocol\":\"json\",\"version\":1,\"extra\":[1]}", "json", 1},
      {" { \"protocol\" : \"json\" , \"version\" : 0 } ", "json", 0},
  };
  for (const auto &[input, protocol, version] : rows) {
    SCOPED_TRACE (input);
    g_autoptr (GError) error = nullptr;
    auto request = parse_handshake_request (input, &error);
    ASSERT_TRUE (request) << error->message;
    EXPECT_EQ (request->protocol, protocol);
    EXPECT_EQ (request->version, version);
  }

  EXPECT_EQ (serialize_handshake_request ({"json", 1}),
             "{\"protocol\":\"json\",\"version\":1}");
}

TEST (Handshake, MalformedRequest)
{
  const std::vector<std::pair<const char *, gint>> rows = {
      {"", SIGNALRTC_PROTOCOL_ERROR_INVALID_JSON},
      {"{\"protocol\":\"json\",", SIGNALRTC_PROTOCOL_ERROR_INVALID_JSON},
      {"[]", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"\"json\"", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{}", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"version\":1}", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"protocol\":\"json\"}", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"protocol\":1,\"version\":1}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"protocol\":null,\"version\":1}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"protocol\":[\"json\"],\"version\":1}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"protocol\":\"json\",\"version\":\"1\"}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"protocol\":\"json\",\"version\":1.0}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"protocol\":\"json\",\"version\":true}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"protocol\":\"json\",\"version\":null}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"protocol\":\"json\",\"version\":4294967297}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"protocol\":\"json\",\"version\":99999999999999999999}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_JSON},
  };
  for (const auto &[input, code] : rows) {
    SCOPED_TRACE (input);
    g_autoptr (GError) error = nullptr;
    EXPECT_FALSE (parse_handshake_request (input, &error));
    expect_error (error, code);
  }
}

TEST (Handshake, Response)
{
  const std::vector<std::pair<const char *, std::optional<std::string>>> rows
      = {
          {"{}", std::nullopt},
          {"{\"error\":\"Requested protocol 'x' is not available.\"}",
           "Requested protocol 'x' is not available."},
          {"{\"minorVersion\":1}", std::nullopt},
          {"{\"error\":null}", std::nullopt},
          {"{\"error\":\"\"}", ""},
      };
  for (const auto &[input, expected] : rows) {
    SCOPED_TRACE (input);
    g_autoptr (GError) error = nullptr;
    auto response = parse_handshake_response (input, &error);
    ASSERT_TRUE (response) << error->message;
    EXPECT_EQ (response->error, expected);
  }

  EXPECT_EQ (serialize_handshake_response ({}), "{}");
  EXPECT_EQ (serialize_handshake_response ({"nope"}), "{\"error\":\"nope\"}");

  const std::vector<std::pair<const char *, gint>> bad = {
      {"", SIGNALRTC_PROTOCOL_ERROR_INVALID_JSON},
      {"{", SIGNALRTC_PROTOCOL_ERROR_INVALID_JSON},
      {"[]", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"null", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"error\":1}", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"error\":{}}", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
  };
  for (const auto &[input, code] : bad) {
    SCOPED_TRACE (input);
    g_autoptr (GError) error = nullptr;
    EXPECT_FALSE (parse_handshake_response (input, &error));
    expect_error (error, code);
  }
}

/* ---- hub messages ------------------------------------------------------- */

TEST (Messages, Parse)
{
  const std::vector<std::pair<const char *, const char *>> rows = {
      {"{\"type\":1,\"target\":\"NewUser\",\"arguments\":[\"bob\"],"
       "\"invocationId\":\"0\"}",
       "Invocation id=0 target=NewUser args=[\"bob\"]"},
      {"{\"type\":1,\"target\":\"SendSignal\",\"arguments\":[\"abc\","
       "\"{\\\"type\\\":\\\"offer\\\"}\"]}",
       "Invocation target=SendSignal "
       "args=[\"abc\",\"{\\\"type\\\":\\\"offer\\\"}\"]"},
      {"{\"arguments\":[],\"target\":\"Ping\",\"type\":1}",
       "Invocation target=Ping args=[]"},
      {"{\"type\":1,\"target\":\"m\",\"arguments\":[1,2.5,true,null,{\"a\":[]},"
       "[\"x\"]]}",
       "Invocation target=m args=[1,2.5,true,null,{\"a\":[]},[\"x\"]]"},
      {"{\"type\":1,\"target\":\"m\",\"arguments\":[],\"invocationId\":null}",
       "Invocation target=m args=[]"},
      {"{\"type\":1,\"target\":\"m\",\"arguments\":[],\"streamIds\":[\"1\","
       "\"2\"],\"headers\":{\"a\":\"b\"}}",
       "Invocation target=m args=[] streams=1;2; headers=a:b;"},
      {"{\"type\":1,\"target\":\"m\",\"arguments\":[],\"unknown\":{\"x\":[1]},"
       "\"future\":5}",
       "Invocation target=m args=[]"},
      {"{\"type\":2,\"invocationId\":\"3\",\"item\":{\"v\":1}}",
       "StreamItem id=3 item={\"v\":1}"},
      {"{\"type\":2,\"invocationId\":\"3\",\"item\":null}",
       "StreamItem id=3 item=null"},
      {"{\"type\":3,\"invocationId\":\"1\"}", "Completion id=1"},
      {"{\"type\":3,\"invocationId\":\"1\",\"result\":42}",
       "Completion id=1 result=42"},
      {"{\"type\":3,\"invocationId\":\"1\",\"result\":null}",
       "Completion id=1 result=null"},
      {"{\"type\":3,\"invocationId\":\"1\",\"error\":\"Unknown hub method "
       "'X'\"}",
       "Completion id=1 error=Unknown hub method 'X'"},
      {"{\"type\":3,\"invocationId\":\"1\",\"error\":null,\"result\":\"r\"}",
       "Completion id=1 result=\"r\""},
      {"{\"type\":4,\"invocationId\":\"7\",\"target\":\"Stream\","
       "\"arguments\":[5]}",
       "StreamInvocation id=7 target=Stream args=[5]"},
      {"{\"type\":5,\"invocationId\":\"7\"}", "CancelInvocation id=7"},
      {"{\"type\":6}", "Ping"},
      {"{\"type\":6,\"target\":\"ignored\",\"invocationId\":\"x\"}", "Ping"},
      {"{\"type\":7}", "Close"},
      {"{\"type\":7,\"error\":\"bye\"}", "Close error=bye"},
      {"{\"type\":7,\"error\":\"bye\",\"allowReconnect\":true}",
       "Close error=bye allowReconnect=1"},
      {"{\"type\":7,\"allowReconnect\":false}", "Close allowReconnect=0"},
      {"{\"type\":8,\"sequenceId\":1394}", "Ack seq=1394"},
      {"{\"type\":9,\"sequenceId\":-1}", "Sequence seq=-1"},
      {" \n{ \"type\" : 6 }\r\n", "Ping"},
  };
  for (const auto &[input, expected] : rows) {
    SCOPED_TRACE (input);
    g_autoptr (GError) error = nullptr;
    auto message = parse_message (input, &error);
    ASSERT_TRUE (message) << error->message;
    EXPECT_EQ (error, nullptr);
    EXPECT_EQ (describe (*message), expected);
  }
}

TEST (Messages, ParseMalformed)
{
  const std::vector<std::pair<std::string, gint>> rows = {
      /* not JSON */
      {"", SIGNALRTC_PROTOCOL_ERROR_INVALID_JSON},
      {"{\"type\":6", SIGNALRTC_PROTOCOL_ERROR_INVALID_JSON},
      {"{\"type\":6}{\"type\":6}", SIGNALRTC_PROTOCOL_ERROR_INVALID_JSON},
      {"{\"type\":6}\x1e", SIGNALRTC_PROTOCOL_ERROR_INVALID_JSON},
      {"\xff", SIGNALRTC_PROTOCOL_ERROR_INVALID_JSON},
      {"{\"type\":99999999999999999999}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_JSON},
      {"{\"type\":18446744073709551617}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_JSON},
      {"{\"type\":1e400}", SIGNALRTC_PROTOCOL_ERROR_INVALID_JSON},
      /* not an object */
      {"[]", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"6", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"\"{}\"", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"null", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      /* type */
      {"{}", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"target\":\"x\",\"arguments\":[]}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":\"1\"}", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":1.0}", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":6.5}", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":1e300}", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":true}", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":null}", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":[6]}", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":{}}", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":0}", SIGNALRTC_PROTOCOL_ERROR_UNKNOWN_TYPE},
      {"{\"type\":10}", SIGNALRTC_PROTOCOL_ERROR_UNKNOWN_TYPE},
      {"{\"type\":-1}", SIGNALRTC_PROTOCOL_ERROR_UNKNOWN_TYPE},
      {"{\"type\":9223372036854775807}", SIGNALRTC_PROTOCOL_ERROR_UNKNOWN_TYPE},
      {"{\"type\":-9223372036854775808}",
       SIGNALRTC_PROTOCOL_ERROR_UNKNOWN_TYPE},
      {"{\"type\":4294967297}", SIGNALRTC_PROTOCOL_ERROR_UNKNOWN_TYPE},
      /* Invocation */
      {"{\"type\":1,\"arguments\":[]}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":1,\"target\":\"\",\"arguments\":[]}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":1,\"target\":null,\"arguments\":[]}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":1,\"target\":5,\"arguments\":[]}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":1,\"target\":\"x\"}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":1,\"target\":\"x\",\"arguments\":{}}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":1,\"target\":\"x\",\"arguments\":\"a\"}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":1,\"target\":\"x\",\"arguments\":null}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":1,\"target\":\"x\",\"arguments\":[],\"invocationId\":1}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":1,\"target\":\"x\",\"arguments\":[],\"invocationId\":[]}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":1,\"target\":\"x\",\"arguments\":[],\"streamIds\":\"1\"}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":1,\"target\":\"x\",\"arguments\":[],\"streamIds\":[1]}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":1,\"target\":\"x\",\"arguments\":[],\"headers\":[]}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":1,\"target\":\"x\",\"arguments\":[],\"headers\":{\"a\":1}}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      /* StreamItem */
      {"{\"type\":2,\"item\":1}", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":2,\"invocationId\":\"1\"}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      /* Completion */
      {"{\"type\":3}", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":3,\"invocationId\":null}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":3,\"invocationId\":1}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":3,\"invocationId\":\"1\",\"error\":5}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":3,\"invocationId\":\"1\",\"error\":\"e\",\"result\":1}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":3,\"invocationId\":\"1\",\"error\":\"e\",\"result\":null}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      /* StreamInvocation */
      {"{\"type\":4,\"target\":\"x\",\"arguments\":[]}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":4,\"invocationId\":\"1\",\"arguments\":[]}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":4,\"invocationId\":\"1\",\"target\":\"x\"}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      /* CancelInvocation */
      {"{\"type\":5}", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":5,\"invocationId\":5}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      /* known fields keep their types whatever the message type */
      {"{\"type\":6,\"arguments\":5}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":6,\"invocationId\":5}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      /* Close */
      {"{\"type\":7,\"error\":false}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":7,\"allowReconnect\":\"true\"}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":7,\"allowReconnect\":1}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":7,\"allowReconnect\":null}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      /* Ack, Sequence */
      {"{\"type\":8}", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":9,\"sequenceId\":\"1\"}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":9,\"sequenceId\":1.5}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
  };
  for (const auto &[input, code] : rows) {
    SCOPED_TRACE (input);
    g_autoptr (GError) error = nullptr;
    EXPECT_FALSE (parse_message (input, &error));
    expect_error (error, code);
  }
}

TEST (Messages, ParseWithoutErrorLocation)
{
  EXPECT_FALSE (parse_message ("{", nullptr));
  EXPECT_FALSE (parse_message ("{\"type\":12}", nullptr));
  EXPECT_FALSE (parse_message ("{\"type\":1}", nullptr));
}

TEST (Messages, Serialize)
{
  HubMessage with_streams
      = make_invocation ("Upload", {JsonValue::from_int (1)}, "4");
  with_streams.stream_ids = {"s1", "s2"};
  with_streams.headers = {{"h", "v"}};

  HubMessage stream_item;
  stream_item.type = MessageType::StreamItem;
  stream_item.invocation_id = "5";
  stream_item.item = json ("[1,{\"a\":\"b\"}]");

  HubMessage stream_invocation = make_invocation ("Counter", {}, "6");
  stream_invocation.type = MessageType::StreamInvocation;

  HubMessage cancel;
  cancel.type = MessageType::CancelInvocation;
  cancel.invocation_id = "6";

  HubMessage ack;
  ack.type = MessageType::Ack;
  ack.sequence_id = 12;
  HubMessage sequence;
  sequence.type = MessageType::Sequence;
  sequence.sequence_id = 13;

  /* Fields that do not belong to a type are not written. */
  HubMessage ping_with_junk = make_ping ();
  ping_with_junk.target = "x";
  ping_with_junk.invocation_id = "1";
  ping_with_junk.error = "e";

  const std::vector<std::pair<HubMessage, const char *>> rows = {
      {make_invocation ("SendSignal",
                        {JsonValue::from_string ("abc"),
                         JsonValue::from_string ("{\"type\":\"offer\"}")}),
       "{\"type\":1,\"target\":\"SendSignal\",\"arguments\":[\"abc\","
       "\"{\\\"type\\\":\\\"offer\\\"}\"]}"},
      {make_invocation ("NewUser", {JsonValue::from_string ("bob")}, "0"),
       "{\"type\":1,\"invocationId\":\"0\",\"target\":\"NewUser\","
       "\"arguments\":[\"bob\"]}"},
      {make_invocation ("NoArgs", {}),
       "{\"type\":1,\"target\":\"NoArgs\",\"arguments\":[]}"},
      {make_invocation ("Absent", {JsonValue ()}),
       "{\"type\":1,\"target\":\"Absent\",\"arguments\":[null]}"},
      {with_streams,
       "{\"type\":1,\"headers\":{\"h\":\"v\"},\"invocationId\":\"4\","
       "\"target\":\"Upload\",\"arguments\":[1],\"streamIds\":[\"s1\","
       "\"s2\"]}"},
      {stream_item,
       "{\"type\":2,\"invocationId\":\"5\",\"item\":[1,{\"a\":\"b\"}]}"},
      {make_completion ("1"), "{\"type\":3,\"invocationId\":\"1\"}"},
      {make_completion ("1", JsonValue::from_int (3)),
       "{\"type\":3,\"invocationId\":\"1\",\"result\":3}"},
      {make_completion ("1", JsonValue::null ()),
       "{\"type\":3,\"invocationId\":\"1\",\"result\":null}"},
      {make_completion_error ("1", "Unknown hub method 'X'"),
       "{\"type\":3,\"invocationId\":\"1\",\"error\":\"Unknown hub method "
       "'X'\"}"},
      {stream_invocation,
       "{\"type\":4,\"invocationId\":\"6\",\"target\":\"Counter\","
       "\"arguments\":[]}"},
      {cancel, "{\"type\":5,\"invocationId\":\"6\"}"},
      {make_ping (), "{\"type\":6}"},
      {ping_with_junk, "{\"type\":6}"},
      {make_close (), "{\"type\":7}"},
      {make_close ("Server is shutting down."),
       "{\"type\":7,\"error\":\"Server is shutting down.\"}"},
      {make_close ("e", true),
       "{\"type\":7,\"error\":\"e\",\"allowReconnect\":true}"},
      {make_close ({}, true), "{\"type\":7,\"allowReconnect\":true}"},
      {make_close ({}, false), "{\"type\":7,\"allowReconnect\":false}"},
      {ack, "{\"type\":8,\"sequenceId\":12}"},
      {sequence, "{\"type\":9,\"sequenceId\":13}"},
      {make_invocation ("Esc", {JsonValue::from_string ("\x1e\"\\\n\x01")}),
       "{\"type\":1,\"target\":\"Esc\",\"arguments\":[\"\\u001e\\\"\\\\\\n"
       "\\u0001\"]}"},
  };
  for (const auto &[message, expected] : rows) {
    SCOPED_TRACE (expected);
    EXPECT_EQ (serialize_message (message), expected);
  }
}

TEST (Messages, RoundTripEveryType)
{
  std::vector<HubMessage> messages;
  messages.push_back (make_invocation (
      "SendSignal",
      {JsonValue::from_string ("a"), json ("{\"n\":[1,2.5,null,false]}")},
      "1"));
  messages.push_back (make_invocation ("Send", {}));
  HubMessage with_streams = make_invocation ("Up", {JsonValue::null ()}, "2");
  with_streams.stream_ids = {"x"};
  with_streams.headers = {{"a", "1"}, {"b", "\xc3\xa9"}};
  messages.push_back (with_streams);
  HubMessage item;
  item.type = MessageType::StreamItem;
  item.invocation_id = "3";
  item.item = json ("\"it\"");
  messages.push_back (item);
  messages.push_back (make_completion ("4"));
  messages.push_back (make_completion ("4", json ("{\"r\":true}")));
  messages.push_back (make_completion_error ("4", "failed"));
  HubMessage stream = make_invocation ("S", {JsonValue::from_int (9)}, "5");
  stream.type = MessageType::StreamInvocation;
  messages.push_back (stream);
  HubMessage cancel;
  cancel.type = MessageType::CancelInvocation;
  cancel.invocation_id = "5";
  messages.push_back (cancel);
  messages.push_back (make_ping ());
  messages.push_back (make_close ());
  messages.push_back (make_close ("bye", false));
  HubMessage ack;
  ack.type = MessageType::Ack;
  ack.sequence_id = G_MAXINT64;
  messages.push_back (ack);
  HubMessage seq;
  seq.type = MessageType::Sequence;
  seq.sequence_id = G_MININT64;
  messages.push_back (seq);

  bool seen[10] = {};
  for (const auto &message : messages) {
    std::string text = serialize_message (message);
    SCOPED_TRACE (text);
    g_autoptr (GError) error = nullptr;
    auto parsed = parse_message (text, &error);
    ASSERT_TRUE (parsed) << error->message;
    EXPECT_EQ (describe (*parsed), describe (message));
    EXPECT_EQ (parsed->arguments.size (), message.arguments.size ());
    for (gsize i = 0; i < message.arguments.size (); i++)
      EXPECT_EQ (parsed->arguments[i], message.arguments[i]);
    EXPECT_EQ (serialize_message (*parsed), text);
    seen[static_cast<int> (message.type)] = true;
  }
  for (int t = 1; t <= 9; t++)
    EXPECT_TRUE (seen[t]) << "type " << t;
}

TEST (Messages, StringArgument)
{
  auto m = make_invocation ("M", {JsonValue::from_string ("a"),
                                  JsonValue::from_int (1), JsonValue ()});
  EXPECT_EQ (m.string_argument (0), "a");
  EXPECT_EQ (m.string_argument (1), std::nullopt);
  EXPECT_EQ (m.string_argument (2), std::nullopt);
  EXPECT_EQ (m.string_argument (3), std::nullopt);
}

TEST (Messages, ArgumentsOutliveTheParse)
{
  std::vector<JsonValue> kept;
  {
    auto m = parse_message ("{\"type\":1,\"target\":\"t\",\"arguments\":"
                            "[{\"deep\":[\"x\"]},\"s\"]}",
                            nullptr);
    ASSERT_TRUE (m);
    kept = m->arguments;
  }
  ASSERT_EQ (kept.size (), 2u);
  EXPECT_EQ (kept[0].to_json (), "{\"deep\":[\"x\"]}");
  EXPECT_EQ (kept[1].as_string (), "s");
}

TEST (Messages, TypeNames)
{
  EXPECT_STREQ (message_type_name (MessageType::Invocation), "Invocation");
  EXPECT_STREQ (message_type_name (MessageType::Completion), "Completion");
  EXPECT_STREQ (message_type_name (MessageType::Sequence), "Sequence");
  EXPECT_STREQ (message_type_name (static_cast<MessageType> (42)), "Unknown");
}

} // namespace
