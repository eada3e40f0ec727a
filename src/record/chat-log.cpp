/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "chat-log.h"

#include "protocol/json-value.h"

#include <glib/gstdio.h>

#include <cerrno>

namespace signalrtc {

std::string
chat_log_line (GDateTime *when, GstClockTime offset, const std::string &from,
               const std::string &text)
{
  g_autofree gchar *time = g_date_time_format_iso8601 (when);
  /* Milliseconds are plenty for a chat line. */
  double seconds = GST_CLOCK_TIME_IS_VALID (offset)
                       ? (double)(offset / GST_MSECOND) / 1000.0
                       : 0.0;
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  json_builder_begin_object (builder);
  add_string_member (builder, "time", time);
  json_builder_set_member_name (builder, "offset");
  json_builder_add_double_value (builder, seconds);
  add_string_member (builder, "from", from);
  add_string_member (builder, "text", text);
  json_builder_end_object (builder);
  return builder_to_string (builder) + "\n";
}

ChatLog::~ChatLog ()
{
  if (file_)
    fclose (file_);
}

bool
ChatLog::add (GDateTime *when, GstClockTime offset, const std::string &from,
              const std::string &text, GError **error)
{
  std::string line = chat_log_line (when, offset, from, text);
  std::lock_guard<std::mutex> lock (lock_);
  if (!file_) {
    file_ = g_fopen (path_.c_str (), "a");
    if (!file_) {
      int e = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e),
                   "cannot write %s: %s", path_.c_str (), g_strerror (e));
      return false;
    }
  }
  if (fputs (line.c_str (), file_) < 0 || fflush (file_) != 0) {
    int e = errno;
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e),
                 "cannot write %s: %s", path_.c_str (), g_strerror (e));
    /* Start again with the next message (the disk may have room then). */
    fclose (file_);
    file_ = nullptr;
    return false;
  }
  lines_++;
  return true;
}

guint
ChatLog::lines () const
{
  std::lock_guard<std::mutex> lock (lock_);
  return lines_;
}

}  // namespace signalrtc
