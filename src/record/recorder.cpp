/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "recorder.h"

#include <glib-unix.h>
#include <glib/gstdio.h>

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <vector>

namespace signalrtc {

namespace {

/* How long a call may take to show all its tracks before its file is
 * written with those it has (the muxer cannot take a track later). */
constexpr guint kTrackWaitMs = 3000;
/* How long SIGINT/SIGTERM waits for the files to be finished. */
constexpr guint kStopGraceMs = 10000;

/* "812 kB", "12.3 MB" (g_format_size puts a no-break space in between,
 * which a C locale prints as '?'). */
std::string
human_size (guint64 bytes)
{
  if (bytes < 1000)
    return std::to_string (bytes) + " bytes";
  const char *units[] = {"kB", "MB", "GB", "TB"};
  double value = (double)bytes / 1000.0;
  guint unit = 0;
  while (value >= 1000.0 && unit < G_N_ELEMENTS (units) - 1) {
    value /= 1000.0;
    unit++;
  }
  g_autofree gchar *text = g_strdup_printf ("%.1f %s", value, units[unit]);
  return text;
}

std::string
human_time (GstClockTime t)
{
  if (!GST_CLOCK_TIME_IS_VALID (t))
    t = 0;
  guint64 s = t / GST_SECOND;
  g_autofree gchar *text
      = g_strdup_printf ("%02u:%02u:%02u", (guint)(s / 3600),
                         (guint)(s / 60 % 60), (guint)(s % 60));
  return text;
}

/* Calls @fn on the default main context (the recorder's main thread). */
template <typename Fn>
void
on_main (Fn fn)
{
  auto *f = new Fn (std::move (fn));
  g_main_context_invoke_full (
      nullptr, G_PRIORITY_DEFAULT,
      [] (gpointer data) -> gboolean {
        (*static_cast<Fn *> (data)) ();
        return G_SOURCE_REMOVE;
      },
      f, [] (gpointer data) { delete static_cast<Fn *> (data); });
}

/* A timeout on the default main context; safe from any thread. */
template <typename Fn>
GSource *
add_timeout (guint ms, Fn fn)
{
  GSource *source = g_timeout_source_new (ms);
  auto *f = new Fn (std::move (fn));
  g_source_set_callback (
      source,
      [] (gpointer data) -> gboolean {
        (*static_cast<Fn *> (data)) ();
        return G_SOURCE_REMOVE;
      },
      f, [] (gpointer data) { delete static_cast<Fn *> (data); });
  g_source_attach (source, nullptr);
  return source;
}

void
drop_source (GSource *&source)
{
  if (source) {
    g_source_destroy (source);
    g_source_unref (source);
    source = nullptr;
  }
}

}  // namespace

struct Recorder::Entry
{
  std::shared_ptr<CallRecording> rec;
  GSource *track_wait = nullptr;
  GSource *max_duration = nullptr;
  bool reported = false;

  ~Entry ()
  {
    drop_source (track_wait);
    drop_source (max_duration);
  }
};

Recorder::Recorder (RecordOptions options) : options_ (std::move (options))
{
  status_on_tty_ = isatty (STDERR_FILENO);
}

Recorder::~Recorder ()
{
  if (pipeline_) {
    gst_element_set_state (pipeline_, GST_STATE_NULL);
    gst_object_unref (pipeline_);
  }
  if (loop_)
    g_main_loop_unref (loop_);
}

bool
Recorder::build (GError **error)
{
  pipeline_ = gst_pipeline_new ("signalrtc-record");
  bin_ = gst_element_factory_make ("signalrtcbin", "recorder");
  if (!bin_) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
                 "no signalrtcbin element: install the signalrtc plugin or "
                 "point GST_PLUGIN_PATH at it");
    return false;
  }
  std::string allowed;
  for (const auto &u : options_.allowed_users)
    allowed += (allowed.empty () ? "" : ",") + u;
  g_object_set (bin_, "hub-url", options_.hub_url.c_str (), "username",
                options_.username.c_str (), "decode", options_.transcode,
                nullptr);
  if (!options_.call.empty ())
    g_object_set (bin_, "call", options_.call.c_str (), nullptr);
  if (!allowed.empty ())
    g_object_set (bin_, "allowed-users", allowed.c_str (), nullptr);
  gst_bin_add (GST_BIN (pipeline_), bin_);

  g_signal_connect (bin_, "pad-added",
                    G_CALLBACK (+[] (GstElement *, GstPad *pad, gpointer self) {
                      static_cast<Recorder *> (self)->on_pad_added (pad);
                    }),
                    this);
  g_signal_connect (
      bin_, "message-received",
      G_CALLBACK (+[] (GstElement *, const char *id, const char *user,
                       const char *text, gpointer self) {
        static_cast<Recorder *> (self)->on_message_received (id, user, text);
      }),
      this);
  return true;
}

std::string
Recorder::unique_path (const std::string &basename, const char *ext)
{
  for (int n = 1;; n++) {
    std::string name = basename;
    if (n > 1)
      name += "-" + std::to_string (n);
    g_autofree gchar *path = g_build_filename (
        options_.output_dir.c_str (), (name + "." + ext).c_str (), nullptr);
    bool taken = g_file_test (path, G_FILE_TEST_EXISTS);
    if (!taken) {
      std::lock_guard<std::mutex> lock (lock_);
      for (auto &[id, e] : recordings_)
        taken |= e->rec->config ().path == path;
    }
    if (!taken)
      return path;
  }
}

std::shared_ptr<Recorder::Entry>
Recorder::find (const std::string &connection_id)
{
  std::lock_guard<std::mutex> lock (lock_);
  auto it = recordings_.find (connection_id);
  return it == recordings_.end () ? nullptr : it->second;
}

/* Streaming thread: a track of a call appeared. */
void
Recorder::on_pad_added (GstPad *pad)
{
  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  g_autofree gchar *id = nullptr, *user = nullptr, *kind = nullptr;
  g_object_get (pad, "connection-id", &id, "username", &user, "kind", &kind,
                nullptr);
  if (!id || !kind)
    return;

  /* A call's audio and video tracks appear on two streaming threads at
   * once: one of them makes the recording. */
  std::lock_guard<std::mutex> serialize (pad_added_lock_);
  std::shared_ptr<Entry> entry = find (id);
  if (entry && entry->rec->finishing ()) {
    /* The call's recording ended (--max-duration): nothing more of it. */
    return;
  }
  if (!entry) {
    if (stopping_)
      return;
    g_autoptr (GDateTime) now = g_date_time_new_now_local ();
    std::string base = recording_basename (user ? user : "", now);
    const char *ext = record_format_extension (options_.format);
    CallRecording::Config config;
    config.connection_id = id;
    config.username = user ? user : "";
    config.path = unique_path (base, ext);
    config.chat_path
        = config.path.substr (0, config.path.size () - strlen (ext) - 1)
          + ".jsonl";
    config.format = options_.format;
    config.transcode = options_.transcode;
    std::string conn = id;
    g_autoptr (GError) error = nullptr;
    auto rec = CallRecording::create (
        GST_BIN (pipeline_), config,
        [this, conn] (CallRecording &) {
          on_main ([this, conn] { on_recording_done (conn); });
        },
        &error);
    if (!rec) {
      g_printerr ("signalrtc-record: cannot record %s: %s\n", user,
                  error->message);
      return;
    }
    entry = std::make_shared<Entry> ();
    entry->rec = rec;
    entry->track_wait = add_timeout (kTrackWaitMs, [this, conn] {
      if (auto e = find (conn)) {
        g_source_unref (e->track_wait);
        e->track_wait = nullptr;
        e->rec->close_missing_tracks ();
      }
    });
    if (options_.max_duration)
      entry->max_duration
          = add_timeout (options_.max_duration * 1000, [this, conn] {
              if (auto e = find (conn)) {
                g_source_unref (e->max_duration);
                e->max_duration = nullptr;
                end_recording (conn, "--max-duration reached");
              }
            });
    {
      std::lock_guard<std::mutex> lock (lock_);
      recordings_[id] = entry;
    }
    std::string path = config.path, who = config.username;
    on_main ([this, path, who] {
      if (!options_.quiet)
        g_printerr ("signalrtc-record: recording %s into %s\n", who.c_str (),
                    path.c_str ());
    });
  }
  if (!entry->rec->add_track (pad, kind))
    g_printerr ("signalrtc-record: not recording a second %s track of %s\n",
                kind, user);
  if (entry->rec->tracks () == 2) {
    /* Both kinds are there: the muxer can start now. */
    std::string conn = id;
    on_main ([this, conn] {
      if (auto e = find (conn)) {
        drop_source (e->track_wait);
        e->rec->close_missing_tracks ();
      }
    });
  }
}

/* Hub thread. */
void
Recorder::on_message_received (const char *connection_id, const char *username,
                               const char *text)
{
  if (auto e = find (connection_id))
    e->rec->add_chat (username ? username : "", text ? text : "");
}

void
Recorder::end_recording (const std::string &connection_id, const char *why)
{
  auto e = find (connection_id);
  if (!e || e->rec->finishing ())
    return;
  if (!options_.quiet)
    g_printerr ("signalrtc-record: finishing %s: %s\n",
                e->rec->config ().path.c_str (), why);
  drop_source (e->track_wait);
  drop_source (e->max_duration);
  e->rec->finish ();
}

/* Main thread: EOS reached the file. */
void
Recorder::on_recording_done (const std::string &connection_id)
{
  std::shared_ptr<Entry> e;
  {
    std::lock_guard<std::mutex> lock (lock_);
    auto it = recordings_.find (connection_id);
    if (it == recordings_.end ())
      return;
    e = it->second;
    recordings_.erase (it);
  }
  const auto &c = e->rec->config ();
  GstClockTime duration = e->rec->duration ();
  guint64 size = e->rec->size ();
  e->rec->destroy ();
  if (!options_.quiet)
    g_printerr ("signalrtc-record: finished %s (%s, %s)\n", c.path.c_str (),
                human_time (duration).c_str (), human_size (size).c_str ());
  quit_when_all_finished ();
}

/* Main thread: once stopping, the last finished (or failed) file ends the
 * run. */
void
Recorder::quit_when_all_finished ()
{
  if (!stopping_)
    return;
  std::lock_guard<std::mutex> lock (lock_);
  if (recordings_.empty ())
    g_main_loop_quit (loop_);
}

void
Recorder::on_element_message (const GstStructure *s)
{
  const char *name = gst_structure_get_name (s);
  const char *user = gst_structure_get_string (s, "username");
  const char *id = gst_structure_get_string (s, "connection-id");
  if (g_str_equal (name, "signalrtc-hub-connected")) {
    gboolean again = FALSE;
    gst_structure_get_boolean (s, "reconnected", &again);
    if (!options_.quiet)
      g_printerr ("signalrtc-record: %s the hub as %s at %s\n",
                  again ? "back on" : "on", options_.username.c_str (),
                  options_.hub_url.c_str ());
  } else if (g_str_equal (name, "signalrtc-hub-lost")) {
    g_printerr ("signalrtc-record: lost the hub; recordings go on while "
                "their media flows; reconnecting\n");
  } else if (g_str_equal (name, "signalrtc-peer-connected")) {
    if (!options_.quiet)
      g_printerr ("signalrtc-record: call with %s\n", user);
    g_autofree gchar *notice = g_strdup_printf (
        "This call is being recorded by %s.", options_.username.c_str ());
    gboolean sent = FALSE;
    g_signal_emit_by_name (bin_, "send-message", id, notice, &sent);
  } else if (g_str_equal (name, "signalrtc-peer-disconnected")) {
    const char *reason = gst_structure_get_string (s, "reason");
    if (id)
      end_recording (id, reason ? reason : "the call ended");
  } else if (g_str_equal (name, "signalrtc-call-rejected")) {
    if (!options_.quiet)
      g_printerr ("signalrtc-record: refused a call from %s\n", user);
  }
}

gboolean
Recorder::on_bus_message (GstMessage *message)
{
  switch (GST_MESSAGE_TYPE (message)) {
  case GST_MESSAGE_ERROR: {
    g_autoptr (GError) error = nullptr;
    g_autofree gchar *debug = nullptr;
    gst_message_parse_error (message, &error, &debug);
    /* A recording that cannot write (disk full, ...) is lost; the others
     * go on. */
    std::shared_ptr<Entry> failed;
    std::string conn;
    {
      std::lock_guard<std::mutex> lock (lock_);
      for (auto &[id, e] : recordings_) {
        if (e->rec->bin ()
            && gst_object_has_as_ancestor (GST_MESSAGE_SRC (message),
                                           GST_OBJECT (e->rec->bin ()))) {
          failed = e;
          conn = id;
        }
      }
      if (failed)
        recordings_.erase (conn);
    }
    if (failed) {
      g_printerr ("signalrtc-record: recording %s failed: %s\n",
                  failed->rec->config ().path.c_str (), error->message);
      failed->rec->destroy ();
      quit_when_all_finished ();
      break;
    }
    g_printerr ("signalrtc-record: error: %s\n  (%s)\n", error->message,
                debug ? debug : "no details");
    stop (1);
    break;
  }
  case GST_MESSAGE_WARNING: {
    g_autoptr (GError) error = nullptr;
    gst_message_parse_warning (message, &error, nullptr);
    g_printerr ("signalrtc-record: warning: %s\n", error->message);
    break;
  }
  case GST_MESSAGE_ELEMENT:
    if (GST_MESSAGE_SRC (message) == GST_OBJECT (bin_)
        && gst_message_get_structure (message))
      on_element_message (gst_message_get_structure (message));
    break;
  default:
    break;
  }
  return G_SOURCE_CONTINUE;
}

/* Finish every file, then quit; a second call quits at once. */
void
Recorder::stop (int status)
{
  if (status)
    status_ = status;
  if (stopping_) {
    g_main_loop_quit (loop_);
    return;
  }
  stopping_ = true;
  std::vector<std::string> ids;
  {
    std::lock_guard<std::mutex> lock (lock_);
    for (auto &[id, e] : recordings_)
      ids.push_back (id);
  }
  if (ids.empty ()) {
    g_main_loop_quit (loop_);
    return;
  }
  for (auto &id : ids)
    end_recording (id, "stopping");
  GSource *grace = add_timeout (kStopGraceMs, [this] {
    g_printerr ("signalrtc-record: files still not finished after %u s; "
                "stopping anyway\n",
                kStopGraceMs / 1000);
    status_ = 1;
    g_main_loop_quit (loop_);
  });
  g_source_unref (grace);
}

void
Recorder::print_status (bool final_line)
{
  std::vector<std::shared_ptr<Entry>> entries;
  {
    std::lock_guard<std::mutex> lock (lock_);
    for (auto &[id, e] : recordings_)
      entries.push_back (e);
  }
  std::string line;
  for (auto &e : entries) {
    if (!line.empty ())
      line += "  |  ";
    line += e->rec->config ().username + " " + human_time (e->rec->duration ())
            + " " + human_size (e->rec->size ());
  }
  if (status_on_tty_) {
    /* One line, rewritten in place. */
    g_printerr ("\r\033[K%s%s",
                line.empty () ? "" : "recording: ", line.c_str ());
    if (final_line)
      g_printerr ("\n");
  } else if (!line.empty () && (status_ticks_ % 10 == 0 || final_line)) {
    g_printerr ("signalrtc-record: recording: %s\n", line.c_str ());
  }
  status_ticks_++;
}

int
Recorder::run ()
{
  g_autoptr (GError) error = nullptr;
  if (!build (&error)) {
    g_printerr ("signalrtc-record: %s\n", error->message);
    return 1;
  }
  if (g_mkdir_with_parents (options_.output_dir.c_str (), 0755) != 0) {
    g_printerr ("signalrtc-record: cannot create %s: %s\n",
                options_.output_dir.c_str (), g_strerror (errno));
    return 1;
  }
  loop_ = g_main_loop_new (nullptr, FALSE);
  g_autoptr (GstBus) bus = gst_element_get_bus (pipeline_);
  gst_bus_add_watch (
      bus,
      [] (GstBus *, GstMessage *message, gpointer self) {
        return static_cast<Recorder *> (self)->on_bus_message (message);
      },
      this);
  auto on_signal = [] (gpointer self) -> gboolean {
    static_cast<Recorder *> (self)->stop (0);
    return G_SOURCE_CONTINUE;
  };
  guint sigint = g_unix_signal_add (SIGINT, on_signal, this);
  guint sigterm = g_unix_signal_add (SIGTERM, on_signal, this);
  if (!options_.quiet)
    status_source_ = g_timeout_add_seconds (
        1,
        [] (gpointer self) -> gboolean {
          static_cast<Recorder *> (self)->print_status (false);
          return G_SOURCE_CONTINUE;
        },
        this);

  if (gst_element_set_state (pipeline_, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE) {
    /* The bus has the reason (a bad hub URL, ...). */
    status_ = 1;
    while (GstMessage *m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR)) {
      g_autoptr (GError) e = nullptr;
      gst_message_parse_error (m, &e, nullptr);
      g_printerr ("signalrtc-record: %s\n", e->message);
      gst_message_unref (m);
    }
  } else {
    g_main_loop_run (loop_);
  }

  if (status_source_) {
    print_status (true);
    g_source_remove (status_source_);
  }
  g_source_remove (sigint);
  g_source_remove (sigterm);
  gst_bus_remove_watch (bus);
  gst_element_set_state (pipeline_, GST_STATE_NULL);
  {
    std::lock_guard<std::mutex> lock (lock_);
    recordings_.clear ();
  }
  return status_;
}

}  // namespace signalrtc
