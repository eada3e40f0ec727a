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
#include <set>
#include <string>

namespace signalrtc {

/* signalrtc-record: a pipeline with one signalrtcbin (no inputs: it only
 * receives), and per call an Entry: its file names, its ChatLog and, from
 * its first track on, its CallRecording.
 *
 * A call's entry is made by whichever comes first of its
 * signalrtc-peer-connected, its first chat message and its first track, so
 * that nothing the caller sends is lost: chat that comes before the media
 * is written at offset 0, and a call with chat but no media leaves a
 * .jsonl alone.
 *
 * Threads and ownership:
 *  - the main thread (the default GMainContext, run by run()) owns the
 *    pipeline, the bus watch (errors), the timers and the status line; it
 *    ends and destroys recordings;
 *  - signalrtcbin's hub thread emits message-received (chat) and posts the
 *    call messages; a sync bus handler reads those there, in the order they
 *    happen with the chat: peer-connected makes the entry, peer-rejoined
 *    (the caller is back after a hub restart) re-keys it, peer-disconnected
 *    takes it out of calls_ (a new call from the same id gets a new entry)
 *    and hands its ending to the main thread;
 *  - its streaming threads emit pad-added: the recording is made there
 *    and the track linked at once.
 * Entries are shared_ptrs: calls_ holds the live calls by connection id,
 * files_ the recordings not yet finished; a timer or a hop holds a
 * weak_ptr. Both maps and each Entry's fields are under lock_; no lock is
 * held while calling into GStreamer except to link a new track. */
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
  /* The bin's call messages, on the thread that posts them. */
  void on_call_message (const GstStructure *s);
  void on_recording_done (const std::shared_ptr<Entry> &e);
  void on_call_ended (const std::shared_ptr<Entry> &e, const std::string &why);
  void start_timers (const std::shared_ptr<Entry> &e);
  void quit_when_all_finished ();
  void end_recording (const std::shared_ptr<Entry> &e, const char *why);
  void stop (int status);
  void print_status (bool final_line);
  /* The live call of @connection_id, made if new. Takes lock_. */
  std::shared_ptr<Entry> entry_for (const std::string &connection_id,
                                    const std::string &username);
  /* lock_ held. */
  std::string unique_basename (const std::string &username);

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
  std::map<std::string, std::shared_ptr<Entry>> calls_; /* lock_ */
  std::set<std::shared_ptr<Entry>> files_;              /* lock_ */
};

}  // namespace signalrtc
