/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "hub/hub-state.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace signalrtc;

namespace {

/* A delivery as one comparable line: "to <- <json>". */
std::vector<std::string>
lines (const std::vector<HubDelivery> &deliveries)
{
  std::vector<std::string> out;
  for (const auto &d : deliveries)
    out.push_back (d.connection_id + " <- " + serialize_message (d.message));
  return out;
}

HubMessage
call (const char *target, std::vector<const char *> args,
      std::optional<std::string> id = "1")
{
  std::vector<JsonValue> values;
  for (const char *a : args)
    values.push_back (JsonValue::from_string (a));
  return make_invocation (target, std::move (values), std::move (id));
}

class HubStateTest : public ::testing::Test
{
 protected:
  void SetUp () override
  {
    for (const char *id : {"A", "B", "C"})
      hub.add_connection (id);
  }
  HubState hub;
};

}  // namespace

TEST_F (HubStateTest, NewUserReachesEveryoneButTheCaller)
{
  EXPECT_EQ (
      lines (hub.handle_invocation ("A", call ("NewUser", {"alice"}))),
      (std::vector<std::string>{
          R"(B <- {"type":1,"target":"NewUserArrived","arguments":["{\"userName\":\"alice\",\"connectionId\":\"A\"}"]})",
          R"(C <- {"type":1,"target":"NewUserArrived","arguments":["{\"userName\":\"alice\",\"connectionId\":\"A\"}"]})",
          R"(A <- {"type":3,"invocationId":"1"})",
      }));
  EXPECT_EQ (hub.user_name ("A"), "alice");
}

TEST_F (HubStateTest, HelloUserReachesOnlyItsTarget)
{
  EXPECT_EQ (
      lines (
          hub.handle_invocation ("B", call ("HelloUser", {"bob", "A"}, "7"))),
      (std::vector<std::string>{
          R"(A <- {"type":1,"target":"UserSaidHello","arguments":["{\"userName\":\"bob\",\"connectionId\":\"B\"}"]})",
          R"(B <- {"type":3,"invocationId":"7"})",
      }));
}

TEST_F (HubStateTest, SendSignalCarriesTheCallerAndTheSignalUnchanged)
{
  const char *signal
      = R"({"type":"candidate","candidate":{"candidate":"candidate:1 1 UDP 1 127.0.0.1 5000 typ host","sdpMLineIndex":0,"sdpMid":"0"}})";
  auto out = hub.handle_invocation ("A", call ("SendSignal", {signal, "C"}));
  ASSERT_EQ (out.size (), 2u);
  EXPECT_EQ (out[0].connection_id, "C");
  EXPECT_EQ (out[0].message.target, "SendSignal");
  EXPECT_FALSE (out[0].message.invocation_id.has_value ());
  EXPECT_EQ (out[0].message.string_argument (0), "A");
  EXPECT_EQ (out[0].message.string_argument (1), signal);
  EXPECT_EQ (out[1].connection_id, "A");
  EXPECT_FALSE (out[1].message.error.has_value ());
}

TEST_F (HubStateTest, MethodNamesMatchCaseInsensitively)
{
  for (const char *name : {"sendsignal", "SENDSIGNAL", "sendSignal"}) {
    bool failed = true;
    auto out = hub.handle_invocation ("A", call (name, {"{}", "B"}), &failed);
    EXPECT_FALSE (failed) << name;
    ASSERT_EQ (out.size (), 2u) << name;
    EXPECT_EQ (out[0].message.target, "SendSignal") << name;
  }
}

TEST_F (HubStateTest, NonBlockingInvocationGetsNoCompletion)
{
  EXPECT_EQ (
      lines (hub.handle_invocation (
          "A", call ("SendSignal", {"x", "B"}, std::nullopt))),
      (std::vector<std::string>{
          R"(B <- {"type":1,"target":"SendSignal","arguments":["A","x"]})",
      }));
  bool failed = false;
  EXPECT_TRUE (
      hub.handle_invocation ("A", call ("Nope", {}, std::nullopt), &failed)
          .empty ());
  EXPECT_TRUE (failed);
}

struct BadCall
{
  const char *what;
  HubMessage invocation;
  const char *error_part;
};

TEST_F (HubStateTest, BadCallsGetACompletionErrorAndNothingElse)
{
  std::vector<JsonValue> numbers
      = {JsonValue::from_int (1), JsonValue::from_int (2)};
  const BadCall rows[] = {
      {"unknown method", call ("Shout", {"x"}), "Unknown hub method 'Shout'"},
      {"too few", call ("SendSignal", {"x"}), "provides 1 argument(s)"},
      {"too many", call ("NewUser", {"a", "b"}), "provides 2 argument(s)"},
      {"none", call ("HelloUser", {}), "provides 0 argument(s)"},
      {"numbers", make_invocation ("SendSignal", numbers, "1"),
       "argument 1 must be a string"},
      {"null", make_invocation ("NewUser", {JsonValue::null ()}, "1"),
       "argument 1 must be a string"},
      {"unknown target", call ("SendSignal", {"x", "Z"}), "no connection 'Z'"},
      {"unknown hello target", call ("HelloUser", {"a", "Z"}),
       "no connection 'Z'"},
  };
  for (const auto &row : rows) {
    bool failed = false;
    auto out = hub.handle_invocation ("A", row.invocation, &failed);
    EXPECT_TRUE (failed) << row.what;
    ASSERT_EQ (out.size (), 1u) << row.what;
    EXPECT_EQ (out[0].connection_id, "A") << row.what;
    EXPECT_EQ (out[0].message.type, MessageType::Completion) << row.what;
    ASSERT_TRUE (out[0].message.error.has_value ()) << row.what;
    EXPECT_NE (out[0].message.error->find (row.error_part), std::string::npos)
        << row.what << ": " << *out[0].message.error;
  }
}

TEST_F (HubStateTest, RemovingAConnectionTellsEveryoneLeft)
{
  EXPECT_EQ (
      lines (hub.remove_connection ("B")),
      (std::vector<std::string>{
          R"(A <- {"type":1,"target":"UserDisconnect","arguments":["B"]})",
          R"(C <- {"type":1,"target":"UserDisconnect","arguments":["B"]})",
      }));
  EXPECT_FALSE (hub.has_connection ("B"));
  EXPECT_EQ (hub.connection_count (), 2u);
  /* Gone is gone: no second notice, and signals to it fail. */
  EXPECT_TRUE (hub.remove_connection ("B").empty ());
  bool failed = false;
  hub.handle_invocation ("A", call ("SendSignal", {"x", "B"}), &failed);
  EXPECT_TRUE (failed);
}

TEST_F (HubStateTest, AnUnknownCallerIsRefused)
{
  bool failed = false;
  auto out = hub.handle_invocation ("Q", call ("NewUser", {"q"}), &failed);
  EXPECT_TRUE (failed);
  ASSERT_EQ (out.size (), 1u);
  EXPECT_TRUE (out[0].message.error.has_value ());
}
