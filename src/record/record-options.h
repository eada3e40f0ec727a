/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include <optional>
#include <string>
#include <vector>

namespace signalrtc {

enum class RecordFormat
{
  WebM,
  Matroska,
  Mp4
};

/* What signalrtc-record was asked to do (its command line). */
struct RecordOptions
{
  std::string hub_url = "http://127.0.0.1:5000/signalrtc";
  std::string username = "recorder";
  std::string output_dir = ".";
  RecordFormat format = RecordFormat::WebM;
  /* Decode and encode H.264 (with AAC in MP4, Opus in Matroska) rather than
   * store the VP8/Opus the browser sent. Always so for MP4. */
  bool transcode = false;
  std::string call;
  std::vector<std::string> allowed_users;
  /* Seconds; 0: no limit. */
  guint max_duration = 0;
  bool quiet = false;
};

/* Parses signalrtc-record's command line (GOptionContext; --help prints the
 * options and exits). nullopt with @error for a bad option or value, or for a
 * combination that cannot work (H.264 in WebM). */
std::optional<RecordOptions> parse_record_options (int *argc, char ***argv,
                                                   GError **error);

const char *record_format_extension (RecordFormat format);

/* "alice-20261123-231500": the caller's name, with every character that is
 * not safe in a file name on common systems replaced by '_', and the local
 * start time. */
std::string recording_basename (const std::string &username, GDateTime *start);

}  // namespace signalrtc
