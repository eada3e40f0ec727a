/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "record-options.h"

namespace signalrtc {

std::optional<RecordOptions>
parse_record_options (int *argc, char ***argv, GError **error)
{
  RecordOptions options;
  g_autofree gchar *hub = nullptr, *username = nullptr, *output_dir = nullptr,
                   *format = nullptr, *call = nullptr;
  g_auto (GStrv) allowed = nullptr;
  gboolean transcode = FALSE, quiet = FALSE;
  gint max_duration = 0;
  const GOptionEntry entries[] = {
      {"hub", 'H', 0, G_OPTION_ARG_STRING, &hub,
       "URL of the SignalR hub (default http://127.0.0.1:5000/signalrtc)",
       "URL"},
      {"username", 'u', 0, G_OPTION_ARG_STRING, &username,
       "Name on the hub (default recorder)", "NAME"},
      {"output-dir", 'o', 0, G_OPTION_ARG_FILENAME, &output_dir,
       "Where recordings go (default: the current directory)", "DIR"},
      {"format", 'f', 0, G_OPTION_ARG_STRING, &format,
       "webm (default), mkv or mp4", "FORMAT"},
      {"transcode", 't', 0, G_OPTION_ARG_NONE, &transcode,
       "Encode H.264 instead of keeping the caller's VP8 (mkv; mp4 always "
       "does)",
       nullptr},
      {"call", 'c', 0, G_OPTION_ARG_STRING, &call,
       "Call this user when they are on the hub", "USER"},
      {"allowed-user", 'a', 0, G_OPTION_ARG_STRING_ARRAY, &allowed,
       "Take calls only from this user (repeat for several; default: anyone)",
       "USER"},
      {"max-duration", 'd', 0, G_OPTION_ARG_INT, &max_duration,
       "End each recording after this many seconds (the call goes on)",
       "SECONDS"},
      {"quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet,
       "No status lines, only errors", nullptr},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr},
  };
  g_autoptr (GOptionContext) context
      = g_option_context_new ("- record every call to a file");
  g_option_context_set_summary (
      context,
      "Joins a signalrtc hub as a user and records each call it gets (or "
      "makes with --call)\ninto its own file, audio and video muxed, named "
      "after the caller and the start time.\nChat messages go to a .jsonl "
      "file beside it. Ctrl-C finishes every file.");
  g_option_context_add_main_entries (context, entries, nullptr);
  if (!g_option_context_parse (context, argc, argv, error))
    return std::nullopt;
  if (*argc > 1) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                 "unexpected argument '%s'", (*argv)[1]);
    return std::nullopt;
  }

  if (hub)
    options.hub_url = hub;
  if (username) {
    if (!*username) {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--username must not be empty");
      return std::nullopt;
    }
    options.username = username;
  }
  if (output_dir)
    options.output_dir = output_dir;
  if (format) {
    if (g_str_equal (format, "webm"))
      options.format = RecordFormat::WebM;
    else if (g_str_equal (format, "mkv") || g_str_equal (format, "matroska"))
      options.format = RecordFormat::Matroska;
    else if (g_str_equal (format, "mp4"))
      options.format = RecordFormat::Mp4;
    else {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--format must be webm, mkv or mp4, not '%s'", format);
      return std::nullopt;
    }
  }
  options.transcode = transcode || options.format == RecordFormat::Mp4;
  if (transcode && options.format == RecordFormat::WebM) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 "--transcode encodes H.264, which WebM cannot hold: use "
                 "--format mkv or mp4");
    return std::nullopt;
  }
  if (call)
    options.call = call;
  for (gchar **u = allowed; u && *u; u++)
    options.allowed_users.emplace_back (*u);
  if (max_duration < 0) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 "--max-duration must be a number of seconds, not %d",
                 max_duration);
    return std::nullopt;
  }
  options.max_duration = (guint)max_duration;
  options.quiet = quiet;
  return options;
}

const char *
record_format_extension (RecordFormat format)
{
  switch (format) {
  case RecordFormat::WebM:
    return "webm";
  case RecordFormat::Matroska:
    return "mkv";
  case RecordFormat::Mp4:
    return "mp4";
  }
  return "webm";
}

std::string
recording_basename (const std::string &username, GDateTime *start)
{
  /* Hub names are UTF-8 already; a broken one is mended, not trusted. */
  g_autofree gchar *valid
      = g_utf8_make_valid (username.data (), (gssize)username.size ());
  std::string name;
  for (const char *p = valid; *p; p++) {
    const auto c = (unsigned char)*p;
    /* Keep letters, digits, '-', '_' and '.', and UTF-8 beyond ASCII; a
     * leading '.' would hide the file. */
    bool keep = g_ascii_isalnum (c) || c == '-' || c == '_' || c >= 0x80
                || (c == '.' && !name.empty ());
    name += keep ? (char)c : '_';
  }
  if (name.empty ())
    name = "caller";
  /* File names are limited to 255 bytes: keep room for the rest. */
  if (name.size () > 100) {
    const char *end
        = g_utf8_find_prev_char (name.c_str (), name.c_str () + 101);
    name.resize (end - name.c_str ());
  }
  g_autofree gchar *when = g_date_time_format (start, "%Y%m%d-%H%M%S");
  return name + "-" + when;
}

}  // namespace signalrtc
