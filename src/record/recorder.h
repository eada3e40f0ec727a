/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "call-recording.h"
#include "record-options.h"

#include <gst/gst.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace signalrtc {

/* signalrtc-record: a pipeline with one signalrtcbin (no inputs: it only
 * receives) and a CallRecording per call.
 *
 * Threads and ownership:
 *  - the main thread (the default GMainContext, run by run()) owns the
 *    pipeline, the bus watch, the timers and the status line; it ends and
 *    destroys recordings;
 *  - signalrtcbin's streaming threads emit pad-added: a recording is made
 *    or found there and the track linked at once, so that nothing of the
 *    call is lost;
 *  - its hub thread emits message-received (chat).
 * recordings_ is shared by the three, under lock_; no lock is held while
 * calling into GStreamer except to link a new track. */
class Recorder
{
 public:
  explicit Recorder (RecordOptions options);
  ~Recorder ();
  Recorder (const Recorder &) = delete;
  Recorder &operator= (const Recorder &) = delete;

  /* Joins the hub and records until SIGINT/SIGTERM; returns the exit
   * status (0, or 1 when the pipeline failed). */
  int run ();

 private:
  struct Entry;

  bool build (GError **error);
  void on_pad_added (GstPad *pad);
  void on_message_received (const char *connection_id, const char *username,
                            const char *text);
  gboolean on_bus_message (GstMessage *message);
  void on_element_message (const GstStructure *s);
  void on_recording_done (const std::string &connection_id);
  void quit_when_all_finished ();
  void end_recording (const std::string &connection_id, const char *why);
  void stop (int status);
  void print_status (bool final_line);
  std::string unique_path (const std::string &basename, const char *ext);
  std::shared_ptr<Entry> find (const std::string &connection_id);

  RecordOptions options_;
  GstElement *pipeline_ = nullptr;
  GstElement *bin_ = nullptr;
  GMainLoop *loop_ = nullptr;
  int status_ = 0;
  std::atomic<bool> stopping_{false};
  bool status_on_tty_ = false;
  guint status_source_ = 0;
  guint status_ticks_ = 0;

  /* Held through on_pad_added; taken before lock_. */
  std::mutex pad_added_lock_;
  std::mutex lock_;
  /* By connection id; an entry stays until its file is complete. */
  std::map<std::string, std::shared_ptr<Entry>> recordings_; /* lock_ */
};

}  // namespace signalrtc
