/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The seed app's signaling flow, with C++ HubClients against a real
 * signalrtc-hub process.
 */
#include "client-probe.h"
#include "hub-process.h"

#include "protocol/user-info.h"

#include <gtest/gtest.h>

#include <optional>

using namespace signalrtc;
using namespace signalrtc::test;

namespace {

const std::vector<std::string> kEvents
    = {"NewUserArrived", "UserSaidHello", "SendSignal", "UserDisconnect"};

std::optional<UserInfo>
user_info_argument (const std::vector<JsonValue> &args)
{
  if (args.size () != 1)
    return std::nullopt;
  auto text = args[0].as_string ();
  if (!text)
    return std::nullopt;
  return parse_user_info (*text, nullptr);
}

/* A simple-peer signal of about 1 KiB, with characters that need escaping
 * (twice: JSON inside a JSON string). */
std::string
make_signal (int i)
{
  std::string sdp = "v=0\r\no=- " + std::to_string (4611731400430051336 + i)
                    + " 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
                      "a=group:BUNDLE 0\r\na=extmap-allow-mixed\r\n"
                      "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
                      "c=IN IP4 0.0.0.0\r\na=mid:0\r\n"
                      "a=x-note:\\\"quoted\\\" caf\\u00e9 \\\\ slash\r\n";
  while (sdp.size () < 1000)
    sdp += "a=rtcp-fb:96 nack pli " + std::to_string (sdp.size ()) + "\r\n";
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "offer");
  json_builder_set_member_name (builder, "sdp");
  json_builder_add_string_value (builder, sdp.c_str ());
  json_builder_end_object (builder);
  g_autoptr (JsonNode) root = json_builder_get_root (builder);
  return json_to_string (root);
}

class HubFlow : public ::testing::Test
{
 protected:
  void SetUp () override
  {
    /* meson always sets it: unset is a misconfiguration, not a skip. */
    ASSERT_FALSE (HubProcess::binary ().empty ())
        << "SIGNALRTC_HUB is not set (meson test sets it)";
    g_autoptr (GError) error = nullptr;
    ASSERT_TRUE (hub_.start (0, &error)) << error->message;
  }

  std::unique_ptr<ClientProbe> connect_client ()
  {
    auto probe = std::make_unique<ClientProbe> (
        quick_options (hub_.url (), ctx_.get ()), kEvents);
    probe->client->start ();
    return probe;
  }

  bool wait_done (const std::shared_ptr<InvokeResult> &r)
  {
    return ctx_.run_until ([&r] { return r->done; });
  }

  TestContext ctx_;
  HubProcess hub_;
};

TEST_F (HubFlow, NewUserAndHello)
{
  auto alice = connect_client ();
  auto bob = connect_client ();
  auto carol = connect_client ();
  ASSERT_TRUE (ctx_.run_until ([&] {
    return alice->connected () && bob->connected () && carol->connected ();
  }));
  EXPECT_FALSE (alice->id ().empty ());
  EXPECT_NE (alice->id (), bob->id ());
  EXPECT_NE (bob->id (), carol->id ());
  EXPECT_EQ (alice->connects, 1);
  EXPECT_FALSE (alice->last_reconnected);

  auto r = alice->invoke ("NewUser", {JsonValue::from_string ("alice")});
  ASSERT_TRUE (wait_done (r));
  EXPECT_TRUE (r->ok ()) << r->message;
  EXPECT_FALSE (r->result) << "NewUser returns nothing";
  ASSERT_TRUE (ctx_.run_until ([&] {
    return bob->got ("NewUserArrived").size () == 1
           && carol->got ("NewUserArrived").size () == 1;
  }));
  for (auto *probe : {bob.get (), carol.get ()}) {
    auto info = user_info_argument (probe->got ("NewUserArrived")[0]);
    ASSERT_TRUE (info);
    EXPECT_EQ (info->user_name, "alice");
    EXPECT_EQ (info->connection_id, alice->id ());
  }

  r = bob->invoke ("HelloUser", {JsonValue::from_string ("bob"),
                                 JsonValue::from_string (alice->id ())});
  ASSERT_TRUE (wait_done (r));
  EXPECT_TRUE (r->ok ()) << r->message;
  ASSERT_TRUE (ctx_.run_until (
      [&] { return alice->got ("UserSaidHello").size () == 1; }));
  auto info = user_info_argument (alice->got ("UserSaidHello")[0]);
  ASSERT_TRUE (info);
  EXPECT_EQ (info->user_name, "bob");
  EXPECT_EQ (info->connection_id, bob->id ());

  /* Give strays time to show up. */
  ctx_.run_for (100);
  EXPECT_TRUE (alice->got ("NewUserArrived").empty ());
  EXPECT_TRUE (bob->got ("UserSaidHello").empty ());
  EXPECT_TRUE (carol->got ("UserSaidHello").empty ());
}

TEST_F (HubFlow, FiftySignalsInOrder)
{
  auto alice = connect_client ();
  auto bob = connect_client ();
  auto carol = connect_client ();
  ASSERT_TRUE (ctx_.run_until ([&] {
    return alice->connected () && bob->connected () && carol->connected ();
  }));

  std::vector<std::string> signals;
  std::vector<std::shared_ptr<InvokeResult>> results;
  for (int i = 0; i < 50; i++) {
    signals.push_back (make_signal (i));
    results.push_back (
        alice->invoke ("SendSignal", {JsonValue::from_string (signals.back ()),
                                      JsonValue::from_string (bob->id ())}));
  }
  EXPECT_GE (signals[0].size (), 1000u);
  ASSERT_TRUE (ctx_.run_until ([&] {
    for (const auto &r : results)
      if (!r->done)
        return false;
    return bob->got ("SendSignal").size () >= 50;
  }));
  for (const auto &r : results) {
    EXPECT_TRUE (r->ok ()) << r->message;
    EXPECT_EQ (r->calls, 1);
  }

  const auto &got = bob->got ("SendSignal");
  ASSERT_EQ (got.size (), 50u);
  for (size_t i = 0; i < got.size (); i++) {
    ASSERT_EQ (got[i].size (), 2u);
    EXPECT_EQ (got[i][0].as_string ().value_or ("?"), alice->id ());
    EXPECT_EQ (got[i][1].as_string ().value_or ("?"), signals[i])
        << "signal " << i;
  }
  ctx_.run_for (50);
  EXPECT_TRUE (alice->got ("SendSignal").empty ());
  EXPECT_TRUE (carol->got ("SendSignal").empty ());
}

TEST_F (HubFlow, UserDisconnectOnStopAndOnDestroy)
{
  auto alice = connect_client ();
  auto bob = connect_client ();
  auto carol = connect_client ();
  auto dave = connect_client ();
  ASSERT_TRUE (ctx_.run_until ([&] {
    return alice->connected () && bob->connected () && carol->connected ()
           && dave->connected ();
  }));

  std::string carol_id = carol->id ();
  carol->client->stop ();
  EXPECT_EQ (carol->client->state (), HubClient::State::Disconnected);
  EXPECT_EQ (carol->id (), "");
  ASSERT_EQ (carol->disconnects.size (), 1u);
  EXPECT_FALSE (carol->disconnects[0].has_error);
  EXPECT_FALSE (carol->disconnects[0].will_reconnect);

  ASSERT_TRUE (ctx_.run_until ([&] {
    return alice->got ("UserDisconnect").size () == 1
           && bob->got ("UserDisconnect").size () == 1;
  }));
  for (auto *probe : {alice.get (), bob.get ()}) {
    const auto &args = probe->got ("UserDisconnect")[0];
    ASSERT_EQ (args.size (), 1u);
    EXPECT_EQ (args[0].as_string ().value_or ("?"), carol_id);
  }

  std::string dave_id = dave->id ();
  dave.reset ();
  ASSERT_TRUE (ctx_.run_until ([&] {
    return alice->got ("UserDisconnect").size () == 2
           && bob->got ("UserDisconnect").size () == 2;
  }));
  EXPECT_EQ (alice->got ("UserDisconnect")[1][0].as_string ().value_or ("?"),
             dave_id);
  EXPECT_TRUE (carol->got ("UserDisconnect").empty ());
}

TEST_F (HubFlow, HubErrors)
{
  auto alice = connect_client ();
  auto bob = connect_client ();
  ASSERT_TRUE (ctx_.run_until (
      [&] { return alice->connected () && bob->connected (); }));

  auto r = alice->invoke ("NoSuchMethod", {JsonValue::from_int (1)});
  ASSERT_TRUE (wait_done (r));
  EXPECT_TRUE (r->failed_with (SIGNALRTC_CLIENT_ERROR_HUB)) << r->message;
  EXPECT_NE (r->message.find ("NoSuchMethod"), std::string::npos) << r->message;

  r = alice->invoke ("SendSignal", {JsonValue::from_string ("{}"),
                                    JsonValue::from_string ("no-such-id")});
  ASSERT_TRUE (wait_done (r));
  EXPECT_TRUE (r->failed_with (SIGNALRTC_CLIENT_ERROR_HUB)) << r->message;

  r = alice->invoke ("HelloUser", {JsonValue::from_string ("alice")});
  ASSERT_TRUE (wait_done (r));
  EXPECT_TRUE (r->failed_with (SIGNALRTC_CLIENT_ERROR_HUB)) << r->message;

  r = alice->invoke ("NewUser", {JsonValue::from_int (42)});
  ASSERT_TRUE (wait_done (r));
  EXPECT_TRUE (r->failed_with (SIGNALRTC_CLIENT_ERROR_HUB)) << r->message;

  /* Method names are case-insensitive on the hub. */
  r = alice->invoke ("newuser", {JsonValue::from_string ("alice")});
  ASSERT_TRUE (wait_done (r));
  EXPECT_TRUE (r->ok ()) << r->message;

  /* Still connected and working. */
  EXPECT_TRUE (alice->connected ());
  EXPECT_TRUE (alice->disconnects.empty ());
  r = alice->invoke ("HelloUser", {JsonValue::from_string ("alice"),
                                   JsonValue::from_string (bob->id ())});
  ASSERT_TRUE (wait_done (r));
  EXPECT_TRUE (r->ok ()) << r->message;
  ASSERT_TRUE (
      ctx_.run_until ([&] { return bob->got ("UserSaidHello").size () == 1; }));
}

} // namespace
