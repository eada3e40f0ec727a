/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * HubClient behaviour against a real signalrtc-hub process: negotiation
 * modes, tokens, losing and regaining the hub, stop ().
 */
#include "client-probe.h"
#include "hub-process.h"

#include "protocol/user-info.h"

#include <gtest/gtest.h>

#include <algorithm>

using namespace signalrtc;
using namespace signalrtc::test;

namespace {

class HubClientTest : public ::testing::Test
{
 protected:
  void SetUp () override
  {
    /* meson always sets it: unset is a misconfiguration, not a skip. */
    ASSERT_FALSE (HubProcess::binary ().empty ())
        << "SIGNALRTC_HUB is not set (meson test sets it)";
  }

  void start_hub (HubProcess &hub, guint port = 0)
  {
    g_autoptr (GError) error = nullptr;
    ASSERT_TRUE (hub.start (port, &error)) << error->message;
  }

  bool wait_done (const std::shared_ptr<InvokeResult> &r, guint ms = 5000)
  {
    return ctx_.run_until ([&r] { return r->done; }, ms);
  }

  TestContext ctx_;
};

TEST_F (HubClientTest, SkipNegotiation)
{
  HubProcess hub;
  start_hub (hub);
  auto options = quick_options (hub.url (), ctx_.get ());
  options.skip_negotiation = true;
  ClientProbe skippy (options);
  ClientProbe other (quick_options (hub.url (), ctx_.get ()),
                     {"NewUserArrived"});
  skippy.client->start ();
  other.client->start ();
  ASSERT_TRUE (ctx_.run_until (
      [&] { return skippy.connected () && other.connected (); }));
  /* The protocol has no way to tell a client its id without negotiate. */
  EXPECT_EQ (skippy.id (), "");
  ASSERT_EQ (skippy.ids.size (), 1u);
  EXPECT_EQ (skippy.ids[0], "");

  auto r = skippy.invoke ("NewUser", {JsonValue::from_string ("skippy")});
  ASSERT_TRUE (wait_done (r));
  EXPECT_TRUE (r->ok ()) << r->message;
  ASSERT_TRUE (ctx_.run_until (
      [&] { return other.got ("NewUserArrived").size () == 1; }));
  auto text = other.got ("NewUserArrived")[0].at (0).as_string ();
  ASSERT_TRUE (text);
  auto info = parse_user_info (*text, nullptr);
  ASSERT_TRUE (info);
  EXPECT_EQ (info->user_name, "skippy");
  EXPECT_FALSE (info->connection_id.empty ());
  EXPECT_NE (info->connection_id, other.id ());
}

TEST_F (HubClientTest, AccessTokenWithReservedCharacters)
{
  HubProcess hub;
  start_hub (hub);
  for (bool skip : {false, true}) {
    auto options = quick_options (hub.url (), ctx_.get ());
    options.access_token = "a&b=c d+e/f?g#h%25";
    options.skip_negotiation = skip;
    ClientProbe probe (options);
    probe.client->start ();
    ASSERT_TRUE (ctx_.run_until ([&] { return probe.connected (); }))
        << "skip_negotiation " << skip;
    auto r = probe.invoke ("NewUser", {JsonValue::from_string ("tok")});
    ASSERT_TRUE (wait_done (r));
    EXPECT_TRUE (r->ok ()) << r->message;
  }
}

TEST_F (HubClientTest, WebSocketSchemeAccepted)
{
  HubProcess hub;
  start_hub (hub);
  std::string url = hub.url ();
  url.replace (0, 4, "ws");
  ClientProbe probe (quick_options (url, ctx_.get ()));
  probe.client->start ();
  ASSERT_TRUE (ctx_.run_until ([&] { return probe.connected (); }));
  EXPECT_FALSE (probe.id ().empty ());
}

TEST_F (HubClientTest, ReconnectAfterHubKilled)
{
  HubProcess hub;
  start_hub (hub);
  ClientProbe probe (quick_options (hub.url (), ctx_.get ()));
  probe.client->start ();
  ASSERT_TRUE (ctx_.run_until ([&] { return probe.connected (); }));
  std::string first_id = probe.id ();

  /* A stopped hub cannot answer: the invocation stays pending. */
  hub.pause ();
  auto pending = probe.invoke ("NewUser", {JsonValue::from_string ("p")});
  ctx_.run_for (50);
  EXPECT_FALSE (pending->done);
  hub.kill ();

  ASSERT_TRUE (ctx_.run_until ([&] { return !probe.disconnects.empty (); }));
  EXPECT_TRUE (probe.disconnects[0].has_error);
  EXPECT_EQ (probe.disconnects[0].code, SIGNALRTC_CLIENT_ERROR_TRANSPORT)
      << probe.disconnects[0].message;
  EXPECT_TRUE (probe.disconnects[0].will_reconnect);
  ASSERT_TRUE (pending->done);
  EXPECT_TRUE (pending->failed_with (SIGNALRTC_CLIENT_ERROR_TRANSPORT))
      << pending->message;
  EXPECT_EQ (probe.id (), "");

  /* Retries while the hub is down: attempts count up, delays back off. */
  ASSERT_TRUE (ctx_.run_until ([&] { return probe.reconnects.size () >= 4; }));
  EXPECT_EQ (probe.client->state (), HubClient::State::Reconnecting);
  for (size_t i = 0; i < probe.reconnects.size (); i++) {
    auto [attempt, delay] = probe.reconnects[i];
    EXPECT_EQ (attempt, i + 1);
    double base = std::min (50.0 * (1 << i), 400.0);
    EXPECT_GE (delay, guint (base * 0.8) - 1) << "attempt " << attempt;
    EXPECT_LE (delay, std::min (guint (base * 1.2) + 1, 400u))
        << "attempt " << attempt;
  }
  for (size_t i = 1; i < probe.disconnects.size (); i++) {
    EXPECT_EQ (probe.disconnects[i].code, SIGNALRTC_CLIENT_ERROR_NEGOTIATE)
        << probe.disconnects[i].message;
    EXPECT_TRUE (probe.disconnects[i].will_reconnect);
  }

  /* Invoking meanwhile fails, from the loop, not re-entrantly. */
  auto r = probe.invoke ("NewUser", {JsonValue::from_string ("x")});
  EXPECT_FALSE (r->done);
  ASSERT_TRUE (wait_done (r));
  EXPECT_TRUE (r->failed_with (SIGNALRTC_CLIENT_ERROR_NOT_CONNECTED));
  g_autoptr (GError) send_error = nullptr;
  EXPECT_FALSE (probe.client->send ("NewUser", {JsonValue::from_string ("x")},
                                    &send_error));
  EXPECT_TRUE (g_error_matches (send_error, SIGNALRTC_CLIENT_ERROR,
                                SIGNALRTC_CLIENT_ERROR_NOT_CONNECTED));

  g_autoptr (GError) error = nullptr;
  ASSERT_TRUE (hub.restart (&error)) << error->message;
  ASSERT_TRUE (ctx_.run_until ([&] { return probe.connected (); }));
  EXPECT_EQ (probe.connects, 2);
  EXPECT_TRUE (probe.last_reconnected);
  EXPECT_FALSE (probe.id ().empty ());
  EXPECT_NE (probe.id (), first_id);

  r = probe.invoke ("NewUser", {JsonValue::from_string ("again")});
  ASSERT_TRUE (wait_done (r));
  EXPECT_TRUE (r->ok ()) << r->message;

  /* The attempt count starts over after a successful connection. */
  size_t before = probe.reconnects.size ();
  hub.kill ();
  ASSERT_TRUE (
      ctx_.run_until ([&] { return probe.reconnects.size () > before; }));
  EXPECT_EQ (probe.reconnects[before].first, 1u);
}

TEST_F (HubClientTest, HubNotUpAtStartIsRetried)
{
  guint port = HubProcess::free_port ();
  ASSERT_NE (port, 0u);
  std::string url = "http://127.0.0.1:" + std::to_string (port) + "/signalrtc";
  ClientProbe probe (quick_options (url, ctx_.get ()));
  probe.client->start ();
  EXPECT_EQ (probe.client->state (), HubClient::State::Connecting);
  ASSERT_TRUE (ctx_.run_until ([&] { return probe.reconnects.size () >= 2; }));
  EXPECT_EQ (probe.disconnects[0].code, SIGNALRTC_CLIENT_ERROR_NEGOTIATE)
      << probe.disconnects[0].message;
  EXPECT_TRUE (probe.disconnects[0].will_reconnect);

  HubProcess hub;
  start_hub (hub, port);
  ASSERT_TRUE (ctx_.run_until ([&] { return probe.connected (); }));
  EXPECT_EQ (probe.connects, 1);
  EXPECT_FALSE (probe.last_reconnected) << "first connection";
}

TEST_F (HubClientTest, HubNotUpWithoutReconnect)
{
  guint port = HubProcess::free_port ();
  std::string url = "http://127.0.0.1:" + std::to_string (port) + "/signalrtc";
  auto options = quick_options (url, ctx_.get ());
  options.reconnect = false;
  ClientProbe probe (options);
  probe.client->start ();
  ASSERT_TRUE (ctx_.run_until ([&] { return !probe.disconnects.empty (); }));
  EXPECT_EQ (probe.disconnects[0].code, SIGNALRTC_CLIENT_ERROR_NEGOTIATE);
  EXPECT_FALSE (probe.disconnects[0].will_reconnect);
  EXPECT_EQ (probe.client->state (), HubClient::State::Disconnected);
  ctx_.run_for (200);
  EXPECT_TRUE (probe.reconnects.empty ());
  EXPECT_EQ (probe.disconnects.size (), 1u);

  /* It can be started again. */
  HubProcess hub;
  start_hub (hub, port);
  probe.client->start ();
  ASSERT_TRUE (ctx_.run_until ([&] { return probe.connected (); }));
}

TEST_F (HubClientTest, StopFailsPendingWithStopped)
{
  HubProcess hub;
  start_hub (hub);
  ClientProbe probe (quick_options (hub.url (), ctx_.get ()));
  probe.client->start ();
  ASSERT_TRUE (ctx_.run_until ([&] { return probe.connected (); }));

  hub.pause ();
  auto r = probe.invoke ("NewUser", {JsonValue::from_string ("p")});
  ctx_.run_for (20);
  EXPECT_FALSE (r->done);
  probe.client->stop ();
  ASSERT_TRUE (r->done) << "stop () fails pending invocations at once";
  EXPECT_TRUE (r->failed_with (SIGNALRTC_CLIENT_ERROR_STOPPED));
  ASSERT_EQ (probe.disconnects.size (), 1u);
  EXPECT_FALSE (probe.disconnects[0].has_error);
  EXPECT_FALSE (probe.disconnects[0].will_reconnect);
  EXPECT_EQ (probe.client->state (), HubClient::State::Disconnected);
  hub.resume ();
  ctx_.run_for (100);
  EXPECT_EQ (r->calls, 1);
  EXPECT_TRUE (probe.reconnects.empty ());

  /* A second stop () does nothing. */
  probe.client->stop ();
  EXPECT_EQ (probe.disconnects.size (), 1u);
}

TEST_F (HubClientTest, StopWhileRetrying)
{
  guint port = HubProcess::free_port ();
  std::string url = "http://127.0.0.1:" + std::to_string (port) + "/signalrtc";
  ClientProbe probe (quick_options (url, ctx_.get ()));
  probe.client->start ();
  ASSERT_TRUE (ctx_.run_until ([&] { return !probe.reconnects.empty (); }));
  probe.client->stop ();
  EXPECT_EQ (probe.client->state (), HubClient::State::Disconnected);
  EXPECT_FALSE (probe.disconnects.back ().has_error);
  size_t attempts = probe.reconnects.size ();
  ctx_.run_for (300);
  EXPECT_EQ (probe.reconnects.size (), attempts);
}

TEST_F (HubClientTest, ServerTimeoutWhenHubFreezes)
{
  HubProcess hub;
  start_hub (hub);
  auto options = quick_options (hub.url (), ctx_.get ());
  options.server_timeout_ms = 300;
  options.keep_alive_interval_ms = 100;
  options.reconnect = false;
  ClientProbe probe (options);
  probe.client->start ();
  ASSERT_TRUE (ctx_.run_until ([&] { return probe.connected (); }));
  hub.pause ();
  ASSERT_TRUE (ctx_.run_until ([&] { return !probe.disconnects.empty (); }));
  EXPECT_EQ (probe.disconnects[0].code, SIGNALRTC_CLIENT_ERROR_SERVER_TIMEOUT)
      << probe.disconnects[0].message;
  hub.resume ();
}

TEST_F (HubClientTest, HubPingsKeepTheConnection)
{
  HubProcess hub ({"--keep-alive", "0.1"});
  start_hub (hub);
  auto options = quick_options (hub.url (), ctx_.get ());
  options.server_timeout_ms = 400;
  ClientProbe probe (options);
  probe.client->start ();
  ASSERT_TRUE (ctx_.run_until ([&] { return probe.connected (); }));
  ctx_.run_for (1200);
  EXPECT_TRUE (probe.disconnects.empty ())
      << probe.disconnects.front ().message;
  EXPECT_EQ (probe.connects, 1);
}

TEST_F (HubClientTest, ClientPingsKeepTheConnection)
{
  /* The hub enforces its client timeout once a client has pinged. */
  HubProcess hub ({"--client-timeout", "0.4"});
  start_hub (hub);
  auto options = quick_options (hub.url (), ctx_.get ());
  options.keep_alive_interval_ms = 100;
  ClientProbe probe (options);
  probe.client->start ();
  ASSERT_TRUE (ctx_.run_until ([&] { return probe.connected (); }));
  ctx_.run_for (1200);
  EXPECT_TRUE (probe.disconnects.empty ())
      << probe.disconnects.front ().message;
  EXPECT_EQ (probe.connects, 1);
}

TEST_F (HubClientTest, ClientThatNeverPingsIsNotTimedOut)
{
  /* As ASP.NET Core: the 1.x JS client never pings, so the client timeout
   * only applies once a client has sent a Ping. */
  HubProcess hub ({"--client-timeout", "0.3"});
  start_hub (hub);
  auto options = quick_options (hub.url (), ctx_.get ());
  options.keep_alive_interval_ms = 0;
  ClientProbe probe (options);
  probe.client->start ();
  ASSERT_TRUE (ctx_.run_until ([&] { return probe.connected (); }));
  ctx_.run_for (900);
  EXPECT_TRUE (probe.disconnects.empty ())
      << probe.disconnects.front ().message;
}

TEST_F (HubClientTest, HubDropsClientThatPingsTooRarely)
{
  /* Once a client has pinged, the hub expects to hear from it within its
   * client timeout. */
  HubProcess hub ({"--client-timeout", "0.3"});
  start_hub (hub);
  auto options = quick_options (hub.url (), ctx_.get ());
  options.keep_alive_interval_ms = 500;
  options.reconnect = false;
  ClientProbe probe (options);
  probe.client->start ();
  ASSERT_TRUE (ctx_.run_until ([&] { return probe.connected (); }));
  ASSERT_TRUE (
      ctx_.run_until ([&] { return !probe.disconnects.empty (); }, 3000));
  EXPECT_TRUE (probe.disconnects[0].code == SIGNALRTC_CLIENT_ERROR_CLOSED
               || probe.disconnects[0].code == SIGNALRTC_CLIENT_ERROR_TRANSPORT)
      << probe.disconnects[0].message;
}

TEST_F (HubClientTest, HubShutdownSendsClose)
{
  HubProcess hub;
  start_hub (hub);
  auto options = quick_options (hub.url (), ctx_.get ());
  options.reconnect = false;
  ClientProbe probe (options);
  probe.client->start ();
  ASSERT_TRUE (ctx_.run_until ([&] { return probe.connected (); }));
  EXPECT_EQ (hub.terminate (), 0);
  ASSERT_TRUE (ctx_.run_until ([&] { return !probe.disconnects.empty (); }));
  EXPECT_EQ (probe.disconnects[0].code, SIGNALRTC_CLIENT_ERROR_CLOSED)
      << probe.disconnects[0].message;
  EXPECT_FALSE (probe.disconnects[0].will_reconnect);
}

TEST_F (HubClientTest, SendWithoutCompletion)
{
  HubProcess hub;
  start_hub (hub);
  ClientProbe sender (quick_options (hub.url (), ctx_.get ()));
  ClientProbe other (quick_options (hub.url (), ctx_.get ()),
                     {"newuserarrived"});
  /* on () is case-insensitive; several handlers run in order. */
  std::vector<int> order;
  other.client->on ("NEWUSERARRIVED", [&] (const std::vector<JsonValue> &) {
    order.push_back (1);
  });
  other.client->on ("NewUserArrived", [&] (const std::vector<JsonValue> &) {
    order.push_back (2);
  });
  sender.client->start ();
  other.client->start ();
  ASSERT_TRUE (ctx_.run_until (
      [&] { return sender.connected () && other.connected (); }));
  g_autoptr (GError) error = nullptr;
  ASSERT_TRUE (sender.client->send (
      "NewUser", {JsonValue::from_string ("sendy")}, &error));
  ASSERT_TRUE (ctx_.run_until (
      [&] { return other.got ("newuserarrived").size () == 1; }));
  EXPECT_EQ (order, (std::vector<int>{1, 2}));
}

TEST_F (HubClientTest, OversizedMessageIsAProtocolError)
{
  HubProcess hub;
  start_hub (hub);
  ClientProbe sender (quick_options (hub.url (), ctx_.get ()));
  auto options = quick_options (hub.url (), ctx_.get ());
  options.max_message_size = 200;
  ClientProbe small (options, {"SendSignal"});
  sender.client->start ();
  small.client->start ();
  ASSERT_TRUE (ctx_.run_until (
      [&] { return sender.connected () && small.connected (); }));
  std::string first_id = small.id ();
  auto r = sender.invoke ("SendSignal",
                          {JsonValue::from_string (std::string (500, 'x')),
                           JsonValue::from_string (small.id ())});
  ASSERT_TRUE (ctx_.run_until ([&] { return !small.disconnects.empty (); }));
  EXPECT_EQ (small.disconnects[0].code, SIGNALRTC_CLIENT_ERROR_PROTOCOL)
      << small.disconnects[0].message;
  EXPECT_TRUE (small.disconnects[0].will_reconnect);
  EXPECT_TRUE (small.got ("SendSignal").empty ());
  ASSERT_TRUE (ctx_.run_until ([&] { return small.connects == 2; }));
  EXPECT_NE (small.id (), first_id);
}

TEST_F (HubClientTest, HubRejectsOversizedMessage)
{
  HubProcess hub ({"--max-message-size", "1000"});
  start_hub (hub);
  ClientProbe big (quick_options (hub.url (), ctx_.get ()));
  ClientProbe other (quick_options (hub.url (), ctx_.get ()),
                     {"UserDisconnect", "SendSignal"});
  big.client->start ();
  other.client->start ();
  ASSERT_TRUE (
      ctx_.run_until ([&] { return big.connected () && other.connected (); }));
  std::string first_id = big.id ();
  auto r = big.invoke ("SendSignal",
                       {JsonValue::from_string (std::string (2000, 'x')),
                        JsonValue::from_string (other.id ())});
  ASSERT_TRUE (ctx_.run_until ([&] { return !big.disconnects.empty (); }));
  /* The hub closes that one connection with a Close message. */
  EXPECT_EQ (big.disconnects[0].code, SIGNALRTC_CLIENT_ERROR_CLOSED)
      << big.disconnects[0].message;
  EXPECT_TRUE (big.disconnects[0].will_reconnect);
  ASSERT_TRUE (r->done);
  EXPECT_TRUE (r->failed) << "the invocation is lost with the connection";
  ASSERT_TRUE (ctx_.run_until (
      [&] { return other.got ("UserDisconnect").size () == 1; }));
  EXPECT_EQ (other.got ("UserDisconnect")[0].at (0).as_string (), first_id);
  EXPECT_TRUE (other.got ("SendSignal").empty ());
  EXPECT_TRUE (other.disconnects.empty ()) << "nobody else notices";
  ASSERT_TRUE (ctx_.run_until ([&] { return big.connects == 2; }));
}

TEST_F (HubClientTest, DestroyWhileBusy)
{
  HubProcess hub;
  start_hub (hub);
  /* Destroyed while negotiating, while opening the WebSocket, while
   * connected with an invocation pending: no handler runs, nothing
   * crashes. */
  for (int delay_ms : {0, 1, 3, 10, 30}) {
    bool called = false;
    {
      HubClient client (quick_options (hub.url (), ctx_.get ()));
      client.set_connected_handler (
          [&] (const std::string &, bool) { called = true; });
      client.set_disconnected_handler (
          [&] (const GError *, bool) { called = true; });
      client.start ();
      ctx_.run_for (delay_ms);
      called = false;
      client.invoke (
          "NewUser", {JsonValue::from_string ("d")},
          [&] (const JsonValue &, const GError *) { called = true; });
    }
    ctx_.run_for (50);
    EXPECT_FALSE (called) << "delay " << delay_ms;
  }
}

TEST_F (HubClientTest, InvalidUrl)
{
  for (const char *url : {"", "not a url", "ftp://127.0.0.1/x", "http:///x"}) {
    g_autoptr (GError) error = nullptr;
    EXPECT_FALSE (HubClient::validate_url (url, &error)) << url;
    EXPECT_TRUE (g_error_matches (error, SIGNALRTC_CLIENT_ERROR,
                                  SIGNALRTC_CLIENT_ERROR_INVALID_URL));
  }
  for (const char *url : {"http://127.0.0.1:5000/signalrtc", "https://h/x?y=1",
                          "ws://h/x", "wss://h:1/"})
    EXPECT_TRUE (HubClient::validate_url (url, nullptr)) << url;

  ClientProbe probe (quick_options ("ftp://127.0.0.1/x", ctx_.get ()));
  probe.client->start ();
  EXPECT_TRUE (probe.disconnects.empty ()) << "reported from the loop";
  ASSERT_TRUE (ctx_.run_until ([&] { return !probe.disconnects.empty (); }));
  EXPECT_EQ (probe.disconnects[0].code, SIGNALRTC_CLIENT_ERROR_INVALID_URL);
  EXPECT_FALSE (probe.disconnects[0].will_reconnect);
  EXPECT_EQ (probe.client->state (), HubClient::State::Disconnected);
}

} // namespace
