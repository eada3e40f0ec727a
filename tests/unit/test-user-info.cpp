/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "protocol/protocol-error.h"
#include "protocol/user-info.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace signalrtc;

namespace {

TEST (UserInfo, Serialize)
{
  const std::vector<std::pair<UserInfo, const char *>> rows = {
      {{"bob", "abc"}, "{\"userName\":\"bob\",\"connectionId\":\"abc\"}"},
      {{"", ""}, "{\"userName\":\"\",\"connectionId\":\"\"}"},
      {{"a \"quoted\" \\ name", "x"},
       "{\"userName\":\"a \\\"quoted\\\" \\\\ name\",\"connectionId\":\"x\"}"},
      {{"J\xc3\xa9r\xc3\xb4me", "id"},
       "{\"userName\":\"J\xc3\xa9r\xc3\xb4me\",\"connectionId\":\"id\"}"},
      {{"tab\there\x1e", "id"},
       "{\"userName\":\"tab\\there\\u001e\",\"connectionId\":\"id\"}"},
  };
  for (const auto &[info, expected] : rows) {
    SCOPED_TRACE (expected);
    EXPECT_EQ (serialize_user_info (info), expected);
    auto parsed = parse_user_info (expected, nullptr);
    ASSERT_TRUE (parsed);
    EXPECT_EQ (*parsed, info);
  }
}

TEST (UserInfo, Parse)
{
  const std::vector<std::pair<const char *, UserInfo>> rows = {
      {"{\"userName\":\"bob\",\"connectionId\":\"abc\"}", {"bob", "abc"}},
      {"{\"connectionId\":\"abc\",\"userName\":\"bob\"}", {"bob", "abc"}},
      {"{\"userName\":\"bob\",\"connectionId\":\"abc\",\"avatar\":null,"
       "\"x\":[1]}",
       {"bob", "abc"}},
      {" {\"userName\" : \"\\u0062ob\", \"connectionId\":\"abc\"} ",
       {"bob", "abc"}},
  };
  for (const auto &[input, expected] : rows) {
    SCOPED_TRACE (input);
    g_autoptr (GError) error = nullptr;
    auto parsed = parse_user_info (input, &error);
    ASSERT_TRUE (parsed) << error->message;
    EXPECT_EQ (*parsed, expected);
  }
}

TEST (UserInfo, ParseMalformed)
{
  const std::vector<std::pair<const char *, gint>> rows = {
      {"", SIGNALRTC_PROTOCOL_ERROR_INVALID_JSON},
      {"bob", SIGNALRTC_PROTOCOL_ERROR_INVALID_JSON},
      {"{\"userName\":\"bob\"", SIGNALRTC_PROTOCOL_ERROR_INVALID_JSON},
      {"\"{\\\"userName\\\":\\\"bob\\\"}\"",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"[\"bob\",\"abc\"]", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"null", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{}", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"userName\":\"bob\"}", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"connectionId\":\"abc\"}", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"userName\":1,\"connectionId\":\"abc\"}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"userName\":\"bob\",\"connectionId\":null}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"userName\":[\"bob\"],\"connectionId\":\"abc\"}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"UserName\":\"bob\",\"ConnectionId\":\"abc\"}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
  };
  for (const auto &[input, code] : rows) {
    SCOPED_TRACE (input);
    g_autoptr (GError) error = nullptr;
    EXPECT_FALSE (parse_user_info (input, &error));
    ASSERT_NE (error, nullptr);
    EXPECT_EQ (error->domain, SIGNALRTC_PROTOCOL_ERROR);
    EXPECT_EQ (error->code, code) << error->message;
    EXPECT_STRNE (error->message, "");
  }
}

} // namespace
