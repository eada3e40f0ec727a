/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * HubClient against an in-process fake hub (a SoupServer answering
 * negotiate with canned replies and a scripted WebSocket end), for the
 * corner cases a real hub does not produce.
 */
#include "client-probe.h"
#include "hub-process.h"

#include "protocol/signalr-framing.h"
#include "protocol/signalr-messages.h"

#include <libsoup/soup.h>

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <optional>
#include <set>

using namespace signalrtc;
using namespace signalrtc::test;

namespace {

constexpr const char *kV1Reply
    = R"({"negotiateVersion":1,"connectionId":"pub-id","connectionToken":"t/k+n=",)"
      R"("availableTransports":[{"transport":"WebSockets","transferFormats":["Text","Binary"]}]})";
constexpr const char *kV0Reply
    = R"({"connectionId":"abc","availableTransports":)"
      R"([{"transport":"ServerSentEvents","transferFormats":["Text"]},)"
      R"({"transport":"WebSockets","transferFormats":["Text","Binary"]}]})";

/* A SoupServer on 127.0.0.1 playing the hub. */
class FakeHub
{
 public:
  struct Request
  {
    std::string method;
    std::string path;
    std::string query;
    std::string authorization;
  };
  struct Reply
  {
    guint status = 200;
    std::string body;
  };
  using HttpHandler = std::function<Reply (const Request &)>;

  FakeHub ()
  {
    server_ = soup_server_new ("server-header", "fake-hub ", nullptr);
    g_autoptr (GError) error = nullptr;
    EXPECT_TRUE (soup_server_listen_local (
        server_, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
    GSList *uris = soup_server_get_uris (server_);
    if (uris != nullptr)
      port_ = g_uri_get_port (static_cast<GUri *> (uris->data));
    g_slist_free_full (uris, reinterpret_cast<GDestroyNotify> (g_uri_unref));
    soup_server_add_handler (server_, nullptr, on_http, this, nullptr);
  }

  ~FakeHub ()
  {
    for (auto *conn : conns_) {
      g_signal_handlers_disconnect_by_data (conn, this);
      if (soup_websocket_connection_get_state (conn)
          == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_GOING_AWAY,
                                         nullptr);
      g_object_unref (conn);
    }
    soup_server_disconnect (server_);
    g_object_unref (server_);
  }

  std::string url (const std::string &path) const
  {
    return "http://127.0.0.1:" + std::to_string (port_) + path;
  }

  void on_http (const std::string &path, HttpHandler handler)
  {
    http_[path] = std::move (handler);
    /* The longest registered prefix wins, so register each path. */
    soup_server_add_handler (server_, path.c_str (), on_http, this, nullptr);
  }
  void reply (const std::string &path, guint status, std::string body)
  {
    on_http (path, [status, body] (const Request &) {
      return Reply{status, body};
    });
  }

  /* A WebSocket end at @path. */
  void add_websocket (const std::string &path)
  {
    websocket_paths_.insert (path);
    soup_server_add_handler (server_, path.c_str (), on_http, this, nullptr);
    soup_server_add_websocket_handler (server_, path.c_str (), nullptr, nullptr,
                                       on_websocket, this, nullptr);
  }

  /* Frames sent after the handshake request (nullopt: no reply). */
  std::optional<std::vector<std::string>> handshake_frames
      = std::vector<std::string>{"{}\x1e"};
  /* Records after the handshake; returns frames to send back. */
  std::function<std::vector<std::string> (const HubMessage &)> on_message;

  std::vector<Request> requests;
  std::vector<Request> websocket_requests;
  std::vector<std::string> handshakes;
  std::vector<std::string> records;
  int closed_connections = 0;

  int count_records (MessageType type) const
  {
    int n = 0;
    for (const auto &r : records) {
      auto m = parse_message (r, nullptr);
      if (m && m->type == type)
        n++;
    }
    return n;
  }

  void send_all (const std::string &text)
  {
    for (auto *conn : conns_)
      if (soup_websocket_connection_get_state (conn)
          == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_send_text (conn, text.c_str ());
  }
  void send_binary_all ()
  {
    for (auto *conn : conns_)
      soup_websocket_connection_send_binary (conn, "\x01\x02", 2);
  }

 private:
  static Request describe (SoupServerMessage *msg)
  {
    GUri *uri = soup_server_message_get_uri (msg);
    const char *auth = soup_message_headers_get_one (
        soup_server_message_get_request_headers (msg), "Authorization");
    const char *query = g_uri_get_query (uri);
    return Request{soup_server_message_get_method (msg), g_uri_get_path (uri),
                   query ? query : "", auth ? auth : ""};
  }

  static void on_http (SoupServer *, SoupServerMessage *msg, const char *path,
                       GHashTable *, gpointer data)
  {
    auto *self = static_cast<FakeHub *> (data);
    /* Leave the upgrade to the WebSocket handler. */
    if (self->websocket_paths_.count (path) != 0)
      return;
    Request request = describe (msg);
    self->requests.push_back (request);
    auto it = self->http_.find (path);
    if (it == self->http_.end ()) {
      soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, nullptr);
      return;
    }
    Reply reply = it->second (request);
    soup_server_message_set_status (msg, reply.status, nullptr);
    soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY,
                                      reply.body.data (), reply.body.size ());
  }

  static void on_websocket (SoupServer *, SoupServerMessage *msg, const char *,
                            SoupWebsocketConnection *conn, gpointer data)
  {
    auto *self = static_cast<FakeHub *> (data);
    self->websocket_requests.push_back (describe (msg));
    self->conns_.push_back (SOUP_WEBSOCKET_CONNECTION (g_object_ref (conn)));
    self->readers_[conn] = RecordReader ();
    g_signal_connect (conn, "message", G_CALLBACK (on_ws_message), self);
    g_signal_connect (conn, "closed",
                      G_CALLBACK (+[] (SoupWebsocketConnection *, gpointer d) {
                        static_cast<FakeHub *> (d)->closed_connections++;
                      }),
                      self);
  }

  static void on_ws_message (SoupWebsocketConnection *conn, gint type,
                             GBytes *message, gpointer data)
  {
    auto *self = static_cast<FakeHub *> (data);
    gsize size = 0;
    auto *bytes = static_cast<const char *> (g_bytes_get_data (message, &size));
    std::vector<std::string> records;
    self->readers_[conn].feed (std::string_view (bytes, size), records,
                               nullptr);
    for (const auto &record : records) {
      bool first = self->handshaken_.insert (conn).second;
      if (first) {
        self->handshakes.push_back (record);
        if (self->handshake_frames)
          for (const auto &frame : *self->handshake_frames)
            soup_websocket_connection_send_text (conn, frame.c_str ());
        continue;
      }
      self->records.push_back (record);
      auto parsed = parse_message (record, nullptr);
      if (parsed && self->on_message)
        for (const auto &frame : self->on_message (*parsed))
          if (soup_websocket_connection_get_state (conn)
              == SOUP_WEBSOCKET_STATE_OPEN)
            soup_websocket_connection_send_text (conn, frame.c_str ());
    }
  }

  SoupServer *server_ = nullptr;
  guint port_ = 0;
  std::map<std::string, HttpHandler> http_;
  std::set<std::string> websocket_paths_;
  std::vector<SoupWebsocketConnection *> conns_;
  std::map<SoupWebsocketConnection *, RecordReader> readers_;
  std::set<SoupWebsocketConnection *> handshaken_;
};

class ClientNegotiate : public ::testing::Test
{
 protected:
  HubClient::Options options (const std::string &path)
  {
    auto o = quick_options (fake_.url (path), ctx_.get ());
    o.reconnect = false;
    return o;
  }

  const ClientProbe::Disconnect &wait_disconnect (ClientProbe &probe)
  {
    EXPECT_TRUE (
        ctx_.run_until ([&] { return !probe.disconnects.empty (); }, 5000));
    static ClientProbe::Disconnect none;
    return probe.disconnects.empty () ? none : probe.disconnects.front ();
  }

  bool wait_done (const std::shared_ptr<InvokeResult> &r)
  {
    return ctx_.run_until ([&r] { return r->done; });
  }

  TestContext ctx_;
  FakeHub fake_;
};

TEST_F (ClientNegotiate, V1ReplyUsesTheTokenOnTheWire)
{
  fake_.reply ("/hub/negotiate", 200, kV1Reply);
  fake_.add_websocket ("/hub");
  ClientProbe probe (options ("/hub"));
  probe.client->start ();
  ASSERT_TRUE (ctx_.run_until ([&] { return probe.connected (); }));
  EXPECT_EQ (probe.id (), "pub-id");
  ASSERT_EQ (fake_.requests.size (), 1u);
  EXPECT_EQ (fake_.requests[0].method, "POST");
  EXPECT_EQ (fake_.requests[0].path, "/hub/negotiate");
  EXPECT_EQ (fake_.requests[0].query, "negotiateVersion=1");
  EXPECT_EQ (fake_.requests[0].authorization, "");
  ASSERT_EQ (fake_.websocket_requests.size (), 1u);
  EXPECT_EQ (fake_.websocket_requests[0].query, "id=t%2Fk%2Bn%3D");
  ASSERT_EQ (fake_.handshakes.size (), 1u);
  EXPECT_EQ (fake_.handshakes[0], R"({"protocol":"json","version":1})");
}

TEST_F (ClientNegotiate, V0ReplyUsesTheConnectionId)
{
  fake_.reply ("/hub/negotiate", 200, kV0Reply);
  fake_.add_websocket ("/hub");
  ClientProbe probe (options ("/hub"));
  probe.client->start ();
  ASSERT_TRUE (ctx_.run_until ([&] { return probe.connected (); }));
  EXPECT_EQ (probe.id (), "abc");
  ASSERT_EQ (fake_.websocket_requests.size (), 1u);
  EXPECT_EQ (fake_.websocket_requests[0].query, "id=abc");
}

TEST_F (ClientNegotiate, QueryAndTokenKept)
{
  fake_.reply ("/hub/negotiate", 200, kV0Reply);
  fake_.add_websocket ("/hub");
  auto o = options ("/hub?room=r%201&x=y");
  o.access_token = "s3cr&t=";
  ClientProbe probe (o);
  probe.client->start ();
  ASSERT_TRUE (ctx_.run_until ([&] { return probe.connected (); }));
  ASSERT_EQ (fake_.requests.size (), 1u);
  EXPECT_EQ (fake_.requests[0].query, "room=r%201&x=y&negotiateVersion=1");
  EXPECT_EQ (fake_.requests[0].authorization, "Bearer s3cr&t=");
  ASSERT_EQ (fake_.websocket_requests.size (), 1u);
  EXPECT_EQ (fake_.websocket_requests[0].query,
             "room=r%201&x=y&id=abc&access_token=s3cr%26t%3D");
}

TEST_F (ClientNegotiate, SkipNegotiationOpensTheSocketDirectly)
{
  fake_.add_websocket ("/hub");
  auto o = options ("/hub");
  o.skip_negotiation = true;
  o.access_token = "tok";
  ClientProbe probe (o);
  probe.client->start ();
  ASSERT_TRUE (ctx_.run_until ([&] { return probe.connected (); }));
  EXPECT_TRUE (fake_.requests.empty ());
  ASSERT_EQ (fake_.websocket_requests.size (), 1u);
  EXPECT_EQ (fake_.websocket_requests[0].query, "access_token=tok");
  EXPECT_EQ (probe.id (), "");
}

TEST_F (ClientNegotiate, RedirectWithAccessToken)
{
  /* /a -> /b (token tok2) -> the hub (token tok3): the real hub process
   * when there is one, else the fake's own WebSocket end. */
  std::unique_ptr<HubProcess> hub;
  std::string target = fake_.url ("/hub");
  if (!HubProcess::binary ().empty ()) {
    hub = std::make_unique<HubProcess> ();
    g_autoptr (GError) error = nullptr;
    ASSERT_TRUE (hub->start (0, &error)) << error->message;
    target = hub->url ();
  } else {
    fake_.reply ("/hub/negotiate", 200, kV1Reply);
    fake_.add_websocket ("/hub");
  }
  fake_.reply ("/a/negotiate", 200,
               R"({"url":")" + fake_.url ("/b") + R"(","accessToken":"tok2"})");
  fake_.reply ("/b/negotiate", 200,
               R"({"url":")" + target + R"(","accessToken":"tok3"})");

  auto o = options ("/a");
  o.access_token = "tok1";
  ClientProbe probe (o);
  probe.client->start ();
  ASSERT_TRUE (ctx_.run_until ([&] { return probe.connected (); }))
      << (probe.disconnects.empty () ? "" : probe.disconnects[0].message);
  EXPECT_FALSE (probe.id ().empty ());
  ASSERT_GE (fake_.requests.size (), 2u);
  EXPECT_EQ (fake_.requests[0].path, "/a/negotiate");
  EXPECT_EQ (fake_.requests[0].authorization, "Bearer tok1");
  EXPECT_EQ (fake_.requests[1].path, "/b/negotiate");
  EXPECT_EQ (fake_.requests[1].authorization, "Bearer tok2");
  if (hub) {
    auto r = probe.invoke ("NewUser", {JsonValue::from_string ("redirected")});
    ASSERT_TRUE (wait_done (r));
    EXPECT_TRUE (r->ok ()) << r->message;
  } else {
    ASSERT_EQ (fake_.requests.size (), 3u);
    EXPECT_EQ (fake_.requests[2].authorization, "Bearer tok3");
    EXPECT_EQ (fake_.websocket_requests.at (0).query,
               "id=t%2Fk%2Bn%3D&access_token=tok3");
  }
}

TEST_F (ClientNegotiate, EndlessRedirectsGiveUp)
{
  fake_.reply ("/loop/negotiate", 200,
               R"({"url":")" + fake_.url ("/loop") + R"("})");
  ClientProbe probe (options ("/loop"));
  probe.client->start ();
  const auto &d = wait_disconnect (probe);
  EXPECT_EQ (d.code, SIGNALRTC_CLIENT_ERROR_NEGOTIATE) << d.message;
  EXPECT_NE (d.message.find ("redirect"), std::string::npos) << d.message;
  EXPECT_EQ (fake_.requests.size (), 101u);
  EXPECT_FALSE (d.will_reconnect);
}

TEST_F (ClientNegotiate, ErrorReply)
{
  fake_.reply ("/hub/negotiate", 200, R"({"error":"go away, you smell"})");
  ClientProbe probe (options ("/hub"));
  probe.client->start ();
  const auto &d = wait_disconnect (probe);
  EXPECT_EQ (d.code, SIGNALRTC_CLIENT_ERROR_NEGOTIATE);
  EXPECT_NE (d.message.find ("go away, you smell"), std::string::npos)
      << d.message;
  EXPECT_FALSE (d.will_reconnect);
  EXPECT_EQ (probe.client->state (), HubClient::State::Disconnected);
}

TEST_F (ClientNegotiate, ServerError)
{
  fake_.reply ("/hub/negotiate", 500, "oops");
  ClientProbe probe (options ("/hub"));
  probe.client->start ();
  const auto &d = wait_disconnect (probe);
  EXPECT_EQ (d.code, SIGNALRTC_CLIENT_ERROR_NEGOTIATE);
  EXPECT_NE (d.message.find ("500"), std::string::npos) << d.message;
}

TEST_F (ClientNegotiate, NotFound)
{
  ClientProbe probe (options ("/nothing"));
  probe.client->start ();
  const auto &d = wait_disconnect (probe);
  EXPECT_EQ (d.code, SIGNALRTC_CLIENT_ERROR_NEGOTIATE);
  EXPECT_NE (d.message.find ("404"), std::string::npos) << d.message;
}

TEST_F (ClientNegotiate, GarbageReply)
{
  for (
      const char *body :
      {"this is not json", "", "[1,2]", R"({"connectionId":42})",
       R"({"negotiateVersion":1,"connectionId":"x","availableTransports":[]})"}) {
    FakeHub fake;
    fake.reply ("/hub/negotiate", 200, body);
    auto o = quick_options (fake.url ("/hub"), ctx_.get ());
    o.reconnect = false;
    ClientProbe probe (o);
    probe.client->start ();
    const auto &d = wait_disconnect (probe);
    EXPECT_EQ (d.code, SIGNALRTC_CLIENT_ERROR_NEGOTIATE) << body;
    EXPECT_FALSE (probe.connected ());
  }
}

TEST_F (ClientNegotiate, NoWebSocketsOffered)
{
  fake_.reply ("/hub/negotiate", 200,
               R"({"connectionId":"abc","availableTransports":[)"
               R"({"transport":"LongPolling","transferFormats":["Text"]},)"
               R"({"transport":"WebSockets","transferFormats":["Binary"]}]})");
  fake_.add_websocket ("/hub");
  ClientProbe probe (options ("/hub"));
  probe.client->start ();
  const auto &d = wait_disconnect (probe);
  EXPECT_EQ (d.code, SIGNALRTC_CLIENT_ERROR_NEGOTIATE);
  EXPECT_NE (d.message.find ("WebSockets"), std::string::npos) << d.message;
  EXPECT_TRUE (fake_.websocket_requests.empty ());
}

TEST_F (ClientNegotiate, UnknownIdIsATransportError)
{
  /* The negotiate reply points at a WebSocket that is not there. */
  fake_.reply ("/hub/negotiate", 200, kV0Reply);
  ClientProbe probe (options ("/hub"));
  probe.client->start ();
  const auto &d = wait_disconnect (probe);
  EXPECT_EQ (d.code, SIGNALRTC_CLIENT_ERROR_TRANSPORT) << d.message;
}

TEST_F (ClientNegotiate, NegotiatesAgainOnEveryReconnect)
{
  int n = 0;
  fake_.on_http ("/hub/negotiate", [&n] (const FakeHub::Request &) {
    n++;
    return FakeHub::Reply{
        200, R"({"connectionId":"id)" + std::to_string (n)
                 + R"(","availableTransports":[{"transport":"WebSockets",)"
                   R"("transferFormats":["Text"]}]})"};
  });
  fake_.add_websocket ("/hub");
  auto o = options ("/hub");
  o.reconnect = true;
  ClientProbe probe (o);
  probe.client->start ();
  ASSERT_TRUE (ctx_.run_until ([&] { return probe.connected (); }));
  EXPECT_EQ (probe.id (), "id1");
  fake_.send_all (R"({"type":7,"error":"bye","allowReconnect":true})"
                  "\x1e");
  ASSERT_TRUE (ctx_.run_until ([&] { return probe.connects == 2; }));
  EXPECT_EQ (probe.id (), "id2");
  EXPECT_TRUE (probe.last_reconnected);
  ASSERT_EQ (probe.disconnects.size (), 1u);
  EXPECT_EQ (probe.disconnects[0].code, SIGNALRTC_CLIENT_ERROR_CLOSED);
  EXPECT_NE (probe.disconnects[0].message.find ("bye"), std::string::npos);
  EXPECT_TRUE (probe.disconnects[0].will_reconnect);
  EXPECT_EQ (fake_.websocket_requests.at (1).query, "id=id2");
}

class ClientHandshake : public ClientNegotiate
{
 protected:
  void SetUp () override
  {
    fake_.reply ("/hub/negotiate", 200, kV1Reply);
    fake_.add_websocket ("/hub");
  }
};

TEST_F (ClientHandshake, Refused)
{
  fake_.handshake_frames
      = std::vector<std::string>{R"({"error":"protocol json not here"})"
                                 "\x1e"};
  ClientProbe probe (options ("/hub"));
  probe.client->start ();
  const auto &d = wait_disconnect (probe);
  EXPECT_EQ (d.code, SIGNALRTC_CLIENT_ERROR_HANDSHAKE);
  EXPECT_NE (d.message.find ("protocol json not here"), std::string::npos)
      << d.message;
  EXPECT_EQ (probe.connects, 0);
  EXPECT_TRUE (ctx_.run_until ([&] { return fake_.closed_connections == 1; }))
      << "the client closes the socket";
}

TEST_F (ClientHandshake, TimesOut)
{
  fake_.handshake_frames = std::nullopt;
  auto o = options ("/hub");
  o.handshake_timeout_ms = 200;
  ClientProbe probe (o);
  probe.client->start ();
  gint64 start = g_get_monotonic_time ();
  const auto &d = wait_disconnect (probe);
  EXPECT_EQ (d.code, SIGNALRTC_CLIENT_ERROR_HANDSHAKE) << d.message;
  EXPECT_GE (g_get_monotonic_time () - start, 190 * 1000);
  EXPECT_TRUE (ctx_.run_until ([&] { return fake_.closed_connections == 1; }));
}

TEST_F (ClientHandshake, MessageInsteadOfHandshakeResponse)
{
  fake_.handshake_frames = std::vector<std::string>{R"({"type":6})"
                                                    "\x1e"};
  ClientProbe probe (options ("/hub"));
  probe.client->start ();
  const auto &d = wait_disconnect (probe);
  EXPECT_EQ (d.code, SIGNALRTC_CLIENT_ERROR_HANDSHAKE) << d.message;
}

TEST_F (ClientHandshake, ResponseSharesAFrameWithMessages)
{
  /* The handshake reply, two invocations and half a third in one frame;
   * the rest of the third in the next. */
  fake_.handshake_frames = std::vector<std::string>{
      "{}\x1e"
      R"({"type":1,"target":"Hello","arguments":["one"]})"
      "\x1e"
      R"({"type":6})"
      "\x1e"
      R"({"type":1,"target":"hello","arguments":["two"]})"
      "\x1e"
      R"({"type":1,"target":"HELLO",)",
      R"("arguments":["three",{"n":3}]})"
      "\x1e"};
  ClientProbe probe (options ("/hub"), {"hello"});
  probe.client->start ();
  ASSERT_TRUE (
      ctx_.run_until ([&] { return probe.got ("hello").size () == 3; }));
  EXPECT_TRUE (probe.connected ());
  EXPECT_EQ (probe.connects, 1);
  const auto &got = probe.got ("hello");
  EXPECT_EQ (got[0].at (0).as_string (), "one");
  EXPECT_EQ (got[1].at (0).as_string (), "two");
  EXPECT_EQ (got[2].at (0).as_string (), "three");
  EXPECT_EQ (got[2].at (1).to_json (), R"({"n":3})");
}

TEST_F (ClientHandshake, ServerTimeoutAndKeepAlive)
{
  auto o = options ("/hub");
  o.server_timeout_ms = 400;
  o.keep_alive_interval_ms = 50;
  ClientProbe probe (o);
  probe.client->start ();
  ASSERT_TRUE (ctx_.run_until ([&] { return probe.connected (); }));
  gint64 connected_at = g_get_monotonic_time ();
  const auto &d = wait_disconnect (probe);
  EXPECT_EQ (d.code, SIGNALRTC_CLIENT_ERROR_SERVER_TIMEOUT) << d.message;
  EXPECT_GE (g_get_monotonic_time () - connected_at, 390 * 1000);
  EXPECT_FALSE (d.will_reconnect);
  /* About 8 pings in 400 ms; be generous with a busy machine. */
  EXPECT_GE (fake_.count_records (MessageType::Ping), 3);
  EXPECT_TRUE (ctx_.run_until ([&] { return fake_.closed_connections == 1; }));
}

TEST_F (ClientHandshake, ServerPingsResetTheTimeout)
{
  auto o = options ("/hub");
  o.server_timeout_ms = 300;
  ClientProbe probe (o);
  probe.client->start ();
  ASSERT_TRUE (ctx_.run_until ([&] { return probe.connected (); }));
  for (int i = 0; i < 10; i++) {
    fake_.send_all (R"({"type":6})"
                    "\x1e");
    ctx_.run_for (100);
  }
  EXPECT_TRUE (probe.connected ());
  EXPECT_TRUE (probe.disconnects.empty ());
}

TEST_F (ClientHandshake, InvalidMessageIsAProtocolError)
{
  for (const char *bad : {R"({"type":"one"})", "not json",
                          R"({"type":1,"target":5})", R"([1])"}) {
    FakeHub fake;
    fake.reply ("/hub/negotiate", 200, kV1Reply);
    fake.add_websocket ("/hub");
    auto o = quick_options (fake.url ("/hub"), ctx_.get ());
    o.reconnect = false;
    ClientProbe probe (o);
    probe.client->start ();
    ASSERT_TRUE (ctx_.run_until ([&] { return probe.connected (); }));
    auto r = probe.invoke ("Anything", {});
    fake.send_all (std::string (bad) + "\x1e");
    const auto &d = wait_disconnect (probe);
    EXPECT_EQ (d.code, SIGNALRTC_CLIENT_ERROR_PROTOCOL) << bad;
    ASSERT_TRUE (r->done);
    EXPECT_TRUE (r->failed_with (SIGNALRTC_CLIENT_ERROR_PROTOCOL)) << bad;
    EXPECT_TRUE (ctx_.run_until ([&] { return fake.closed_connections == 1; }));
  }
}

TEST_F (ClientHandshake, BinaryFrameIsAProtocolError)
{
  ClientProbe probe (options ("/hub"));
  probe.client->start ();
  ASSERT_TRUE (ctx_.run_until ([&] { return probe.connected (); }));
  fake_.send_binary_all ();
  const auto &d = wait_disconnect (probe);
  EXPECT_EQ (d.code, SIGNALRTC_CLIENT_ERROR_PROTOCOL) << d.message;
}

TEST_F (ClientHandshake, UnknownAndStreamMessagesIgnored)
{
  ClientProbe probe (options ("/hub"), {"Known"});
  probe.client->start ();
  ASSERT_TRUE (ctx_.run_until ([&] { return probe.connected (); }));
  fake_.send_all (R"({"type":42,"whatever":true})"
                  "\x1e"
                  R"({"type":2,"invocationId":"9","item":1})"
                  "\x1e"
                  R"({"type":3,"invocationId":"999","result":1})"
                  "\x1e"
                  R"({"type":1,"target":"Unknown","arguments":[]})"
                  "\x1e"
                  R"({"type":1,"target":"Known","arguments":[],"extra":1})"
                  "\x1e");
  ASSERT_TRUE (
      ctx_.run_until ([&] { return probe.got ("Known").size () == 1; }));
  EXPECT_TRUE (probe.connected ());
  EXPECT_TRUE (probe.disconnects.empty ());
}

TEST_F (ClientHandshake, CompletionsFindTheirInvocations)
{
  fake_.on_message = [] (const HubMessage &m) -> std::vector<std::string> {
    if (m.type != MessageType::Invocation || !m.invocation_id)
      return {};
    if (m.target == "Add")
      return {frame_record (serialize_message (
          make_completion (*m.invocation_id, JsonValue::from_int (3))))};
    if (m.target == "Fail")
      return {frame_record (serialize_message (
          make_completion_error (*m.invocation_id, "it failed")))};
    return {
        frame_record (serialize_message (make_completion (*m.invocation_id)))};
  };
  ClientProbe probe (options ("/hub"));
  probe.client->start ();
  ASSERT_TRUE (ctx_.run_until ([&] { return probe.connected (); }));
  auto add = probe.invoke ("Add",
                           {JsonValue::from_int (1), JsonValue::from_int (2)});
  auto fail = probe.invoke ("Fail", {});
  auto nothing = probe.invoke ("Nothing", {JsonValue::null ()});
  ASSERT_TRUE (ctx_.run_until (
      [&] { return add->done && fail->done && nothing->done; }));
  EXPECT_TRUE (add->ok ());
  EXPECT_EQ (add->result.to_json (), "3");
  EXPECT_TRUE (fail->failed_with (SIGNALRTC_CLIENT_ERROR_HUB));
  EXPECT_EQ (fail->message, "it failed");
  EXPECT_TRUE (nothing->ok ());
  EXPECT_FALSE (nothing->result);

  /* Invocation ids are "0", "1", ... */
  auto first = parse_message (fake_.records.at (0), nullptr);
  ASSERT_TRUE (first);
  EXPECT_EQ (first->invocation_id, "0");
  EXPECT_EQ (first->target, "Add");
  EXPECT_EQ (first->arguments.size (), 2u);
  auto second = parse_message (fake_.records.at (1), nullptr);
  EXPECT_EQ (second->invocation_id, "1");

  /* send () carries no invocation id. */
  ASSERT_TRUE (probe.client->send ("Add", {}, nullptr));
  ASSERT_TRUE (ctx_.run_until ([&] { return fake_.records.size () == 4; }));
  auto sent = parse_message (fake_.records.at (3), nullptr);
  ASSERT_TRUE (sent);
  EXPECT_FALSE (sent->invocation_id);
}

TEST_F (ClientHandshake, StopSendsClose)
{
  ClientProbe probe (options ("/hub"));
  probe.client->start ();
  ASSERT_TRUE (ctx_.run_until ([&] { return probe.connected (); }));
  auto r = probe.invoke ("Never", {});
  probe.client->stop ();
  EXPECT_TRUE (r->failed_with (SIGNALRTC_CLIENT_ERROR_STOPPED));
  ASSERT_TRUE (ctx_.run_until ([&] { return fake_.closed_connections == 1; }));
  EXPECT_EQ (fake_.count_records (MessageType::Close), 1);
}

TEST_F (ClientHandshake, DestructorSendsClose)
{
  {
    ClientProbe probe (options ("/hub"));
    probe.client->start ();
    ASSERT_TRUE (ctx_.run_until ([&] { return probe.connected (); }));
  }
  ASSERT_TRUE (ctx_.run_until ([&] { return fake_.closed_connections == 1; }));
  EXPECT_EQ (fake_.count_records (MessageType::Close), 1);
}

TEST_F (ClientHandshake, ServerInvocationWithIdIsAnswered)
{
  ClientProbe probe (options ("/hub"), {"Ask"});
  probe.client->start ();
  ASSERT_TRUE (ctx_.run_until ([&] { return probe.connected (); }));
  fake_.send_all (
      R"({"type":1,"invocationId":"7","target":"Ask","arguments":[]})"
      "\x1e");
  ASSERT_TRUE (ctx_.run_until ([&] { return !fake_.records.empty (); }));
  auto answer = parse_message (fake_.records[0], nullptr);
  ASSERT_TRUE (answer);
  EXPECT_EQ (answer->type, MessageType::Completion);
  EXPECT_EQ (answer->invocation_id, "7");
  EXPECT_TRUE (answer->error);
  EXPECT_EQ (probe.got ("Ask").size (), 1u);
}

TEST_F (ClientHandshake, HandlersMayStopTheClient)
{
  ClientProbe probe (options ("/hub"));
  int calls = 0;
  probe.client->on ("Bye", [&] (const std::vector<JsonValue> &) {
    calls++;
    probe.client->stop ();
  });
  probe.client->start ();
  ASSERT_TRUE (ctx_.run_until ([&] { return probe.connected (); }));
  fake_.send_all (R"({"type":1,"target":"Bye","arguments":[]})"
                  "\x1e"
                  R"({"type":1,"target":"Bye","arguments":[]})"
                  "\x1e");
  ASSERT_TRUE (ctx_.run_until ([&] { return calls > 0; }));
  ctx_.run_for (50);
  EXPECT_EQ (calls, 1) << "nothing is dispatched after stop ()";
  EXPECT_EQ (probe.client->state (), HubClient::State::Disconnected);
  ASSERT_EQ (probe.disconnects.size (), 1u);
  EXPECT_FALSE (probe.disconnects[0].has_error);
}

} // namespace
