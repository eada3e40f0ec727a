/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace signalrtc {

struct HubServerOptions
{
  std::string address = "127.0.0.1";
  guint port = 5000; /* 0: any free port */
  std::string path = "/signalrtc";
  /* Serve this directory at / ("" = no static files). */
  std::string web_root;
  /* Origins allowed to call from a browser page on another origin ("*"
   * allows any). Same-origin pages and non-browser clients (no Origin
   * header) are always allowed. */
  std::vector<std::string> allowed_origins;
  /* Largest incoming SignalR record, in bytes. */
  gsize max_message_size = 32 * 1024;
  /* Send a Ping after this long without sending anything. */
  guint keep_alive_ms = 15000;
  /* Drop a client silent this long, once it has sent its first Ping. */
  guint client_timeout_ms = 30000;
  /* Drop a socket that has not finished its handshake in this time. */
  guint handshake_timeout_ms = 15000;
  /* Forget a negotiated connection id that no socket used in this time. */
  guint negotiate_expiry_ms = 30000;
};

/* Counters for /metrics. */
struct HubMetrics
{
  guint64 connections = 0;       /* sockets past the handshake now */
  guint64 connections_total = 0; /* handshakes completed since start */
  guint64 messages_received = 0; /* SignalR records received */
  guint64 messages_sent = 0;     /* SignalR records sent */
  guint64 errors = 0; /* refused handshakes, bad frames, failed calls */
};

/* The signalrtc-hub server: SignalR negotiate (v0 and v1) and WebSocket
 * transport on libsoup-3, the JSON hub protocol, and the SignalRtc hub
 * (HubState). Also /healthz, /metrics and static files.
 *
 * Everything runs on the GMainContext that is thread-default when start ()
 * is called; call every method from that thread. */
class HubServer
{
 public:
  explicit HubServer (HubServerOptions options);
  ~HubServer ();

  HubServer (const HubServer &) = delete;
  HubServer &operator= (const HubServer &) = delete;

  /* Listens; FALSE with @error when the address cannot be used. */
  bool start (GError **error);
  /* The port actually bound (useful with port 0). */
  guint port () const;
  /* http://address:port/path */
  std::string url () const;

  /* Sends a Close to every client, closes every socket, stops listening,
   * and calls @done once the sockets are closed (or after a short grace
   * period). */
  void shutdown (std::function<void ()> done);

  const HubMetrics &metrics () const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace signalrtc
