/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "recorder.h"

#include "chat-log.h"

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
  Entry (std::string username, std::string path,
         const std::string &chat_path)
      : username (std::move (username)), path (std::move (path)),
        chat (chat_path)
  {}
  ~Entry ()
  {
    drop_source (track_wait);
    drop_source (max_duration);
  }

  /* What happened to the call's media. */
  enum class Media
  {
    None,      /* no track yet */
    Recording, /* rec is writing the file */
    Ended      /* the file is finished (or failed): nothing more */
  };

  const std::string username;
  /* Chosen when the entry is made; the file exists from the first track. */
  const std::string path;
  ChatLog chat;
  Media media = Media::None;           /* lock_ */
  std::shared_ptr<CallRecording> rec;  /* lock_; set once */
  /* Main thread. */
  GSource *track_wait = nullptr;
  GSource *max_duration = nullptr;
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
Recorder::unique_basename (const std::string &username)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  std::string base = recording_basename (username, now);
  const char *ext = record_format_extension (options_.format);
  for (int n = 1;; n++) {
    std::string name = base;
    if (n > 1)
      name += "-" + std::to_string (n);
    g_autofree gchar *stem
        = g_build_filename (options_.output_dir.c_str (), name.c_str (),
                            nullptr);
    std::string path = std::string (stem) + "." + ext;
    bool taken = g_file_test (path.c_str (), G_FILE_TEST_EXISTS)
                 || g_file_test ((std::string (stem) + ".jsonl").c_str (),
                                 G_FILE_TEST_EXISTS);
    for (auto &[id, e] : calls_)
      taken |= e->path == path;
    for (auto &e : files_)
      taken |= e->path == path;
    if (!taken)
      return stem;
  }
}

std::shared_ptr<Recorder::Entry>
Recorder::entry_for (const std::string &connection_id,
                     const std::string &username)
{
  std::lock_guard<std::mutex> lock (lock_);
  auto it = calls_.find (connection_id);
  if (it != calls_.end ())
    return it->second;
  std::string stem = unique_basename (username);
  auto e = std::make_shared<Entry> (
      username, stem + "." + record_format_extension (options_.format),
      stem + ".jsonl");
  calls_[connection_id] = e;
  return e;
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
  std::shared_ptr<Entry> entry = entry_for (id, user ? user : "");
  std::shared_ptr<CallRecording> rec;
  {
    std::lock_guard<std::mutex> lock (lock_);
    if (entry->media == Entry::Media::Ended)
      return; /* --max-duration, a failed file, or stopping */
    rec = entry->rec;
  }
  if (!rec) {
    if (stopping_)
      return;
    CallRecording::Config config;
    config.connection_id = id;
    config.username = entry->username;
    config.path = entry->path;
    config.format = options_.format;
    config.transcode = options_.transcode;
    std::weak_ptr<Entry> weak = entry;
    g_autoptr (GError) error = nullptr;
    rec = CallRecording::create (
        GST_BIN (pipeline_), config,
        [this, weak] (CallRecording &) {
          on_main ([this, weak] {
            if (auto e = weak.lock ())
              on_recording_done (e);
          });
        },
        &error);
    if (!rec) {
      g_printerr ("signalrtc-record: cannot record %s: %s\n",
                  entry->username.c_str (), error->message);
      std::lock_guard<std::mutex> lock (lock_);
      entry->media = Entry::Media::Ended;
      return;
    }
    {
      std::lock_guard<std::mutex> lock (lock_);
      entry->rec = rec;
      entry->media = Entry::Media::Recording;
      files_.insert (entry);
    }
    std::string path = config.path, who = config.username;
    on_main ([this, weak, path, who] {
      if (!options_.quiet)
        g_printerr ("signalrtc-record: recording %s into %s\n", who.c_str (),
                    path.c_str ());
      if (auto e = weak.lock ())
        start_timers (e);
    });
  }
  if (!rec->add_track (pad, kind))
    g_printerr ("signalrtc-record: not recording a second %s track of %s\n",
                kind, user);
  if (rec->tracks () == 2) {
    /* Both kinds are there: the muxer can start now. */
    std::weak_ptr<Entry> weak = entry;
    on_main ([weak] {
      if (auto e = weak.lock ()) {
        drop_source (e->track_wait);
        e->rec->close_missing_tracks ();
      }
    });
  }
}

/* Main thread, once a recording is made. */
void
Recorder::start_timers (const std::shared_ptr<Entry> &e)
{
  std::weak_ptr<Entry> weak = e;
  if (e->rec->finishing ())
    return;
  if (e->rec->tracks () < 2) {
    e->track_wait = add_timeout (kTrackWaitMs, [weak] {
      if (auto e = weak.lock ()) {
        g_source_unref (e->track_wait);
        e->track_wait = nullptr;
        e->rec->close_missing_tracks ();
      }
    });
  }
  if (options_.max_duration)
    e->max_duration
        = add_timeout (options_.max_duration * 1000, [this, weak] {
            if (auto e = weak.lock ()) {
              g_source_unref (e->max_duration);
              e->max_duration = nullptr;
              end_recording (e, "--max-duration reached");
            }
          });
}

/* Hub thread. The entry may be new: chat can come before any media. */
void
Recorder::on_message_received (const char *connection_id, const char *username,
                               const char *text)
{
  if (!connection_id)
    return;
  auto e = entry_for (connection_id, username ? username : "");
  GstClockTime offset = 0;
  {
    std::lock_guard<std::mutex> lock (lock_);
    if (e->media == Entry::Media::Ended)
      return; /* the call goes on unrecorded */
    if (e->rec)
      offset = e->rec->duration ();
  }
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr (GError) error = nullptr;
  if (!e->chat.add (now, offset, username ? username : "", text ? text : "",
                    &error))
    g_printerr ("signalrtc-record: %s\n", error->message);
}

/* Main thread (or a signal's): EOS into the recording's file. */
void
Recorder::end_recording (const std::shared_ptr<Entry> &e, const char *why)
{
  std::shared_ptr<CallRecording> rec;
  {
    std::lock_guard<std::mutex> lock (lock_);
    rec = e->rec;
    if (e->media != Entry::Media::Recording || !rec) {
      /* No media yet: none will be recorded. */
      e->media = Entry::Media::Ended;
      return;
    }
  }
  if (rec->finishing ())
    return;
  if (!options_.quiet)
    g_printerr ("signalrtc-record: finishing %s: %s\n", e->path.c_str (), why);
  drop_source (e->track_wait);
  drop_source (e->max_duration);
  rec->finish ();
}

/* Main thread: the call is over (it is no longer in calls_). */
void
Recorder::on_call_ended (const std::shared_ptr<Entry> &e, const std::string &why)
{
  bool had_media;
  {
    std::lock_guard<std::mutex> lock (lock_);
    had_media = e->rec != nullptr;
  }
  end_recording (e, why.c_str ());
  guint lines = e->chat.lines ();
  if (!had_media && lines && !options_.quiet)
    g_printerr ("signalrtc-record: no media from %s; %u chat message%s in "
                "%s\n",
                e->username.c_str (), lines, lines == 1 ? "" : "s",
                e->chat.path ().c_str ());
}

/* Main thread: EOS reached the file. */
void
Recorder::on_recording_done (const std::shared_ptr<Entry> &e)
{
  std::shared_ptr<CallRecording> rec;
  {
    std::lock_guard<std::mutex> lock (lock_);
    if (!files_.erase (e))
      return;
    e->media = Entry::Media::Ended;
    rec = e->rec;
  }
  GstClockTime duration = rec->duration ();
  guint64 size = rec->size ();
  rec->destroy ();
  if (!options_.quiet)
    g_printerr ("signalrtc-record: finished %s (%s, %s)\n", e->path.c_str (),
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
  if (files_.empty ())
    g_main_loop_quit (loop_);
}

/* The thread that posted the message: signalrtcbin's hub thread, where
 * message-received comes from too. Map changes happen here, in order with
 * the chat; the rest goes to the main thread. */
void
Recorder::on_call_message (const GstStructure *s)
{
  const char *name = gst_structure_get_name (s);
  const char *user = gst_structure_get_string (s, "username");
  const char *id = gst_structure_get_string (s, "connection-id");
  std::string who = user ? user : "";
  if (g_str_equal (name, "signalrtc-hub-connected")) {
    gboolean again = FALSE;
    gst_structure_get_boolean (s, "reconnected", &again);
    on_main ([this, again] {
      if (!options_.quiet)
        g_printerr ("signalrtc-record: %s the hub as %s at %s\n",
                    again ? "back on" : "on", options_.username.c_str (),
                    options_.hub_url.c_str ());
    });
  } else if (g_str_equal (name, "signalrtc-hub-lost")) {
    on_main ([] {
      g_printerr ("signalrtc-record: lost the hub; recordings go on while "
                  "their media flows; reconnecting\n");
    });
  } else if (g_str_equal (name, "signalrtc-peer-connected") && id) {
    entry_for (id, who);
    std::string conn = id;
    on_main ([this, who, conn] {
      if (!options_.quiet)
        g_printerr ("signalrtc-record: call with %s\n", who.c_str ());
      g_autofree gchar *notice = g_strdup_printf (
          "This call is being recorded by %s.", options_.username.c_str ());
      gboolean sent = FALSE;
      g_signal_emit_by_name (bin_, "send-message", conn.c_str (), notice,
                             &sent);
    });
  } else if (g_str_equal (name, "signalrtc-peer-rejoined") && id) {
    const char *previous
        = gst_structure_get_string (s, "previous-connection-id");
    std::lock_guard<std::mutex> lock (lock_);
    auto it = previous ? calls_.find (previous) : calls_.end ();
    if (it != calls_.end ()) {
      auto e = it->second;
      calls_.erase (it);
      calls_[id] = e;
    }
  } else if (g_str_equal (name, "signalrtc-peer-disconnected") && id) {
    const char *reason = gst_structure_get_string (s, "reason");
    std::shared_ptr<Entry> e;
    {
      std::lock_guard<std::mutex> lock (lock_);
      auto it = calls_.find (id);
      if (it != calls_.end ()) {
        e = it->second;
        calls_.erase (it);
      }
    }
    if (e) {
      std::string why = reason ? reason : "the call ended";
      on_main ([this, e, why] { on_call_ended (e, why); });
    }
  } else if (g_str_equal (name, "signalrtc-call-rejected")) {
    on_main ([this, who] {
      if (!options_.quiet)
        g_printerr ("signalrtc-record: refused a call from %s\n",
                    who.c_str ());
    });
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
    {
      std::lock_guard<std::mutex> lock (lock_);
      for (auto &e : files_) {
        if (e->rec->bin ()
            && gst_object_has_as_ancestor (GST_MESSAGE_SRC (message),
                                           GST_OBJECT (e->rec->bin ())))
          failed = e;
      }
      if (failed) {
        files_.erase (failed);
        failed->media = Entry::Media::Ended;
      }
    }
    if (failed) {
      g_printerr ("signalrtc-record: recording %s failed: %s\n",
                  failed->path.c_str (), error->message);
      drop_source (failed->track_wait);
      drop_source (failed->max_duration);
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
  std::vector<std::shared_ptr<Entry>> recording;
  {
    std::lock_guard<std::mutex> lock (lock_);
    recording.assign (files_.begin (), files_.end ());
  }
  if (recording.empty ()) {
    g_main_loop_quit (loop_);
    return;
  }
  for (auto &e : recording)
    end_recording (e, "stopping");
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
  std::vector<std::shared_ptr<CallRecording>> recs;
  {
    std::lock_guard<std::mutex> lock (lock_);
    for (auto &e : files_)
      recs.push_back (e->rec);
  }
  std::string line;
  for (auto &rec : recs) {
    if (!line.empty ())
      line += "  |  ";
    line += rec->config ().username + " " + human_time (rec->duration ()) + " "
            + human_size (rec->size ());
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
  /* The bin's call messages are read where they are posted (see
   * on_call_message); the rest goes to the watch on the main thread. */
  gst_bus_set_sync_handler (
      bus,
      [] (GstBus *, GstMessage *message, gpointer data) -> GstBusSyncReply {
        auto *self = static_cast<Recorder *> (data);
        if (GST_MESSAGE_TYPE (message) != GST_MESSAGE_ELEMENT
            || GST_MESSAGE_SRC (message) != GST_OBJECT (self->bin_)
            || !gst_message_get_structure (message))
          return GST_BUS_PASS;
        self->on_call_message (gst_message_get_structure (message));
        gst_message_unref (message);
        return GST_BUS_DROP;
      },
      this, nullptr);
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
  gst_bus_set_sync_handler (bus, nullptr, nullptr, nullptr);
  /* Stopping the calls (just now, in the bin) may have queued work for this
   * thread after the loop ended: a call's end, a recording done. Run it,
   * so that what it holds goes before we return (the leaks tracer checks
   * at exit). */
  while (g_main_context_iteration (nullptr, FALSE))
    ;
  {
    std::lock_guard<std::mutex> lock (lock_);
    calls_.clear ();
    files_.clear ();
  }
  return status_;
}

}  // namespace signalrtc
