/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "signalrtc-hub"

#include "hub-server.h"

#include <glib-unix.h>
#include <sys/resource.h>

#include <cerrno>
#include <cmath>
#include <cstdio>

namespace {

bool
seconds_to_ms (const char *option, double seconds, guint *ms, GError **error)
{
  if (!(seconds > 0) || seconds > 24 * 3600) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 "%s must be between 0 and 86400 seconds", option);
    return false;
  }
  *ms = (guint)std::lround (seconds * 1000);
  if (*ms == 0)
    *ms = 1;
  return true;
}

/* A hub holds a socket per client: use all the descriptors allowed. */
void
raise_file_limit ()
{
  struct rlimit limit;
  if (getrlimit (RLIMIT_NOFILE, &limit) == 0
      && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit (RLIMIT_NOFILE, &limit) != 0)
      g_warning ("could not raise the open file limit: %s", g_strerror (errno));
  }
}

}  // namespace

int
main (int argc, char **argv)
{
  signalrtc::HubServerOptions options;
  g_autofree gchar *address = nullptr;
  g_autofree gchar *path = nullptr;
  g_autofree gchar *web_root = nullptr;
  g_auto (GStrv) allowed_origins = nullptr;
  gint port = (gint)options.port;
  gint64 max_message_size = (gint64)options.max_message_size;
  double keep_alive = options.keep_alive_ms / 1000.0;
  double client_timeout = options.client_timeout_ms / 1000.0;
  double handshake_timeout = options.handshake_timeout_ms / 1000.0;

  const GOptionEntry entries[] = {
      {"address", 'a', 0, G_OPTION_ARG_STRING, &address,
       "IP address to listen on (default 127.0.0.1)", "ADDRESS"},
      {"port", 'p', 0, G_OPTION_ARG_INT, &port,
       "TCP port to listen on, 0 for any free one (default 5000)", "PORT"},
      {"path", 0, 0, G_OPTION_ARG_STRING, &path,
       "URL path of the SignalR hub (default /signalrtc)", "PATH"},
      {"web-root", 'w', 0, G_OPTION_ARG_FILENAME, &web_root,
       "Serve the files of DIR at / (e.g. the built browser client)", "DIR"},
      {"allowed-origin", 0, 0, G_OPTION_ARG_STRING_ARRAY, &allowed_origins,
       "Let browser pages from ORIGIN (scheme://host:port, or *) use the hub; "
       "repeatable. Same-origin pages are always allowed",
       "ORIGIN"},
      {"max-message-size", 0, 0, G_OPTION_ARG_INT64, &max_message_size,
       "Largest incoming SignalR message in bytes (default 32768)", "BYTES"},
      {"keep-alive", 0, 0, G_OPTION_ARG_DOUBLE, &keep_alive,
       "Ping a client after this long without sending it anything "
       "(default 15)",
       "SECONDS"},
      {"client-timeout", 0, 0, G_OPTION_ARG_DOUBLE, &client_timeout,
       "Drop a client that has pinged once and then said nothing for this "
       "long (default 30)",
       "SECONDS"},
      {"handshake-timeout", 0, 0, G_OPTION_ARG_DOUBLE, &handshake_timeout,
       "Drop a socket that has not completed the SignalR handshake in this "
       "time (default 15)",
       "SECONDS"},
      {nullptr},
  };

  g_autoptr (GOptionContext) context = g_option_context_new (nullptr);
  g_option_context_set_summary (
      context,
      "A SignalR hub for WebRTC calls: the SignalRtc hub methods NewUser, "
      "HelloUser and SendSignal\nover WebSockets and the JSON hub protocol, "
      "for browsers and signalrtc GStreamer elements.");
  g_option_context_add_main_entries (context, entries, nullptr);
  g_autoptr (GError) error = nullptr;
  if (!g_option_context_parse (context, &argc, &argv, &error)) {
    g_printerr ("signalrtc-hub: %s\n", error->message);
    return 2;
  }

  if (address)
    options.address = address;
  if (path)
    options.path = path;
  if (web_root) {
    if (!g_file_test (web_root, G_FILE_TEST_IS_DIR)) {
      g_printerr ("signalrtc-hub: --web-root %s is not a directory\n",
                  web_root);
      return 2;
    }
    options.web_root = web_root;
  }
  for (gchar **o = allowed_origins; o && *o; o++)
    options.allowed_origins.emplace_back (*o);
  if (port < 0 || port > 65535) {
    g_printerr ("signalrtc-hub: --port must be 0..65535\n");
    return 2;
  }
  options.port = (guint)port;
  if (max_message_size < 64 || max_message_size > 64 * 1024 * 1024) {
    g_printerr ("signalrtc-hub: --max-message-size must be 64..67108864\n");
    return 2;
  }
  options.max_message_size = (gsize)max_message_size;
  if (!seconds_to_ms ("--keep-alive", keep_alive, &options.keep_alive_ms,
                      &error)
      || !seconds_to_ms ("--client-timeout", client_timeout,
                         &options.client_timeout_ms, &error)
      || !seconds_to_ms ("--handshake-timeout", handshake_timeout,
                         &options.handshake_timeout_ms, &error)) {
    g_printerr ("signalrtc-hub: %s\n", error->message);
    return 2;
  }

  raise_file_limit ();
  g_autoptr (GMainLoop) loop = g_main_loop_new (nullptr, FALSE);
  signalrtc::HubServer server (options);
  if (!server.start (&error)) {
    g_printerr ("signalrtc-hub: cannot listen on %s port %u: %s\n",
                options.address.c_str (), options.port, error->message);
    return 1;
  }
  /* Tests and scripts wait for this line. */
  g_print ("signalrtc-hub listening on %s\n", server.url ().c_str ());
  fflush (stdout);

  struct Stop
  {
    signalrtc::HubServer *server;
    GMainLoop *loop;
    bool stopping = false;
  } stop{&server, loop};
  auto on_signal = [] (gpointer user_data) -> gboolean {
    auto *s = static_cast<Stop *> (user_data);
    if (s->stopping) {
      g_main_loop_quit (s->loop); /* a second signal: stop now */
      return G_SOURCE_CONTINUE;
    }
    s->stopping = true;
    g_message ("shutting down: closing every connection");
    s->server->shutdown ([s] { g_main_loop_quit (s->loop); });
    return G_SOURCE_CONTINUE;
  };
  guint sigint = g_unix_signal_add (SIGINT, on_signal, &stop);
  guint sigterm = g_unix_signal_add (SIGTERM, on_signal, &stop);

  g_main_loop_run (loop);

  g_source_remove (sigint);
  g_source_remove (sigterm);
  const auto &m = server.metrics ();
  g_message ("stopped after %" G_GUINT64_FORMAT
             " connections, %" G_GUINT64_FORMAT
             " messages in, %" G_GUINT64_FORMAT " out",
             m.connections_total, m.messages_received, m.messages_sent);
  return 0;
}
