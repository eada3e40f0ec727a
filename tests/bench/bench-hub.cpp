/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * bench-hub: how fast signalrtc-hub relays SendSignal, beside a raw libsoup
 * WebSocket echo server measured in the same run, and how much memory an
 * idle connection costs the hub.
 *
 *   bench-hub --hub PATH [--messages N] [--window W] [--samples N]
 *             [--idle N]
 *
 * The hub and the echo server each run as a child process; the clients run
 * here, on one main loop. Every figure is printed as one line.
 */
#include "protocol/signalr-framing.h"
#include "protocol/signalr-messages.h"
#include "protocol/user-info.h"

#include <gio/gio.h>
#include <libsoup/soup.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

using namespace signalrtc;

namespace {

struct Options
{
  const char *hub = nullptr;
  gint messages = 20000;
  gint window = 64;
  gint samples = 2000;
  gint idle = 10000;
  gboolean echo_server = FALSE;
  gchar *hold = nullptr; /* child mode: hold --idle connections to URL */
};

GMainContext *
ctx ()
{
  return g_main_context_default ();
}

/* Spins the main context until @done or @timeout_s; FALSE on timeout. */
bool
run_until (const std::function<bool ()> &done, double timeout_s = 60)
{
  gint64 deadline = g_get_monotonic_time () + (gint64)(timeout_s * 1e6);
  /* A tick, so that a condition on the time alone (and the deadline) is
   * seen even when nothing else wakes the loop: without it a settle wait
   * slept until some unrelated five-minute timer fired. */
  GSource *tick = g_timeout_source_new (50);
  g_source_set_callback (
      tick, [] (gpointer) -> gboolean { return G_SOURCE_CONTINUE; }, nullptr,
      nullptr);
  g_source_attach (tick, ctx ());
  bool met = true;
  while (!done ()) {
    if (g_get_monotonic_time () > deadline) {
      met = false;
      break;
    }
    g_main_context_iteration (ctx (), TRUE);
  }
  g_source_destroy (tick);
  g_source_unref (tick);
  return met;
}

/* ---- child processes -------------------------------------------------- */

struct Child
{
  GSubprocess *process = nullptr;
  std::string url; /* http://127.0.0.1:PORT/path */

  ~Child ()
  {
    if (!process)
      return;
    /* Politely first, so that a profiler around the child can write out. */
    bool exited = false;
    g_subprocess_wait_async (
        process, nullptr,
        [] (GObject *, GAsyncResult *, gpointer done) {
          *static_cast<bool *> (done) = true;
        },
        &exited);
    g_subprocess_send_signal (process, SIGTERM);
    gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
    while (!exited && g_get_monotonic_time () < deadline) {
      if (!g_main_context_iteration (nullptr, FALSE))
        g_usleep (10000);
    }
    if (!exited) {
      g_subprocess_force_exit (process);
      g_subprocess_wait (process, nullptr, nullptr);
    }
    g_object_unref (process);
  }

  int pid () const { return atoi (g_subprocess_get_identifier (process)); }
};

/* Starts @argv and reads its stdout up to "... listening on URL". */
bool
start_child (Child &child, const std::vector<const char *> &argv)
{
  std::vector<const char *> args (argv);
  args.push_back (nullptr);
  g_autoptr (GError) error = nullptr;
  child.process = g_subprocess_newv (args.data (),
                                     G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  if (!child.process) {
    g_printerr ("bench-hub: cannot start %s: %s\n", argv[0], error->message);
    return false;
  }
  g_autoptr (GDataInputStream) out
      = g_data_input_stream_new (g_subprocess_get_stdout_pipe (child.process));
  g_autofree gchar *line
      = g_data_input_stream_read_line (out, nullptr, nullptr, &error);
  const char *at = line ? strstr (line, "listening on ") : nullptr;
  if (!at) {
    g_printerr ("bench-hub: %s did not start\n", argv[0]);
    return false;
  }
  child.url = at + strlen ("listening on ");
  return true;
}

gint64
rss_kib (int pid)
{
  g_autofree gchar *path = g_strdup_printf ("/proc/%d/status", pid);
  g_autofree gchar *text = nullptr;
  if (!g_file_get_contents (path, &text, nullptr, nullptr))
    return -1;
  const char *vm = strstr (text, "VmRSS:");
  return vm ? g_ascii_strtoll (vm + 6, nullptr, 10) : -1;
}

/* The echo server: a minimal libsoup WebSocket server that sends every
 * text message straight back. The reference for what one relay hop over
 * libsoup costs without any SignalR work. */
int
run_echo_server ()
{
  g_autoptr (SoupServer) server
      = SOUP_SERVER (g_object_new (SOUP_TYPE_SERVER, nullptr));
  soup_server_add_websocket_handler (
      server, "/echo", nullptr, nullptr,
      [] (SoupServer *, SoupServerMessage *, const char *,
          SoupWebsocketConnection *conn, gpointer) {
        g_object_ref (conn);
        g_signal_connect (conn, "message",
                          G_CALLBACK (+[] (SoupWebsocketConnection *c, gint,
                                           GBytes *data, gpointer) {
                            soup_websocket_connection_send_message (
                                c, SOUP_WEBSOCKET_DATA_TEXT, data);
                          }),
                          nullptr);
        g_signal_connect (conn, "closed", G_CALLBACK (g_object_unref), nullptr);
      },
      nullptr, nullptr);
  g_autoptr (GInetAddress) lo
      = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) addr = g_inet_socket_address_new (lo, 0);
  g_autoptr (GError) error = nullptr;
  if (!soup_server_listen (server, addr, (SoupServerListenOptions)0, &error)) {
    g_printerr ("echo server: %s\n", error->message);
    return 1;
  }
  GSList *uris = soup_server_get_uris (server);
  g_print ("echo listening on http://127.0.0.1:%d/echo\n",
           g_uri_get_port ((GUri *)uris->data));
  g_slist_free_full (uris, (GDestroyNotify)g_uri_unref);
  fflush (stdout);
  g_autoptr (GMainLoop) loop = g_main_loop_new (nullptr, FALSE);
  g_main_loop_run (loop);
  return 0;
}

/* ---- clients ---------------------------------------------------------- */

SoupSession *
session ()
{
  static SoupSession *s = soup_session_new_with_options (
      "max-conns", 100000, "max-conns-per-host", 100000, "timeout", 60,
      nullptr);
  return s;
}

/* One WebSocket client; with @signalr it does the SignalR handshake and
 * splits records, otherwise every message is one record. */
struct Client
{
  SoupWebsocketConnection *conn = nullptr;
  bool signalr = false;
  bool ready = false;
  bool failed = false;
  RecordReader reader{0};
  std::function<void (const std::string &)> on_record;

  ~Client ()
  {
    if (conn) {
      g_signal_handlers_disconnect_by_data (conn, this);
      if (soup_websocket_connection_get_state (conn)
          == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_NORMAL,
                                         nullptr);
      g_object_unref (conn);
    }
  }

  void connect (const std::string &http_url, bool with_signalr)
  {
    signalr = with_signalr;
    std::string ws = "ws" + http_url.substr (4);
    SoupMessage *msg = soup_message_new ("GET", ws.c_str ());
    soup_session_websocket_connect_async (
        session (), msg, nullptr, nullptr, G_PRIORITY_DEFAULT, nullptr,
        [] (GObject *source, GAsyncResult *res, gpointer user_data) {
          auto *self = static_cast<Client *> (user_data);
          g_autoptr (GError) error = nullptr;
          self->conn = soup_session_websocket_connect_finish (
              SOUP_SESSION (source), res, &error);
          if (!self->conn) {
            g_printerr ("bench-hub: connect: %s\n", error->message);
            self->failed = true;
            return;
          }
          g_object_set (self->conn, "max-incoming-payload-size", (guint64)0,
                        nullptr);
          g_signal_connect (self->conn, "message",
                            G_CALLBACK (+[] (SoupWebsocketConnection *, gint,
                                             GBytes *data, gpointer ud) {
                              static_cast<Client *> (ud)->on_message (data);
                            }),
                            self);
          if (self->signalr)
            self->send ("{\"protocol\":\"json\",\"version\":1}\x1e");
          else
            self->ready = true;
        },
        this);
    g_object_unref (msg);
  }

  void on_message (GBytes *data)
  {
    gsize size;
    const char *bytes = (const char *)g_bytes_get_data (data, &size);
    if (!signalr) {
      if (on_record)
        on_record (std::string (bytes, size));
      return;
    }
    std::vector<std::string> records;
    reader.feed ({bytes, size}, records, nullptr);
    for (auto &r : records) {
      if (!ready) {
        ready = (r == "{}");
        failed = !ready;
      } else if (on_record) {
        on_record (r);
      }
    }
  }

  void send (const std::string &text)
  {
    soup_websocket_connection_send_text (conn, text.c_str ());
  }
};

double
percentile (std::vector<double> v, double p)
{
  if (v.empty ())
    return 0;
  std::sort (v.begin (), v.end ());
  return v[std::min (v.size () - 1, (gsize)(p * v.size ()))];
}

struct Figures
{
  double per_second = 0;
  double p50_ms = 0, p99_ms = 0;
};

/* Sends @count messages from @from with at most @window in flight, each
 * built by @make; @arrivals counts what reached the far side. */
double
throughput (int count, int window, int &arrivals,
            const std::function<void ()> &send_one)
{
  int sent = 0;
  arrivals = 0;
  gint64 start = g_get_monotonic_time ();
  while (arrivals < count) {
    while (sent < count && sent - arrivals < window) {
      send_one ();
      sent++;
    }
    g_main_context_iteration (ctx (), TRUE);
  }
  return count / ((g_get_monotonic_time () - start) / 1e6);
}

std::vector<double>
latencies (int samples, int &arrivals, const std::function<void ()> &send_one)
{
  std::vector<double> ms;
  arrivals = 0;
  for (int i = 0; i < samples; i++) {
    gint64 t0 = g_get_monotonic_time ();
    send_one ();
    run_until ([&] { return arrivals > i; });
    ms.push_back ((g_get_monotonic_time () - t0) / 1000.0);
  }
  return ms;
}

std::string
kib_payload ()
{
  /* A trickle-candidate-like simple-peer signal padded to 1 KiB. */
  std::string s = R"({"type":"candidate","candidate":{"candidate":"candidate:)";
  while (s.size () < 1000)
    s += "0123456789abcdef";
  s.resize (1000);
  s += R"(","sdpMLineIndex":0,"sdpMid":"0"}})";
  s.resize (1024, ' ');
  return s;
}

Figures
bench_relay (const std::string &hub_url, const Options &o)
{
  Client a, b;
  a.connect (hub_url, true);
  b.connect (hub_url, true);
  if (!run_until ([&] { return (a.ready && b.ready) || a.failed || b.failed; }))
    g_error ("hub clients did not connect");

  /* Learn b's connection id the way the app does: b announces itself. */
  std::string b_id;
  a.on_record = [&] (const std::string &r) {
    auto m = parse_message (r, nullptr);
    if (m && m->target == "NewUserArrived") {
      if (auto info = parse_user_info (*m->string_argument (0), nullptr))
        b_id = info->connection_id;
    }
  };
  b.send (frame_record (serialize_message (
      make_invocation ("NewUser", {JsonValue::from_string ("b")}, "0"))));
  run_until ([&] { return !b_id.empty (); });
  a.on_record = nullptr;

  int arrivals = 0;
  b.on_record = [&] (const std::string &) { arrivals++; };
  const std::string payload = kib_payload ();
  guint64 next_id = 1;
  auto send_one = [&] {
    a.send (frame_record (serialize_message (make_invocation (
        "SendSignal",
        {JsonValue::from_string (payload), JsonValue::from_string (b_id)},
        std::to_string (next_id++)))));
  };
  Figures f;
  /* Warm up, then measure. */
  throughput (std::min (o.messages / 10, 1000), o.window, arrivals, send_one);
  f.per_second = throughput (o.messages, o.window, arrivals, send_one);
  auto ms = latencies (o.samples, arrivals, send_one);
  f.p50_ms = percentile (ms, 0.50);
  f.p99_ms = percentile (ms, 0.99);
  return f;
}

Figures
bench_echo (const std::string &echo_url, const Options &o)
{
  Client c;
  c.connect (echo_url, false);
  if (!run_until ([&] { return c.ready || c.failed; }) || c.failed)
    g_error ("echo client did not connect");
  int arrivals = 0;
  c.on_record = [&] (const std::string &) { arrivals++; };
  const std::string payload = kib_payload ();
  auto send_one = [&] { c.send (payload); };
  Figures f;
  throughput (std::min (o.messages / 10, 1000), o.window, arrivals, send_one);
  f.per_second = throughput (o.messages, o.window, arrivals, send_one);
  auto ms = latencies (o.samples, arrivals, send_one);
  f.p50_ms = percentile (ms, 0.50);
  f.p99_ms = percentile (ms, 0.99);
  return f;
}

/* Child mode: opens @count SignalR connections to @url (handshake done,
 * then quiet), prints "listening on <held>" and holds them until killed. */
int
hold_idle (const char *url, gint count)
{
  struct rlimit rl;
  getrlimit (RLIMIT_NOFILE, &rl);
  gint cap
      = (gint)std::min<rlim_t> (count, rl.rlim_cur > 64 ? rl.rlim_cur - 64 : 0);
  std::vector<std::unique_ptr<Client>> idle;
  for (gint i = 0; i < cap; i++) {
    idle.push_back (std::make_unique<Client> ());
    idle.back ()->connect (url, true);
    /* At most 200 connects in flight. */
    run_until ([&] {
      gint pending = 0;
      for (gint j = std::max (0, i - 400); j <= i; j++)
        pending += !(idle[j]->ready || idle[j]->failed);
      return pending < 200;
    });
  }
  run_until (
      [&] {
        return std::all_of (idle.begin (), idle.end (),
                            [] (auto &c) { return c->ready || c->failed; });
      },
      120);
  gint held = std::count_if (idle.begin (), idle.end (),
                             [] (auto &c) { return c->ready; });
  g_print ("listening on %d\n", held);
  fflush (stdout);
  g_autoptr (GMainLoop) loop = g_main_loop_new (nullptr, FALSE);
  g_main_loop_run (loop);
  return 0;
}

void
raise_file_limit ()
{
  struct rlimit rl;
  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit (RLIMIT_NOFILE, &rl);
  }
}

}  // namespace

int
main (int argc, char **argv)
{
  Options o;
  const GOptionEntry entries[] = {
      {"hub", 0, 0, G_OPTION_ARG_FILENAME, &o.hub, "signalrtc-hub binary",
       "PATH"},
      {"messages", 0, 0, G_OPTION_ARG_INT, &o.messages,
       "messages per throughput run (default 20000)", "N"},
      {"window", 0, 0, G_OPTION_ARG_INT, &o.window,
       "messages in flight (default 64)", "N"},
      {"samples", 0, 0, G_OPTION_ARG_INT, &o.samples,
       "latency samples (default 2000)", "N"},
      {"idle", 0, 0, G_OPTION_ARG_INT, &o.idle,
       "idle connections to hold (default 10000, capped by the file limit)",
       "N"},
      {"echo-server", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE,
       &o.echo_server, nullptr, nullptr},
      {"hold", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &o.hold, nullptr,
       nullptr},
      {nullptr},
  };
  g_autoptr (GOptionContext) context = g_option_context_new (nullptr);
  g_option_context_add_main_entries (context, entries, nullptr);
  g_autoptr (GError) error = nullptr;
  if (!g_option_context_parse (context, &argc, &argv, &error)) {
    g_printerr ("bench-hub: %s\n", error->message);
    return 2;
  }
  raise_file_limit ();
  if (o.echo_server)
    return run_echo_server ();
  if (o.hold)
    return hold_idle (o.hold, o.idle);
  if (!o.hub) {
    g_printerr ("bench-hub: --hub PATH is required\n");
    return 2;
  }

  Child hub, echo;
  g_autofree gchar *self = g_file_read_link ("/proc/self/exe", nullptr);
  if (!start_child (hub, {o.hub, "--port", "0", "--max-message-size", "65536"})
      || !start_child (echo, {self, "--echo-server"}))
    return 1;

  Figures relay = bench_relay (hub.url, o);
  Figures raw = bench_echo (echo.url, o);
  g_print ("relay throughput   %10.0f msg/s  (SendSignal, 1 KiB, %d in "
           "flight, through signalrtc-hub)\n",
           relay.per_second, o.window);
  g_print ("echo throughput    %10.0f msg/s  (1 KiB, raw libsoup WebSocket "
           "echo server)\n",
           raw.per_second);
  g_print ("throughput ratio   %10.2f        (relay / echo)\n",
           relay.per_second / raw.per_second);
  g_print ("relay latency      p50 %.3f ms  p99 %.3f ms\n", relay.p50_ms,
           relay.p99_ms);
  g_print ("echo latency       p50 %.3f ms  p99 %.3f ms\n", raw.p50_ms,
           raw.p99_ms);
  g_print ("latency ratio      p50 %.2f  p99 %.2f  (relay / echo)\n",
           relay.p50_ms / raw.p50_ms, relay.p99_ms / raw.p99_ms);

  /* Idle connections, held by a child process of their own so that
   * polling them costs the hub and not the clients measured here. */
  gint64 before = rss_kib (hub.pid ());
  Child holder;
  g_autofree gchar *idle_arg = g_strdup_printf ("%d", o.idle);
  gint64 t0 = g_get_monotonic_time ();
  if (!start_child (holder,
                    {self, "--hold", hub.url.c_str (), "--idle", idle_arg}))
    return 1;
  double connect_s = (g_get_monotonic_time () - t0) / 1e6;
  gint held = atoi (holder.url.c_str ());
  gint64 settle = g_get_monotonic_time () + 500000;
  run_until ([&] { return g_get_monotonic_time () > settle; });
  gint64 after = rss_kib (hub.pid ());
  g_print ("idle connections   %d held (of %d asked), connected in %.1f s\n",
           held, o.idle, connect_s);
  g_print ("hub RSS            %.1f MiB before, %.1f MiB after: %.1f KiB "
           "per connection\n",
           before / 1024.0, after / 1024.0,
           held ? (double)(after - before) / held : 0.0);

  /* The same relay again while those connections are held: GLib's main
   * loop polls every descriptor on each iteration, so idle clients are not
   * free for the busy ones. */
  o.samples = std::min (o.samples, 500);
  Figures loaded = bench_relay (hub.url, o);
  g_print ("relay throughput   %10.0f msg/s  with the %d idle connections "
           "held (%.2f of the first run)\n",
           loaded.per_second, held, loaded.per_second / relay.per_second);
  g_print ("relay latency      p50 %.3f ms  p99 %.3f ms with them held\n",
           loaded.p50_ms, loaded.p99_ms);
  return 0;
}
