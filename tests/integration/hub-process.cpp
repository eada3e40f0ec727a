/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "signalrtc-test"

#include "hub-process.h"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace signalrtc::test {

namespace {

constexpr const char *kAnnouncement = "signalrtc-hub listening on ";
constexpr guint kStartTimeoutMs = 10000;

} // namespace

HubProcess::HubProcess (std::vector<std::string> extra_args)
    : extra_args_ (std::move (extra_args))
{}

HubProcess::~HubProcess ()
{
  kill ();
}

std::string
HubProcess::binary ()
{
  const char *hub = g_getenv ("SIGNALRTC_HUB");
  return hub != nullptr ? hub : "";
}

guint
HubProcess::free_port ()
{
  g_autoptr (GSocket) socket
      = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                      G_SOCKET_PROTOCOL_TCP, nullptr);
  if (socket == nullptr)
    return 0;
  g_autoptr (GInetAddress) loopback
      = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  if (!g_socket_bind (socket, address, TRUE, nullptr))
    return 0;
  g_autoptr (GSocketAddress) bound
      = g_socket_get_local_address (socket, nullptr);
  if (bound == nullptr)
    return 0;
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

bool
HubProcess::start (guint port, GError **error)
{
  if (process_ != nullptr) {
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                         "the hub is already running");
    return false;
  }
  std::string hub = binary ();
  if (hub.empty ()) {
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                         "SIGNALRTC_HUB is not set");
    return false;
  }

  std::vector<std::string> args
      = {hub,      "--address", "127.0.0.1", "--port", std::to_string (port),
         "--path", path_};
  args.insert (args.end (), extra_args_.begin (), extra_args_.end ());
  std::vector<const char *> argv;
  for (const auto &arg : args)
    argv.push_back (arg.c_str ());
  argv.push_back (nullptr);

  {
    std::lock_guard<std::mutex> lock (mutex_);
    announced_ = false;
    eof_ = false;
    announced_url_.clear ();
  }

  process_
      = g_subprocess_newv (argv.data (), G_SUBPROCESS_FLAGS_STDOUT_PIPE, error);
  if (process_ == nullptr)
    return false;

  GInputStream *out = g_subprocess_get_stdout_pipe (process_);
  reader_ = std::thread (&HubProcess::reader_main, this,
                         G_INPUT_STREAM (g_object_ref (out)));

  std::unique_lock<std::mutex> lock (mutex_);
  bool ok = cond_.wait_for (lock, std::chrono::milliseconds (kStartTimeoutMs),
                            [this] { return announced_ || eof_; });
  if (!ok || !announced_) {
    lock.unlock ();
    kill ();
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                 "the hub did not announce itself (%s)",
                 ok ? "it exited" : "timed out");
    return false;
  }

  url_ = announced_url_;
  g_autoptr (GUri) uri = g_uri_parse (url_.c_str (), G_URI_FLAGS_NONE, nullptr);
  port_ = uri != nullptr ? guint (g_uri_get_port (uri)) : 0;
  return port_ != 0;
}

bool
HubProcess::restart (GError **error)
{
  kill ();
  return start (port_, error);
}

void
HubProcess::reader_main (GInputStream *stdout_pipe)
{
  g_autoptr (GDataInputStream) in = g_data_input_stream_new (stdout_pipe);
  g_object_unref (stdout_pipe);
  for (;;) {
    gsize length = 0;
    g_autofree gchar *line
        = g_data_input_stream_read_line (in, &length, nullptr, nullptr);
    if (line == nullptr)
      break;
    std::lock_guard<std::mutex> lock (mutex_);
    if (!announced_ && g_str_has_prefix (line, kAnnouncement)) {
      announced_url_ = line + strlen (kAnnouncement);
      announced_ = true;
      cond_.notify_all ();
    } else {
      fprintf (stderr, "[hub stdout] %s\n", line);
    }
  }
  std::lock_guard<std::mutex> lock (mutex_);
  eof_ = true;
  cond_.notify_all ();
}

bool
HubProcess::wait_exit (guint timeout_ms)
{
  /* g_subprocess_wait () has no timeout, and the test's clients must keep
   * running meanwhile (a hub that is told to stop closes them): wait on the
   * thread-default context. */
  g_autoptr (GMainContext) context = g_main_context_ref_thread_default ();
  auto *done = new bool (false);
  g_subprocess_wait_async (
      process_, nullptr,
      +[] (GObject *source, GAsyncResult *result, gpointer data) {
        g_subprocess_wait_finish (G_SUBPROCESS (source), result, nullptr);
        *static_cast<bool *> (data) = true;
      },
      done);
  bool exited = run_until (
      context, [done] { return *done; }, timeout_ms);
  if (!exited) {
    g_subprocess_force_exit (process_);
    run_until (
        context, [done] { return *done; }, 5000);
  }
  /* The callback is gone once the wait finished; otherwise leak the flag
   * rather than let it write into freed memory. */
  if (*done)
    delete done;

  if (reader_.joinable ())
    reader_.join ();
  return exited;
}

void
HubProcess::kill ()
{
  if (process_ == nullptr)
    return;
  g_subprocess_send_signal (process_, SIGKILL);
  wait_exit (5000);
  g_clear_object (&process_);
}

int
HubProcess::terminate (guint timeout_ms)
{
  if (process_ == nullptr)
    return -1;
  g_subprocess_send_signal (process_, SIGCONT);
  g_subprocess_send_signal (process_, SIGTERM);
  bool exited = wait_exit (timeout_ms);
  int status = -1;
  if (exited && g_subprocess_get_if_exited (process_))
    status = g_subprocess_get_exit_status (process_);
  g_clear_object (&process_);
  return status;
}

void
HubProcess::pause ()
{
  if (process_ == nullptr)
    return;
  g_subprocess_send_signal (process_, SIGSTOP);
  /* The signal takes effect asynchronously: wait until the process is
   * really stopped ("T" in /proc/PID/stat), or it may still answer. */
  const char *pid = g_subprocess_get_identifier (process_);
  if (pid == nullptr)
    return;
  std::string stat_path = std::string ("/proc/") + pid + "/stat";
  for (int i = 0; i < 1000; i++) {
    g_autofree gchar *stat = nullptr;
    if (!g_file_get_contents (stat_path.c_str (), &stat, nullptr, nullptr))
      return;
    const char *end = strrchr (stat, ')');
    if (end != nullptr && end[1] == ' ' && (end[2] == 'T' || end[2] == 't'))
      return;
    g_usleep (1000);
  }
}

void
HubProcess::resume ()
{
  if (process_ != nullptr)
    g_subprocess_send_signal (process_, SIGCONT);
}

bool
run_until (GMainContext *context, const std::function<bool ()> &predicate,
           guint timeout_ms)
{
  bool timed_out = false;
  GSource *timeout = g_timeout_source_new (timeout_ms);
  g_source_set_callback (
      timeout,
      +[] (gpointer data) -> gboolean {
        *static_cast<bool *> (data) = true;
        return G_SOURCE_REMOVE;
      },
      &timed_out, nullptr);
  g_source_attach (timeout, context);

  bool result = predicate ();
  while (!result && !timed_out) {
    g_main_context_iteration (context, TRUE);
    result = predicate ();
  }
  g_source_destroy (timeout);
  g_source_unref (timeout);
  return result;
}

void
run_for (GMainContext *context, guint ms)
{
  run_until (
      context, [] { return false; }, ms);
}

TestContext::TestContext () : context_ (g_main_context_new ())
{
  g_main_context_push_thread_default (context_);
}

TestContext::~TestContext ()
{
  /* Let cancelled operations and closing sockets finish. */
  for (int i = 0; i < 100 && g_main_context_iteration (context_, FALSE); i++)
    ;
  g_main_context_pop_thread_default (context_);
  g_main_context_unref (context_);
}

} // namespace signalrtc::test
