/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "protocol/json-value.h"

#include <gio/gio.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

G_BEGIN_DECLS

#define SIGNALRTC_CLIENT_ERROR (signalrtc_client_error_quark ())
GQuark signalrtc_client_error_quark (void);

typedef enum
{
  SIGNALRTC_CLIENT_ERROR_INVALID_URL,    /* hub URL unusable */
  SIGNALRTC_CLIENT_ERROR_NOT_CONNECTED,  /* invoke/send while not connected */
  SIGNALRTC_CLIENT_ERROR_NEGOTIATE,      /* negotiate failed or said error */
  SIGNALRTC_CLIENT_ERROR_TRANSPORT,      /* WebSocket failed or closed */
  SIGNALRTC_CLIENT_ERROR_HANDSHAKE,      /* handshake refused or timed out */
  SIGNALRTC_CLIENT_ERROR_SERVER_TIMEOUT, /* nothing from the server in time */
  SIGNALRTC_CLIENT_ERROR_CLOSED,         /* server sent Close (with error) */
  SIGNALRTC_CLIENT_ERROR_PROTOCOL,       /* server sent something invalid */
  SIGNALRTC_CLIENT_ERROR_HUB,            /* Completion carried an error */
  SIGNALRTC_CLIENT_ERROR_STOPPED,        /* stop() while pending */
} SignalrtcClientError;

G_END_DECLS

namespace signalrtc {

/* A SignalR hub connection: negotiate over HTTP (v1, falling back to v0,
 * following redirects), a WebSocket transport, the JSON hub protocol,
 * keep-alive and reconnection.
 *
 * Threading: a HubClient belongs to one GMainContext (Options::context, or
 * the thread-default context when it was created). Every method must be
 * called from the thread that runs that context, and every callback is
 * dispatched there. Other threads hop over with g_main_context_invoke ().
 * Callbacks may call back into the client (invoke, stop, even destroy it
 * from a callback is not allowed: destroy from an idle instead). */
class HubClient
{
 public:
  struct Options
  {
    /* http(s)://host[:port]/path of the hub; ws(s):// also accepted. */
    std::string url;
    /* Bearer token on negotiate, access_token= on the WebSocket. */
    std::string access_token;
    /* Open the WebSocket straight away, no negotiate. */
    bool skip_negotiation = false;
    /* Reconnect with exponential backoff and jitter after a lost
     * connection (and keep retrying a hub that is not up yet at start). */
    bool reconnect = true;
    guint keep_alive_interval_ms = 15000;
    guint server_timeout_ms = 30000;
    guint handshake_timeout_ms = 15000;
    guint reconnect_initial_delay_ms = 500;
    guint reconnect_max_delay_ms = 30000;
    /* Largest incoming record accepted; 0 = no limit. */
    gsize max_message_size = 0;
    /* nullptr: the thread-default main context at construction. */
    GMainContext *context = nullptr;
  };

  enum class State
  {
    Disconnected,
    Connecting,
    Connected,
    Reconnecting,
  };

  using EventHandler
      = std::function<void (const std::vector<JsonValue> &arguments)>;
  /* Exactly one call: @error set, or @result (empty for a void method). */
  using InvokeCallback
      = std::function<void (const JsonValue &result, const GError *error)>;
  /* After a successful handshake. @reconnected: not the first time; the
   * connection id is then new and the caller must announce itself again. */
  using ConnectedHandler = std::function<void (const std::string &connection_id,
                                               bool reconnected)>;
  /* The connection ended (or a connection attempt failed). @error is
   * nullptr after stop (). @will_reconnect: a retry is scheduled. */
  using DisconnectedHandler
      = std::function<void (const GError *error, bool will_reconnect)>;
  /* A retry is scheduled in @delay_ms (attempt counts from 1). */
  using ReconnectingHandler
      = std::function<void (guint attempt, guint delay_ms)>;

  explicit HubClient (Options options);
  /* Closes without calling any handler; pending invocations are dropped
   * silently. */
  ~HubClient ();

  HubClient (const HubClient &) = delete;
  HubClient &operator= (const HubClient &) = delete;

  /* Checks that @url is an absolute http, https, ws or wss URL. */
  static bool validate_url (const std::string &url, GError **error);

  /* Registers @handler for server invocations of @event (case-insensitive,
   * as the JS client). Several handlers per event are called in order. */
  void on (std::string_view event, EventHandler handler);
  void set_connected_handler (ConnectedHandler handler);
  void set_disconnected_handler (DisconnectedHandler handler);
  void set_reconnecting_handler (ReconnectingHandler handler);

  /* Starts connecting; returns at once. */
  void start ();
  /* Sends Close, closes the socket, stops retrying, and fails pending
   * invocations with SIGNALRTC_CLIENT_ERROR_STOPPED. */
  void stop ();

  /* Blocking invocation: @callback gets the Completion. Called with
   * SIGNALRTC_CLIENT_ERROR_NOT_CONNECTED (from an idle, never re-entrantly)
   * when not connected; pending ones fail with the error that ended the
   * connection: TRANSPORT when the socket drops, else SERVER_TIMEOUT,
   * CLOSED (server Close) or PROTOCOL. */
  void invoke (std::string target, std::vector<JsonValue> arguments,
               InvokeCallback callback);
  /* Non-blocking invocation (no invocationId, no answer). */
  bool send (std::string target, std::vector<JsonValue> arguments,
             GError **error);

  State state () const;
  /* The hub's id for this connection ("" when not connected). It comes from
   * negotiate, so with Options::skip_negotiation it stays "": the SignalR
   * protocol gives a client no other way to learn it. */
  const std::string &connection_id () const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace signalrtc
