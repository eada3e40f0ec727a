/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "signalrtc-hub"

#include "hub-server.h"

#include "hub-state.h"
#include "protocol/negotiate.h"
#include "protocol/signalr-framing.h"
#include "protocol/signalr-messages.h"

#include <libsoup/soup.h>
#include <sys/random.h>

#include <algorithm>
#include <map>

namespace signalrtc {

namespace {

constexpr const char *kTokenKey = "signalrtc-connection-token";
/* How long shutdown () waits for clients to answer the close handshake. */
constexpr guint kShutdownGraceMs = 2000;
/* Pending TCP connections the kernel may queue for us. */
constexpr gint kListenBacklog = 1024;

struct GObjectUnref
{
  void operator() (gpointer object) const { g_object_unref (object); }
};

/* 16 random bytes as unpadded base64url: 22 characters, like ASP.NET's ids. */
std::string
random_id ()
{
  guint8 bytes[16];
  gsize got = 0;
  while (got < sizeof bytes) {
    gssize n = getrandom (bytes + got, sizeof bytes - got, 0);
    if (n > 0)
      got += n;
  }
  g_autofree gchar *b64 = g_base64_encode (bytes, sizeof bytes);
  std::string id (b64);
  id.erase (id.find_last_not_of ('=') + 1);
  std::replace (id.begin (), id.end (), '+', '-');
  std::replace (id.begin (), id.end (), '/', '_');
  return id;
}

/* libsoup 3.2's server never notices that a client closed a keep-alive
 * connection between two requests: the socket stays in CLOSE_WAIT and its
 * fd open for the life of the hub (a 10-minute soak left one per client
 * that came and went: every plain request, curl or a browser page). The
 * hub's plain HTTP replies (negotiate, the web client's files, errors) are
 * few per client, so they close the connection instead of keeping it. */
void
close_after_response (SoupServerMessage *msg)
{
  soup_message_headers_replace (
      soup_server_message_get_response_headers (msg), "Connection", "close");
}

/* Every request but a WebSocket upgrade gets a connection of its own. */
void
on_request_read (SoupServer *, SoupServerMessage *msg, gpointer)
{
  const char *upgrade = soup_message_headers_get_one (
      soup_server_message_get_request_headers (msg), "Upgrade");
  if (!upgrade || g_ascii_strcasecmp (upgrade, "websocket") != 0)
    close_after_response (msg);
}

void
set_text_response (SoupServerMessage *msg, guint status,
                   const std::string &text)
{
  soup_server_message_set_status (msg, status, nullptr);
  soup_server_message_set_response (msg, "text/plain; charset=utf-8",
                                    SOUP_MEMORY_COPY, text.data (),
                                    text.size ());
  /* Also an upgrade refused (see on_request_read). */
  close_after_response (msg);
}

}  // namespace

struct HubServer::Impl
{
  /* One SignalR connection: created by negotiate (no socket yet) or by a
   * direct WebSocket, owned by Impl::connections_ (keyed by token). */
  struct Connection
  {
    Connection (Impl *hub_, std::string id_, std::string token_,
                gsize max_record)
        : hub (hub_), id (std::move (id_)), token (std::move (token_)),
          reader (max_record)
    {}

    Impl *hub;

    std::string id;    /* public: what other users see */
    std::string token; /* secret: ?id= of the transport URL */
    std::unique_ptr<SoupWebsocketConnection, GObjectUnref> socket;
    RecordReader reader;
    gint64 created_us = g_get_monotonic_time ();
    gint64 socket_opened_us = 0;
    gint64 last_sent_us = 0;
    gint64 last_received_us = 0;
    bool upgrading = false;     /* a WebSocket upgrade for it is under way */
    bool handshaken = false;    /* past the SignalR handshake: on the hub */
    bool closing = false;       /* we asked the socket to close */
    bool client_pinged = false; /* the client keeps alive: time it out */
  };

  explicit Impl (HubServerOptions opts) : options (std::move (opts)) {}
  ~Impl ();

  HubServerOptions options;
  GMainContext *context = nullptr;
  std::unique_ptr<SoupServer, GObjectUnref> server;
  guint bound_port = 0;
  HubState state;
  HubMetrics metrics;
  /* token -> connection; owns every connection. */
  std::map<std::string, std::unique_ptr<Connection>> connections;
  /* public id -> connection, for those past the handshake. */
  std::map<std::string, Connection *> by_id;
  GSource *tick_source = nullptr;
  GSource *grace_source = nullptr;
  bool shutting_down = false;
  std::function<void ()> shutdown_done;

  /* HTTP */
  bool origin_allowed (SoupServerMessage *msg, const char *origin) const;
  bool check_origin (SoupServerMessage *msg, bool *cross_origin);
  void handle_negotiate (SoupServerMessage *msg);
  void handle_hub_request (SoupServerMessage *msg);
  void handle_websocket (SoupServerMessage *msg,
                         SoupWebsocketConnection *socket);
  void handle_static (SoupServerMessage *msg, const char *path);
  std::string metrics_text () const;

  /* SignalR */
  Connection *add_connection (bool negotiated);
  void on_frame (Connection *c, SoupWebsocketDataType type, GBytes *data);
  bool on_handshake (Connection *c, const std::string &record);
  void on_record (Connection *c, const std::string &record);
  void send_record (Connection *c, const std::string &json);
  void deliver (const std::vector<HubDelivery> &deliveries);
  void fail (Connection *c, const std::string &error);
  void close (Connection *c);
  void on_closed (Connection *c);
  void tick ();
  void finish_shutdown ();
  guint tick_interval_ms () const;
};

HubServer::Impl::~Impl ()
{
  for (GSource *source : {tick_source, grace_source}) {
    if (source) {
      g_source_destroy (source);
      g_source_unref (source);
    }
  }
  for (auto &[token, c] : connections) {
    if (c->socket)
      g_signal_handlers_disconnect_by_data (c->socket.get (), c.get ());
  }
  if (server)
    soup_server_disconnect (server.get ());
}

/* ---- HTTP ------------------------------------------------------------- */

bool
HubServer::Impl::origin_allowed (SoupServerMessage *msg,
                                 const char *origin) const
{
  const char *host = soup_message_headers_get_one (
      soup_server_message_get_request_headers (msg), "Host");
  if (host) {
    std::string_view o (origin);
    for (const char *scheme : {"http://", "https://"}) {
      if (o == std::string (scheme) + host)
        return true;
    }
  }
  for (const auto &allowed : options.allowed_origins) {
    if (allowed == "*" || allowed == origin)
      return true;
  }
  return false;
}

/* Refuses (403) a browser request from an origin not on the allow-list.
 * Sets the CORS response headers for an allowed cross-origin request. */
bool
HubServer::Impl::check_origin (SoupServerMessage *msg, bool *cross_origin)
{
  SoupMessageHeaders *request = soup_server_message_get_request_headers (msg);
  const char *origin = soup_message_headers_get_one (request, "Origin");
  *cross_origin = false;
  if (!origin)
    return true;
  if (!origin_allowed (msg, origin)) {
    g_info ("refused a request from origin %s (not in --allowed-origin)",
            origin);
    metrics.errors++;
    set_text_response (msg, SOUP_STATUS_FORBIDDEN,
                       std::string ("Origin ") + origin + " is not allowed\n");
    return false;
  }
  *cross_origin = true;
  SoupMessageHeaders *response = soup_server_message_get_response_headers (msg);
  soup_message_headers_replace (response, "Access-Control-Allow-Origin",
                                origin);
  soup_message_headers_replace (response, "Access-Control-Allow-Credentials",
                                "true");
  soup_message_headers_append (response, "Vary", "Origin");
  return true;
}

HubServer::Impl::Connection *
HubServer::Impl::add_connection (bool negotiated)
{
  std::string id = random_id ();
  while (by_id.contains (id))
    id = random_id ();
  /* A direct connection has no separate secret: its id is its token. */
  std::string token = negotiated ? random_id () : id;
  while (connections.contains (token))
    token = random_id ();
  auto c = std::make_unique<Connection> (this, id, token,
                                         options.max_message_size);
  Connection *raw = c.get ();
  connections.emplace (token, std::move (c));
  return raw;
}

void
HubServer::Impl::handle_negotiate (SoupServerMessage *msg)
{
  bool cross_origin;
  if (!check_origin (msg, &cross_origin))
    return;

  const char *method = soup_server_message_get_method (msg);
  if (g_str_equal (method, "OPTIONS")) {
    SoupMessageHeaders *request = soup_server_message_get_request_headers (msg);
    SoupMessageHeaders *response
        = soup_server_message_get_response_headers (msg);
    const char *wanted = soup_message_headers_get_one (
        request, "Access-Control-Request-Headers");
    soup_message_headers_replace (response, "Access-Control-Allow-Methods",
                                  "POST, GET, OPTIONS");
    if (wanted)
      soup_message_headers_replace (response, "Access-Control-Allow-Headers",
                                    wanted);
    soup_message_headers_replace (response, "Access-Control-Max-Age", "86400");
    /* 200 with an empty body, not 204: libsoup 3.2 closes the connection
     * after a 204 without saying so, and the browser's POST that follows
     * on the same connection then fails. */
    soup_server_message_set_status (msg, SOUP_STATUS_OK, nullptr);
    soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_STATIC, "",
                                      0);
    return;
  }
  if (!g_str_equal (method, "POST")) {
    set_text_response (msg, SOUP_STATUS_METHOD_NOT_ALLOWED,
                       "negotiate takes POST\n");
    return;
  }
  if (shutting_down) {
    set_text_response (msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
                       "the hub is shutting down\n");
    return;
  }

  /* negotiateVersion=1 (current clients) gets a secret token apart from
   * the public id; version 0 (the 1.x client) uses the id itself. */
  int version = 0;
  if (const char *query = g_uri_get_query (soup_server_message_get_uri (msg))) {
    g_autoptr (GHashTable) params
        = g_uri_parse_params (query, -1, "&", G_URI_PARAMS_NONE, nullptr);
    const char *v
        = params
              ? (const char *)g_hash_table_lookup (params, "negotiateVersion")
              : nullptr;
    if (v)
      version = std::clamp (atoi (v), 0, 1);
  }

  Connection *c = add_connection (version >= 1);
  NegotiateResponse reply;
  reply.kind = NegotiateResponse::Kind::Connection;
  reply.negotiate_version = version;
  reply.connection_id = c->id;
  if (version >= 1)
    reply.connection_token = c->token;
  reply.available_transports.push_back ({"WebSockets", {"Text"}});
  std::string body = serialize_negotiate_response (reply);
  g_debug ("negotiate v%d: connection %s", version, c->id.c_str ());

  soup_server_message_set_status (msg, SOUP_STATUS_OK, nullptr);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY,
                                    body.data (), body.size ());
}

/* Runs before libsoup's WebSocket upgrade: anything refused here (by setting
 * a status) is not upgraded. */
void
HubServer::Impl::handle_hub_request (SoupServerMessage *msg)
{
  bool cross_origin;
  if (!check_origin (msg, &cross_origin))
    return;

  SoupMessageHeaders *request = soup_server_message_get_request_headers (msg);
  if (!soup_message_headers_header_contains (request, "Upgrade", "websocket")) {
    set_text_response (msg, SOUP_STATUS_BAD_REQUEST,
                       "This hub speaks SignalR over WebSockets only\n");
    return;
  }
  if (shutting_down) {
    set_text_response (msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
                       "the hub is shutting down\n");
    return;
  }

  const char *token = nullptr;
  g_autoptr (GHashTable) params = nullptr;
  if (const char *query = g_uri_get_query (soup_server_message_get_uri (msg))) {
    params = g_uri_parse_params (query, -1, "&", G_URI_PARAMS_NONE, nullptr);
    if (params)
      token = (const char *)g_hash_table_lookup (params, "id");
  }

  Connection *c;
  if (token) {
    auto it = connections.find (token);
    if (it == connections.end ()) {
      metrics.errors++;
      set_text_response (msg, SOUP_STATUS_NOT_FOUND,
                         "No connection with that id\n");
      return;
    }
    c = it->second.get ();
    if (c->upgrading || c->socket) {
      metrics.errors++;
      set_text_response (msg, SOUP_STATUS_CONFLICT,
                         "That connection already has a transport\n");
      return;
    }
  } else {
    c = add_connection (false);
  }
  c->upgrading = true;
  g_object_set_data_full (G_OBJECT (msg), kTokenKey,
                          g_strdup (c->token.c_str ()), g_free);
}

void
HubServer::Impl::handle_websocket (SoupServerMessage *msg,
                                   SoupWebsocketConnection *socket)
{
  const char *token
      = (const char *)g_object_get_data (G_OBJECT (msg), kTokenKey);
  auto it = token ? connections.find (token) : connections.end ();
  if (it == connections.end () || shutting_down) {
    /* Expired while upgrading. */
    soup_websocket_connection_close (socket, SOUP_WEBSOCKET_CLOSE_GOING_AWAY,
                                     nullptr);
    return;
  }
  Connection *c = it->second.get ();
  c->upgrading = false;
  /* libsoup drops its reference after this callback: keep one. */
  c->socket.reset ((SoupWebsocketConnection *)g_object_ref (socket));
  c->socket_opened_us = c->last_received_us = c->last_sent_us
      = g_get_monotonic_time ();
  /* Let a frame a little over the record limit through, so that the
   * client gets a SignalR Close naming the limit rather than a bare
   * WebSocket error. */
  g_object_set (socket, "max-incoming-payload-size",
                (guint64)options.max_message_size + 64 * 1024, nullptr);

  g_signal_connect (socket, "message",
                    G_CALLBACK (+[] (SoupWebsocketConnection *, gint type,
                                     GBytes *data, gpointer user_data) {
                      auto *conn = static_cast<Connection *> (user_data);
                      conn->hub->on_frame (conn, (SoupWebsocketDataType)type,
                                           data);
                    }),
                    c);
  g_signal_connect (
      socket, "closed",
      G_CALLBACK (+[] (SoupWebsocketConnection *, gpointer user_data) {
        auto *conn = static_cast<Connection *> (user_data);
        conn->hub->on_closed (conn);
      }),
      c);
  g_signal_connect (
      socket, "error",
      G_CALLBACK (
          +[] (SoupWebsocketConnection *, GError *error, gpointer user_data) {
            g_debug ("connection %s: %s",
                     static_cast<Connection *> (user_data)->id.c_str (),
                     error->message);
          }),
      c);
  g_debug ("connection %s: WebSocket open", c->id.c_str ());
}

void
HubServer::Impl::handle_static (SoupServerMessage *msg, const char *path)
{
  const char *method = soup_server_message_get_method (msg);
  if (options.web_root.empty ()
      || !(g_str_equal (method, "GET") || g_str_equal (method, "HEAD"))) {
    set_text_response (msg, SOUP_STATUS_NOT_FOUND, "Not found\n");
    return;
  }
  g_autofree gchar *decoded = g_uri_unescape_string (path, "/");
  if (!decoded || decoded[0] != '/') {
    set_text_response (msg, SOUP_STATUS_BAD_REQUEST, "Bad path\n");
    return;
  }
  g_auto (GStrv) parts = g_strsplit (decoded, "/", -1);
  for (gchar **p = parts; *p; p++) {
    if (g_str_equal (*p, "..")) {
      set_text_response (msg, SOUP_STATUS_FORBIDDEN, "Forbidden\n");
      return;
    }
  }
  g_autofree gchar *file
      = g_build_filename (options.web_root.c_str (), decoded, nullptr);
  if (g_file_test (file, G_FILE_TEST_IS_DIR)) {
    gchar *index = g_build_filename (file, "index.html", nullptr);
    g_free (file);
    file = index;
  }
  g_autoptr (GError) error = nullptr;
  g_autoptr (GMappedFile) mapped = g_mapped_file_new (file, FALSE, &error);
  if (!mapped) {
    set_text_response (msg, SOUP_STATUS_NOT_FOUND, "Not found\n");
    return;
  }
  g_autoptr (GBytes) bytes = g_mapped_file_get_bytes (mapped);
  gsize size;
  const guchar *data = (const guchar *)g_bytes_get_data (bytes, &size);
  /* Browsers refuse scripts and style sheets served under another type
   * (strict MIME checking), so the web's own types do not depend on the
   * machine's shared-mime-info. */
  static const struct
  {
    const char *suffix, *type;
  } web_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript"},
    {".mjs", "text/javascript"},
    {".css", "text/css"},
    {".json", "application/json"},
    {".map", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
  };
  g_autofree gchar *mime = nullptr;
  for (const auto &t : web_types) {
    if (g_str_has_suffix (file, t.suffix)) {
      mime = g_strdup (t.type);
      break;
    }
  }
  if (!mime) {
    g_autofree gchar *type
        = g_content_type_guess (file, data, size, nullptr);
    mime = g_content_type_get_mime_type (type);
  }
  soup_server_message_set_status (msg, SOUP_STATUS_OK, nullptr);
  soup_message_headers_set_content_type (
      soup_server_message_get_response_headers (msg),
      mime ? mime : "application/octet-stream", nullptr);
  soup_message_body_append_bytes (soup_server_message_get_response_body (msg),
                                  bytes);
}

std::string
HubServer::Impl::metrics_text () const
{
  std::string text;
  auto add = [&text] (const char *name, const char *type, const char *help,
                      guint64 value) {
    text += std::string ("# HELP ") + name + " " + help + "\n# TYPE " + name
            + " " + type + "\n" + name + " " + std::to_string (value) + "\n";
  };
  add ("signalrtc_hub_connections", "gauge",
       "SignalR connections past the handshake.", metrics.connections);
  add ("signalrtc_hub_connections_total", "counter",
       "SignalR handshakes completed since start.", metrics.connections_total);
  add ("signalrtc_hub_messages_received_total", "counter",
       "SignalR messages received.", metrics.messages_received);
  add ("signalrtc_hub_messages_sent_total", "counter", "SignalR messages sent.",
       metrics.messages_sent);
  add ("signalrtc_hub_errors_total", "counter",
       "Refused requests and handshakes, invalid frames, failed invocations.",
       metrics.errors);
  return text;
}

/* ---- SignalR ---------------------------------------------------------- */

void
HubServer::Impl::send_record (Connection *c, const std::string &json)
{
  if (!c->socket || c->closing
      || soup_websocket_connection_get_state (c->socket.get ())
             != SOUP_WEBSOCKET_STATE_OPEN)
    return;
  std::string framed = frame_record (json);
  soup_websocket_connection_send_text (c->socket.get (), framed.c_str ());
  c->last_sent_us = g_get_monotonic_time ();
  metrics.messages_sent++;
}

void
HubServer::Impl::deliver (const std::vector<HubDelivery> &deliveries)
{
  for (const auto &d : deliveries) {
    auto it = by_id.find (d.connection_id);
    if (it != by_id.end ())
      send_record (it->second, serialize_message (d.message));
  }
}

/* Tells the client why (a handshake error before the handshake, a Close
 * message after it) and closes its socket. */
void
HubServer::Impl::fail (Connection *c, const std::string &error)
{
  metrics.errors++;
  g_info ("connection %s: %s", c->id.c_str (), error.c_str ());
  if (c->handshaken)
    send_record (c, serialize_message (make_close (error)));
  else
    send_record (c, serialize_handshake_response ({error}));
  close (c);
}

void
HubServer::Impl::close (Connection *c)
{
  if (c->closing || !c->socket)
    return;
  c->closing = true;
  if (soup_websocket_connection_get_state (c->socket.get ())
      == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (c->socket.get (),
                                     SOUP_WEBSOCKET_CLOSE_NORMAL, nullptr);
}

void
HubServer::Impl::on_frame (Connection *c, SoupWebsocketDataType type,
                           GBytes *data)
{
  if (c->closing)
    return;
  c->last_received_us = g_get_monotonic_time ();
  if (type != SOUP_WEBSOCKET_DATA_TEXT) {
    fail (c, "Binary frames are not part of the JSON hub protocol");
    return;
  }

  gsize size;
  const char *bytes = (const char *)g_bytes_get_data (data, &size);
  std::vector<std::string> records;
  g_autoptr (GError) error = nullptr;
  bool ok = c->reader.feed ({bytes, size}, records, &error);

  /* Records completed before an oversized one are still handled. */
  for (const auto &record : records) {
    if (c->closing)
      return;
    metrics.messages_received++;
    if (!c->handshaken) {
      if (!on_handshake (c, record))
        return;
    } else {
      on_record (c, record);
    }
  }
  if (!ok && !c->closing)
    fail (c, std::string ("Message refused: ") + error->message);
}

bool
HubServer::Impl::on_handshake (Connection *c, const std::string &record)
{
  g_autoptr (GError) error = nullptr;
  auto request = parse_handshake_request (record, &error);
  if (!request) {
    fail (c, std::string ("Handshake request is invalid: ") + error->message);
    return false;
  }
  if (request->protocol != kJsonProtocolName) {
    fail (c, "The protocol '" + request->protocol
                 + "' is not supported; this hub speaks 'json'");
    return false;
  }
  if (request->version != kJsonProtocolVersion) {
    fail (c, "Version " + std::to_string (request->version)
                 + " of the 'json' protocol is not supported; use 1");
    return false;
  }
  send_record (c, serialize_handshake_response ({}));
  c->handshaken = true;
  by_id[c->id] = c;
  state.add_connection (c->id);
  metrics.connections++;
  metrics.connections_total++;
  g_debug ("connection %s: handshake done (%" G_GSIZE_FORMAT " on the hub)",
           c->id.c_str (), state.connection_count ());
  return true;
}

void
HubServer::Impl::on_record (Connection *c, const std::string &record)
{
  g_autoptr (GError) error = nullptr;
  auto message = parse_message (record, &error);
  if (!message) {
    fail (c, std::string ("Invalid message: ") + error->message);
    return;
  }

  switch (message->type) {
  case MessageType::Invocation: {
    bool failed = false;
    deliver (state.handle_invocation (c->id, *message, &failed));
    if (failed)
      metrics.errors++;
    break;
  }
  case MessageType::StreamInvocation:
    metrics.errors++;
    if (message->invocation_id) {
      send_record (c, serialize_message (make_completion_error (
                          *message->invocation_id,
                          "Streaming hub method '" + message->target
                              + "' is not supported")));
    }
    break;
  case MessageType::Ping:
    /* Only clients that ping are held to the client timeout: the 1.x
       * JS client never pings. */
    c->client_pinged = true;
    break;
  case MessageType::Close:
    g_debug ("connection %s: client closed%s%s", c->id.c_str (),
             message->error ? ": " : "",
             message->error ? message->error->c_str () : "");
    close (c);
    break;
  case MessageType::Completion:
  case MessageType::StreamItem:
  case MessageType::CancelInvocation:
  case MessageType::Ack:
  case MessageType::Sequence:
    /* The hub invokes no client methods with results, takes no streams
       * and offers no stateful reconnect: nothing to do. */
    g_debug ("connection %s: ignoring a %s message", c->id.c_str (),
             message_type_name (message->type));
    break;
  }
}

void
HubServer::Impl::on_closed (Connection *c)
{
  g_debug ("connection %s: closed", c->id.c_str ());
  const std::string id = c->id, token = c->token;
  const bool was_on_hub = c->handshaken;
  g_signal_handlers_disconnect_by_data (c->socket.get (), c);
  if (was_on_hub) {
    by_id.erase (id);
    metrics.connections--;
  }
  connections.erase (token); /* c is gone */
  if (was_on_hub)
    deliver (state.remove_connection (id));
  if (shutting_down)
    finish_shutdown ();
}

guint
HubServer::Impl::tick_interval_ms () const
{
  guint shortest
      = std::min ({options.keep_alive_ms, options.client_timeout_ms,
                   options.handshake_timeout_ms, options.negotiate_expiry_ms});
  return std::clamp (shortest / 4, 20u, 1000u);
}

void
HubServer::Impl::tick ()
{
  const gint64 now = g_get_monotonic_time ();
  const gint64 ms = 1000;
  std::vector<std::string> expired;
  std::vector<Connection *> failing_handshake, timed_out;

  for (auto &[token, c] : connections) {
    if (!c->socket) {
      if (now - c->created_us > options.negotiate_expiry_ms * ms)
        expired.push_back (token);
    } else if (c->closing) {
      continue;
    } else if (!c->handshaken) {
      if (now - c->socket_opened_us > options.handshake_timeout_ms * ms)
        failing_handshake.push_back (c.get ());
    } else {
      if (c->client_pinged
          && now - c->last_received_us > options.client_timeout_ms * ms)
        timed_out.push_back (c.get ());
      else if (now - c->last_sent_us >= options.keep_alive_ms * ms)
        send_record (c.get (), serialize_message (make_ping ()));
    }
  }

  for (const auto &token : expired) {
    g_debug ("forgetting negotiated connection %s, never used",
             connections[token]->id.c_str ());
    connections.erase (token);
  }
  for (Connection *c : failing_handshake)
    fail (c, "The handshake was not completed in time");
  for (Connection *c : timed_out)
    fail (c, "Server timeout elapsed without receiving a message from the "
             "client");
}

void
HubServer::Impl::finish_shutdown ()
{
  for (const auto &[token, c] : connections) {
    if (c->socket)
      return; /* wait for it */
  }
  if (!shutdown_done)
    return;
  auto done = std::move (shutdown_done);
  shutdown_done = nullptr;
  done ();
}

/* ---- HubServer -------------------------------------------------------- */

HubServer::HubServer (HubServerOptions options)
    : impl_ (std::make_unique<Impl> (std::move (options)))
{}

HubServer::~HubServer () = default;

bool
HubServer::start (GError **error)
{
  Impl *impl = impl_.get ();
  const auto &opts = impl->options;

  if (opts.path.empty () || opts.path[0] != '/'
      || (opts.path.size () > 1 && opts.path.back () == '/')) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                 "Hub path '%s' must start with '/' and not end with one",
                 opts.path.c_str ());
    return false;
  }
  g_autoptr (GInetAddress) address
      = g_inet_address_new_from_string (opts.address.c_str ());
  if (!address) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                 "'%s' is not an IP address", opts.address.c_str ());
    return false;
  }

  impl->context = g_main_context_ref_thread_default ();
  g_main_context_unref (impl->context); /* borrowed: it outlives us */
  impl->server.reset (SOUP_SERVER (g_object_new (
      SOUP_TYPE_SERVER, "server-header", "signalrtc-hub ", nullptr)));
  SoupServer *server = impl->server.get ();
  g_signal_connect (server, "request-read", G_CALLBACK (on_request_read),
                    nullptr);

  soup_server_add_handler (
      server, (opts.path + "/negotiate").c_str (),
      [] (SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *,
          gpointer user_data) {
        auto *self = static_cast<Impl *> (user_data);
        if (g_str_equal (path, (self->options.path + "/negotiate").c_str ()))
          self->handle_negotiate (msg);
        else
          set_text_response (msg, SOUP_STATUS_NOT_FOUND, "Not found\n");
      },
      impl, nullptr);
  soup_server_add_handler (
      server, opts.path.c_str (),
      [] (SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *,
          gpointer user_data) {
        auto *self = static_cast<Impl *> (user_data);
        if (g_str_equal (path, self->options.path.c_str ()))
          self->handle_hub_request (msg);
        else
          set_text_response (msg, SOUP_STATUS_NOT_FOUND, "Not found\n");
      },
      impl, nullptr);
  soup_server_add_websocket_handler (
      server, opts.path.c_str (), nullptr, nullptr,
      [] (SoupServer *, SoupServerMessage *msg, const char *,
          SoupWebsocketConnection *socket, gpointer user_data) {
        static_cast<Impl *> (user_data)->handle_websocket (msg, socket);
      },
      impl, nullptr);
  soup_server_add_handler (
      server, "/healthz",
      [] (SoupServer *, SoupServerMessage *msg, const char *, GHashTable *,
          gpointer user_data) {
        auto *self = static_cast<Impl *> (user_data);
        if (self->shutting_down)
          set_text_response (msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
                             "shutting down\n");
        else
          set_text_response (msg, SOUP_STATUS_OK, "ok\n");
      },
      impl, nullptr);
  soup_server_add_handler (
      server, "/metrics",
      [] (SoupServer *, SoupServerMessage *msg, const char *, GHashTable *,
          gpointer user_data) {
        std::string text = static_cast<Impl *> (user_data)->metrics_text ();
        soup_server_message_set_status (msg, SOUP_STATUS_OK, nullptr);
        soup_server_message_set_response (
            msg, "text/plain; version=0.0.4; charset=utf-8", SOUP_MEMORY_COPY,
            text.data (), text.size ());
      },
      impl, nullptr);
  soup_server_add_handler (
      server, nullptr,
      [] (SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *,
          gpointer user_data) {
        static_cast<Impl *> (user_data)->handle_static (msg, path);
      },
      impl, nullptr);

  /* Our own listening socket, for a backlog that takes a burst of clients
   * (GSocket's default of 10 drops connects and makes clients retry). */
  g_autoptr (GSocketAddress) socket_address
      = g_inet_socket_address_new (address, opts.port);
  g_autoptr (GSocket) listener
      = g_socket_new (g_inet_address_get_family (address), G_SOCKET_TYPE_STREAM,
                      G_SOCKET_PROTOCOL_TCP, error);
  if (!listener)
    return false;
  g_socket_set_listen_backlog (listener, kListenBacklog);
  if (!g_socket_bind (listener, socket_address, TRUE, error)
      || !g_socket_listen (listener, error)
      || !soup_server_listen_socket (server, listener,
                                     (SoupServerListenOptions)0, error))
    return false;

  GSList *uris = soup_server_get_uris (server);
  impl->bound_port = uris ? g_uri_get_port ((GUri *)uris->data) : opts.port;
  g_slist_free_full (uris, (GDestroyNotify)g_uri_unref);

  impl->tick_source = g_timeout_source_new (impl->tick_interval_ms ());
  g_source_set_callback (
      impl->tick_source,
      [] (gpointer user_data) -> gboolean {
        static_cast<Impl *> (user_data)->tick ();
        return G_SOURCE_CONTINUE;
      },
      impl, nullptr);
  g_source_attach (impl->tick_source, impl->context);
  return true;
}

guint
HubServer::port () const
{
  return impl_->bound_port;
}

std::string
HubServer::url () const
{
  const auto &address = impl_->options.address;
  std::string host
      = address.find (':') != std::string::npos ? "[" + address + "]" : address;
  return "http://" + host + ":" + std::to_string (impl_->bound_port)
         + impl_->options.path;
}

void
HubServer::shutdown (std::function<void ()> done)
{
  Impl *impl = impl_.get ();
  impl->shutting_down = true;
  impl->shutdown_done = std::move (done);
  if (impl->server)
    soup_server_disconnect (impl->server.get ());

  std::vector<Impl::Connection *> open;
  for (auto &[token, c] : impl->connections) {
    if (c->socket)
      open.push_back (c.get ());
  }
  /* The hub is going away, not refusing the client: it may come back. */
  std::string close_message = serialize_message (make_close ({}, true));
  for (Impl::Connection *c : open) {
    if (c->handshaken)
      impl->send_record (c, close_message);
    impl->close (c);
  }

  impl->grace_source = g_timeout_source_new (kShutdownGraceMs);
  g_source_set_callback (
      impl->grace_source,
      [] (gpointer user_data) -> gboolean {
        auto *self = static_cast<Impl *> (user_data);
        g_info ("%zu client(s) did not finish closing; stopping anyway",
                self->connections.size ());
        if (auto done = std::move (self->shutdown_done)) {
          self->shutdown_done = nullptr;
          done ();
        }
        return G_SOURCE_REMOVE;
      },
      impl, nullptr);
  g_source_attach (impl->grace_source, impl->context);
  impl->finish_shutdown ();
}

const HubMetrics &
HubServer::metrics () const
{
  return impl_->metrics;
}

}  // namespace signalrtc
