/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "record-options.h"

#include <gst/gst.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace signalrtc {

/* One call's recording: a bin in the recorder's pipeline holding, for video
 * and for audio, a queue (and the encoder when transcoding) in front of the
 * muxer, and a filesink.
 *
 * Life: created when the call's first track appears, with a branch for each
 * kind; add_track() links each track of the call; close_missing_tracks()
 * (once the call has had time to show its tracks) drops the branch of a
 * kind that never came, so the muxer does not wait for it; finish() sends
 * EOS into every branch; when EOS reaches the file, @on_done runs (on the
 * streaming thread) and the owner calls destroy() from its main thread.
 * A track that ends by itself (the call ended) brings its own EOS.
 *
 * Timestamps: the running time of the first buffer of the call becomes zero
 * in the file (a pad offset on every branch), so the file starts at 0 and
 * its duration is the call's.
 *
 * Threads: add_track() runs on the bin's streaming thread (pad-added),
 * duration() anywhere, the rest on the owner's main thread; the fields
 * below that more than one of them touches are under lock_. (The call's
 * chat is the owner's: see ChatLog.) */
class CallRecording
{
 public:
  struct Config
  {
    std::string connection_id;
    std::string username;
    /* The file to write. */
    std::string path;
    RecordFormat format = RecordFormat::WebM;
    bool transcode = false;
  };

  /* Builds the bin into @pipeline and starts it. nullptr with @error when
   * an element is missing. */
  static std::shared_ptr<CallRecording>
  create (GstBin *pipeline, Config config,
          std::function<void (CallRecording &)> on_done, GError **error);
  ~CallRecording ();

  /* Links a track of the call (a src pad of signalrtcbin, kind "video" or
   * "audio") and asks the sender for a key frame. FALSE when this kind is
   * already recorded or its branch is gone. */
  bool add_track (GstPad *track, const std::string &kind);
  /* Drops the branches no track came for. */
  void close_missing_tracks ();
  /* Ends the file: EOS into every branch. Idempotent. */
  void finish ();
  /* Stops the bin and takes it out of the pipeline. After on_done, or to
   * abandon a recording whose file failed. */
  void destroy ();

  const Config &config () const { return config_; }
  GstElement *bin () const { return bin_; }
  bool finishing () const { return finishing_; }
  /* Media time in the file so far. */
  GstClockTime duration () const;
  /* Bytes in the file now (what the filesink has written). */
  guint64 size () const;
  guint tracks () const;

 private:
  struct Branch;

  CallRecording (GstBin *pipeline, Config config);
  bool build (GError **error);
  Branch *branch (const std::string &kind);
  void on_buffer (Branch &branch, GstPad *pad, GstBuffer *buffer);

  GstBin *pipeline_;
  Config config_;
  GstElement *bin_ = nullptr;
  GstElement *mux_ = nullptr;
  GstElement *sink_ = nullptr;
  std::function<void (CallRecording &)> on_done_;
  std::atomic<bool> finishing_{false};
  std::atomic<bool> done_{false};
  std::atomic<GstClockTime> last_end_{GST_CLOCK_TIME_NONE};

  mutable std::mutex lock_;
  std::unique_ptr<Branch> video_, audio_;   /* lock_ */
  GstClockTime base_ = GST_CLOCK_TIME_NONE; /* lock_ */
};

}  // namespace signalrtc
