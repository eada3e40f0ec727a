/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace signalrtc::test {

/* The real signalrtc-hub (the binary named by $SIGNALRTC_HUB) as a child
 * process on 127.0.0.1. Its stdout is read on a thread until it announces
 * `signalrtc-hub listening on http://127.0.0.1:PORT/signalrtc`; later lines
 * are copied to stderr. The destructor kills it. */
class HubProcess
{
 public:
  /* @extra_args go after --address, --port and --path. */
  explicit HubProcess (std::vector<std::string> extra_args = {});
  ~HubProcess ();

  HubProcess (const HubProcess &) = delete;
  HubProcess &operator= (const HubProcess &) = delete;

  /* Starts the hub on @port (0: any free port) and waits until it listens.
   * FALSE with @error when it exits or stays silent for 10 s. */
  bool start (guint port = 0, GError **error = nullptr);
  /* Starts it again on the port it had. */
  bool restart (GError **error = nullptr);
  /* SIGKILL, then waits for it to exit. */
  void kill ();
  /* SIGTERM, then waits (up to @timeout_ms, then SIGKILL). Returns the exit
   * status, or -1 when it had to be killed or did not exit normally. */
  int terminate (guint timeout_ms = 5000);
  /* SIGSTOP / SIGCONT: a hub that is there but says nothing. */
  void pause ();
  void resume ();
  bool running () const { return process_ != nullptr; }

  /* http://127.0.0.1:PORT/signalrtc */
  const std::string &url () const { return url_; }
  guint port () const { return port_; }
  const std::string &path () const { return path_; }

  /* The hub binary ($SIGNALRTC_HUB), "" when unset. */
  static std::string binary ();
  /* A TCP port on 127.0.0.1 that was free a moment ago. */
  static guint free_port ();

 private:
  void reader_main (GInputStream *stdout_pipe);
  /* Waits for the child and the stdout reader. */
  bool wait_exit (guint timeout_ms);

  std::vector<std::string> extra_args_;
  std::string path_ = "/signalrtc";
  GSubprocess *process_ = nullptr;
  std::thread reader_;
  std::string url_;
  guint port_ = 0;

  std::mutex mutex_;
  std::condition_variable cond_;
  bool announced_ = false;
  bool eof_ = false;
  std::string announced_url_;
};

/* Iterates @context until @predicate holds or @timeout_ms pass; returns the
 * predicate's last value. */
bool run_until (GMainContext *context, const std::function<bool ()> &predicate,
                guint timeout_ms = 5000);
/* Iterates @context for @ms. */
void run_for (GMainContext *context, guint ms);

/* A fresh main context pushed as the thread default for the scope of a
 * test; popped, drained and released at the end. */
class TestContext
{
 public:
  TestContext ();
  ~TestContext ();

  TestContext (const TestContext &) = delete;
  TestContext &operator= (const TestContext &) = delete;

  GMainContext *get () const { return context_; }
  bool run_until (const std::function<bool ()> &predicate,
                  guint timeout_ms = 5000)
  {
    return test::run_until (context_, predicate, timeout_ms);
  }
  void run_for (guint ms) { test::run_for (context_, ms); }

 private:
  GMainContext *context_;
};

} // namespace signalrtc::test
