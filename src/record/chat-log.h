/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

#include <cstdio>
#include <mutex>
#include <string>

namespace signalrtc {

/* One line of a chat log, with its newline:
 * {"time":"2026-11-23T23:27:48.1Z","offset":2.4,"from":"carol","text":"hi"}
 * @when: when it arrived (printed as ISO 8601); @offset: where in the
 * recording, 0 when it came before the recording's first media. */
std::string chat_log_line (GDateTime *when, GstClockTime offset,
                           const std::string &from, const std::string &text);

/* A call's chat log: the .jsonl beside its recording. Each message is
 * written and flushed as it arrives, so that a recorder that is killed
 * loses none; the file is made by the first message, and a call without
 * chat has none. Any thread. */
class ChatLog
{
 public:
  explicit ChatLog (std::string path) : path_ (std::move (path)) {}
  ~ChatLog ();
  ChatLog (const ChatLog &) = delete;
  ChatLog &operator= (const ChatLog &) = delete;

  /* FALSE with @error when the file cannot be opened or written. */
  bool add (GDateTime *when, GstClockTime offset, const std::string &from,
            const std::string &text, GError **error);

  const std::string &path () const { return path_; }
  /* Messages written so far. */
  guint lines () const;

 private:
  const std::string path_;
  mutable std::mutex lock_;
  FILE *file_ = nullptr; /* lock_ */
  guint lines_ = 0;      /* lock_ */
};

}  // namespace signalrtc
