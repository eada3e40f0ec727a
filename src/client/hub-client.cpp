/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "signalrtc-client"

#include "client/hub-client.h"

#include "protocol/negotiate.h"
#include "protocol/protocol-error.h"
#include "protocol/signalr-framing.h"
#include "protocol/signalr-messages.h"

#include <libsoup/soup.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <map>
#include <utility>

/* clang-format off */
G_DEFINE_QUARK (signalrtc-client-error-quark, signalrtc_client_error)
/* clang-format on */

namespace signalrtc {

namespace {

/* Redirects followed during one negotiate before giving up (as the JS
 * client). */
constexpr guint kMaxRedirects = 100;

struct GObjectDeleter
{
  void operator() (gpointer object) const { g_object_unref (object); }
};
template <typename T> using GObjectPtr = std::unique_ptr<T, GObjectDeleter>;

struct SourceDeleter
{
  void operator() (GSource *source) const
  {
    g_source_destroy (source);
    g_source_unref (source);
  }
};
using SourcePtr = std::unique_ptr<GSource, SourceDeleter>;

struct ErrorDeleter
{
  void operator() (GError *error) const { g_error_free (error); }
};
using ErrorPtr = std::unique_ptr<GError, ErrorDeleter>;

struct UriDeleter
{
  void operator() (GUri *uri) const { g_uri_unref (uri); }
};
using UriPtr = std::unique_ptr<GUri, UriDeleter>;

struct ContextDeleter
{
  void operator() (GMainContext *context) const
  {
    g_main_context_unref (context);
  }
};
using ContextPtr = std::unique_ptr<GMainContext, ContextDeleter>;

/* Makes @context the thread-default one for a scope, so that GIO and
 * libsoup attach their sources there. */
class ThreadDefaultContext
{
 public:
  explicit ThreadDefaultContext (GMainContext *context) : context_ (context)
  {
    g_main_context_push_thread_default (context_);
  }
  ~ThreadDefaultContext () { g_main_context_pop_thread_default (context_); }

  ThreadDefaultContext (const ThreadDefaultContext &) = delete;
  ThreadDefaultContext &operator= (const ThreadDefaultContext &) = delete;

 private:
  GMainContext *context_;
};

SourcePtr
attach_source (GSource *source, GMainContext *context, GSourceFunc func,
               gpointer data)
{
  g_source_set_callback (source, func, data, nullptr);
  g_source_attach (source, context);
  return SourcePtr (source);
}

SourcePtr
attach_timeout (GMainContext *context, guint ms, GSourceFunc func,
                gpointer data)
{
  return attach_source (g_timeout_source_new (ms), context, func, data);
}

std::string
lower_case (std::string_view s)
{
  g_autofree gchar *lower = g_utf8_strdown (s.data (), s.size ());
  return lower;
}

bool
is_scheme (const char *scheme, const char *wanted)
{
  return scheme != nullptr && g_ascii_strcasecmp (scheme, wanted) == 0;
}

/* The hub URL @url with its scheme turned into http(s) (@websocket false)
 * or ws(s), @path_suffix appended to the path and @query_params (already
 * encoded, "a=b" each) appended to the query. */
std::string
build_url (const std::string &url, bool websocket, std::string_view path_suffix,
           const std::vector<std::string> &query_params, GError **error)
{
  UriPtr uri (g_uri_parse (url.c_str (), G_URI_FLAGS_ENCODED, error));
  if (!uri)
    return {};

  const char *scheme = g_uri_get_scheme (uri.get ());
  bool secure = is_scheme (scheme, "https") || is_scheme (scheme, "wss");
  const char *new_scheme
      = websocket ? (secure ? "wss" : "ws") : (secure ? "https" : "http");

  std::string path = g_uri_get_path (uri.get ());
  if (!path_suffix.empty ()) {
    if (path.empty () || path.back () != '/')
      path += '/';
    path += path_suffix;
  }

  std::string query;
  if (const char *q = g_uri_get_query (uri.get ()); q != nullptr && *q)
    query = q;
  for (const auto &param : query_params) {
    if (!query.empty ())
      query += '&';
    query += param;
  }

  UriPtr built (g_uri_build (
      G_URI_FLAGS_ENCODED, new_scheme, g_uri_get_userinfo (uri.get ()),
      g_uri_get_host (uri.get ()), g_uri_get_port (uri.get ()), path.c_str (),
      query.empty () ? nullptr : query.c_str (), nullptr));
  g_autofree gchar *text = g_uri_to_string (built.get ());
  return text;
}

std::string
query_param (const char *name, const std::string &value)
{
  g_autofree gchar *escaped
      = g_uri_escape_string (value.c_str (), nullptr, FALSE);
  return std::string (name) + "=" + escaped;
}

GError *
client_error (SignalrtcClientError code, const std::string &message)
{
  return g_error_new_literal (SIGNALRTC_CLIENT_ERROR, code, message.c_str ());
}

/* Lets go of a WebSocket connection we no longer listen to: closes it
 * cleanly when it is still open and keeps it alive until libsoup reports it
 * closed, so that queued frames (our Close message, the close frame) still
 * go out. */
void
release_connection (SoupWebsocketConnection *conn, GMainContext *context)
{
  ThreadDefaultContext push (context);
  SoupWebsocketState state = soup_websocket_connection_get_state (conn);
  if (state == SOUP_WEBSOCKET_STATE_CLOSED) {
    g_object_unref (conn);
    return;
  }
  if (state == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_NORMAL,
                                     nullptr);
  g_signal_connect (conn, "closed",
                    G_CALLBACK (+[] (SoupWebsocketConnection *self, gpointer) {
                      g_object_unref (self);
                    }),
                    nullptr);
}

/* Calls a user callback; exceptions must not unwind through GLib. */
template <typename F, typename... Args>
void
call_user (const char *what, const F &f, Args &&...args)
{
  if (!f)
    return;
  try {
    f (std::forward<Args> (args)...);
  } catch (const std::exception &e) {
    g_warning ("%s handler threw: %s", what, e.what ());
  } catch (...) {
    g_warning ("%s handler threw", what);
  }
}

}  // namespace

struct HubClient::Impl
{
  explicit Impl (Options options);
  ~Impl ();

  /* What an async libsoup operation needs to find its way back: the Impl
   * only when it is still alive and the operation was not abandoned. */
  struct AsyncOp
  {
    std::weak_ptr<int> alive;
    Impl *self;
    GObjectPtr<GCancellable> cancellable;
    GObjectPtr<SoupMessage> message;
    ContextPtr context;

    Impl *target () const
    {
      if (alive.expired () || g_cancellable_is_cancelled (cancellable.get ()))
        return nullptr;
      return self;
    }
  };

  void start ();
  void stop ();
  void invoke (std::string target, std::vector<JsonValue> arguments,
               InvokeCallback callback);
  bool send (std::string target, std::vector<JsonValue> arguments,
             GError **error);

  void begin_attempt ();
  void negotiate ();
  static void on_negotiate_done (GObject *source, GAsyncResult *result,
                                 gpointer data);
  void handle_negotiate_reply (SoupMessage *msg, GBytes *body, GError *error);
  void connect_websocket ();
  static void on_websocket_connected (GObject *source, GAsyncResult *result,
                                      gpointer data);
  void handle_websocket (SoupWebsocketConnection *conn);

  static void on_ws_message (SoupWebsocketConnection *conn, gint type,
                             GBytes *message, gpointer data);
  static void on_ws_closed (SoupWebsocketConnection *conn, gpointer data);
  static void on_ws_error (SoupWebsocketConnection *conn, GError *error,
                           gpointer data);
  /* FALSE when the connection went away while handling @record. */
  bool handle_record (const std::string &record);
  bool handle_handshake_response (const std::string &record);
  void handle_message (HubMessage &message);

  bool send_text (const std::string &record, GError **error);
  void arm_keep_alive (guint ms);
  void arm_server_timeout (guint ms);
  static gboolean on_handshake_timeout (gpointer data);
  static gboolean on_keep_alive (gpointer data);
  static gboolean on_server_timeout (gpointer data);
  static gboolean on_reconnect_timer (gpointer data);
  static gboolean on_deferred (gpointer data);

  /* Drops the transport, the timers and any attempt in progress. */
  void teardown_transport (bool send_close);
  /* The connection (or the attempt) failed with @error: fail pending
   * invocations, tell the user, and retry if the policy says so. Takes
   * @error. */
  void connection_lost (GError *error);
  void schedule_reconnect ();
  void fail_pending (const GError *error);
  void defer_error (InvokeCallback callback, GError *error);

  Options options_;
  ContextPtr context_;
  GObjectPtr<SoupSession> session_;
  std::shared_ptr<int> alive_ = std::make_shared<int> (0);

  std::map<std::string, std::vector<EventHandler>> handlers_;
  ConnectedHandler connected_handler_;
  DisconnectedHandler disconnected_handler_;
  ReconnectingHandler reconnecting_handler_;

  State state_ = State::Disconnected;
  /* Bumped by every teardown, start () and stop (): code that called out to
   * the user compares it to learn whether the world changed under it. */
  guint64 epoch_ = 0;
  bool stopped_ = true;
  bool ever_connected_ = false;
  guint attempt_ = 0;

  /* The attempt in progress. */
  GObjectPtr<GCancellable> cancellable_;
  std::string hub_url_;
  std::string access_token_;
  guint redirects_ = 0;
  std::string transport_id_;
  std::string negotiated_id_;

  /* The transport. */
  SoupWebsocketConnection *conn_ = nullptr;
  ErrorPtr ws_error_;
  RecordReader reader_;
  bool handshake_done_ = false;
  std::string connection_id_;
  gint64 last_sent_ = 0;
  gint64 last_received_ = 0;

  SourcePtr handshake_timer_;
  SourcePtr keep_alive_timer_;
  SourcePtr server_timeout_timer_;
  SourcePtr reconnect_timer_;

  guint64 next_invocation_id_ = 0;
  std::map<guint64, InvokeCallback> pending_;

  std::deque<std::pair<InvokeCallback, ErrorPtr>> deferred_;
  SourcePtr deferred_source_;
};

HubClient::Impl::Impl (Options options)
    : options_ (std::move (options)), reader_ (options_.max_message_size)
{
  context_.reset (options_.context != nullptr
                      ? g_main_context_ref (options_.context)
                      : g_main_context_ref_thread_default ());
  ThreadDefaultContext push (context_.get ());
  session_.reset (
      soup_session_new_with_options ("user-agent", "signalrtc/0.1 ", nullptr));
}

HubClient::Impl::~Impl ()
{
  stopped_ = true;
  connected_handler_ = nullptr;
  disconnected_handler_ = nullptr;
  reconnecting_handler_ = nullptr;
  teardown_transport (true);
  reconnect_timer_.reset ();
  deferred_source_.reset ();
  deferred_.clear ();
  pending_.clear ();
  alive_.reset ();
  ThreadDefaultContext push (context_.get ());
  soup_session_abort (session_.get ());
  session_.reset ();
}

void
HubClient::Impl::start ()
{
  if (!stopped_) {
    g_debug ("start: already started");
    return;
  }

  ++epoch_;
  stopped_ = false;
  ever_connected_ = false;
  attempt_ = 0;

  g_autoptr (GError) error = nullptr;
  if (!validate_url (options_.url, &error)) {
    /* Reported from the loop, as any other failure of start (). */
    stopped_ = true;
    guint64 epoch = epoch_;
    struct Report
    {
      Impl *self;
      std::weak_ptr<int> alive;
      guint64 epoch;
      ErrorPtr error;
    };
    auto *report
        = new Report{this, alive_, epoch, ErrorPtr (g_steal_pointer (&error))};
    GSource *idle = g_idle_source_new ();
    g_source_set_callback (
        idle,
        +[] (gpointer data) -> gboolean {
          auto *r = static_cast<Report *> (data);
          if (!r->alive.expired () && r->self->epoch_ == r->epoch)
            call_user ("disconnected", r->self->disconnected_handler_,
                       r->error.get (), false);
          return G_SOURCE_REMOVE;
        },
        report, +[] (gpointer data) { delete static_cast<Report *> (data); });
    g_source_attach (idle, context_.get ());
    g_source_unref (idle);
    return;
  }

  state_ = State::Connecting;
  begin_attempt ();
}

void
HubClient::Impl::begin_attempt ()
{
  teardown_transport (false);
  cancellable_.reset (g_cancellable_new ());
  hub_url_ = options_.url;
  access_token_ = options_.access_token;
  redirects_ = 0;
  transport_id_.clear ();
  negotiated_id_.clear ();

  if (options_.skip_negotiation)
    connect_websocket ();
  else
    negotiate ();
}

void
HubClient::Impl::negotiate ()
{
  g_autoptr (GError) error = nullptr;
  std::string url = build_url (hub_url_, false, "negotiate",
                               {"negotiateVersion=1"}, &error);
  if (url.empty ()) {
    connection_lost (
        client_error (SIGNALRTC_CLIENT_ERROR_INVALID_URL,
                      "invalid hub URL '" + hub_url_ + "': " + error->message));
    return;
  }

  g_debug ("negotiating at %s", url.c_str ());
  GObjectPtr<SoupMessage> msg (soup_message_new ("POST", url.c_str ()));
  if (!msg) {
    connection_lost (client_error (SIGNALRTC_CLIENT_ERROR_INVALID_URL,
                                   "invalid negotiate URL '" + url + "'"));
    return;
  }
  g_autoptr (GBytes) empty = g_bytes_new_static ("", 0);
  soup_message_set_request_body_from_bytes (msg.get (), nullptr, empty);
  if (!access_token_.empty ()) {
    std::string auth = "Bearer " + access_token_;
    soup_message_headers_replace (soup_message_get_request_headers (msg.get ()),
                                  "Authorization", auth.c_str ());
  }

  auto *op = new AsyncOp{
      alive_, this,
      GObjectPtr<GCancellable> (
          G_CANCELLABLE (g_object_ref (cancellable_.get ()))),
      GObjectPtr<SoupMessage> (SOUP_MESSAGE (g_object_ref (msg.get ()))),
      ContextPtr (g_main_context_ref (context_.get ()))};
  ThreadDefaultContext push (context_.get ());
  soup_session_send_and_read_async (session_.get (), msg.get (),
                                    G_PRIORITY_DEFAULT, cancellable_.get (),
                                    on_negotiate_done, op);
}

void
HubClient::Impl::on_negotiate_done (GObject *source, GAsyncResult *result,
                                    gpointer data)
{
  std::unique_ptr<AsyncOp> op (static_cast<AsyncOp *> (data));
  g_autoptr (GError) error = nullptr;
  g_autoptr (GBytes) body = soup_session_send_and_read_finish (
      SOUP_SESSION (source), result, &error);

  Impl *self = op->target ();
  if (self == nullptr)
    return;
  self->handle_negotiate_reply (op->message.get (), body, error);
}

void
HubClient::Impl::handle_negotiate_reply (SoupMessage *msg, GBytes *body,
                                         GError *error)
{
  g_autofree gchar *uri = g_uri_to_string (soup_message_get_uri (msg));
  if (error != nullptr) {
    connection_lost (client_error (SIGNALRTC_CLIENT_ERROR_NEGOTIATE,
                                   std::string ("negotiate at ") + uri
                                       + " failed: " + error->message));
    return;
  }

  guint status = soup_message_get_status (msg);
  if (!SOUP_STATUS_IS_SUCCESSFUL (status)) {
    const char *reason = soup_message_get_reason_phrase (msg);
    connection_lost (client_error (
        SIGNALRTC_CLIENT_ERROR_NEGOTIATE,
        std::string ("negotiate at ") + uri + " failed: HTTP "
            + std::to_string (status) + " " + (reason ? reason : "")));
    return;
  }

  gsize size = 0;
  const char *data = static_cast<const char *> (g_bytes_get_data (body, &size));
  g_autoptr (GError) parse_error = nullptr;
  auto reply = parse_negotiate_response (
      std::string_view (data ? data : "", size), &parse_error);
  if (!reply) {
    connection_lost (client_error (SIGNALRTC_CLIENT_ERROR_NEGOTIATE,
                                   std::string ("invalid negotiate reply "
                                                "from ")
                                       + uri + ": " + parse_error->message));
    return;
  }

  switch (reply->kind) {
  case NegotiateResponse::Kind::Error:
    connection_lost (client_error (SIGNALRTC_CLIENT_ERROR_NEGOTIATE,
                                   "negotiate refused: " + reply->error));
    return;
  case NegotiateResponse::Kind::Redirect:
    if (++redirects_ > kMaxRedirects) {
      connection_lost (client_error (SIGNALRTC_CLIENT_ERROR_NEGOTIATE,
                                     "negotiate redirected more than "
                                         + std::to_string (kMaxRedirects)
                                         + " times"));
      return;
    }
    g_debug ("negotiate redirects to %s", reply->url.c_str ());
    hub_url_ = reply->url;
    if (!reply->access_token.empty ())
      access_token_ = reply->access_token;
    negotiate ();
    return;
  case NegotiateResponse::Kind::Connection:
    break;
  }

  if (!reply->supports_websockets_text ()) {
    connection_lost (client_error (
        SIGNALRTC_CLIENT_ERROR_NEGOTIATE,
        "the hub does not offer WebSockets with the Text format"));
    return;
  }

  transport_id_ = reply->transport_id ();
  negotiated_id_ = reply->connection_id;
  g_debug ("negotiated connection %s (negotiate version %d)",
           negotiated_id_.c_str (), reply->negotiate_version);
  connect_websocket ();
}

void
HubClient::Impl::connect_websocket ()
{
  std::vector<std::string> params;
  if (!transport_id_.empty ())
    params.push_back (query_param ("id", transport_id_));
  if (!access_token_.empty ())
    params.push_back (query_param ("access_token", access_token_));

  g_autoptr (GError) error = nullptr;
  std::string url = build_url (hub_url_, true, {}, params, &error);
  GObjectPtr<SoupMessage> msg;
  if (!url.empty ())
    msg.reset (soup_message_new ("GET", url.c_str ()));
  if (!msg) {
    connection_lost (client_error (SIGNALRTC_CLIENT_ERROR_INVALID_URL,
                                   "invalid hub URL '" + hub_url_ + "'"));
    return;
  }
  if (!access_token_.empty ()) {
    std::string auth = "Bearer " + access_token_;
    soup_message_headers_replace (soup_message_get_request_headers (msg.get ()),
                                  "Authorization", auth.c_str ());
  }

  g_debug ("opening WebSocket %s", hub_url_.c_str ());
  auto *op = new AsyncOp{
      alive_, this,
      GObjectPtr<GCancellable> (
          G_CANCELLABLE (g_object_ref (cancellable_.get ()))),
      GObjectPtr<SoupMessage> (SOUP_MESSAGE (g_object_ref (msg.get ()))),
      ContextPtr (g_main_context_ref (context_.get ()))};
  ThreadDefaultContext push (context_.get ());
  soup_session_websocket_connect_async (
      session_.get (), msg.get (), nullptr, nullptr, G_PRIORITY_DEFAULT,
      cancellable_.get (), on_websocket_connected, op);
}

void
HubClient::Impl::on_websocket_connected (GObject *source, GAsyncResult *result,
                                         gpointer data)
{
  std::unique_ptr<AsyncOp> op (static_cast<AsyncOp *> (data));
  g_autoptr (GError) error = nullptr;
  SoupWebsocketConnection *conn = soup_session_websocket_connect_finish (
      SOUP_SESSION (source), result, &error);

  Impl *self = op->target ();
  if (self == nullptr) {
    /* Abandoned: close it on the context it was made on. */
    if (conn != nullptr)
      release_connection (conn, op->context.get ());
    return;
  }

  if (conn == nullptr) {
    g_autofree gchar *uri
        = g_uri_to_string (soup_message_get_uri (op->message.get ()));
    guint status = soup_message_get_status (op->message.get ());
    std::string message
        = std::string ("WebSocket to ") + uri + " failed: " + error->message;
    if (status != SOUP_STATUS_NONE && status != SOUP_STATUS_SWITCHING_PROTOCOLS)
      message += " (HTTP " + std::to_string (status) + ")";
    self->connection_lost (
        client_error (SIGNALRTC_CLIENT_ERROR_TRANSPORT, message));
    return;
  }
  self->handle_websocket (conn);
}

void
HubClient::Impl::handle_websocket (SoupWebsocketConnection *conn)
{
  conn_ = conn;
  ws_error_.reset ();
  reader_.reset ();
  handshake_done_ = false;

  /* Records are bounded by the RecordReader; a frame may hold many. */
  soup_websocket_connection_set_max_incoming_payload_size (conn_, 0);
  g_signal_connect (conn_, "message", G_CALLBACK (on_ws_message), this);
  g_signal_connect (conn_, "closed", G_CALLBACK (on_ws_closed), this);
  g_signal_connect (conn_, "error", G_CALLBACK (on_ws_error), this);

  HandshakeRequest request{kJsonProtocolName, kJsonProtocolVersion};
  g_autoptr (GError) error = nullptr;
  last_received_ = g_get_monotonic_time ();
  if (!send_text (frame_record (serialize_handshake_request (request)),
                  &error)) {
    connection_lost (client_error (SIGNALRTC_CLIENT_ERROR_TRANSPORT,
                                   std::string ("sending the handshake "
                                                "failed: ")
                                       + error->message));
    return;
  }
  if (options_.handshake_timeout_ms > 0)
    handshake_timer_
        = attach_timeout (context_.get (), options_.handshake_timeout_ms,
                          on_handshake_timeout, this);
}

void
HubClient::Impl::on_ws_message (SoupWebsocketConnection *conn, gint type,
                                GBytes *message, gpointer data)
{
  auto *self = static_cast<Impl *> (data);
  self->last_received_ = g_get_monotonic_time ();

  if (type != SOUP_WEBSOCKET_DATA_TEXT) {
    self->connection_lost (
        client_error (SIGNALRTC_CLIENT_ERROR_PROTOCOL,
                      "binary frame received on a JSON hub connection"));
    return;
  }

  gsize size = 0;
  const char *bytes
      = static_cast<const char *> (g_bytes_get_data (message, &size));
  std::vector<std::string> records;
  g_autoptr (GError) error = nullptr;
  bool ok = self->reader_.feed (std::string_view (bytes ? bytes : "", size),
                                records, &error);

  guint64 epoch = self->epoch_;
  for (const auto &record : records) {
    if (!self->handle_record (record) || self->epoch_ != epoch)
      return;
  }
  if (!ok)
    self->connection_lost (
        client_error (SIGNALRTC_CLIENT_ERROR_PROTOCOL,
                      std::string ("invalid frame: ") + error->message));
}

void
HubClient::Impl::on_ws_closed (SoupWebsocketConnection *conn, gpointer data)
{
  auto *self = static_cast<Impl *> (data);
  std::string message = "the WebSocket was closed";
  if (self->ws_error_) {
    message += std::string (": ") + self->ws_error_->message;
  } else {
    gushort code = soup_websocket_connection_get_close_code (conn);
    const char *reason = soup_websocket_connection_get_close_data (conn);
    if (code != 0)
      message += " (code " + std::to_string (code)
                 + (reason && *reason ? std::string (", ") + reason : "") + ")";
  }
  if (!self->handshake_done_)
    message += " before the handshake";
  self->connection_lost (
      client_error (SIGNALRTC_CLIENT_ERROR_TRANSPORT, message));
}

void
HubClient::Impl::on_ws_error (SoupWebsocketConnection *conn, GError *error,
                              gpointer data)
{
  auto *self = static_cast<Impl *> (data);
  g_debug ("WebSocket error: %s", error->message);
  if (!self->ws_error_)
    self->ws_error_.reset (g_error_copy (error));
}

bool
HubClient::Impl::handle_record (const std::string &record)
{
  if (!handshake_done_)
    return handle_handshake_response (record);

  g_autoptr (GError) error = nullptr;
  auto message = parse_message (record, &error);
  if (!message) {
    if (g_error_matches (error, SIGNALRTC_PROTOCOL_ERROR,
                         SIGNALRTC_PROTOCOL_ERROR_UNKNOWN_TYPE)) {
      g_debug ("ignoring a message of unknown type: %s", error->message);
      return true;
    }
    connection_lost (client_error (SIGNALRTC_CLIENT_ERROR_PROTOCOL,
                                   std::string ("invalid message from the "
                                                "hub: ")
                                       + error->message));
    return false;
  }
  guint64 epoch = epoch_;
  handle_message (*message);
  return epoch == epoch_;
}

bool
HubClient::Impl::handle_handshake_response (const std::string &record)
{
  g_autoptr (GError) error = nullptr;
  auto response = parse_handshake_response (record, &error);
  /* A hub message in its place is no handshake response either. */
  if (response) {
    auto json = JsonValue::parse (record, nullptr);
    if (json && JSON_NODE_HOLDS_OBJECT (json->node ())
        && json_object_has_member (json_node_get_object (json->node ()),
                                   "type")) {
      connection_lost (client_error (SIGNALRTC_CLIENT_ERROR_HANDSHAKE,
                                     "expected a handshake response, got a "
                                     "message"));
      return false;
    }
  }
  if (!response) {
    connection_lost (client_error (SIGNALRTC_CLIENT_ERROR_HANDSHAKE,
                                   std::string ("invalid handshake "
                                                "response: ")
                                       + error->message));
    return false;
  }
  if (response->error) {
    connection_lost (
        client_error (SIGNALRTC_CLIENT_ERROR_HANDSHAKE,
                      "the hub refused the handshake: " + *response->error));
    return false;
  }

  handshake_done_ = true;
  handshake_timer_.reset ();
  state_ = State::Connected;
  connection_id_ = negotiated_id_;
  attempt_ = 0;
  bool reconnected = ever_connected_;
  ever_connected_ = true;
  if (options_.keep_alive_interval_ms > 0)
    arm_keep_alive (options_.keep_alive_interval_ms);
  if (options_.server_timeout_ms > 0)
    arm_server_timeout (options_.server_timeout_ms);

  g_message ("connected to %s (connection id '%s')", hub_url_.c_str (),
             connection_id_.c_str ());
  guint64 epoch = epoch_;
  call_user ("connected", connected_handler_, connection_id_, reconnected);
  return epoch == epoch_;
}

void
HubClient::Impl::handle_message (HubMessage &message)
{
  switch (message.type) {
  case MessageType::Invocation: {
    if (message.invocation_id) {
      /* Client results are not supported: answer so that the hub does
       * not wait forever. */
      send_text (
          frame_record (serialize_message (make_completion_error (
              *message.invocation_id, "Client did not provide a result."))),
          nullptr);
    }
    auto it = handlers_.find (lower_case (message.target));
    if (it == handlers_.end ()) {
      g_debug ("no handler for '%s'", message.target.c_str ());
      return;
    }
    /* A handler may register more handlers or stop the client. */
    auto handlers = it->second;
    guint64 epoch = epoch_;
    for (const auto &handler : handlers) {
      call_user (message.target.c_str (), handler, message.arguments);
      if (epoch != epoch_)
        return;
    }
    return;
  }
  case MessageType::Completion: {
    guint64 id = 0;
    auto node = pending_.end ();
    if (message.invocation_id
        && g_ascii_string_to_unsigned (message.invocation_id->c_str (), 10, 0,
                                       G_MAXUINT64, &id, nullptr))
      node = pending_.find (id);
    if (node == pending_.end ()) {
      g_debug ("completion for unknown invocation '%s'",
               message.invocation_id ? message.invocation_id->c_str () : "");
      return;
    }
    InvokeCallback callback = std::move (node->second);
    pending_.erase (node);
    if (message.error) {
      g_autoptr (GError) error
          = client_error (SIGNALRTC_CLIENT_ERROR_HUB, *message.error);
      call_user ("invoke", callback, JsonValue (), error);
    } else {
      call_user ("invoke", callback, message.result, nullptr);
    }
    return;
  }
  case MessageType::Ping:
    return;
  case MessageType::Close: {
    std::string text = "the hub closed the connection";
    if (message.error)
      text += ": " + *message.error;
    g_message ("%s", text.c_str ());
    connection_lost (client_error (SIGNALRTC_CLIENT_ERROR_CLOSED, text));
    return;
  }
  default:
    g_debug ("ignoring a %s message", message_type_name (message.type));
    return;
  }
}

bool
HubClient::Impl::send_text (const std::string &record, GError **error)
{
  if (conn_ == nullptr
      || soup_websocket_connection_get_state (conn_)
             != SOUP_WEBSOCKET_STATE_OPEN) {
    g_set_error_literal (error, SIGNALRTC_CLIENT_ERROR,
                         SIGNALRTC_CLIENT_ERROR_NOT_CONNECTED,
                         "not connected to the hub");
    return false;
  }
  if (record.find ('\0') != std::string::npos
      || !g_utf8_validate (record.data (), record.size (), nullptr)) {
    g_set_error_literal (error, SIGNALRTC_CLIENT_ERROR,
                         SIGNALRTC_CLIENT_ERROR_PROTOCOL,
                         "message is not valid UTF-8 text");
    return false;
  }
  ThreadDefaultContext push (context_.get ());
  soup_websocket_connection_send_text (conn_, record.c_str ());
  last_sent_ = g_get_monotonic_time ();
  return true;
}

void
HubClient::Impl::arm_keep_alive (guint ms)
{
  keep_alive_timer_ = attach_timeout (context_.get (), ms, on_keep_alive, this);
}

void
HubClient::Impl::arm_server_timeout (guint ms)
{
  server_timeout_timer_
      = attach_timeout (context_.get (), ms, on_server_timeout, this);
}

gboolean
HubClient::Impl::on_handshake_timeout (gpointer data)
{
  auto *self = static_cast<Impl *> (data);
  self->handshake_timer_.reset ();
  self->connection_lost (client_error (
      SIGNALRTC_CLIENT_ERROR_HANDSHAKE,
      "no handshake response within "
          + std::to_string (self->options_.handshake_timeout_ms) + " ms"));
  return G_SOURCE_REMOVE;
}

gboolean
HubClient::Impl::on_keep_alive (gpointer data)
{
  auto *self = static_cast<Impl *> (data);
  self->keep_alive_timer_.reset ();
  gint64 interval = gint64 (self->options_.keep_alive_interval_ms) * 1000;
  gint64 idle = g_get_monotonic_time () - self->last_sent_;
  /* Timers may fire up to a millisecond early. */
  if (idle + 1000 >= interval) {
    g_debug ("sending keep-alive ping");
    self->send_text (frame_record (serialize_message (make_ping ())), nullptr);
    self->arm_keep_alive (self->options_.keep_alive_interval_ms);
  } else {
    self->arm_keep_alive (guint ((interval - idle + 999) / 1000));
  }
  return G_SOURCE_REMOVE;
}

gboolean
HubClient::Impl::on_server_timeout (gpointer data)
{
  auto *self = static_cast<Impl *> (data);
  self->server_timeout_timer_.reset ();
  gint64 timeout = gint64 (self->options_.server_timeout_ms) * 1000;
  gint64 silent = g_get_monotonic_time () - self->last_received_;
  if (silent + 1000 >= timeout) {
    self->connection_lost (client_error (SIGNALRTC_CLIENT_ERROR_SERVER_TIMEOUT,
                                         "nothing received from the hub for "
                                             + std::to_string (silent / 1000)
                                             + " ms"));
  } else {
    self->arm_server_timeout (guint ((timeout - silent + 999) / 1000));
  }
  return G_SOURCE_REMOVE;
}

void
HubClient::Impl::teardown_transport (bool send_close)
{
  ++epoch_;
  handshake_timer_.reset ();
  keep_alive_timer_.reset ();
  server_timeout_timer_.reset ();
  if (cancellable_) {
    g_cancellable_cancel (cancellable_.get ());
    cancellable_.reset ();
  }
  if (conn_ != nullptr) {
    if (send_close && handshake_done_)
      send_text (frame_record (serialize_message (make_close ())), nullptr);
    g_signal_handlers_disconnect_by_data (conn_, this);
    release_connection (std::exchange (conn_, nullptr), context_.get ());
  }
  ws_error_.reset ();
  reader_.reset ();
  handshake_done_ = false;
  connection_id_.clear ();
}

void
HubClient::Impl::fail_pending (const GError *error)
{
  auto pending = std::move (pending_);
  pending_.clear ();
  for (auto &[id, callback] : pending)
    call_user ("invoke", callback, JsonValue (), error);
}

void
HubClient::Impl::connection_lost (GError *error_in)
{
  ErrorPtr error (error_in);
  bool was_connected = state_ == State::Connected;
  teardown_transport (false);

  bool will_reconnect = options_.reconnect && !stopped_;
  if (was_connected)
    g_message ("lost the hub connection: %s", error->message);
  else
    g_message ("connecting to the hub failed: %s", error->message);

  state_ = will_reconnect ? State::Reconnecting : State::Disconnected;
  if (!will_reconnect)
    stopped_ = true;

  guint64 epoch = epoch_;
  fail_pending (error.get ());
  if (epoch != epoch_)
    return;
  call_user ("disconnected", disconnected_handler_, error.get (),
             will_reconnect);
  if (epoch != epoch_ || !will_reconnect)
    return;
  schedule_reconnect ();
}

void
HubClient::Impl::schedule_reconnect ()
{
  ++attempt_;
  double delay = options_.reconnect_initial_delay_ms;
  for (guint i = 1; i < attempt_ && delay < options_.reconnect_max_delay_ms;
       i++)
    delay *= 2;
  delay = std::min (delay, double (options_.reconnect_max_delay_ms));
  delay *= g_random_double_range (0.8, 1.2);
  guint delay_ms
      = guint (std::min (delay, double (options_.reconnect_max_delay_ms)));

  g_message ("reconnecting in %u ms (attempt %u)", delay_ms, attempt_);
  state_ = State::Reconnecting;
  guint64 epoch = epoch_;
  call_user ("reconnecting", reconnecting_handler_, attempt_, delay_ms);
  if (epoch != epoch_)
    return;
  reconnect_timer_
      = attach_timeout (context_.get (), delay_ms, on_reconnect_timer, this);
}

gboolean
HubClient::Impl::on_reconnect_timer (gpointer data)
{
  auto *self = static_cast<Impl *> (data);
  self->reconnect_timer_.reset ();
  self->begin_attempt ();
  return G_SOURCE_REMOVE;
}

void
HubClient::Impl::stop ()
{
  reconnect_timer_.reset ();
  if (stopped_) {
    g_debug ("stop: not started");
    return;
  }
  g_debug ("stopping");
  stopped_ = true;
  teardown_transport (true);
  state_ = State::Disconnected;

  guint64 epoch = epoch_;
  g_autoptr (GError) error = client_error (SIGNALRTC_CLIENT_ERROR_STOPPED,
                                           "the hub client was stopped");
  fail_pending (error);
  if (epoch != epoch_)
    return;
  call_user ("disconnected", disconnected_handler_, nullptr, false);
}

void
HubClient::Impl::defer_error (InvokeCallback callback, GError *error)
{
  deferred_.emplace_back (std::move (callback), ErrorPtr (error));
  if (!deferred_source_)
    deferred_source_ = attach_source (g_idle_source_new (), context_.get (),
                                      on_deferred, this);
}

gboolean
HubClient::Impl::on_deferred (gpointer data)
{
  auto *self = static_cast<Impl *> (data);
  self->deferred_source_.reset ();
  auto deferred = std::move (self->deferred_);
  self->deferred_.clear ();
  for (auto &[callback, error] : deferred)
    call_user ("invoke", callback, JsonValue (), error.get ());
  return G_SOURCE_REMOVE;
}

void
HubClient::Impl::invoke (std::string target, std::vector<JsonValue> arguments,
                         InvokeCallback callback)
{
  if (state_ != State::Connected) {
    defer_error (std::move (callback),
                 client_error (SIGNALRTC_CLIENT_ERROR_NOT_CONNECTED,
                               "cannot invoke '" + target
                                   + "': not connected to the hub"));
    return;
  }

  guint64 id = next_invocation_id_++;
  std::string record = frame_record (serialize_message (make_invocation (
      std::move (target), std::move (arguments), std::to_string (id))));
  GError *error = nullptr;
  if (!send_text (record, &error)) {
    defer_error (std::move (callback), error);
    return;
  }
  pending_.emplace (id, std::move (callback));
}

bool
HubClient::Impl::send (std::string target, std::vector<JsonValue> arguments,
                       GError **error)
{
  if (state_ != State::Connected) {
    g_set_error (error, SIGNALRTC_CLIENT_ERROR,
                 SIGNALRTC_CLIENT_ERROR_NOT_CONNECTED,
                 "cannot send '%s': not connected to the hub", target.c_str ());
    return false;
  }
  return send_text (frame_record (serialize_message (make_invocation (
                        std::move (target), std::move (arguments)))),
                    error);
}

/* HubClient */

HubClient::HubClient (Options options)
    : impl_ (std::make_unique<Impl> (std::move (options)))
{}

HubClient::~HubClient () = default;

bool
HubClient::validate_url (const std::string &url, GError **error)
{
  g_autoptr (GError) parse_error = nullptr;
  UriPtr uri (g_uri_parse (url.c_str (), G_URI_FLAGS_ENCODED, &parse_error));
  if (!uri) {
    g_set_error (error, SIGNALRTC_CLIENT_ERROR,
                 SIGNALRTC_CLIENT_ERROR_INVALID_URL, "invalid hub URL '%s': %s",
                 url.c_str (), parse_error->message);
    return false;
  }
  const char *scheme = g_uri_get_scheme (uri.get ());
  if (!is_scheme (scheme, "http") && !is_scheme (scheme, "https")
      && !is_scheme (scheme, "ws") && !is_scheme (scheme, "wss")) {
    g_set_error (error, SIGNALRTC_CLIENT_ERROR,
                 SIGNALRTC_CLIENT_ERROR_INVALID_URL,
                 "invalid hub URL '%s': the scheme must be http, https, ws "
                 "or wss",
                 url.c_str ());
    return false;
  }
  const char *host = g_uri_get_host (uri.get ());
  if (host == nullptr || *host == '\0') {
    g_set_error (error, SIGNALRTC_CLIENT_ERROR,
                 SIGNALRTC_CLIENT_ERROR_INVALID_URL,
                 "invalid hub URL '%s': no host", url.c_str ());
    return false;
  }
  return true;
}

void
HubClient::on (std::string_view event, EventHandler handler)
{
  impl_->handlers_[lower_case (event)].push_back (std::move (handler));
}

void
HubClient::set_connected_handler (ConnectedHandler handler)
{
  impl_->connected_handler_ = std::move (handler);
}

void
HubClient::set_disconnected_handler (DisconnectedHandler handler)
{
  impl_->disconnected_handler_ = std::move (handler);
}

void
HubClient::set_reconnecting_handler (ReconnectingHandler handler)
{
  impl_->reconnecting_handler_ = std::move (handler);
}

void
HubClient::start ()
{
  impl_->start ();
}

void
HubClient::stop ()
{
  impl_->stop ();
}

void
HubClient::invoke (std::string target, std::vector<JsonValue> arguments,
                   InvokeCallback callback)
{
  impl_->invoke (std::move (target), std::move (arguments),
                 std::move (callback));
}

bool
HubClient::send (std::string target, std::vector<JsonValue> arguments,
                 GError **error)
{
  return impl_->send (std::move (target), std::move (arguments), error);
}

HubClient::State
HubClient::state () const
{
  return impl_->state_;
}

const std::string &
HubClient::connection_id () const
{
  return impl_->connection_id_;
}

}  // namespace signalrtc
