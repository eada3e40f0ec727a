/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * signalrtcbin end to end: real signalrtc-hub processes (one per test),
 * signalrtcbin pipelines in this process and in gst-launch-1.0 processes,
 * real WebRTC over loopback. Run inside scripts/isolated (only `lo`); no
 * STUN or TURN server is ever set.
 *
 * Environment (tests/integration/meson.build): SIGNALRTC_HUB (the hub),
 * SIGNALRTC_GST_LAUNCH (gst-launch-1.0), GST_PLUGIN_PATH_1_0 (our plugin's
 * build directory) and a registry of our own.
 */
#include "client-probe.h"
#include "hub-process.h"

#include "protocol/peer-signal.h"
#include "protocol/user-info.h"

#include <gst/gst.h>
#include <gst/rtp/rtp.h>
#include <gst/video/video.h>
#define GST_USE_UNSTABLE_API /* gst/webrtc: the relay tests read its stats */
#include <gst/webrtc/webrtc.h>
#include <glib/gstdio.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdarg>
#include <csignal>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace signalrtc;
using namespace signalrtc::test;

namespace {

/* Small and cheap: the machine has two cores. */
constexpr const char *kVideoCaps
    = "video/x-raw,width=320,height=240,framerate=30/1";
/* The default ladder (video-renditions) for that input: 320x240 (the
 * 1280x720 box, never larger than the input; the 640x360 box comes out
 * the same and is dropped) and 240x180: two encoders. */
constexpr size_t kLadderEncoders = 2;

gint64
now_us ()
{
  return g_get_monotonic_time ();
}

double
ms_since (gint64 start_us, gint64 end_us)
{
  return (end_us - start_us) / 1000.0;
}

/* When the running test started, for the log. */
std::atomic<gint64> test_start_us{0};

/* A line on stderr (the test log): seconds into the test, who, what. */
G_GNUC_PRINTF (2, 3)
void
note (const std::string &who, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree gchar *text = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("%7.3f [%s] %s\n", (now_us () - test_start_us.load ()) / 1e6,
              who.c_str (), text);
}

/* One src pad of a signalrtcbin (one remote track) and what came out. */
struct Track
{
  std::string pad_name;
  std::string kind; /* "video", "audio" or the caps' media type */
  std::atomic<guint64> buffers{0};
  std::atomic<gint64> first_us{0};
  std::atomic<gint64> last_us{0};
  std::atomic<bool> eos{false};
  std::atomic<bool> removed{false};
  gint64 added_us = 0;
};

/* One message from a pipeline's bus. */
struct BusRecord
{
  GstMessageType type;
  std::string name; /* element message structure name */
  GstStructure *structure = nullptr;
  std::string text;      /* warning/error text */
  bool from_bin = false; /* posted by the signalrtcbin or inside it */
  gint64 time_us = 0;
};

struct ChatMessage
{
  std::string peer;
  std::string username;
  std::string text;
};

/* "video" or "audio" for a new src pad: its caps, else its name. */
std::string
pad_kind (GstPad *pad)
{
  GstCaps *caps = gst_pad_get_current_caps (pad);
  if (caps == nullptr)
    caps = gst_pad_query_caps (pad, nullptr);
  std::string kind;
  if (caps != nullptr && !gst_caps_is_empty (caps) && !gst_caps_is_any (caps)) {
    const char *media
        = gst_structure_get_name (gst_caps_get_structure (caps, 0));
    if (g_str_has_prefix (media, "video/"))
      kind = "video";
    else if (g_str_has_prefix (media, "audio/"))
      kind = "audio";
    else
      kind = media;
  }
  if (caps != nullptr)
    gst_caps_unref (caps);
  if (kind.empty () || (kind != "video" && kind != "audio")) {
    const char *name = GST_PAD_NAME (pad);
    if (strstr (name, "video") != nullptr)
      kind = "video";
    else if (strstr (name, "audio") != nullptr)
      kind = "audio";
  }
  return kind;
}

/* A pipeline in this process with one signalrtcbin in it. Every src pad the
 * bin adds is linked to a counting sink (appsink for video, fakesink for
 * audio); every bus message is recorded. */
class Peer
{
 public:
  Peer (std::string label, const std::string &description,
        const std::string &bin_name)
      : label_ (std::move (label))
  {
    GError *error = nullptr;
    GstElement *element = gst_parse_launch (description.c_str (), &error);
    if (element == nullptr || error != nullptr) {
      ADD_FAILURE () << label_ << ": cannot parse \"" << description
                     << "\": " << (error ? error->message : "?");
      g_clear_error (&error);
      if (element == nullptr)
        return;
    }
    if (g_object_is_floating (element))
      gst_object_ref_sink (element);
    if (GST_IS_PIPELINE (element)) {
      pipeline_ = element;
    } else {
      pipeline_ = gst_pipeline_new (label_.c_str ());
      gst_object_ref_sink (pipeline_);
      gst_bin_add (GST_BIN (pipeline_), element);
      gst_object_unref (element);
    }
    bin_ = gst_bin_get_by_name (GST_BIN (pipeline_), bin_name.c_str ());
    if (bin_ == nullptr) {
      ADD_FAILURE () << label_ << ": no element named " << bin_name;
      return;
    }

    GstBus *bus = gst_element_get_bus (pipeline_);
    gst_bus_set_sync_handler (bus, on_bus, this, nullptr);
    gst_object_unref (bus);
    handlers_.push_back (
        g_signal_connect (bin_, "pad-added", G_CALLBACK (on_pad_added), this));
    handlers_.push_back (g_signal_connect (bin_, "pad-removed",
                                           G_CALLBACK (on_pad_removed), this));
    if (g_signal_lookup ("message-received", G_OBJECT_TYPE (bin_)) != 0)
      handlers_.push_back (g_signal_connect (
          bin_, "message-received", G_CALLBACK (on_message_received), this));
  }

  ~Peer ()
  {
    if (pipeline_ == nullptr)
      return;
    gst_element_set_state (pipeline_, GST_STATE_NULL);
    for (gulong id : handlers_)
      g_signal_handler_disconnect (bin_, id);
    GstBus *bus = gst_element_get_bus (pipeline_);
    gst_bus_set_sync_handler (bus, nullptr, nullptr, nullptr);
    gst_object_unref (bus);
    if (bin_ != nullptr)
      gst_object_unref (bin_);
    gst_object_unref (pipeline_);
    std::lock_guard<std::mutex> lock (lock_);
    for (auto &record : bus_)
      if (record.structure != nullptr)
        gst_structure_free (record.structure);
  }

  Peer (const Peer &) = delete;
  Peer &operator= (const Peer &) = delete;

  bool valid () const { return pipeline_ != nullptr && bin_ != nullptr; }

  /* Called with each signalrtc element message, on the thread that posts
   * it (for a message the bin posts, its hub thread). Set before play (). */
  void on_element_message (std::function<void (const GstStructure *)> hook)
  {
    hook_ = std::move (hook);
  }

  /* Chat through the send-message action signal: did it go out (or wait
   * for the call's data channel)? */
  bool send_chat (const std::string &to, const std::string &text)
  {
    gboolean sent = FALSE;
    g_signal_emit_by_name (bin_, "send-message", to.c_str (), text.c_str (),
                           &sent);
    return sent;
  }

  bool play ()
  {
    if (!valid ())
      return false;
    playing_us_ = now_us ();
    GstStateChangeReturn ret
        = gst_element_set_state (pipeline_, GST_STATE_PLAYING);
    return ret != GST_STATE_CHANGE_FAILURE;
  }

  const std::string &label () const { return label_; }
  GstElement *pipeline () const { return pipeline_; }
  GstElement *bin () const { return bin_; }
  gint64 playing_us () const { return playing_us_; }

  std::vector<std::shared_ptr<Track>> tracks () const
  {
    std::lock_guard<std::mutex> lock (lock_);
    return tracks_;
  }

  guint64 buffers (const std::string &kind) const
  {
    guint64 n = 0;
    for (const auto &track : tracks ())
      if (track->kind == kind)
        n += track->buffers.load ();
    return n;
  }
  guint64 video_frames () const { return buffers ("video"); }
  guint64 audio_buffers () const { return buffers ("audio"); }

  /* When the first video buffer came out (0: none yet). */
  gint64 first_video_us () const
  {
    gint64 first = 0;
    for (const auto &track : tracks ()) {
      gint64 t = track->first_us.load ();
      if (track->kind == "video" && t != 0 && (first == 0 || t < first))
        first = t;
    }
    return first;
  }

  /* Element messages called @name, optionally with @field == @value. */
  size_t count (const std::string &name, const char *field = nullptr,
                const std::string &value = "") const
  {
    std::lock_guard<std::mutex> lock (lock_);
    size_t n = 0;
    for (const auto &record : bus_)
      if (matches (record, name, field, value))
        n++;
    return n;
  }

  /* A string field of the last @name message with @field == @value. */
  std::optional<std::string> last_field (const std::string &name,
                                         const char *wanted,
                                         const char *field = nullptr,
                                         const std::string &value = "") const
  {
    std::lock_guard<std::mutex> lock (lock_);
    for (auto it = bus_.rbegin (); it != bus_.rend (); ++it) {
      if (!matches (*it, name, field, value))
        continue;
      const char *s = gst_structure_get_string (it->structure, wanted);
      if (s != nullptr)
        return std::string (s);
      return std::nullopt;
    }
    return std::nullopt;
  }

  /* When the first @name message came (0: not yet). */
  gint64 first_time (const std::string &name, const char *field = nullptr,
                     const std::string &value = "", gint64 after_us = 0) const
  {
    std::lock_guard<std::mutex> lock (lock_);
    for (const auto &record : bus_)
      if (record.time_us >= after_us && matches (record, name, field, value))
        return record.time_us;
    return 0;
  }

  std::vector<std::string> texts (GstMessageType type) const
  {
    std::lock_guard<std::mutex> lock (lock_);
    std::vector<std::string> out;
    for (const auto &record : bus_)
      if (record.type == type)
        out.push_back (record.text);
    return out;
  }
  /* WARNING messages from the signalrtcbin (or inside it). */
  std::vector<std::string> bin_warnings () const
  {
    std::lock_guard<std::mutex> lock (lock_);
    std::vector<std::string> out;
    for (const auto &record : bus_)
      if (record.type == GST_MESSAGE_WARNING && record.from_bin)
        out.push_back (record.text);
    return out;
  }
  size_t warnings () const { return bin_warnings ().size (); }
  size_t errors () const { return texts (GST_MESSAGE_ERROR).size (); }
  bool got_eos () const { return eos_.load (); }

  std::vector<ChatMessage> chat () const
  {
    std::lock_guard<std::mutex> lock (lock_);
    return chat_;
  }

  /* Calls @fn on every element message called @name so far, in order
   * (under the lock: @fn must not call back into this Peer). */
  void for_each (const std::string &name,
                 const std::function<void (const GstStructure *)> &fn) const
  {
    std::lock_guard<std::mutex> lock (lock_);
    for (const auto &record : bus_)
      if (matches (record, name, nullptr, ""))
        fn (record.structure);
  }

 private:
  static bool matches (const BusRecord &record, const std::string &name,
                       const char *field, const std::string &value)
  {
    if (record.type != GST_MESSAGE_ELEMENT || record.name != name)
      return false;
    if (field == nullptr)
      return true;
    const char *s = gst_structure_get_string (record.structure, field);
    return s != nullptr && value == s;
  }

  /* A sync handler that drops a message owns it (GstBusSyncHandler). */
  static GstBusSyncReply on_bus (GstBus *bus, GstMessage *message,
                                 gpointer data)
  {
    record (static_cast<Peer *> (data), message);
    gst_message_unref (message);
    return GST_BUS_DROP;
  }

  static void record (Peer *self, GstMessage *message)
  {
    BusRecord record;
    record.type = GST_MESSAGE_TYPE (message);
    record.time_us = now_us ();
    GstObject *src = GST_MESSAGE_SRC (message);
    record.from_bin
        = src != nullptr && self->bin_ != nullptr
          && (src == GST_OBJECT (self->bin_)
              || gst_object_has_as_ancestor (src, GST_OBJECT (self->bin_)));
    switch (GST_MESSAGE_TYPE (message)) {
    case GST_MESSAGE_ELEMENT: {
      const GstStructure *s = gst_message_get_structure (message);
      if (s == nullptr
          || !g_str_has_prefix (gst_structure_get_name (s), "signalrtc-"))
        return;
      record.name = gst_structure_get_name (s);
      record.structure = gst_structure_copy (s);
      if (self->hook_)
        self->hook_ (s);
      /* Periodic stats would flood the log, and so would whole SDPs. */
      if (record.name == "signalrtc-sdp-sent") {
        note (self->label_, "signalrtc-sdp-sent %s to %s",
              gst_structure_get_string (s, "type"),
              gst_structure_get_string (s, "username"));
      } else if (record.name.find ("stats") == std::string::npos) {
        g_autofree gchar *str = gst_structure_to_string (s);
        note (self->label_, "%s", str);
      }
      break;
    }
    case GST_MESSAGE_WARNING:
    case GST_MESSAGE_ERROR: {
      GError *error = nullptr;
      gchar *debug = nullptr;
      if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_WARNING)
        gst_message_parse_warning (message, &error, &debug);
      else
        gst_message_parse_error (message, &error, &debug);
      record.text = std::string (GST_OBJECT_NAME (GST_MESSAGE_SRC (message)))
                    + ": " + (error ? error->message : "?") + " ("
                    + (debug ? debug : "") + ")";
      note (self->label_, "%s %s", GST_MESSAGE_TYPE_NAME (message),
            record.text.c_str ());
      g_clear_error (&error);
      g_free (debug);
      break;
    }
    case GST_MESSAGE_EOS:
      self->eos_ = true;
      return;
    default:
      return;
    }
    std::lock_guard<std::mutex> lock (self->lock_);
    self->bus_.push_back (std::move (record));
    return;
  }

  static GstPadProbeReturn on_data (GstPad *pad, GstPadProbeInfo *info,
                                    gpointer data)
  {
    auto *track = static_cast<Track *> (data);
    if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
      if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) == GST_EVENT_EOS)
        track->eos = true;
      return GST_PAD_PROBE_OK;
    }
    guint n = 1;
    if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST)
      n = gst_buffer_list_length (GST_PAD_PROBE_INFO_BUFFER_LIST (info));
    gint64 t = now_us ();
    gint64 zero = 0;
    track->first_us.compare_exchange_strong (zero, t);
    track->last_us = t;
    track->buffers += n;
    return GST_PAD_PROBE_OK;
  }

  static void on_pad_added (GstElement *bin, GstPad *pad, gpointer data)
  {
    auto *self = static_cast<Peer *> (data);
    if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
      return;
    auto track = std::make_shared<Track> ();
    track->pad_name = GST_PAD_NAME (pad);
    track->kind = pad_kind (pad);
    track->added_us = now_us ();
    note (self->label_, "src pad %s (%s)", track->pad_name.c_str (),
          track->kind.c_str ());

    GstElement *sink;
    if (track->kind == "video") {
      sink = gst_element_factory_make ("appsink", nullptr);
      /* Nobody pulls: keep one buffer at most, and let EOS through
       * (by default appsink holds EOS until its queue is pulled empty,
       * which would block whoever sends it). */
      g_object_set (sink, "drop", TRUE, "max-buffers", 1u, "enable-last-sample",
                    FALSE, "wait-on-eos", FALSE, nullptr);
    } else {
      sink = gst_element_factory_make ("fakesink", nullptr);
    }
    g_object_set (sink, "sync", FALSE, "async", FALSE, nullptr);
    gst_pad_add_probe (pad,
                       GstPadProbeType (GST_PAD_PROBE_TYPE_BUFFER
                                        | GST_PAD_PROBE_TYPE_BUFFER_LIST
                                        | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
                       on_data, track.get (), nullptr);
    {
      std::lock_guard<std::mutex> lock (self->lock_);
      self->tracks_.push_back (track);
    }
    gst_bin_add (GST_BIN (self->pipeline_), sink);
    gst_element_sync_state_with_parent (sink);
    GstPad *sinkpad = gst_element_get_static_pad (sink, "sink");
    GstPadLinkReturn ret = gst_pad_link (pad, sinkpad);
    if (ret != GST_PAD_LINK_OK)
      note (self->label_, "cannot link %s: %s", track->pad_name.c_str (),
            gst_pad_link_get_name (ret));
    gst_object_unref (sinkpad);
  }

  static void on_pad_removed (GstElement *bin, GstPad *pad, gpointer data)
  {
    auto *self = static_cast<Peer *> (data);
    if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
      return;
    note (self->label_, "src pad %s removed", GST_PAD_NAME (pad));
    std::lock_guard<std::mutex> lock (self->lock_);
    for (auto &track : self->tracks_)
      if (track->pad_name == GST_PAD_NAME (pad) && !track->removed)
        track->removed = true;
  }

  static void on_message_received (GstElement *bin, const gchar *peer,
                                   const gchar *username, const gchar *text,
                                   gpointer data)
  {
    auto *self = static_cast<Peer *> (data);
    note (self->label_, "message from %s (%s): %s", username, peer, text);
    std::lock_guard<std::mutex> lock (self->lock_);
    self->chat_.push_back (
        {peer ? peer : "", username ? username : "", text ? text : ""});
  }

  std::string label_;
  GstElement *pipeline_ = nullptr;
  GstElement *bin_ = nullptr;
  std::function<void (const GstStructure *)> hook_;
  std::vector<gulong> handlers_;
  gint64 playing_us_ = 0;
  std::atomic<bool> eos_{false};

  mutable std::mutex lock_; /* guards the three below */
  std::vector<std::shared_ptr<Track>> tracks_;
  std::vector<BusRecord> bus_;
  std::vector<ChatMessage> chat_;
};

/* argv for a gst-launch-1.0 line written as a user would type it; the
 * first word is replaced by $SIGNALRTC_GST_LAUNCH. */
std::vector<std::string>
gst_launch_argv (const std::string &line)
{
  gint argc = 0;
  gchar **argv = nullptr;
  GError *error = nullptr;
  std::vector<std::string> out;
  if (!g_shell_parse_argv (line.c_str (), &argc, &argv, &error)) {
    ADD_FAILURE () << "cannot parse \"" << line << "\": " << error->message;
    g_clear_error (&error);
    return out;
  }
  for (gint i = 0; i < argc; i++)
    out.emplace_back (argv[i]);
  g_strfreev (argv);
  const char *launch = g_getenv ("SIGNALRTC_GST_LAUNCH");
  if (!out.empty () && launch != nullptr && launch[0] != '\0')
    out[0] = launch;
  return out;
}

/* A gst-launch-1.0 child process. Its output goes to the test's log. */
class LaunchProcess
{
 public:
  explicit LaunchProcess (const std::string &line) : line_ (line) {}
  ~LaunchProcess () { kill (); }

  LaunchProcess (const LaunchProcess &) = delete;
  LaunchProcess &operator= (const LaunchProcess &) = delete;

  bool start (GError **error)
  {
    auto args = gst_launch_argv (line_);
    if (args.empty ()) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "bad line");
      return false;
    }
    std::vector<const char *> argv;
    for (const auto &arg : args)
      argv.push_back (arg.c_str ());
    argv.push_back (nullptr);
    note ("launch", "%s", line_.c_str ());
    started_us_ = now_us ();
    process_ = g_subprocess_newv (argv.data (), G_SUBPROCESS_FLAGS_NONE, error);
    if (process_ == nullptr)
      return false;
    done_ = new bool (false);
    g_subprocess_wait_async (
        process_, nullptr,
        +[] (GObject *source, GAsyncResult *result, gpointer data) {
          g_subprocess_wait_finish (G_SUBPROCESS (source), result, nullptr);
          *static_cast<bool *> (data) = true;
        },
        done_);
    return true;
  }

  /* Exit is noticed while the thread-default context is iterated. */
  bool exited () const { return done_ != nullptr && *done_; }
  gint64 started_us () const { return started_us_; }
  gint64 exited_us () const { return exited_us_; }
  /* The exit status, or -1 when it did not exit by itself. */
  int exit_status () const
  {
    if (!exited () || !g_subprocess_get_if_exited (process_))
      return -1;
    return g_subprocess_get_exit_status (process_);
  }
  void note_exit ()
  {
    if (exited () && exited_us_ == 0)
      exited_us_ = now_us ();
  }

  void signal (int signum)
  {
    if (process_ != nullptr && !exited ())
      g_subprocess_send_signal (process_, signum);
  }

  /* SIGKILL, and wait until it is gone. */
  void kill ()
  {
    if (process_ == nullptr)
      return;
    if (!exited ()) {
      g_subprocess_send_signal (process_, SIGKILL);
      g_autoptr (GMainContext) context = g_main_context_ref_thread_default ();
      run_until (
          context, [this] { return exited (); }, 5000);
    }
    if (exited ())
      delete done_;
    /* else: the callback may still write into it; leak it. */
    done_ = nullptr;
    g_clear_object (&process_);
  }

 private:
  std::string line_;
  GSubprocess *process_ = nullptr;
  bool *done_ = nullptr;
  gint64 started_us_ = 0;
  gint64 exited_us_ = 0;
};

std::string
make_offer_sdp_with_unknown_codec ()
{
  /* Well-formed, with everything webrtcbin needs, but the only codec is
   * one nobody has. */
  std::string fingerprint;
  for (int i = 0; i < 32; i++) {
    if (i > 0)
      fingerprint += ":";
    fingerprint += "AB";
  }
  return "v=0\r\n"
         "o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n"
         "s=-\r\n"
         "t=0 0\r\n"
         "a=group:BUNDLE 0\r\n"
         "a=msid-semantic: WMS\r\n"
         "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
         "c=IN IP4 0.0.0.0\r\n"
         "a=rtcp:9 IN IP4 0.0.0.0\r\n"
         "a=ice-ufrag:evil\r\n"
         "a=ice-pwd:evilevilevilevilevilevil\r\n"
         "a=ice-options:trickle\r\n"
         "a=fingerprint:sha-256 "
         + fingerprint
         + "\r\n"
           "a=setup:actpass\r\n"
           "a=mid:0\r\n"
           "a=sendrecv\r\n"
           "a=rtcp-mux\r\n"
           "a=rtpmap:96 NOTACODEC/90000\r\n";
}

/* JSON.stringify of {"type":"offer","sdp":@sdp}. */
std::string
offer_signal (const std::string &sdp)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "offer");
  json_builder_set_member_name (builder, "sdp");
  json_builder_add_string_value (builder, sdp.c_str ());
  json_builder_end_object (builder);
  g_autoptr (JsonNode) root = json_builder_get_root (builder);
  return json_to_string (root);
}

/* A hub user with no media, signaling as a browser would but under the
 * test's control: it says NewUser (again after every reconnect), answers
 * newcomers with HelloUser, and keeps every signal it gets. Its callbacks
 * run while the test iterates @context. */
class FakePeer
{
 public:
  struct Signal
  {
    std::string from;
    std::string text;
  };

  FakePeer (const std::string &url, GMainContext *context, std::string name)
      : name_ (std::move (name)),
        client_ (std::make_unique<HubClient> (quick_options (url, context)))
  {
    client_->set_connected_handler ([this] (const std::string &id, bool) {
      ids.push_back (id);
      note (name_, "on the hub as %s", id.c_str ());
      client_->invoke ("NewUser", {JsonValue::from_string (name_)},
                       [] (const JsonValue &, const GError *) {});
    });
    client_->on ("NewUserArrived", [this] (const std::vector<JsonValue> &a) {
      auto text = a.empty () ? std::nullopt : a[0].as_string ();
      auto info = text ? parse_user_info (*text, nullptr) : std::nullopt;
      if (info)
        client_->invoke ("HelloUser",
                         {JsonValue::from_string (name_),
                          JsonValue::from_string (info->connection_id)},
                         [] (const JsonValue &, const GError *) {});
    });
    client_->on ("SendSignal", [this] (const std::vector<JsonValue> &a) {
      auto from = a.size () == 2 ? a[0].as_string () : std::nullopt;
      auto text = a.size () == 2 ? a[1].as_string () : std::nullopt;
      if (from && text) {
        auto signal = parse_peer_signal (*text, nullptr);
        note (name_, "signal from %s: %s", from->c_str (),
              signal ? peer_signal_type_name (signal->type) : "?");
        signals.push_back ({*from, *text});
      }
    });
    client_->start ();
  }

  FakePeer (const FakePeer &) = delete;
  FakePeer &operator= (const FakePeer &) = delete;

  bool connected () const
  {
    return client_->state () == HubClient::State::Connected;
  }

  void send (const std::string &to, const std::string &signal)
  {
    client_->invoke ("SendSignal",
                     {JsonValue::from_string (signal),
                      JsonValue::from_string (to)},
                     [] (const JsonValue &, const GError *) {});
  }

  /* The offers received (from @from, or anyone), in order. */
  std::vector<PeerSignal> offers (const std::string &from = "") const
  {
    std::vector<PeerSignal> out;
    for (const auto &s : signals) {
      auto signal = parse_peer_signal (s.text, nullptr);
      if (signal && signal->type == PeerSignal::Type::Offer
          && (from.empty () || s.from == from))
        out.push_back (*signal);
    }
    return out;
  }

  std::vector<std::string> ids; /* connection ids, one per connect */
  std::vector<Signal> signals;

 private:
  std::string name_;
  std::unique_ptr<HubClient> client_;
};

/* The o= line's session id of @sdp: one per webrtcbin, kept when it
 * renegotiates. */
std::string
sdp_session_id (const std::string &sdp)
{
  auto at = sdp.find ("o=");
  if (at == std::string::npos)
    return "";
  g_auto (GStrv) words = g_strsplit (sdp.substr (at + 2).c_str (), " ", 3);
  return words[0] && words[1] ? words[1] : "";
}

std::vector<GstElement *> elements_in (
    GstElement *bin, const std::function<bool (GstElement *)> &keep);

size_t
webrtcbins_in (GstElement *bin)
{
  return elements_in (bin, [] (GstElement *e) {
           GstElementFactory *f = gst_element_get_factory (e);
           return f && g_str_equal (GST_OBJECT_NAME (f), "webrtcbin");
         }).size ();
}

/* The names of @bin's own children. */
std::multiset<std::string>
children_of (GstElement *bin)
{
  std::multiset<std::string> out;
  GST_OBJECT_LOCK (bin);
  for (GList *l = GST_BIN_CHILDREN (bin); l; l = l->next) {
    GstElementFactory *f = gst_element_get_factory (GST_ELEMENT (l->data));
    out.insert (f ? GST_OBJECT_NAME (f) : G_OBJECT_TYPE_NAME (l->data));
  }
  GST_OBJECT_UNLOCK (bin);
  return out;
}

std::string
describe_names (const std::multiset<std::string> &names)
{
  std::string out;
  for (const auto &n : names)
    out += n + " ";
  return out;
}

class Elements : public ::testing::Test
{
 protected:
  void SetUp () override
  {
    test_start_us = now_us ();
    gst_init (nullptr, nullptr);
    ASSERT_FALSE (HubProcess::binary ().empty ()) << "SIGNALRTC_HUB is not set";
    GstElementFactory *factory = gst_element_factory_find ("signalrtcbin");
    ASSERT_NE (factory, nullptr)
        << "no signalrtcbin: is GST_PLUGIN_PATH_1_0 the plugin's build dir?";
    gst_object_unref (factory);
    leaks_ = find_leaks_tracer ();
    if (leaks_)
      g_signal_emit_by_name (leaks_, "activity-start-tracking");
  }

  void TearDown () override
  {
    note ("test", "tearing down");
    /* Children first, then pipelines (which leave the hub), then the hub. */
    processes_.clear ();
    while (!peers_.empty ())
      peers_.pop_back ();
    hub_.kill ();
    if (leaks_) {
      expect_nothing_left ();
      g_signal_emit_by_name (leaks_, "activity-stop-tracking");
      gst_object_unref (leaks_);
      leaks_ = nullptr;
    }
  }

  /* The leaks tracer, when GST_TRACERS has one (the elements-leaks test);
   * a new reference. */
  static GstTracer *find_leaks_tracer ()
  {
    GstTracer *found = nullptr;
    GList *tracers = gst_tracing_get_active_tracers ();
    for (GList *l = tracers; l; l = l->next)
      if (!found && g_str_equal (G_OBJECT_TYPE_NAME (l->data), "GstLeaksTracer"))
        found = GST_TRACER (gst_object_ref (l->data));
    g_list_free_full (tracers, gst_object_unref);
    return found;
  }

  /* Every object the tracer follows (GST_TRACERS filters) that the test
   * made is gone once its pipelines are. Some go a little after: a
   * webrtcbin's transport elements are freed by the GStreamer threads
   * still finishing with them (seen once: a nicesrc and its dtlssrtpdec,
   * on a loaded machine), so what is left is asked again for a while; a
   * real leak stays. */
  void expect_nothing_left ()
  {
    std::map<std::string, std::string> created; /* address -> type name */
    std::set<std::string> removed;
    std::map<std::string, int> left;
    const gint64 deadline = now_us () + 10 * G_USEC_PER_SEC;
    for (;;) {
      GstStructure *checkpoint = nullptr;
      /* What was created and removed since the last checkpoint. */
      g_signal_emit_by_name (leaks_, "activity-get-checkpoint", &checkpoint);
      ASSERT_NE (checkpoint, nullptr);
      auto each = [&] (const char *field, auto fn) {
        const GValue *list = gst_structure_get_value (checkpoint, field);
        for (guint i = 0; list && i < gst_value_list_get_size (list); i++) {
          const GstStructure *o
              = gst_value_get_structure (gst_value_list_get_value (list, i));
          const char *address = gst_structure_get_string (o, "address");
          const char *type = gst_structure_get_string (o, "type-name");
          if (address)
            fn (std::string (address), type ? type : "?");
        }
      };
      each ("objects-created-list",
            [&] (const std::string &a, const char *type) { created[a] = type; });
      each ("objects-removed-list",
            [&] (const std::string &a, const char *) { removed.insert (a); });
      gst_structure_free (checkpoint);
      left.clear ();
      for (const auto &[address, type] : created)
        if (!removed.contains (address))
          left[type]++;
      if (left.empty () || now_us () > deadline)
        break;
      g_usleep (100 * 1000);
    }
    std::string list;
    for (const auto &[type, n] : left)
      list += type + " x" + std::to_string (n) + " ";
    report ("objects_left", left.size ());
    EXPECT_TRUE (left.empty ()) << "still alive 10 s after the test: " << list;
    if (!left.empty ())
      g_signal_emit_by_name (leaks_, "log-live-objects");
  }

  bool start_hub (guint port = 0)
  {
    g_autoptr (GError) error = nullptr;
    bool ok = hub_.start (port, &error);
    EXPECT_TRUE (ok) << (error ? error->message : "?");
    return ok;
  }

  std::string url () const { return hub_.url (); }

  Peer &add_peer (const std::string &label, const std::string &description,
                  const std::string &bin_name)
  {
    peers_.push_back (std::make_unique<Peer> (label, description, bin_name));
    return *peers_.back ();
  }

  /* A pipeline sending test video (and receiving whatever comes) through
   * a signalrtcbin named @name. */
  Peer &add_sender (const std::string &name, const std::string &hub_url,
                    const std::string &extra = "",
                    const std::string &pattern = "ball")
  {
    std::string description
        = "videotestsrc is-live=true pattern=" + pattern + " ! " + kVideoCaps
          + " ! signalrtcbin name=" + name + " hub-url=" + hub_url
          + " username=" + name + " " + extra;
    return add_peer (name, description, name);
  }

  /* A pipeline that only receives, through a signalrtcbin named @name. */
  Peer &add_receiver (const std::string &name, const std::string &hub_url,
                      const std::string &extra = "")
  {
    std::string description = "signalrtcbin name=" + name + " hub-url="
                              + hub_url + " username=" + name + " " + extra;
    return add_peer (name, description, name);
  }

  LaunchProcess *launch (const std::string &line)
  {
    auto process = std::make_unique<LaunchProcess> (line);
    g_autoptr (GError) error = nullptr;
    if (!process->start (&error)) {
      ADD_FAILURE () << "cannot start \"" << line
                     << "\": " << (error ? error->message : "?");
      return nullptr;
    }
    processes_.push_back (std::move (process));
    return processes_.back ().get ();
  }

  /* Iterates this thread's context (hub process, HubClients, children)
   * until @predicate holds or @timeout_ms pass. Media and bus messages
   * arrive on other threads and are polled. */
  bool wait_until (const std::function<bool ()> &predicate, guint timeout_ms)
  {
    gint64 deadline = now_us () + gint64 (timeout_ms) * 1000;
    for (;;) {
      while (g_main_context_iteration (ctx_.get (), FALSE))
        ;
      for (auto &process : processes_)
        process->note_exit ();
      if (predicate ())
        return true;
      if (now_us () >= deadline)
        return false;
      g_usleep (10 * 1000);
    }
  }

  void run_for (guint ms)
  {
    wait_until ([] { return false; }, ms);
  }

  bool wait_hub_connected (Peer &peer, size_t times = 1,
                           guint timeout_ms = 10000)
  {
    return wait_until (
        [&] { return peer.count ("signalrtc-hub-connected") >= times; },
        timeout_ms);
  }

  /* No ERROR message on any pipeline so far. */
  void expect_no_errors ()
  {
    for (const auto &peer : peers_)
      for (const auto &text : peer->texts (GST_MESSAGE_ERROR))
        ADD_FAILURE () << peer->label () << " posted ERROR: " << text;
  }

  void report (const std::string &key, double value)
  {
    RecordProperty (key, std::to_string (value));
    std::cout << "[ elements ] " << key << " = " << value << std::endl;
  }

  /* A sender with video-codec=@codec called by a receiver: the receiver
   * decodes 2 s of video within 10 s, through @depayloader, from an
   * @encoder (and no vp8enc) in the sender's bin. */
  void video_codec_call (const std::string &codec, const char *encoder,
                         const char *depayloader);

  /* Already-encoded input (@encode: a gst-launch fragment whose encoder,
   * an @encoder named "outside", is in front of the bin) goes through the
   * bin without an encoder; the viewer decodes it through @depayloader. */
  void passthrough_call (const std::string &encode, const std::string &extra,
                         const char *encoder, const char *depayloader);

  TestContext ctx_;
  GstTracer *leaks_ = nullptr;
  HubProcess hub_;
  std::vector<std::unique_ptr<Peer>> peers_;
  std::vector<std::unique_ptr<LaunchProcess>> processes_;
};

/* (a) A gst-launch sender process, a receiver in this process. */
TEST_F (Elements, SenderProcessToReceiver)
{
  ASSERT_TRUE (start_hub ());
  Peer &viewer = add_receiver ("viewer", url (), "call=cam");
  ASSERT_TRUE (viewer.valid ());
  ASSERT_TRUE (viewer.play ());
  ASSERT_TRUE (wait_hub_connected (viewer)) << "viewer never joined the hub";

  LaunchProcess *sender = launch (
      "gst-launch-1.0 -e videotestsrc is-live=true num-buffers=240 "
      "pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 ! "
      "signalrtcbin name=cam hub-url="
      + url ()
      + " username=cam "
        "audiotestsrc is-live=true num-buffers=350 ! cam.");
  ASSERT_NE (sender, nullptr);

  /* A live sender produces frames from the moment it starts, call or not:
   * what counts is what arrives of the frames sent while the call is up.
   * The sender sends 150 frames in the 5 s after the first one decoded
   * here; at least 90 % of them must be decoded, however long a loaded
   * machine takes. */
  ASSERT_TRUE (wait_until ([&] { return viewer.video_frames () > 0; }, 20000))
      << "no video frame decoded within 20 s";
  guint64 at_first = viewer.video_frames ();
  gint64 at_first_us = now_us ();
  bool got_most = wait_until (
      [&] { return viewer.video_frames () >= at_first + 135; }, 20000);
  report ("ms_for_135_frames_after_the_first",
          ms_since (at_first_us, now_us ()));

  /* 240 frames at 30/s and 350 * 1024 samples at 44.1 kHz: about 8 s. */
  bool exited = wait_until ([&] { return sender->exited (); }, 25000);
  /* What is still in flight (jitterbuffer, decoder). */
  run_for (1000);

  guint64 frames = viewer.video_frames ();
  guint64 audio = viewer.audio_buffers ();
  gint64 first = viewer.first_video_us ();
  report ("video_frames", frames);
  report ("audio_buffers", audio);
  if (first != 0) {
    report ("first_frame_ms_after_playing",
            ms_since (viewer.playing_us (), first));
    report ("first_frame_ms_after_sender_start",
            ms_since (sender->started_us (), first));
    gint64 connected = viewer.first_time ("signalrtc-peer-connected");
    if (connected != 0)
      report ("first_frame_ms_after_peer_connected",
              ms_since (connected, first));
    /* A long wait here means frames came but none could be decoded: the
     * decoder waited for a key frame. */
    for (const auto &track : viewer.tracks ())
      if (track->kind == "video" && track->first_us != 0)
        report ("first_frame_ms_after_video_pad",
                ms_since (track->added_us, track->first_us));
  }
  if (exited)
    report ("sender_run_ms",
            ms_since (sender->started_us (), sender->exited_us ()));

  EXPECT_TRUE (exited) << "gst-launch -e did not exit within 25 s of start "
                          "although its sources end after ~6 s";
  EXPECT_EQ (sender->exit_status (), 0);
  EXPECT_GE (viewer.count ("signalrtc-peer-connected", "username", "cam"), 1u);
  EXPECT_TRUE (got_most) << "fewer than 90% of the 150 frames sent in the "
                            "5 s after the first were decoded: "
                         << frames - at_first;
  EXPECT_GT (audio, 0u) << "no audio decoded";
  expect_no_errors ();
}

/* (b) Two bins call each other and both send video. */
TEST_F (Elements, BothDirections)
{
  ASSERT_TRUE (start_hub ());
  Peer &bob = add_sender ("bob", url (), "", "snow");
  ASSERT_TRUE (bob.valid () && bob.play ());
  ASSERT_TRUE (wait_hub_connected (bob));
  Peer &alice = add_sender ("alice", url (), "call=bob", "ball");
  ASSERT_TRUE (alice.valid () && alice.play ());

  /* 3 s of video each way. */
  bool ok = wait_until (
      [&] { return alice.video_frames () >= 90 && bob.video_frames () >= 90; },
      20000);
  report ("alice_frames", alice.video_frames ());
  report ("bob_frames", bob.video_frames ());
  if (alice.first_video_us () != 0)
    report ("alice_first_frame_ms",
            ms_since (alice.playing_us (), alice.first_video_us ()));
  if (bob.first_video_us () != 0)
    report ("bob_first_frame_ms",
            ms_since (alice.playing_us (), bob.first_video_us ()));
  EXPECT_TRUE (ok) << "alice got " << alice.video_frames () << ", bob got "
                   << bob.video_frames () << " frames (want 90 each)";
  EXPECT_GE (alice.count ("signalrtc-peer-connected", "username", "bob"), 1u);
  EXPECT_GE (bob.count ("signalrtc-peer-connected", "username", "alice"), 1u);

  /* One session description each way: the caller's offer, the callee's
   * answer, each naming the other side and carrying its SDP. */
  EXPECT_EQ (alice.count ("signalrtc-sdp-sent"), 1u);
  EXPECT_EQ (bob.count ("signalrtc-sdp-sent"), 1u);
  EXPECT_EQ (alice.count ("signalrtc-sdp-sent", "type", "offer"), 1u);
  EXPECT_EQ (bob.count ("signalrtc-sdp-sent", "type", "answer"), 1u);
  EXPECT_EQ (alice.last_field ("signalrtc-sdp-sent", "username"), "bob");
  EXPECT_EQ (bob.last_field ("signalrtc-sdp-sent", "username"), "alice");
  auto alice_id = alice.last_field ("signalrtc-hub-connected", "connection-id");
  auto bob_id = bob.last_field ("signalrtc-hub-connected", "connection-id");
  ASSERT_TRUE (alice_id && bob_id);
  EXPECT_EQ (alice.last_field ("signalrtc-sdp-sent", "connection-id"), bob_id);
  EXPECT_EQ (bob.last_field ("signalrtc-sdp-sent", "connection-id"), alice_id);
  for (Peer *peer : {&alice, &bob}) {
    auto sdp = peer->last_field ("signalrtc-sdp-sent", "sdp");
    ASSERT_TRUE (sdp) << peer->label ();
    EXPECT_TRUE (g_str_has_prefix (sdp->c_str (), "v=0"))
        << peer->label () << ": " << *sdp;
    EXPECT_NE (sdp->find ("m=video"), std::string::npos) << peer->label ();
  }
  expect_no_errors ();
}

bool
is_video_encoder (GstElement *element)
{
  GstElementFactory *factory = gst_element_get_factory (element);
  if (factory == nullptr)
    return false;
  const char *klass
      = gst_element_factory_get_metadata (factory, GST_ELEMENT_METADATA_KLASS);
  return klass != nullptr && strstr (klass, "Encoder") != nullptr
         && strstr (klass, "Video") != nullptr;
}

/* Every element inside @bin, at any depth, for which @keep is true. The
 * bin holds them: valid while it does. */
std::vector<GstElement *>
elements_in (GstElement *bin, const std::function<bool (GstElement *)> &keep)
{
  std::vector<GstElement *> found;
  GstIterator *it = gst_bin_iterate_recurse (GST_BIN (bin));
  GValue item = G_VALUE_INIT;
  bool done = false;
  while (!done) {
    switch (gst_iterator_next (it, &item)) {
    case GST_ITERATOR_OK: {
      auto *element = GST_ELEMENT (g_value_get_object (&item));
      if (keep (element))
        found.push_back (element);
      g_value_reset (&item);
      break;
    }
    case GST_ITERATOR_RESYNC:
      found.clear ();
      gst_iterator_resync (it);
      break;
    default:
      done = true;
      break;
    }
  }
  g_value_unset (&item);
  gst_iterator_free (it);
  return found;
}

std::vector<std::string>
video_encoders_in (GstElement *bin)
{
  std::vector<std::string> names;
  for (GstElement *e : elements_in (bin, is_video_encoder))
    names.push_back (GST_OBJECT_NAME (e));
  return names;
}

/* The sync property of each clocksync webrtcbin has in @bin: the one in
 * front of each stream a call sends. */
std::vector<bool>
webrtcbin_clock_syncs (GstElement *bin)
{
  auto is_webrtcbin_clocksync = [] (GstElement *e) {
    GstElementFactory *f = gst_element_get_factory (e);
    GstObject *parent = GST_OBJECT_PARENT (e);
    GstElementFactory *pf
        = parent ? gst_element_get_factory (GST_ELEMENT (parent)) : nullptr;
    return f && pf && g_str_equal (GST_OBJECT_NAME (f), "clocksync")
           && g_str_equal (GST_OBJECT_NAME (pf), "webrtcbin");
  };
  std::vector<bool> syncs;
  for (GstElement *e : elements_in (bin, is_webrtcbin_clocksync)) {
    gboolean sync = TRUE;
    g_object_get (e, "sync", &sync, nullptr);
    syncs.push_back (sync);
  }
  return syncs;
}

/* (c) One sender, five receivers, one encoder per rendition of its
 * ladder, however many receivers. */
TEST_F (Elements, OneSenderFiveReceivers)
{
  constexpr int kReceivers = 5;
  ASSERT_TRUE (start_hub ());
  Peer &cam = add_sender ("cam", url ());
  ASSERT_TRUE (cam.valid ());
  /* Count the frames going into the bin. */
  GstPad *input = gst_element_get_static_pad (cam.bin (), "video_0");
  ASSERT_NE (input, nullptr) << "the parsed link did not request video_0";
  std::atomic<guint64> sent{0};
  gst_pad_add_probe (
      input, GST_PAD_PROBE_TYPE_BUFFER,
      +[] (GstPad *, GstPadProbeInfo *, gpointer data) {
        (*static_cast<std::atomic<guint64> *> (data))++;
        return GST_PAD_PROBE_OK;
      },
      &sent, nullptr);
  gst_object_unref (input);
  ASSERT_TRUE (cam.play ());
  ASSERT_TRUE (wait_hub_connected (cam));

  std::vector<Peer *> receivers;
  for (int i = 0; i < kReceivers; i++) {
    Peer &r = add_receiver ("r" + std::to_string (i), url (), "call=cam");
    ASSERT_TRUE (r.valid () && r.play ());
    receivers.push_back (&r);
  }
  gint64 start = now_us ();
  bool connected = wait_until (
      [&] {
        if (cam.count ("signalrtc-peer-connected") < size_t (kReceivers))
          return false;
        for (auto *r : receivers)
          if (r->video_frames () == 0)
            return false;
        return true;
      },
      30000);
  report ("all_receivers_ms", ms_since (start, now_us ()));
  ASSERT_TRUE (connected) << "cam saw "
                          << cam.count ("signalrtc-peer-connected")
                          << " peers connect";

  /* Steady state: of 150 frames into the sender, each receiver decodes
   * at least 90 % (counts, with deadlines a loaded machine meets). */
  guint64 sent_before = sent.load ();
  std::vector<guint64> before;
  for (auto *r : receivers)
    before.push_back (r->video_frames ());
  EXPECT_TRUE (wait_until ([&] { return sent.load () >= sent_before + 150; },
                           30000))
      << "the sender itself is stuck";
  for (size_t i = 0; i < receivers.size (); i++) {
    bool ok = wait_until (
        [&] { return receivers[i]->video_frames () >= before[i] + 135; },
        20000);
    guint64 got = receivers[i]->video_frames () - before[i];
    report (receivers[i]->label () + "_frames", got);
    EXPECT_TRUE (ok) << receivers[i]->label () << " decoded " << got
                     << " of the 150 frames";
  }

  auto encoders = video_encoders_in (cam.bin ());
  std::string list;
  for (const auto &name : encoders)
    list += name + " ";
  EXPECT_EQ (encoders.size (), kLadderEncoders)
      << "video encoders in the sender's bin: " << list;
  expect_no_errors ();
}

/* A live input paces itself: webrtcbin's clocksync in front of what a call
 * sends would only hold each frame one more frame time (23 ms at 30 fps,
 * tests/bench/run-latency-bench), so it is off. A non-live input (a file)
 * keeps it: it is what sends the file in real time. */
TEST_F (Elements, OnlyNonLiveInputsWaitForTheClockBeforeSending)
{
  ASSERT_TRUE (start_hub ());
  Peer &live = add_sender ("live", url ());
  Peer &file = add_peer ("file",
                         "videotestsrc is-live=false pattern=ball ! "
                             + std::string (kVideoCaps)
                             + " ! signalrtcbin name=file hub-url=" + url ()
                             + " username=file",
                         "file");
  Peer &a = add_receiver ("a", url (), "call=live");
  Peer &b = add_receiver ("b", url (), "call=file");
  for (Peer *p : {&live, &file, &a, &b})
    ASSERT_TRUE (p->valid () && p->play ()) << p->label ();
  ASSERT_TRUE (wait_until (
      [&] {
        return live.count ("signalrtc-peer-connected") >= 1
               && file.count ("signalrtc-peer-connected") >= 1;
      },
      20000))
      << "live: " << live.count ("signalrtc-peer-connected")
      << " calls, file: " << file.count ("signalrtc-peer-connected");

  auto live_syncs = webrtcbin_clock_syncs (live.bin ());
  auto file_syncs = webrtcbin_clock_syncs (file.bin ());
  ASSERT_FALSE (live_syncs.empty ());
  ASSERT_FALSE (file_syncs.empty ());
  for (bool sync : live_syncs)
    EXPECT_FALSE (sync) << "a live input waited for the clock";
  for (bool sync : file_syncs)
    EXPECT_TRUE (sync) << "a non-live input was sent unpaced";
  /* A receiver sends no media: nothing of it waits either way. */
  EXPECT_TRUE (webrtcbin_clock_syncs (a.bin ()).empty ());
}

/* A finite stream into a sender nobody calls ends the pipeline: the bin is
 * a sink while it has inputs, so its EOS counts with no call in progress. */
TEST_F (Elements, SenderWithoutPeersEndsAtEos)
{
  ASSERT_TRUE (start_hub ());
  LaunchProcess *sender
      = launch ("gst-launch-1.0 videotestsrc is-live=true num-buffers=30 "
                "! signalrtcsink name=cam hub-url="
                + url ()
                + " username=cam "
                  "audiotestsrc is-live=true num-buffers=30 ! cam.");
  ASSERT_NE (sender, nullptr);
  EXPECT_TRUE (wait_until ([&] { return sender->exited (); }, 15000))
      << "gst-launch did not end after its 1 s of input";
  EXPECT_EQ (sender->exit_status (), 0);
}

/* A gst-launch recording of signalrtcsrc finishes and exits both on Ctrl-C
 * (-e: EOS sent to the element) and when the call ends. */
TEST_F (Elements, SignalrtcsrcRecordingEnds)
{
  ASSERT_TRUE (start_hub ());
  auto cam = std::make_unique<Peer> (
      "cam",
      "videotestsrc is-live=true ! signalrtcsink name=cam hub-url=" + url ()
          + " username=cam audiotestsrc is-live=true ! cam.",
      "cam");
  ASSERT_TRUE (cam->valid () && cam->play ());
  ASSERT_TRUE (wait_hub_connected (*cam));
  g_autofree gchar *dir = g_dir_make_tmp ("signalrtc-rec-XXXXXX", nullptr);
  auto recorder = [&] (const std::string &name) {
    std::string file = std::string (dir) + "/" + name + ".webm";
    return launch ("gst-launch-1.0 -e signalrtcsrc name=s hub-url=" + url ()
                   + " username=" + name
                   + " call=cam decode=false s.video_0 ! queue ! webmmux "
                     "name=m ! filesink location="
                   + file + " s.audio_0 ! queue ! m.audio_%u");
  };
  LaunchProcess *interrupted = recorder ("interrupted");
  ASSERT_NE (interrupted, nullptr);
  EXPECT_TRUE (wait_until (
      [&] { return cam->count ("signalrtc-peer-connected") >= 1; }, 15000));
  run_for (2000);
  interrupted->signal (SIGINT);
  EXPECT_TRUE (wait_until ([&] { return interrupted->exited (); }, 10000))
      << "gst-launch -e did not end on SIGINT";
  EXPECT_EQ (interrupted->exit_status (), 0);

  LaunchProcess *ended = recorder ("ended");
  ASSERT_NE (ended, nullptr);
  EXPECT_TRUE (wait_until (
      [&] { return cam->count ("signalrtc-peer-connected") >= 2; }, 15000));
  run_for (2000);
  cam.reset (); /* the caller goes away: the call ends */
  EXPECT_TRUE (wait_until ([&] { return ended->exited (); }, 15000))
      << "gst-launch did not end with the call";
  EXPECT_EQ (ended->exit_status (), 0);
  for (const char *name : {"interrupted", "ended"}) {
    g_autofree gchar *file = g_strdup_printf ("%s/%s.webm", dir, name);
    GStatBuf st;
    EXPECT_EQ (g_stat (file, &st), 0) << file;
    EXPECT_GT (st.st_size, 10000) << file;
    g_unlink (file);
  }
  g_rmdir (dir);
}

/* An error inside one call's webrtcbin (as sctpenc posts when a browser
 * closes its call) ends that call only: the pipeline sees no ERROR and the
 * other receiver goes on. */
TEST_F (Elements, ErrorInOneCallEndsOnlyThatCall)
{
  ASSERT_TRUE (start_hub ());
  Peer &cam = add_sender ("cam", url ());
  ASSERT_TRUE (cam.valid () && cam.play ());
  ASSERT_TRUE (wait_hub_connected (cam));
  Peer &doomed = add_receiver ("doomed", url (), "call=cam");
  Peer &other = add_receiver ("other", url (), "call=cam");
  ASSERT_TRUE (doomed.play () && other.play ());
  ASSERT_TRUE (wait_until (
      [&] { return doomed.video_frames () > 10 && other.video_frames () > 10; },
      20000));

  auto id = cam.last_field ("signalrtc-peer-connected", "connection-id",
                            "username", "doomed");
  ASSERT_TRUE (id.has_value ());
  g_autofree gchar *name = g_strdup_printf ("webrtc-%s", id->c_str ());
  GstElement *webrtc = gst_bin_get_by_name (GST_BIN (cam.bin ()), name);
  ASSERT_NE (webrtc, nullptr) << "no " << name << " in the sender's bin";
  gst_element_message_full (webrtc, GST_MESSAGE_ERROR, GST_RESOURCE_ERROR,
                            GST_RESOURCE_ERROR_WRITE,
                            g_strdup ("injected by the test"), nullptr,
                            __FILE__, GST_FUNCTION, __LINE__);
  gst_object_unref (webrtc);

  EXPECT_TRUE (wait_until (
      [&] {
        return cam.count ("signalrtc-peer-disconnected", "username", "doomed")
               > 0;
      },
      10000))
      << "the sender did not end the call with the error";
  guint64 before = other.video_frames ();
  EXPECT_TRUE (wait_until (
      [&] { return other.video_frames () >= before + 80; }, 15000))
      << "the other receiver stopped";
  EXPECT_EQ (cam.count ("signalrtc-peer-disconnected", "username", "other"),
             0u);
  auto warnings = cam.bin_warnings ();
  EXPECT_TRUE (std::any_of (warnings.begin (), warnings.end (),
                            [] (const std::string &w) {
                              return w.find ("injected by the test")
                                     != std::string::npos;
                            }))
      << "no warning names the error";
  expect_no_errors ();
}

/* (d) Chat over the data channel, both ways. */
TEST_F (Elements, ChatBothWays)
{
  ASSERT_TRUE (start_hub ());
  Peer &bob = add_sender ("bob", url (), "", "snow");
  ASSERT_TRUE (bob.valid () && bob.play ());
  ASSERT_TRUE (wait_hub_connected (bob));
  Peer &alice = add_sender ("alice", url (), "call=bob");
  ASSERT_TRUE (alice.valid () && alice.play ());

  ASSERT_TRUE (wait_until (
      [&] {
        return alice.count ("signalrtc-peer-connected") > 0
               && bob.count ("signalrtc-peer-connected") > 0;
      },
      20000))
      << "no call";
  auto alice_id = bob.last_field ("signalrtc-peer-connected", "connection-id",
                                  "username", "alice");
  auto bob_id = alice.last_field ("signalrtc-peer-connected", "connection-id",
                                  "username", "bob");
  ASSERT_TRUE (alice_id && bob_id);

  /* alice to everyone, bob to alice by connection id. */
  note ("test", "sending the messages");
  EXPECT_TRUE (alice.send_chat ("", "hello from alice"));
  EXPECT_TRUE (bob.send_chat (*alice_id, "hello from bob"));

  auto has = [] (const Peer &peer, const std::string &text) {
    for (const auto &m : peer.chat ())
      if (m.text == text)
        return true;
    return false;
  };
  wait_until (
      [&] {
        return has (bob, "hello from alice") && has (alice, "hello from bob");
      },
      5000);
  if (!has (bob, "hello from alice") || !has (alice, "hello from bob")) {
    /* Not part of the verdict: tells whether chat works at all once the
     * channel had more time, or only the first messages were lost. */
    note ("test", "sending again, after the wait");
    alice.send_chat ("", "again from alice");
    bob.send_chat (*alice_id, "again from bob");
    wait_until (
        [&] {
          return has (bob, "again from alice") && has (alice, "again from bob");
        },
        3000);
    std::cout << "[ elements ] chat sent again 5 s after peer-connected: bob "
              << (has (bob, "again from alice") ? "got" : "did not get")
              << " alice's, alice "
              << (has (alice, "again from bob") ? "got" : "did not get")
              << " bob's" << std::endl;
  }
  EXPECT_TRUE (has (bob, "hello from alice"))
      << "alice's message (to everyone) did not reach bob";
  EXPECT_TRUE (has (alice, "hello from bob"))
      << "bob's message (to alice's connection id) did not reach alice";
  EXPECT_EQ (alice.count ("signalrtc-peer-disconnected"), 0u);
  EXPECT_EQ (bob.count ("signalrtc-peer-disconnected"), 0u);
  for (const auto &m : bob.chat ())
    if (m.text == "hello from alice") {
      EXPECT_EQ (m.username, "alice");
      EXPECT_EQ (m.peer, *alice_id);
    }
  for (const auto &m : alice.chat ())
    if (m.text == "hello from bob") {
      EXPECT_EQ (m.username, "bob");
      EXPECT_EQ (m.peer, *bob_id);
    }
  /* Nothing else arrived. */
  for (const auto &m : alice.chat ())
    EXPECT_TRUE (m.text == "hello from bob" || m.text == "again from bob")
        << "alice got \"" << m.text << "\"";
  for (const auto &m : bob.chat ())
    EXPECT_TRUE (m.text == "hello from alice" || m.text == "again from alice")
        << "bob got \"" << m.text << "\"";
  expect_no_errors ();
}

/* (e) The hub is not there yet when the receiver starts. */
TEST_F (Elements, HubNotRunningAtStart)
{
  guint port = HubProcess::free_port ();
  ASSERT_NE (port, 0u);
  std::string hub_url
      = "http://127.0.0.1:" + std::to_string (port) + "/signalrtc";
  Peer &viewer = add_receiver ("viewer", hub_url, "call=cam reconnect=true");
  ASSERT_TRUE (viewer.valid ());
  ASSERT_TRUE (viewer.play ()) << "PLAYING failed without a hub";
  run_for (2000);
  EXPECT_EQ (viewer.count ("signalrtc-hub-connected"), 0u);

  gint64 hub_start = now_us ();
  ASSERT_TRUE (start_hub (port));
  ASSERT_EQ (hub_.port (), port);
  Peer &cam = add_sender ("cam", hub_url);
  ASSERT_TRUE (cam.valid () && cam.play ());

  EXPECT_TRUE (wait_hub_connected (viewer, 1, 15000))
      << "the viewer did not join the hub that came up";
  if (viewer.count ("signalrtc-hub-connected") > 0)
    report (
        "viewer_joined_ms_after_hub_start",
        ms_since (hub_start, viewer.first_time ("signalrtc-hub-connected")));
  bool ok = wait_until ([&] { return viewer.video_frames () >= 30; }, 20000);
  EXPECT_TRUE (ok) << "viewer got " << viewer.video_frames () << " frames";
  if (viewer.first_video_us () != 0)
    report ("first_frame_ms_after_hub_start",
            ms_since (hub_start, viewer.first_video_us ()));
  expect_no_errors ();
}

/* (e) The hub is killed mid-call and comes back on the same port. */
TEST_F (Elements, HubKilledMidCall)
{
  ASSERT_TRUE (start_hub ());
  Peer &cam = add_sender ("cam", url (), "reconnect=true");
  ASSERT_TRUE (cam.valid () && cam.play ());
  ASSERT_TRUE (wait_hub_connected (cam));
  Peer &viewer = add_receiver ("viewer", url (), "call=cam reconnect=true");
  ASSERT_TRUE (viewer.valid () && viewer.play ());
  ASSERT_TRUE (wait_until ([&] { return viewer.video_frames () >= 30; }, 20000))
      << "no call before the hub was killed";

  note ("test", "SIGKILL to the hub");
  hub_.kill ();
  gint64 killed = now_us ();
  guint64 at_kill = viewer.video_frames ();
  EXPECT_TRUE (wait_until (
      [&] { return viewer.video_frames () >= at_kill + 30; }, 15000))
      << "the call stalled with the hub";
  report ("ms_for_30_frames_after_kill", ms_since (killed, now_us ()));
  EXPECT_TRUE (wait_until (
      [&] {
        return cam.count ("signalrtc-hub-lost") > 0
               && viewer.count ("signalrtc-hub-lost") > 0;
      },
      5000))
      << "no signalrtc-hub-lost";

  g_autoptr (GError) error = nullptr;
  ASSERT_TRUE (hub_.restart (&error)) << error->message;
  note ("test", "the hub is back");
  gint64 restarted = now_us ();
  bool rejoined = wait_until (
      [&] {
        return cam.count ("signalrtc-hub-connected") >= 2
               && viewer.count ("signalrtc-hub-connected") >= 2;
      },
      20000);
  EXPECT_TRUE (rejoined) << "cam joined "
                         << cam.count ("signalrtc-hub-connected")
                         << " times, viewer "
                         << viewer.count ("signalrtc-hub-connected");
  report ("rejoin_ms_after_restart", ms_since (restarted, now_us ()));
  report ("hub_down_ms", ms_since (killed, restarted));

  /* The call in progress survives the new connection ids. */
  guint64 before = viewer.video_frames ();
  EXPECT_TRUE (wait_until (
      [&] { return viewer.video_frames () > before + 15; }, 15000))
      << "the first call stopped after the rejoin";

  /* A new call through the restarted hub. */
  Peer &third = add_receiver ("third", url (), "call=cam");
  ASSERT_TRUE (third.valid () && third.play ());
  bool ok = wait_until ([&] { return third.video_frames () >= 30; }, 15000);
  EXPECT_TRUE (ok) << "the new call got " << third.video_frames () << " frames";
  expect_no_errors ();
}

/* (e) A peer process dies without a word; another peer carries on. */
TEST_F (Elements, PeerProcessKilled)
{
  ASSERT_TRUE (start_hub ());
  Peer &host = add_sender ("host", url ());
  ASSERT_TRUE (host.valid () && host.play ());
  ASSERT_TRUE (wait_hub_connected (host));

  /* p1 sends video to host and shows what host sends. */
  LaunchProcess *p1 = launch (
      "gst-launch-1.0 -e videotestsrc is-live=true pattern=ball ! "
      "video/x-raw,width=320,height=240,framerate=30/1 ! "
      "signalrtcbin name=p1 hub-url="
      + url () + " username=p1 call=host p1. ! queue ! fakesink sync=false");
  ASSERT_NE (p1, nullptr);
  ASSERT_TRUE (wait_until ([&] { return host.video_frames () >= 30; }, 20000))
      << "host got no video from p1";
  auto p1_id = host.last_field ("signalrtc-peer-connected", "connection-id",
                                "username", "p1");
  ASSERT_TRUE (p1_id) << "no signalrtc-peer-connected for p1";
  std::set<std::string> p1_pads;
  for (const auto &track : host.tracks ())
    p1_pads.insert (track->pad_name);

  Peer &p2 = add_sender ("p2", url (), "call=host", "snow");
  ASSERT_TRUE (p2.valid () && p2.play ());
  std::vector<std::shared_ptr<Track>> p2_tracks;
  ASSERT_TRUE (wait_until (
      [&] {
        p2_tracks.clear ();
        for (const auto &track : host.tracks ())
          if (!p1_pads.count (track->pad_name))
            p2_tracks.push_back (track);
        guint64 from_p2 = 0;
        for (const auto &track : p2_tracks)
          if (track->kind == "video")
            from_p2 += track->buffers;
        return from_p2 >= 30 && p2.video_frames () >= 30;
      },
      20000))
      << "no call between host and p2";
  ASSERT_EQ (p1->exited (), false) << "p1 exited by itself";

  note ("test", "SIGKILL to p1");
  p1->signal (SIGKILL);
  gint64 killed = now_us ();
  bool disconnected = wait_until (
      [&] {
        return host.count ("signalrtc-peer-disconnected", "username", "p1") > 0;
      },
      35000);
  EXPECT_TRUE (disconnected)
      << "no signalrtc-peer-disconnected for p1 within 35 s";
  if (disconnected) {
    gint64 when
        = host.first_time ("signalrtc-peer-disconnected", "username", "p1");
    report ("peer_disconnected_ms_after_kill", ms_since (killed, when));
  }
  EXPECT_EQ (host.last_field ("signalrtc-peer-disconnected", "connection-id",
                              "username", "p1"),
             p1_id);

  /* p1's pads go away; p2's stay and keep flowing both ways. */
  bool removed = wait_until (
      [&] {
        for (const auto &track : host.tracks ())
          if (p1_pads.count (track->pad_name) && !track->removed)
            return false;
        return true;
      },
      5000);
  EXPECT_TRUE (removed) << "host kept p1's src pads";
  for (const auto &track : p2_tracks)
    EXPECT_FALSE (track->removed)
        << "p2's pad " << track->pad_name << " was removed";
  guint64 host_from_p2 = 0;
  for (const auto &track : p2_tracks)
    host_from_p2 += track->buffers;
  guint64 p2_from_host = p2.video_frames ();
  auto host_from_p2_now = [&] {
    guint64 n = 0;
    for (const auto &track : p2_tracks)
      n += track->buffers;
    return n;
  };
  EXPECT_TRUE (wait_until (
      [&] { return host_from_p2_now () > host_from_p2 + 15; }, 15000))
      << "host stopped receiving p2";
  EXPECT_TRUE (wait_until (
      [&] { return p2.video_frames () > p2_from_host + 15; }, 15000))
      << "p2 stopped receiving host";
  EXPECT_EQ (host.count ("signalrtc-peer-disconnected", "username", "p2"), 0u);
  expect_no_errors ();
}

/* (e) A hostile hub client sends the bin garbage; it warns and carries on. */
TEST_F (Elements, GarbageFromHostileClient)
{
  ASSERT_TRUE (start_hub ());
  Peer &target = add_sender ("target", url ());
  ASSERT_TRUE (target.valid () && target.play ());
  ASSERT_TRUE (wait_hub_connected (target));
  auto target_id
      = target.last_field ("signalrtc-hub-connected", "connection-id");
  ASSERT_TRUE (target_id && !target_id->empty ())
      << "signalrtc-hub-connected has no connection-id";

  ClientProbe evil (
      quick_options (url (), ctx_.get ()),
      {"NewUserArrived", "UserSaidHello", "SendSignal", "UserDisconnect"});
  evil.client->start ();
  ASSERT_TRUE (wait_until ([&] { return evil.connected (); }, 5000));
  auto r = evil.invoke ("NewUser", {JsonValue::from_string ("evil")});
  ASSERT_TRUE (wait_until ([&] { return r->done; }, 5000));
  ASSERT_TRUE (r->ok ()) << r->message;
  /* The bin says hello to newcomers, as the seed app does. */
  EXPECT_TRUE (
      wait_until ([&] { return !evil.got ("UserSaidHello").empty (); }, 5000))
      << "target did not answer NewUserArrived with HelloUser";
  if (!evil.got ("UserSaidHello").empty ()) {
    auto args = evil.got ("UserSaidHello")[0];
    ASSERT_EQ (args.size (), 1u);
    auto info = parse_user_info (args[0].as_string ().value_or (""), nullptr);
    ASSERT_TRUE (info);
    EXPECT_EQ (info->user_name, "target");
    EXPECT_EQ (info->connection_id, *target_id);
  }

  const std::vector<std::pair<std::string, std::string>> garbage = {
      {"invalid JSON", "{\"type\": \"offer\", \"sdp\": "},
      {"unknown type", "{\"type\":\"bogus\"}"},
      {"garbage SDP", offer_signal ("this is not an SDP at all")},
      {"no common codec", offer_signal (make_offer_sdp_with_unknown_codec ())},
  };
  for (const auto &[what, signal] : garbage) {
    size_t warnings = target.warnings ();
    note ("test", "evil sends %s", what.c_str ());
    auto sent
        = evil.invoke ("SendSignal", {JsonValue::from_string (signal),
                                      JsonValue::from_string (*target_id)});
    ASSERT_TRUE (wait_until ([&] { return sent->done; }, 5000));
    ASSERT_TRUE (sent->ok ()) << sent->message;
    bool warned
        = wait_until ([&] { return target.warnings () > warnings; }, 5000);
    EXPECT_TRUE (warned) << "no WARNING for " << what;
    if (warned)
      std::cout << "[ elements ] " << what << ": "
                << target.bin_warnings ()[warnings] << std::endl;
    EXPECT_EQ (target.errors (), 0u) << "ERROR for " << what;
  }
  /* Whatever the bin sent back to evil must be something simple-peer
   * understands (offers, answers, candidates); report it. */
  std::cout << "[ elements ] signals sent to evil: "
            << evil.got ("SendSignal").size () << std::endl;

  GstState state = GST_STATE_VOID_PENDING;
  gst_element_get_state (target.pipeline (), &state, nullptr, 0);
  EXPECT_EQ (state, GST_STATE_PLAYING);

  /* A real caller still gets video. */
  Peer &caller = add_receiver ("caller", url (), "call=target");
  ASSERT_TRUE (caller.valid () && caller.play ());
  bool ok = wait_until ([&] { return caller.video_frames () >= 30; }, 15000);
  EXPECT_TRUE (ok) << "caller got " << caller.video_frames () << " frames";
  expect_no_errors ();
}

/* ---- Codecs, passthrough, decode=false, call policy, stats, wrappers ---- */

/* One element somewhere inside a bin. */
struct Inside
{
  std::string name;    /* the element's name */
  std::string factory; /* its factory's name ("" if none) */
  std::string klass;   /* its factory's klass */
};

/* Every element inside @bin, at any depth. */
std::vector<Inside>
elements_in (GstElement *bin)
{
  std::vector<Inside> out;
  GstIterator *it = gst_bin_iterate_recurse (GST_BIN (bin));
  GValue item = G_VALUE_INIT;
  bool done = false;
  while (!done) {
    switch (gst_iterator_next (it, &item)) {
    case GST_ITERATOR_OK: {
      auto *element = GST_ELEMENT (g_value_get_object (&item));
      Inside inside;
      inside.name = GST_OBJECT_NAME (element);
      if (GstElementFactory *factory = gst_element_get_factory (element)) {
        inside.factory = GST_OBJECT_NAME (factory);
        const char *klass = gst_element_factory_get_metadata (
            factory, GST_ELEMENT_METADATA_KLASS);
        inside.klass = klass ? klass : "";
      }
      out.push_back (std::move (inside));
      g_value_reset (&item);
      break;
    }
    case GST_ITERATOR_RESYNC:
      out.clear ();
      gst_iterator_resync (it);
      break;
    default:
      done = true;
      break;
    }
  }
  g_value_unset (&item);
  gst_iterator_free (it);
  return out;
}

size_t
count_factory (const std::vector<Inside> &elements, const std::string &factory)
{
  return std::count_if (elements.begin (), elements.end (),
                        [&] (const Inside &e) { return e.factory == factory; });
}

/* An audio or video @what ("Encoder", "Decoder"). webrtcbin's own
 * network elements (sctpenc, dtlsenc: "Encoder/Network/...") are not. */
bool
is_media_codec (const Inside &e, const char *what)
{
  return e.klass.find (what) != std::string::npos
         && (e.klass.find ("Video") != std::string::npos
             || e.klass.find ("Audio") != std::string::npos);
}

/* "name(factory) ..." for failure messages. */
std::string
describe (const std::vector<Inside> &elements)
{
  std::string out;
  for (const auto &e : elements)
    out += e.name + "(" + (e.factory.empty () ? "bin" : e.factory) + ") ";
  return out;
}

/* The media type of the current caps on @bin's pad @pad_name ("" when
 * there is no such pad or no caps yet). */
std::string
pad_media_type (GstElement *bin, const std::string &pad_name)
{
  GstPad *pad = gst_element_get_static_pad (bin, pad_name.c_str ());
  if (pad == nullptr)
    return "";
  std::string media;
  if (GstCaps *caps = gst_pad_get_current_caps (pad)) {
    if (!gst_caps_is_empty (caps))
      media = gst_structure_get_name (gst_caps_get_structure (caps, 0));
    gst_caps_unref (caps);
  }
  gst_object_unref (pad);
  return media;
}

/* The names of @element's src pads now. */
std::set<std::string>
src_pad_names (GstElement *element)
{
  std::set<std::string> names;
  GST_OBJECT_LOCK (element);
  for (GList *l = element->srcpads; l != nullptr; l = l->next)
    names.insert (GST_PAD_NAME (l->data));
  GST_OBJECT_UNLOCK (element);
  return names;
}

/* The largest value of the guint64 field @field over @peer's @name
 * messages with username @username (0: none). */
guint64
max_field (const Peer &peer, const std::string &name,
           const std::string &username, const char *field)
{
  guint64 best = 0;
  peer.for_each (name, [&] (const GstStructure *s) {
    guint64 value = 0;
    if (g_strcmp0 (gst_structure_get_string (s, "username"), username.c_str ())
            == 0
        && gst_structure_get_uint64 (s, field, &value))
      best = MAX (best, value);
  });
  return best;
}

void
Elements::video_codec_call (const std::string &codec, const char *encoder,
                            const char *depayloader)
{
  ASSERT_TRUE (start_hub ());
  Peer &cam = add_sender ("cam", url (), "video-codec=" + codec);
  ASSERT_TRUE (cam.valid () && cam.play ());
  ASSERT_TRUE (wait_hub_connected (cam));
  Peer &viewer = add_receiver ("viewer", url (), "call=cam");
  ASSERT_TRUE (viewer.valid () && viewer.play ());

  bool ok = wait_until ([&] { return viewer.video_frames () >= 60; }, 10000);
  report (codec + "_frames", viewer.video_frames ());
  if (viewer.first_video_us () != 0)
    report (codec + "_first_frame_ms",
            ms_since (viewer.playing_us (), viewer.first_video_us ()));
  EXPECT_TRUE (ok) << "the viewer decoded " << viewer.video_frames () << " "
                   << codec << " frames in 10 s (want 60)";

  auto sent = elements_in (cam.bin ());
  /* One per rendition of the ladder (without temporal layers but for
   * VP8). */
  EXPECT_EQ (count_factory (sent, encoder), kLadderEncoders)
      << "the sender's bin holds: " << describe (sent);
  EXPECT_EQ (count_factory (sent, "vp8enc"), 0u)
      << "the sender's bin holds: " << describe (sent);
  auto received = elements_in (viewer.bin ());
  EXPECT_GE (count_factory (received, depayloader), 1u)
      << "the receiver's bin holds: " << describe (received);
  for (const auto &track : viewer.tracks ())
    if (track->kind == "video" && track->buffers > 0) {
      EXPECT_EQ (pad_media_type (viewer.bin (), track->pad_name), "video/x-raw")
          << track->pad_name;
    }
  expect_no_errors ();
}

/* video-codec=h264: x264enc in the sender, rtph264depay in the receiver. */
TEST_F (Elements, VideoCodecH264)
{
  video_codec_call ("h264", "x264enc", "rtph264depay");
}

/* video-codec=vp9: vp9enc in the sender, rtpvp9depay in the receiver. */
TEST_F (Elements, VideoCodecVP9)
{
  video_codec_call ("vp9", "vp9enc", "rtpvp9depay");
}

/* Already-encoded input (@encode, a gst-launch fragment ending in the
 * encoder named "outside") goes through the bin without an encoder, and
 * the viewer decodes it through @depayloader. */

void
Elements::passthrough_call (const std::string &encode, const std::string &extra,
                            const char *encoder, const char *depayloader)
{
  ASSERT_TRUE (start_hub ());
  Peer &cam = add_peer ("cam",
                        "videotestsrc is-live=true pattern=ball ! "
                            + std::string (kVideoCaps) + " ! " + encode
                            + " ! signalrtcbin name=cam hub-url=" + url ()
                            + " username=cam " + extra,
                        "cam");
  ASSERT_TRUE (cam.valid () && cam.play ());
  ASSERT_TRUE (wait_hub_connected (cam));
  Peer &viewer = add_receiver ("viewer", url (), "call=cam");
  ASSERT_TRUE (viewer.valid () && viewer.play ());

  bool ok = wait_until ([&] { return viewer.video_frames () >= 60; }, 20000);
  report (std::string (encoder) + "_passthrough_frames",
          viewer.video_frames ());
  EXPECT_TRUE (ok) << "the viewer decoded " << viewer.video_frames ()
                   << " frames in 20 s (want 60)";

  /* The encoder before the bin is there, and nothing inside encodes. */
  auto everything = elements_in (cam.pipeline ());
  EXPECT_EQ (count_factory (everything, encoder), 1u)
      << "the pipeline holds: " << describe (everything);
  auto inside = elements_in (cam.bin ());
  for (const auto &e : inside)
    EXPECT_FALSE (is_media_codec (e, "Encoder"))
        << "an encoder in the bin: " << e.name << " (" << e.factory << ", "
        << e.klass << ")";
  auto received = elements_in (viewer.bin ());
  EXPECT_GE (count_factory (received, depayloader), 1u)
      << "the receiver's bin holds: " << describe (received);
  expect_no_errors ();
}

/* Already-encoded VP8 goes through the bin without an encoder. */
TEST_F (Elements, PassthroughEncodedInput)
{
  passthrough_call ("vp8enc name=outside deadline=1", "", "vp8enc",
                    "rtpvp8depay");
}

/* Already-encoded H.264 too: no x264enc in the bin, the viewer gets
 * H.264. */
TEST_F (Elements, PassthroughEncodedH264)
{
  passthrough_call ("x264enc name=outside tune=zerolatency "
                    "speed-preset=ultrafast key-int-max=30 ! "
                    "video/x-h264,profile=constrained-baseline,"
                    "stream-format=byte-stream",
                    "video-codec=h264", "x264enc", "rtph264depay");
}

/* decode=false: the src pads carry VP8 and Opus as sent. */
TEST_F (Elements, DecodeFalseGivesEncodedMedia)
{
  ASSERT_TRUE (start_hub ());
  Peer &cam = add_peer ("cam",
                        "videotestsrc is-live=true pattern=ball ! "
                            + std::string (kVideoCaps)
                            + " ! signalrtcbin name=cam hub-url=" + url ()
                            + " username=cam audiotestsrc is-live=true ! cam.",
                        "cam");
  ASSERT_TRUE (cam.valid () && cam.play ());
  ASSERT_TRUE (wait_hub_connected (cam));
  Peer &viewer = add_receiver ("viewer", url (), "call=cam decode=false");
  ASSERT_TRUE (viewer.valid () && viewer.play ());

  bool ok = wait_until (
      [&] {
        return viewer.video_frames () >= 60 && viewer.audio_buffers () > 0;
      },
      10000);
  report ("encoded_video_buffers", viewer.video_frames ());
  report ("encoded_audio_buffers", viewer.audio_buffers ());
  EXPECT_TRUE (ok) << "the viewer got " << viewer.video_frames ()
                   << " video and " << viewer.audio_buffers ()
                   << " audio buffers in 10 s (want 60 and some)";

  size_t video = 0, audio = 0;
  for (const auto &track : viewer.tracks ()) {
    if (track->buffers == 0)
      continue;
    std::string media = pad_media_type (viewer.bin (), track->pad_name);
    if (track->kind == "video") {
      video++;
      EXPECT_EQ (media, "video/x-vp8") << track->pad_name;
    } else if (track->kind == "audio") {
      audio++;
      EXPECT_EQ (media, "audio/x-opus") << track->pad_name;
    }
  }
  EXPECT_EQ (video, 1u) << "video tracks with buffers";
  EXPECT_EQ (audio, 1u) << "audio tracks with buffers";
  auto received = elements_in (viewer.bin ());
  for (const auto &e : received)
    EXPECT_FALSE (is_media_codec (e, "Decoder"))
        << "a decoder in the bin: " << e.name << " (" << e.factory << ")";
  expect_no_errors ();
}

/* allowed-users=alice: mallory's call is refused, alice's answered. */
TEST_F (Elements, AllowedUsersRejects)
{
  ASSERT_TRUE (start_hub ());
  Peer &cam = add_sender ("cam", url (), "allowed-users=alice");
  ASSERT_TRUE (cam.valid () && cam.play ());
  ASSERT_TRUE (wait_hub_connected (cam));

  Peer &mallory = add_receiver ("mallory", url (), "call=cam");
  ASSERT_TRUE (mallory.valid () && mallory.play ());
  EXPECT_TRUE (wait_until (
      [&] {
        return cam.count ("signalrtc-call-rejected", "username", "mallory") > 0;
      },
      10000))
      << "no signalrtc-call-rejected for mallory";
  auto reason = cam.last_field ("signalrtc-call-rejected", "reason", "username",
                                "mallory");
  EXPECT_TRUE (reason && !reason->empty ())
      << "signalrtc-call-rejected has no reason";
  EXPECT_TRUE (cam.last_field ("signalrtc-call-rejected", "connection-id",
                               "username", "mallory"))
      << "signalrtc-call-rejected has no connection-id";

  Peer &alice = add_receiver ("alice", url (), "call=cam");
  ASSERT_TRUE (alice.valid () && alice.play ());
  bool ok = wait_until ([&] { return alice.video_frames () >= 30; }, 10000);
  EXPECT_TRUE (ok) << "alice got " << alice.video_frames () << " frames";

  /* By now mallory has had seconds: still nothing. */
  EXPECT_TRUE (mallory.tracks ().empty ()) << "mallory got src pads";
  EXPECT_EQ (mallory.video_frames (), 0u);
  EXPECT_EQ (mallory.count ("signalrtc-peer-connected"), 0u);
  EXPECT_EQ (cam.count ("signalrtc-peer-connected", "username", "mallory"), 0u);
  EXPECT_EQ (cam.count ("signalrtc-call-rejected", "username", "alice"), 0u);
  EXPECT_GE (cam.count ("signalrtc-peer-connected", "username", "alice"), 1u);
  expect_no_errors ();
}

/* max-peers=1: a second caller is refused, the first call goes on. */
TEST_F (Elements, MaxPeersRejects)
{
  ASSERT_TRUE (start_hub ());
  Peer &cam = add_sender ("cam", url (), "max-peers=1");
  ASSERT_TRUE (cam.valid () && cam.play ());
  ASSERT_TRUE (wait_hub_connected (cam));
  Peer &first = add_receiver ("first", url (), "call=cam");
  ASSERT_TRUE (first.valid () && first.play ());
  ASSERT_TRUE (wait_until ([&] { return first.video_frames () >= 30; }, 10000))
      << "the first call got " << first.video_frames () << " frames";

  Peer &second = add_receiver ("second", url (), "call=cam");
  ASSERT_TRUE (second.valid () && second.play ());
  EXPECT_TRUE (wait_until (
      [&] {
        return cam.count ("signalrtc-call-rejected", "username", "second") > 0;
      },
      10000))
      << "no signalrtc-call-rejected for the second caller";
  auto reason = cam.last_field ("signalrtc-call-rejected", "reason", "username",
                                "second");
  EXPECT_TRUE (reason && !reason->empty ())
      << "signalrtc-call-rejected has no reason";

  guint64 before = first.video_frames ();
  EXPECT_TRUE (wait_until (
      [&] { return first.video_frames () >= before + 45; }, 15000))
      << "the first call stalled after the second caller was refused";
  EXPECT_TRUE (second.tracks ().empty ()) << "the second caller got src pads";
  EXPECT_EQ (second.video_frames (), 0u);
  EXPECT_EQ (cam.count ("signalrtc-peer-connected"), 1u);
  EXPECT_EQ (cam.count ("signalrtc-peer-disconnected"), 0u);
  EXPECT_EQ (cam.count ("signalrtc-call-rejected", "username", "first"), 0u);
  expect_no_errors ();
}

/* auto-answer=false: every call is refused. */
TEST_F (Elements, AutoAnswerOff)
{
  ASSERT_TRUE (start_hub ());
  Peer &cam = add_sender ("cam", url (), "auto-answer=false");
  ASSERT_TRUE (cam.valid () && cam.play ());
  ASSERT_TRUE (wait_hub_connected (cam));
  Peer &caller = add_receiver ("caller", url (), "call=cam");
  ASSERT_TRUE (caller.valid () && caller.play ());
  EXPECT_TRUE (wait_until (
      [&] {
        return cam.count ("signalrtc-call-rejected", "username", "caller") > 0;
      },
      10000))
      << "no signalrtc-call-rejected for the caller";
  auto reason = cam.last_field ("signalrtc-call-rejected", "reason", "username",
                                "caller");
  EXPECT_TRUE (reason && !reason->empty ())
      << "signalrtc-call-rejected has no reason";
  if (reason)
    std::cout << "[ elements ] rejection reason: " << *reason << std::endl;

  /* Time enough for a call to have come up (one takes ~1 s here). */
  run_for (3000);
  EXPECT_TRUE (caller.tracks ().empty ()) << "the caller got src pads";
  EXPECT_EQ (caller.video_frames (), 0u);
  EXPECT_EQ (caller.count ("signalrtc-peer-connected"), 0u);
  EXPECT_EQ (cam.count ("signalrtc-peer-connected"), 0u);
  expect_no_errors ();
}

/* stats-interval=500: both ends post per-peer stats with real numbers. */
TEST_F (Elements, PeerStatsMessages)
{
  ASSERT_TRUE (start_hub ());
  /* snow: the encoder spends its whole bitrate on it (a ball on black
   * takes ~100 kbit/s, too close to the threshold). */
  Peer &cam = add_sender ("cam", url (), "stats-interval=500", "snow");
  ASSERT_TRUE (cam.valid () && cam.play ());
  ASSERT_TRUE (wait_hub_connected (cam));
  Peer &viewer = add_receiver ("viewer", url (), "call=cam stats-interval=500");
  ASSERT_TRUE (viewer.valid () && viewer.play ());
  ASSERT_TRUE (wait_until (
      [&] { return viewer.count ("signalrtc-peer-connected") > 0; }, 10000))
      << "no call";
  gint64 connected = now_us ();

  auto receiver_ok = [&] {
    bool ok = false;
    viewer.for_each ("signalrtc-peer-stats", [&] (const GstStructure *s) {
      guint64 bitrate = 0, frames = 0;
      ok = ok
           || (g_strcmp0 (gst_structure_get_string (s, "username"), "cam") == 0
               && gst_structure_get_uint64 (s, "bitrate-received", &bitrate)
               && gst_structure_get_uint64 (s, "frames-received", &frames)
               && bitrate > 100000 && frames > 0);
    });
    return ok;
  };
  auto sender_ok = [&] {
    return max_field (cam, "signalrtc-peer-stats", "viewer", "bitrate-sent")
           > 100000;
  };
  bool ok = wait_until ([&] { return receiver_ok () && sender_ok (); }, 5000);
  report ("stats_ms_after_connected", ms_since (connected, now_us ()));
  report ("viewer_stats_messages", viewer.count ("signalrtc-peer-stats"));
  report ("cam_stats_messages", cam.count ("signalrtc-peer-stats"));
  report (
      "viewer_max_bitrate_received",
      max_field (viewer, "signalrtc-peer-stats", "cam", "bitrate-received"));
  report ("viewer_max_frames_received",
          max_field (viewer, "signalrtc-peer-stats", "cam", "frames-received"));
  report ("cam_max_bitrate_sent",
          max_field (cam, "signalrtc-peer-stats", "viewer", "bitrate-sent"));
  EXPECT_TRUE (ok) << "within 5 s of the call: receiver stats "
                   << (receiver_ok () ? "ok" : "missing") << ", sender stats "
                   << (sender_ok () ? "ok" : "missing");
  EXPECT_TRUE (receiver_ok ())
      << "no signalrtc-peer-stats from the receiver with username cam, "
         "bitrate-received > 100000 and frames-received > 0";
  EXPECT_TRUE (sender_ok ())
      << "no signalrtc-peer-stats from the sender with username viewer and "
         "bitrate-sent > 100000";
  expect_no_errors ();
}

/* The wrappers: signalrtcsink sends and never has a src pad; signalrtcsrc
 * gives exactly video_0 and audio_0. */
TEST_F (Elements, SignalrtcsrcStablePadsAndSink)
{
  ASSERT_TRUE (start_hub ());
  Peer &cam = add_peer ("cam",
                        "videotestsrc is-live=true pattern=ball ! "
                            + std::string (kVideoCaps)
                            + " ! signalrtcsink name=cam hub-url=" + url ()
                            + " username=cam audiotestsrc is-live=true ! cam.",
                        "cam");
  ASSERT_TRUE (cam.valid () && cam.play ());
  ASSERT_TRUE (wait_hub_connected (cam));
  Peer &viewer = add_peer ("viewer",
                           "signalrtcsrc name=viewer hub-url=" + url ()
                               + " username=viewer call=cam",
                           "viewer");
  ASSERT_TRUE (viewer.valid () && viewer.play ());

  bool ok = wait_until (
      [&] {
        return viewer.video_frames () >= 60 && viewer.audio_buffers () > 0;
      },
      10000);
  report ("src_video_frames", viewer.video_frames ());
  report ("src_audio_buffers", viewer.audio_buffers ());
  EXPECT_TRUE (ok) << "signalrtcsrc gave " << viewer.video_frames ()
                   << " video frames and " << viewer.audio_buffers ()
                   << " audio buffers in 10 s (want 60 and some)";

  std::set<std::string> added;
  for (const auto &track : viewer.tracks ())
    added.insert (track->pad_name);
  const std::set<std::string> stable = {"video_0", "audio_0"};
  EXPECT_EQ (added, stable) << "src pads signalrtcsrc added";
  EXPECT_EQ (viewer.tracks ().size (), 2u);
  EXPECT_EQ (src_pad_names (viewer.bin ()), stable);
  for (const auto &track : viewer.tracks ())
    EXPECT_EQ (track->kind, track->pad_name.substr (0, 5));
  /* Each src pad names the user it carries, as properties. */
  for (const auto &name : stable) {
    GstPad *pad = gst_element_get_static_pad (viewer.bin (), name.c_str ());
    ASSERT_NE (pad, nullptr) << name;
    gchar *username = nullptr, *kind = nullptr, *id = nullptr;
    g_object_get (pad, "username", &username, "kind", &kind, "connection-id",
                  &id, nullptr);
    EXPECT_STREQ (username, "cam") << name;
    EXPECT_EQ (std::string (kind ? kind : ""), name.substr (0, 5));
    EXPECT_TRUE (id && *id) << name << " has no connection-id";
    g_free (username);
    g_free (kind);
    g_free (id);
    gst_object_unref (pad);
  }

  EXPECT_TRUE (cam.tracks ().empty ())
      << "signalrtcsink added a src pad, e.g. " << cam.tracks ()[0]->pad_name;
  EXPECT_TRUE (src_pad_names (cam.bin ()).empty ());
  EXPECT_GE (cam.count ("signalrtc-peer-connected", "username", "viewer"), 1u);
  expect_no_errors ();
}

/* Defect: after a hub restart the viewer called the sender's new
 * connection id although the first call was still up (two calls, twice
 * the frames). The call must go on as the one call, re-keyed to the new
 * ids on both sides, and end as one. */
TEST_F (Elements, HubRestartKeepsOneCall)
{
  ASSERT_TRUE (start_hub ());
  Peer &cam = add_sender ("cam", url (), "reconnect=true");
  ASSERT_TRUE (cam.valid () && cam.play ());
  ASSERT_TRUE (wait_hub_connected (cam));
  Peer &viewer = add_receiver ("viewer", url (), "call=cam reconnect=true");
  ASSERT_TRUE (viewer.valid () && viewer.play ());
  ASSERT_TRUE (wait_until ([&] { return viewer.video_frames () >= 30; }, 20000))
      << "no call before the restart";
  auto old_cam_id = viewer.last_field ("signalrtc-peer-connected",
                                       "connection-id", "username", "cam");
  ASSERT_TRUE (old_cam_id);
  const size_t tracks_before = viewer.count ("signalrtc-track");

  note ("test", "SIGKILL to the hub, then back on the same port");
  hub_.kill ();
  ASSERT_TRUE (wait_until (
      [&] {
        return cam.count ("signalrtc-hub-lost") > 0
               && viewer.count ("signalrtc-hub-lost") > 0;
      },
      10000));
  g_autoptr (GError) error = nullptr;
  ASSERT_TRUE (hub_.restart (&error)) << error->message;
  ASSERT_TRUE (wait_until (
      [&] {
        return cam.count ("signalrtc-peer-rejoined", "username", "viewer") > 0
               && viewer.count ("signalrtc-peer-rejoined", "username", "cam")
                      > 0;
      },
      30000))
      << "the call was not taken over by the new connection ids";
  auto new_cam_id = viewer.last_field ("signalrtc-peer-rejoined",
                                       "connection-id", "username", "cam");
  auto previous = viewer.last_field ("signalrtc-peer-rejoined",
                                     "previous-connection-id", "username",
                                     "cam");
  auto new_viewer_id = cam.last_field ("signalrtc-peer-rejoined",
                                       "connection-id", "username", "viewer");
  ASSERT_TRUE (new_cam_id && previous && new_viewer_id);
  EXPECT_EQ (*previous, *old_cam_id);
  EXPECT_NE (*new_cam_id, *old_cam_id);

  /* A second call would have been dialled as soon as cam showed up again;
   * give it every chance to show. */
  run_for (3000);
  EXPECT_EQ (viewer.count ("signalrtc-peer-connected"), 1u);
  EXPECT_EQ (cam.count ("signalrtc-peer-connected"), 1u);
  EXPECT_EQ (viewer.count ("signalrtc-sdp-sent", "type", "offer"), 1u)
      << "the viewer offered a second call";
  EXPECT_EQ (viewer.count ("signalrtc-track"), tracks_before);
  EXPECT_EQ (webrtcbins_in (viewer.bin ()), 1u);
  EXPECT_EQ (webrtcbins_in (cam.bin ()), 1u);
  guint64 before = viewer.video_frames ();
  EXPECT_TRUE (wait_until (
      [&] { return viewer.video_frames () >= before + 30; }, 15000))
      << "the call stopped after the restart";

  /* The src pad says whose it is now. */
  for (const auto &track : viewer.tracks ()) {
    GstPad *pad
        = gst_element_get_static_pad (viewer.bin (), track->pad_name.c_str ());
    ASSERT_NE (pad, nullptr) << track->pad_name;
    gchar *id = nullptr;
    g_object_get (pad, "connection-id", &id, nullptr);
    EXPECT_EQ (std::string (id ? id : ""), *new_cam_id) << track->pad_name;
    g_free (id);
    gst_object_unref (pad);
  }

  /* The viewer hangs up: cam ends the call it knows under the new id. */
  gst_element_set_state (viewer.pipeline (), GST_STATE_NULL);
  EXPECT_TRUE (wait_until (
      [&] {
        return cam.count ("signalrtc-peer-disconnected", "connection-id",
                          *new_viewer_id)
               > 0;
      },
      15000))
      << "cam did not end the call when the viewer left";
  EXPECT_TRUE (wait_until ([&] { return webrtcbins_in (cam.bin ()) == 0; },
                           5000));
  expect_no_errors ();
}

/* A receiving application whose muxer waits for a track that never
 * brings data (here the audio is dropped before it): the video queue fills
 * and holds the webrtcbin's streaming thread inside it. When the caller
 * hangs up, the call must still end: the EOS on the starved track lets the
 * muxer go on, which frees the thread, before the webrtcbin stops. Found by
 * the soak: signalrtc-record's hub thread waited for ever in
 * PeerSession::stop, and the recorder stopped answering anyone. */
TEST_F (Elements, ACallEndsWhileTheApplicationHoldsItsStreamingThread)
{
  ASSERT_TRUE (start_hub ());
  Peer &rec = add_peer (
      "rec",
      "signalrtcsrc name=rec hub-url=" + url ()
          + " username=rec rec.video_0 ! queue max-size-buffers=3 "
            "max-size-bytes=0 max-size-time=0 ! mux.video_0 rec.audio_0 ! "
            "identity drop-probability=1.0 ! queue ! mux.audio_0 "
            "matroskamux name=mux ! fakesink sync=false async=false",
      "rec");
  ASSERT_TRUE (rec.valid () && rec.play ());
  ASSERT_TRUE (wait_hub_connected (rec));
  Peer &cam = add_peer ("cam",
                        "videotestsrc is-live=true pattern=ball ! "
                            + std::string (kVideoCaps)
                            + " ! signalrtcsink name=cam hub-url=" + url ()
                            + " username=cam call=rec audiotestsrc "
                              "is-live=true ! cam.",
                        "cam");
  ASSERT_TRUE (cam.valid () && cam.play ());
  ASSERT_TRUE (wait_until ([&] { return rec.video_frames () >= 3; }, 20000))
      << "no video reached the receiver";
  /* The queue is full by now and the muxer still waits for audio. */
  guint64 stuck = rec.video_frames ();
  run_for (1500);
  EXPECT_LE (rec.video_frames (), stuck + 3)
      << "video kept flowing: the muxer did not block, nothing was tested";

  note ("test", "the caller hangs up");
  gst_element_set_state (cam.pipeline (), GST_STATE_NULL);
  EXPECT_TRUE (wait_until (
      [&] {
        return rec.count ("signalrtc-peer-disconnected", "username", "cam")
               > 0;
      },
      15000))
      << "the call never ended: the hub thread is stuck stopping it";
  /* And the element still serves the hub: a new caller gets through. */
  Peer &again = add_peer ("again",
                          "videotestsrc is-live=true pattern=snow ! "
                              + std::string (kVideoCaps)
                              + " ! signalrtcsink name=again hub-url=" + url ()
                              + " username=again call=rec",
                          "again");
  ASSERT_TRUE (again.valid () && again.play ());
  EXPECT_TRUE (wait_until (
      [&] {
        return rec.count ("signalrtc-user-joined", "username", "again") > 0;
      },
      15000))
      << "the receiver no longer hears the hub";
  /* and its call is set up. (Ending the test while it was still being set
   * up left, in 2 runs of about 12, a webrtcbin's TransportReceiveBin and
   * its nicesrc alive under the leaks tracer, 10 s on: a leak when a call
   * in setup is torn down, not understood yet.) */
  EXPECT_TRUE (wait_until (
      [&] {
        return rec.count ("signalrtc-peer-connected", "username", "again") > 0;
      },
      20000))
      << "the new caller's call was never set up";
}

/* After a hub restart, a call whose user never comes back to the hub (here
 * a viewer that does not reconnect, its media still flowing) is ended
 * rejoin-timeout after we are back, saying why; the call of a user who
 * did come back goes on. Found by the soak: a caller SIGKILLed while the
 * hub was away held its call in signalrtc-record for good. */
TEST_F (Elements, ACallWhoseUserDoesNotComeBackEnds)
{
  ASSERT_TRUE (start_hub ());
  Peer &cam = add_sender ("cam", url (), "reconnect=true rejoin-timeout=5");
  ASSERT_TRUE (cam.valid () && cam.play ());
  ASSERT_TRUE (wait_hub_connected (cam));
  Peer &back = add_receiver ("back", url (), "call=cam reconnect=true");
  Peer &gone = add_receiver ("gone", url (), "call=cam reconnect=false");
  ASSERT_TRUE (back.valid () && back.play () && gone.valid () && gone.play ());
  ASSERT_TRUE (wait_until (
      [&] { return back.video_frames () >= 30 && gone.video_frames () >= 30; },
      20000))
      << "no calls before the restart";
  auto gone_id = cam.last_field ("signalrtc-peer-connected", "connection-id",
                                 "username", "gone");
  ASSERT_TRUE (gone_id);

  note ("test", "SIGKILL to the hub, then back on the same port");
  hub_.kill ();
  ASSERT_TRUE (wait_until (
      [&] { return gone.count ("signalrtc-hub-lost") > 0; }, 10000));
  g_autoptr (GError) error = nullptr;
  ASSERT_TRUE (hub_.restart (&error)) << error->message;
  ASSERT_TRUE (wait_until (
      [&] {
        return cam.count ("signalrtc-peer-rejoined", "username", "back") > 0;
      },
      30000));
  /* The viewer that did not come back still gets frames until cam lets
   * its call go. */
  ASSERT_TRUE (wait_until (
      [&] {
        return cam.count ("signalrtc-peer-disconnected", "connection-id",
                          *gone_id)
               > 0;
      },
      20000))
      << "cam kept the call of a user who never came back";
  auto reason = cam.last_field ("signalrtc-peer-disconnected", "reason",
                                "connection-id", *gone_id);
  ASSERT_TRUE (reason);
  EXPECT_NE (reason->find ("did not come back to the hub within 5 s"),
             std::string::npos)
      << *reason;
  EXPECT_TRUE (
      wait_until ([&] { return webrtcbins_in (cam.bin ()) == 1; }, 5000));
  EXPECT_EQ (cam.count ("signalrtc-peer-disconnected", "username", "back"), 0u);
  guint64 before = back.video_frames ();
  EXPECT_TRUE (wait_until (
      [&] { return back.video_frames () >= before + 30; }, 15000))
      << "the call of the user who came back stopped";
}

/* After a hub restart, signaling of the call in progress goes to the new
 * ids: the callee (here a signaling-only peer) asks for a renegotiation
 * from its new connection, and the caller offers again, to that
 * connection, from the same webrtcbin. */
TEST_F (Elements, RenegotiationAfterHubRestart)
{
  ASSERT_TRUE (start_hub ());
  FakePeer fake (url (), ctx_.get (), "fake");
  ASSERT_TRUE (wait_until ([&] { return fake.connected (); }, 10000));
  Peer &viewer
      = add_receiver ("viewer", url (), "call=fake setup-timeout=0 reconnect=true");
  ASSERT_TRUE (viewer.valid () && viewer.play ());
  ASSERT_TRUE (wait_until ([&] { return fake.offers ().size () == 1; }, 15000))
      << "no offer";
  const std::string first_session = sdp_session_id (fake.offers ()[0].sdp);
  ASSERT_FALSE (first_session.empty ());

  hub_.kill ();
  ASSERT_TRUE (wait_until (
      [&] { return viewer.count ("signalrtc-hub-lost") > 0; }, 10000));
  g_autoptr (GError) error = nullptr;
  ASSERT_TRUE (hub_.restart (&error)) << error->message;
  ASSERT_TRUE (wait_until (
      [&] {
        return fake.ids.size () >= 2 && fake.connected ()
               && viewer.count ("signalrtc-peer-rejoined", "username", "fake")
                      > 0;
      },
      30000))
      << "the call was not re-keyed to fake's new connection";
  EXPECT_EQ (viewer.last_field ("signalrtc-peer-rejoined", "connection-id",
                                "username", "fake"),
             fake.ids.back ());
  auto viewer_id = viewer.last_field ("signalrtc-hub-connected",
                                      "connection-id");
  ASSERT_TRUE (viewer_id);
  run_for (2000);
  EXPECT_EQ (fake.offers ().size (), 1u) << "a second call was offered";

  fake.send (*viewer_id, "{\"renegotiate\":true}");
  ASSERT_TRUE (wait_until (
      [&] { return fake.offers (*viewer_id).size () == 1; }, 15000))
      << "no new offer after renegotiate from the new connection";
  EXPECT_EQ (sdp_session_id (fake.offers (*viewer_id)[0].sdp), first_session)
      << "the new offer is not from the call's webrtcbin";
  EXPECT_EQ (webrtcbins_in (viewer.bin ()), 1u);
  expect_no_errors ();
}

/* Defect: call= dialled every connection that announced the name, beyond
 * max-peers, allowed-users and the single-peer rule. */
TEST_F (Elements, OutgoingCallsFollowTheRules)
{
  ASSERT_TRUE (start_hub ());
  FakePeer cam1 (url (), ctx_.get (), "cam");
  FakePeer cam2 (url (), ctx_.get (), "cam");
  ASSERT_TRUE (
      wait_until ([&] { return cam1.connected () && cam2.connected (); },
                  10000));
  Peer &viewer = add_receiver ("viewer", url (), "call=cam setup-timeout=0");
  Peer &picky = add_receiver ("picky", url (),
                              "call=cam allowed-users=alice setup-timeout=0");
  Peer &src = add_peer ("src",
                        "signalrtcsrc name=src hub-url=" + url ()
                            + " username=src call=cam setup-timeout=0",
                        "src");
  ASSERT_TRUE (viewer.play () && picky.play () && src.play ());
  ASSERT_TRUE (wait_until (
      [&] {
        return viewer.count ("signalrtc-user-joined", "username", "cam") == 2
               && picky.count ("signalrtc-user-joined", "username", "cam") == 2
               && src.count ("signalrtc-user-joined", "username", "cam") == 2;
      },
      15000))
      << "the two cam connections were not seen";
  run_for (2000);
  auto viewer_id = viewer.last_field ("signalrtc-hub-connected",
                                      "connection-id");
  auto picky_id = picky.last_field ("signalrtc-hub-connected", "connection-id");
  auto src_id = src.last_field ("signalrtc-hub-connected", "connection-id");
  ASSERT_TRUE (viewer_id && picky_id && src_id);
  auto offers_from = [&] (const std::string &id) {
    return cam1.offers (id).size () + cam2.offers (id).size ();
  };
  EXPECT_EQ (offers_from (*viewer_id), 1u) << "one call per user";
  EXPECT_EQ (offers_from (*src_id), 1u) << "signalrtcsrc holds one call";
  EXPECT_EQ (offers_from (*picky_id), 0u) << "cam is not in allowed-users";
  EXPECT_EQ (webrtcbins_in (viewer.bin ()), 1u);
  EXPECT_EQ (webrtcbins_in (src.bin ()), 1u);
  EXPECT_EQ (webrtcbins_in (picky.bin ()), 0u);
  expect_no_errors ();
}

/* Defect: a call that never connects kept its webrtcbin and its max-peers
 * slot for ever. */
TEST_F (Elements, SetupTimeoutEndsACallThatNeverConnects)
{
  ASSERT_TRUE (start_hub ());
  FakePeer mute (url (), ctx_.get (), "mute");
  ASSERT_TRUE (wait_until ([&] { return mute.connected (); }, 10000));
  Peer &viewer = add_sender ("viewer", url (),
                             "call=mute setup-timeout=2 max-peers=1");
  ASSERT_TRUE (viewer.valid () && viewer.play ());
  ASSERT_TRUE (wait_until ([&] { return mute.offers ().size () == 1; }, 15000));
  ASSERT_TRUE (wait_until (
      [&] {
        return viewer.count ("signalrtc-peer-disconnected", "username", "mute")
               > 0;
      },
      15000))
      << "the call that never connected was not given up";
  auto reason = viewer.last_field ("signalrtc-peer-disconnected", "reason",
                                   "username", "mute");
  ASSERT_TRUE (reason);
  EXPECT_NE (reason->find ("not set up within 2 s"), std::string::npos)
      << *reason;
  EXPECT_NE (reason->find ("no answer"), std::string::npos) << *reason;
  EXPECT_TRUE (wait_until ([&] { return webrtcbins_in (viewer.bin ()) == 0; },
                           5000));

  /* Its max-peers slot is free again: a real caller gets in. */
  Peer &caller = add_receiver ("caller", url (), "call=viewer");
  ASSERT_TRUE (caller.valid () && caller.play ());
  EXPECT_TRUE (wait_until ([&] { return caller.video_frames () >= 30; }, 20000))
      << "the caller was not let in";
  EXPECT_EQ (viewer.count ("signalrtc-call-rejected"), 0u);
  expect_no_errors ();
}

/* Found by the soak: Ctrl-C to a gst-launch -e sender whose call was still
 * being set up hung gst-launch (until setup-timeout ended the call). The
 * EOS went into that call's webrtcbin, whose pads wait for negotiation, and
 * the application thread waited with them. A call in setup now gets no
 * EOS; the sender ends at once. */
TEST_F (Elements, EosWhileACallIsBeingSetUp)
{
  ASSERT_TRUE (start_hub ());
  FakePeer mute (url (), ctx_.get (), "mute");
  ASSERT_TRUE (wait_until ([&] { return mute.connected (); }, 10000));
  LaunchProcess *sender = launch (
      "gst-launch-1.0 -e videotestsrc is-live=true ! video/x-raw,width=320,"
      "height=240 ! signalrtcsink name=cam hub-url="
      + url ()
      + " username=cam call=mute "
        "audiotestsrc is-live=true ! cam.");
  ASSERT_NE (sender, nullptr);
  ASSERT_TRUE (wait_until ([&] { return mute.offers ().size () == 1; }, 15000));
  /* Its media has reached the call's webrtcbin by now. */
  run_for (1000);
  sender->signal (SIGINT);
  EXPECT_TRUE (wait_until ([&] { return sender->exited (); }, 10000))
      << "gst-launch -e did not end within 10 s of SIGINT (setup-timeout is "
         "30 s)";
  EXPECT_EQ (sender->exit_status (), 0);
}

/* Defect: send-message to a call whose channel was not open yet dropped
 * the text. It now waits for the channel; a message that can reach nobody
 * is refused and said so. */
TEST_F (Elements, ChatWaitsForTheChannelAndRefusalsAreSaid)
{
  ASSERT_TRUE (start_hub ());
  Peer &bob = add_sender ("bob", url ());
  ASSERT_TRUE (bob.valid () && bob.play ());
  ASSERT_TRUE (wait_hub_connected (bob));
  Peer &alice = add_receiver ("alice", url (), "call=bob");
  ASSERT_TRUE (alice.valid ());
  /* The moment alice's offer goes out (on her hub thread) the call cannot
   * be connected yet: nothing has answered. */
  std::atomic<int> early{-1};
  std::atomic<bool> early_connected{false};
  alice.on_element_message ([&] (const GstStructure *st) {
    if (g_str_equal (gst_structure_get_name (st), "signalrtc-sdp-sent")
        && early.load () < 0) {
      early_connected = alice.count ("signalrtc-peer-connected") > 0;
      early = alice.send_chat ("bob", "sent while calling") ? 1 : 0;
    }
  });
  ASSERT_TRUE (alice.play ());
  ASSERT_TRUE (wait_until ([&] { return early.load () >= 0; }, 15000));
  EXPECT_FALSE (early_connected.load ());
  EXPECT_EQ (early.load (), 1) << "the message was not taken";
  auto has = [] (const Peer &peer, const std::string &text) {
    for (const auto &m : peer.chat ())
      if (m.text == text)
        return true;
    return false;
  };
  EXPECT_TRUE (wait_until ([&] { return has (bob, "sent while calling"); },
                           20000))
      << "the message sent while calling never arrived";

  /* Nobody of that name: refused, with a warning. */
  size_t warnings = alice.warnings ();
  EXPECT_FALSE (alice.send_chat ("nobody", "lost?"));
  EXPECT_TRUE (wait_until ([&] { return alice.warnings () > warnings; }, 5000))
      << "no warning for a message to nobody";

  /* The call ends: a message to it is refused. */
  auto bob_id = alice.last_field ("signalrtc-peer-connected", "connection-id",
                                  "username", "bob");
  ASSERT_TRUE (bob_id);
  gst_element_set_state (bob.pipeline (), GST_STATE_NULL);
  ASSERT_TRUE (wait_until (
      [&] { return alice.count ("signalrtc-peer-disconnected") > 0; }, 15000));
  EXPECT_FALSE (alice.send_chat (*bob_id, "too late"));
  expect_no_errors ();
}

/* Defect: a send-only element kept a fakesink for every track of every
 * call, for ever. After each call its bin holds what it held before. */
TEST_F (Elements, CallsLeaveNoElementsBehind)
{
  ASSERT_TRUE (start_hub ());
  Peer &cam = add_peer ("cam",
                        "videotestsrc is-live=true ! " + std::string (kVideoCaps)
                            + " ! signalrtcsink name=cam hub-url=" + url ()
                            + " username=cam",
                        "cam");
  ASSERT_TRUE (cam.valid () && cam.play ());
  ASSERT_TRUE (wait_hub_connected (cam));
  /* The input's chain is built with its first caps. */
  ASSERT_TRUE (wait_until (
      [&] {
        return children_of (cam.bin ()).count ("vp8enc") == kLadderEncoders;
      },
      10000));
  const auto baseline = children_of (cam.bin ());
  for (int i = 0; i < 2; i++) {
    const std::string name = "caller" + std::to_string (i);
    Peer &caller = add_sender (name, url (), "call=cam");
    ASSERT_TRUE (caller.valid () && caller.play ());
    ASSERT_TRUE (wait_until ([&] { return caller.video_frames () >= 10; },
                             20000))
        << name << " got no video";
    /* cam takes what the caller sends into a fakesink while it lasts. */
    EXPECT_TRUE (wait_until (
        [&] { return children_of (cam.bin ()).count ("fakesink") >= 1; },
        10000));
    gst_element_set_state (caller.pipeline (), GST_STATE_NULL);
    ASSERT_TRUE (wait_until (
        [&] {
          return cam.count ("signalrtc-peer-disconnected", "username", name)
                 > 0;
        },
        15000));
    EXPECT_TRUE (wait_until (
        [&] { return children_of (cam.bin ()) == baseline; }, 5000))
        << "after " << name << ": " << describe_names (children_of (cam.bin ()))
        << "; before: " << describe_names (baseline);
  }
  expect_no_errors ();
}

/* Calls that end while their tracks are appearing: every hang-up at
 * another moment of the setup. The bin ends each call whole (no pad, no
 * element of it left), and still takes the next call. Run it under
 * -Db_sanitize=address (or thread) to see races and use-after-free. */
TEST_F (Elements, HangUpsWhileTracksAppear)
{
  ASSERT_TRUE (start_hub ());
  Peer &host = add_sender ("host", url ());
  ASSERT_TRUE (host.valid () && host.play ());
  ASSERT_TRUE (wait_hub_connected (host));
  ASSERT_TRUE (wait_until (
      [&] {
        return children_of (host.bin ()).count ("vp8enc") == kLadderEncoders;
      },
      10000));
  const auto baseline = children_of (host.bin ());
  const int calls = 50;
  for (int i = 0; i < calls; i++) {
    const std::string name = "c" + std::to_string (i);
    auto caller = std::make_unique<Peer> (
        name,
        "videotestsrc is-live=true ! " + std::string (kVideoCaps)
            + " ! signalrtcbin name=" + name + " hub-url=" + url ()
            + " username=" + name + " call=host "
              "audiotestsrc is-live=true ! "
            + name + ".",
        name);
    ASSERT_TRUE (caller->valid () && caller->play ());
    /* Hang up 0 to 450 ms after host answered: before, during and after
     * the tracks appear. */
    ASSERT_TRUE (wait_until (
        [&] {
          return host.count ("signalrtc-sdp-sent", "username", name) > 0;
        },
        15000))
        << name << " never called";
    run_for ((i % 10) * 50);
    caller.reset ();
    ASSERT_TRUE (wait_until (
        [&] {
          return host.count ("signalrtc-peer-disconnected", "username", name)
                 > 0;
        },
        15000))
        << "host did not end the call with " << name;
  }
  EXPECT_TRUE (wait_until (
      [&] { return children_of (host.bin ()) == baseline; }, 5000))
      << "left in host: " << describe_names (children_of (host.bin ()))
      << "; before: " << describe_names (baseline);
  EXPECT_TRUE (src_pad_names (host.bin ()).empty ());
  report ("calls", calls);
  report ("host_tracks", host.count ("signalrtc-track"));

  Peer &last = add_receiver ("last", url (), "call=host");
  ASSERT_TRUE (last.valid () && last.play ());
  EXPECT_TRUE (wait_until ([&] { return last.video_frames () >= 30; }, 20000))
      << "host does not take calls any more";
  expect_no_errors ();
}

/* The first element made by @factory inside @bin, at any depth (a new
 * reference), or nullptr. */
GstElement *
find_by_factory (GstElement *bin, const char *factory)
{
  GstElement *found = nullptr;
  GstIterator *it = gst_bin_iterate_recurse (GST_BIN (bin));
  GValue item = G_VALUE_INIT;
  while (!found && gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    auto *e = GST_ELEMENT (g_value_get_object (&item));
    GstElementFactory *f = gst_element_get_factory (e);
    if (f && g_str_equal (GST_OBJECT_NAME (f), factory))
      found = (GstElement *)gst_object_ref (e);
    g_value_reset (&item);
  }
  g_value_unset (&item);
  gst_iterator_free (it);
  return found;
}

/* Every element of @factory in @bin, at any depth (references). */
std::vector<GstElement *>
all_by_factory (GstElement *bin, const char *factory)
{
  std::vector<GstElement *> found;
  GstIterator *it = gst_bin_iterate_recurse (GST_BIN (bin));
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    auto *e = GST_ELEMENT (g_value_get_object (&item));
    GstElementFactory *f = gst_element_get_factory (e);
    if (f && g_str_equal (GST_OBJECT_NAME (f), factory))
      found.push_back ((GstElement *)gst_object_ref (e));
    g_value_reset (&item);
  }
  g_value_unset (&item);
  gst_iterator_free (it);
  return found;
}

/* What one encoder makes: each frame's time (monotonic, us), size, and
 * whether it is a key frame. */
struct EncoderWatch
{
  struct Frame
  {
    gint64 at_us;
    gsize size;
    bool key;
  };
  std::mutex lock;
  std::vector<Frame> frames;

  static GstPadProbeReturn on_buffer (GstPad *, GstPadProbeInfo *info,
                                      gpointer data)
  {
    auto *w = static_cast<EncoderWatch *> (data);
    GstBuffer *b = GST_PAD_PROBE_INFO_BUFFER (info);
    std::lock_guard<std::mutex> lock (w->lock);
    w->frames.push_back ({g_get_monotonic_time (), gst_buffer_get_size (b),
                          !GST_BUFFER_FLAG_IS_SET (b, GST_BUFFER_FLAG_DELTA_UNIT)});
    return GST_PAD_PROBE_OK;
  }
  size_t count_between (gint64 from_us, gint64 to_us)
  {
    std::lock_guard<std::mutex> l (lock);
    return std::count_if (frames.begin (), frames.end (), [&] (const Frame &f) {
      return f.at_us >= from_us && f.at_us < to_us;
    });
  }
};

/* What a viewer's VP8 RTP says, packet by packet: sequence numbers,
 * picture ids and temporal layer ids, read before the depayloader. */
struct Vp8Watch
{
  std::mutex lock;
  guint packets = 0, frames = 0, key_frames = 0, seq_gaps = 0,
        picture_id_gaps = 0;
  std::optional<guint16> last_seq;
  std::optional<guint16> last_picture_id;
  std::set<guint> layers;
  bool layer_fields = false;

  static GstPadProbeReturn on_packet (GstPad *, GstPadProbeInfo *info,
                                      gpointer data)
  {
    auto *w = static_cast<Vp8Watch *> (data);
    GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    if (!gst_rtp_buffer_map (buffer, GST_MAP_READ, &rtp))
      return GST_PAD_PROBE_OK;
    const guint16 seq = gst_rtp_buffer_get_seq (&rtp);
    const guint8 *p = (const guint8 *)gst_rtp_buffer_get_payload (&rtp);
    const guint len = gst_rtp_buffer_get_payload_len (&rtp);
    std::lock_guard<std::mutex> lock (w->lock);
    w->packets++;
    if (w->last_seq && (guint16)(*w->last_seq + 1) != seq)
      w->seq_gaps++;
    w->last_seq = seq;
    /* RFC 7741 payload descriptor: X, then I (picture id, M for 15 bits),
     * L (TL0PICIDX), T (TID). A frame starts with S=1 and PID 0. */
    if (len >= 2 && (p[0] & 0x80)) {
      const bool start = (p[0] & 0x10) && (p[0] & 0x0f) == 0;
      const guint8 x = p[1];
      guint i = 2;
      std::optional<guint16> picture_id;
      if ((x & 0x80) && i < len) {
        if (p[i] & 0x80) {
          if (i + 1 < len)
            picture_id = ((p[i] & 0x7f) << 8) | p[i + 1];
          i += 2;
        } else {
          picture_id = p[i] & 0x7f;
          i += 1;
        }
      }
      if (x & 0x40)
        i += 1; /* TL0PICIDX */
      if ((x & 0x20) && i < len) {
        w->layer_fields = true;
        if (start)
          w->layers.insert (p[i] >> 6);
      }
      if (x & 0x30)
        i += 1; /* TID/Y/KEYIDX */
      if (start && i < len && !(p[i] & 0x01))
        w->key_frames++;
      if (start && picture_id) {
        w->frames++;
        if (w->last_picture_id
            && ((*w->last_picture_id + 1) & 0x7fff) != *picture_id)
          w->picture_id_gaps++;
        w->last_picture_id = picture_id;
      }
    }
    gst_rtp_buffer_unmap (&rtp);
    return GST_PAD_PROBE_OK;
  }
};

/* A ladder of two renditions (a 640x360 input) and one call that starts
 * low (video-bitrate=300000 is where its estimate starts): the 640x360
 * encoder makes nothing while no call takes it; the call moves up to
 * 640x360 over the loopback, as its estimate grows, at a key frame. The
 * viewer's RTP has no gap in sequence numbers or picture ids across the
 * switch (each call has its own payloader), carries the temporal layer
 * ids, and the decoded picture changes size. */
TEST_F (Elements, LadderMovesACallUpWithoutAGap)
{
  ASSERT_TRUE (start_hub ());
  Peer &cam = add_peer (
      "cam",
      "videotestsrc is-live=true ! "
      "video/x-raw,width=640,height=360,framerate=30/1 ! signalrtcbin "
      "name=cam hub-url=" + url () + " username=cam stats-interval=500 "
      "video-bitrate=300000 "
      "video-renditions=\"640x360:800000,320x180:250000\"",
      "cam");
  ASSERT_TRUE (cam.valid () && cam.play ());
  ASSERT_TRUE (wait_hub_connected (cam));
  Peer &viewer = add_receiver ("viewer", url (), "call=cam latency=0");
  ASSERT_TRUE (viewer.valid () && viewer.play ());
  ASSERT_TRUE (wait_until ([&] { return viewer.video_frames () > 0; }, 20000))
      << "no picture";

  Vp8Watch watch;
  g_autoptr (GstElement) depay = find_by_factory (viewer.bin (), "rtpvp8depay");
  ASSERT_NE (depay, nullptr);
  g_autoptr (GstPad) depay_sink = gst_element_get_static_pad (depay, "sink");
  gulong probe = gst_pad_add_probe (depay_sink, GST_PAD_PROBE_TYPE_BUFFER,
                                    Vp8Watch::on_packet, &watch, nullptr);

  auto field = [&] (const char *name) {
    gint best = -1;
    cam.for_each ("signalrtc-peer-stats", [&] (const GstStructure *s) {
      gint v;
      if (g_strcmp0 (gst_structure_get_string (s, "username"), "viewer") == 0
          && gst_structure_get_int (s, name, &v))
        best = v;
    });
    return best;
  };
  ASSERT_TRUE (wait_until ([&] { return field ("video-width") > 0; }, 10000))
      << "no video-width in the sender's signalrtc-peer-stats";
  const gint first_width = field ("video-width");

  /* Each rendition's encoder, told apart by the width it takes. */
  std::map<gint, EncoderWatch> encoded;
  std::vector<std::pair<GstPad *, gulong>> encoder_probes;
  for (GstElement *enc : all_by_factory (cam.bin (), "vp8enc")) {
    GstPad *sink = gst_element_get_static_pad (enc, "sink");
    g_autoptr (GstCaps) caps = gst_pad_get_current_caps (sink);
    gint width = 0;
    if (caps)
      gst_structure_get_int (gst_caps_get_structure (caps, 0), "width", &width);
    GstPad *src = gst_element_get_static_pad (enc, "src");
    encoder_probes.emplace_back (
        src, gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_BUFFER,
                                EncoderWatch::on_buffer, &encoded[width],
                                nullptr));
    gst_object_unref (sink);
    gst_object_unref (enc);
  }
  const gint64 watched_from = g_get_monotonic_time ();
  /* A second while the call still takes 320x180 (it climbs from 300
   * kbit/s at 8 %/s: seconds): the 640x360 encoder, which no call takes,
   * makes nothing. */
  run_for (1000);
  const gint64 low_until = g_get_monotonic_time ();
  const bool still_low = field ("video-width") == 320;
  /* Up to 640x360 with every layer. */
  const bool up = wait_until (
      [&] {
        return field ("video-width") == 640
               && field ("video-temporal-layers") == 3;
      },
      40000);
  run_for (3000);
  gst_pad_remove_probe (depay_sink, probe);
  for (auto &[pad, id] : encoder_probes) {
    gst_pad_remove_probe (pad, id);
    gst_object_unref (pad);
  }
  ASSERT_EQ (encoded.size (), 2u) << "the encoders' widths were not told apart";
  ASSERT_TRUE (encoded.count (640) && encoded.count (320));
  const size_t idle_frames = encoded[640].count_between (watched_from, low_until);
  const size_t low_frames = encoded[320].count_between (watched_from, low_until);
  report ("frames_640_while_idle", idle_frames);
  report ("frames_320_meanwhile", low_frames);
  std::vector<EncoderWatch::Frame> resumed;
  {
    std::lock_guard<std::mutex> l (encoded[640].lock);
    resumed = encoded[640].frames;
  }
  std::lock_guard<std::mutex> lock (watch.lock);
  report ("first_width", first_width);
  report ("packets", watch.packets);
  report ("frames", watch.frames);
  report ("key_frames", watch.key_frames);
  report ("seq_gaps", watch.seq_gaps);
  report ("picture_id_gaps", watch.picture_id_gaps);
  report ("layers_seen", watch.layers.size ());
  guint64 switches = 0;
  cam.for_each ("signalrtc-peer-stats", [&] (const GstStructure *s) {
    guint v;
    if (gst_structure_get_uint (s, "video-rendition-switches", &v))
      switches = v;
  });
  report ("switches", switches);
  EXPECT_TRUE (up) << "the call never reached 640x360 with three layers "
                   << "(width " << field ("video-width") << ", layers "
                   << field ("video-temporal-layers") << ")";
  EXPECT_EQ (first_width, 320) << "the call did not start at 320x180";
  if (still_low) {
    EXPECT_EQ (idle_frames, 0u)
        << "the 640x360 encoder ran while no call took it";
    EXPECT_GE (low_frames, 20u);
  }
  ASSERT_FALSE (resumed.empty ()) << "the 640x360 encoder never ran";
  EXPECT_TRUE (resumed[0].key)
      << "the 640x360 encoder began with a delta frame";
  EXPECT_GE (switches, 1u);
  EXPECT_GT (watch.frames, 90u);
  EXPECT_EQ (watch.seq_gaps, 0u);
  EXPECT_EQ (watch.picture_id_gaps, 0u);
  EXPECT_TRUE (watch.layer_fields) << "no TID in the VP8 payload descriptor";
  EXPECT_EQ (watch.layers.size (), 3u);
  expect_no_errors ();
}

/* Congestion control does not wait for stats: with stats-interval=0 on
 * the sender, a call whose peer sends receiver reports but no TWCC
 * feedback (a GStreamer viewer that calls) still has an estimate that
 * grows, and moves up the ladder. The receiver-report fallback was read
 * only when stats were asked for: with 0 never (the call stayed at its
 * first rendition, 300 kbit/s), with the default 5 s once per 5 s. */
TEST_F (Elements, TheEstimateDoesNotWaitForStats)
{
  ASSERT_TRUE (start_hub ());
  Peer &cam = add_peer (
      "cam",
      "videotestsrc is-live=true ! "
      "video/x-raw,width=640,height=360,framerate=30/1 ! signalrtcbin "
      "name=cam hub-url=" + url () + " username=cam stats-interval=0 "
      "video-bitrate=300000 "
      "video-renditions=\"640x360:800000,320x180:250000\"",
      "cam");
  ASSERT_TRUE (cam.valid () && cam.play ());
  ASSERT_TRUE (wait_hub_connected (cam));
  Peer &viewer
      = add_receiver ("viewer", url (), "call=cam latency=0 stats-interval=500");
  ASSERT_TRUE (viewer.valid () && viewer.play ());
  ASSERT_TRUE (wait_until ([&] { return viewer.video_frames () > 0; }, 20000))
      << "no picture";
  auto received = [&] {
    guint64 bps = 0;
    viewer.for_each ("signalrtc-peer-stats", [&] (const GstStructure *s) {
      guint64 v;
      if (gst_structure_get_uint64 (s, "bitrate-received", &v))
        bps = v;
    });
    return bps;
  };
  guint64 most = 0;
  const bool up = wait_until (
      [&] {
        most = std::max (most, received ());
        return most > 500000;
      },
      40000);
  report ("most_received_bps", most);
  EXPECT_TRUE (up) << "the call stayed at " << most
                   << " bit/s: its estimate never grew (320x180 carries "
                      "250 kbit/s and audio)";
  expect_no_errors ();
}

/* A rendition no call takes is not encoded, and comes back with a key
 * frame of its usual size: libvpx takes its frame rate from timestamps,
 * and a frame seconds after the last, as it came, would have been given
 * seconds' worth of bits. A 640x360 ladder whose calls start at 640x360
 * (their estimate starts at 2 Mbit/s): one viewer, gone, a few seconds with
 * no call, another viewer. */
TEST_F (Elements, AnIdleRenditionComesBackWithAnOrdinaryKeyFrame)
{
  ASSERT_TRUE (start_hub ());
  Peer &cam = add_peer (
      "cam",
      "videotestsrc is-live=true ! "
      "video/x-raw,width=640,height=360,framerate=30/1 ! signalrtcbin "
      "name=cam hub-url=" + url () + " username=cam video-bitrate=2000000 "
      "video-renditions=\"640x360:800000,320x180:250000\"",
      "cam");
  ASSERT_TRUE (cam.valid () && cam.play ());
  ASSERT_TRUE (wait_hub_connected (cam));
  std::vector<GstElement *> encoders;
  ASSERT_TRUE (wait_until (
      [&] {
        for (GstElement *e : encoders)
          gst_object_unref (e);
        encoders = all_by_factory (cam.bin (), "vp8enc");
        return encoders.size () == 2;
      },
      10000));
  std::map<gint, EncoderWatch> encoded;
  std::vector<std::pair<GstPad *, gulong>> probes;
  for (GstElement *enc : encoders) {
    GstPad *sink = gst_element_get_static_pad (enc, "sink");
    gint width = 0;
    wait_until (
        [&] {
          g_autoptr (GstCaps) caps = gst_pad_get_current_caps (sink);
          return caps
                 && gst_structure_get_int (gst_caps_get_structure (caps, 0),
                                           "width", &width);
        },
        5000);
    gst_object_unref (sink);
    GstPad *src = gst_element_get_static_pad (enc, "src");
    probes.emplace_back (src, gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_BUFFER,
                                                 EncoderWatch::on_buffer,
                                                 &encoded[width], nullptr));
    gst_object_unref (enc);
  }
  ASSERT_TRUE (encoded.count (640) && encoded.count (320));
  auto frames_of = [&] (gint width) {
    std::lock_guard<std::mutex> l (encoded[width].lock);
    return encoded[width].frames;
  };

  Peer &first = add_receiver ("first", url (), "call=cam latency=0");
  ASSERT_TRUE (first.valid () && first.play ());
  ASSERT_TRUE (wait_until ([&] { return first.video_frames () >= 60; }, 20000))
      << "the first viewer got no picture";
  /* A key frame in the running stream, as a PLI would ask: its usual size. */
  for (auto &[pad, id] : probes) {
    g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);
    gint width = 0;
    if (caps && gst_structure_get_int (gst_caps_get_structure (caps, 0),
                                       "width", &width)
        && width == 640)
      gst_pad_send_event (pad, gst_video_event_new_upstream_force_key_unit (
                                   GST_CLOCK_TIME_NONE, TRUE, 0));
  }
  run_for (1000);
  gst_element_set_state (first.pipeline (), GST_STATE_NULL);
  const gint64 left = g_get_monotonic_time ();
  run_for (5000);
  const size_t first_run = frames_of (640).size ();
  const size_t while_idle
      = encoded[640].count_between (left + 2'000'000, g_get_monotonic_time ());
  const size_t lowest_meanwhile
      = encoded[320].count_between (left + 2'000'000, g_get_monotonic_time ());

  Peer &second = add_receiver ("second", url (), "call=cam latency=0");
  ASSERT_TRUE (second.valid () && second.play ());
  ASSERT_TRUE (wait_until ([&] { return second.video_frames () >= 60; }, 20000))
      << "the second viewer got no picture";
  for (auto &[pad, id] : probes) {
    gst_pad_remove_probe (pad, id);
    gst_object_unref (pad);
  }
  const std::vector<EncoderWatch::Frame> made = frames_of (640);
  report ("frames_640_first_call", first_run);
  report ("frames_640_idle_3s", while_idle);
  report ("frames_320_meanwhile", lowest_meanwhile);
  ASSERT_GT (first_run, 0u) << "the first call never took 640x360";
  ASSERT_GT (made.size (), first_run) << "the second call never took 640x360";
  const EncoderWatch::Frame &first_key = made[0];
  const EncoderWatch::Frame &again = made[first_run];
  gsize largest_delta = 0, running_key = 0;
  for (size_t i = 0; i < made.size (); i++) {
    if (!made[i].key)
      largest_delta = std::max (largest_delta, made[i].size);
    else if (i > 0 && i < first_run)
      running_key = std::max (running_key, made[i].size);
  }
  report ("first_key_frame_bytes", first_key.size);
  report ("running_key_frame_bytes", running_key);
  report ("key_frame_after_idle_bytes", again.size);
  report ("largest_delta_frame_bytes", largest_delta);
  report ("idle_spell_ms", (again.at_us - made[first_run - 1].at_us) / 1000);
  EXPECT_EQ (while_idle, 0u) << "the 640x360 encoder ran with no call on it";
  EXPECT_GE (lowest_meanwhile, 60u) << "the lowest rendition stopped too";
  EXPECT_TRUE (first_key.key);
  EXPECT_TRUE (again.key) << "the encoder came back with a delta frame";
  ASSERT_GT (running_key, 0u) << "no key frame came when asked for";
  /* Seen: 9.2 kB after 4.1 s idle, beside 8.8 kB in the running stream.
   * When libvpx was given the idle time as it came, 3.6 kB (a blurred
   * picture), or 13.6 kB without the key frame asked for before. */
  EXPECT_GE (again.size, running_key * 3 / 4)
      << "the key frame after " << (again.at_us - made[first_run - 1].at_us) / 1000
      << " ms idle is " << again.size << " bytes, one in the running stream "
      << running_key;
  EXPECT_LE (again.size, running_key * 5 / 4)
      << "the key frame after " << (again.at_us - made[first_run - 1].at_us) / 1000
      << " ms idle is " << again.size << " bytes, one in the running stream "
      << running_key;
  expect_no_errors ();
}

/* Debian's coturn (turnserver), on loopback, long-term credentials, for
 * the relay tests; gone with the object. Relay ports from a range of its
 * own. */
class TurnServer
{
 public:
  static constexpr const char *kUser = "signalrtc";
  static constexpr const char *kPassword = "relay-secret";

  ~TurnServer ()
  {
    if (process_) {
      g_subprocess_send_signal (process_, SIGTERM);
      g_subprocess_wait (process_, nullptr, nullptr);
      g_object_unref (process_);
    }
    if (log_)
      g_unlink (log_);
    if (pid_)
      g_unlink (pid_);
    g_free (log_);
    g_free (pid_);
  }
  static bool available ()
  {
    g_autofree gchar *path = g_find_program_in_path ("turnserver");
    return path != nullptr;
  }
  bool start ()
  {
    port_ = HubProcess::free_port ();
    const std::string port = std::to_string (port_);
    const std::string min = std::to_string (40000 + port_ % 10000);
    const std::string max = std::to_string (40000 + port_ % 10000 + 50);
    const std::string user = std::string (kUser) + ":" + kPassword;
    log_ = g_build_filename (g_get_tmp_dir (),
                             ("signalrtc-turn-" + port + ".log").c_str (),
                             nullptr);
    pid_ = g_build_filename (g_get_tmp_dir (),
                             ("signalrtc-turn-" + port + ".pid").c_str (),
                             nullptr);
    const char *argv[]
        = {"turnserver", "-n", "--listening-ip", "127.0.0.1", "--relay-ip",
           "127.0.0.1", "--listening-port", port.c_str (), "--min-port",
           min.c_str (), "--max-port", max.c_str (), "--lt-cred-mech",
           "--user", user.c_str (), "--realm", "signalrtc.test",
           "--allow-loopback-peers", "--no-cli", "--no-tls", "--no-dtls",
           "--no-software-attribute", "--simple-log", "--log-file", log_,
           "--pidfile", pid_, nullptr};
    g_autoptr (GError) error = nullptr;
    process_ = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error);
    if (!process_) {
      ADD_FAILURE () << "turnserver: " << error->message;
      return false;
    }
    /* Up once it takes TCP connections on its port. */
    for (int i = 0; i < 100; i++) {
      g_autoptr (GSocketClient) client = g_socket_client_new ();
      g_autoptr (GSocketConnection) c = g_socket_client_connect_to_host (
          client, ("127.0.0.1:" + port).c_str (), 0, nullptr, nullptr);
      if (c)
        return true;
      g_usleep (50000);
    }
    ADD_FAILURE () << "turnserver did not listen on " << port;
    return false;
  }
  std::string uri (const char *query = "") const
  {
    return std::string ("turn://") + kUser + ":" + kPassword + "@127.0.0.1:"
           + std::to_string (port_) + query;
  }
  TurnServer () = default;
  TurnServer (const TurnServer &) = delete;
  TurnServer &operator= (const TurnServer &) = delete;

 private:
  GSubprocess *process_ = nullptr;
  guint port_ = 0;
  gchar *log_ = nullptr;
  gchar *pid_ = nullptr;
};

/* The candidate types of every local candidate of @bin's webrtcbins
 * (webrtcbin's get-stats). */
std::multiset<std::string>
local_candidate_types (GstElement *bin)
{
  std::multiset<std::string> types;
  for (GstElement *webrtc : all_by_factory (bin, "webrtcbin")) {
    GstPromise *promise = gst_promise_new ();
    g_signal_emit_by_name (webrtc, "get-stats", nullptr, promise);
    if (gst_promise_wait (promise) == GST_PROMISE_RESULT_REPLIED) {
      gst_structure_foreach (
          gst_promise_get_reply (promise),
          [] (GQuark, const GValue *value, gpointer data) -> gboolean {
            if (!GST_VALUE_HOLDS_STRUCTURE (value))
              return TRUE;
            const GstStructure *s = gst_value_get_structure (value);
            GstWebRTCStatsType type;
            if (gst_structure_get (s, "type", GST_TYPE_WEBRTC_STATS_TYPE,
                                   &type, nullptr)
                && type == GST_WEBRTC_STATS_LOCAL_CANDIDATE) {
              const gchar *t = gst_structure_get_string (s, "candidate-type");
              static_cast<std::multiset<std::string> *> (data)->insert (
                  t ? t : "?");
            }
            return TRUE;
          },
          &types);
    }
    gst_promise_unref (promise);
    gst_object_unref (webrtc);
  }
  return types;
}

/* ice-transport-policy=relay on both sides, through a real TURN server
 * (coturn) over UDP, then over TCP: the call carries media, and every
 * candidate either side has is the TURN server's relay. */
TEST_F (Elements, RelayOnlyCallsGoThroughTurn)
{
  if (!TurnServer::available ())
    GTEST_SKIP () << "no turnserver (Debian's coturn; scripts/deps installs it)";
  ASSERT_TRUE (start_hub ());
  TurnServer turn;
  ASSERT_TRUE (turn.start ());
  for (const char *query : {"", "?transport=tcp"}) {
    SCOPED_TRACE (std::string ("TURN ") + (*query ? "over TCP" : "over UDP"));
    const std::string relay = "ice-transport-policy=relay turn-server=\""
                              + turn.uri (query) + "\"";
    const std::string cam_name = *query ? "camtcp" : "cam";
    const std::string viewer_name = *query ? "viewertcp" : "viewer";
    Peer &cam = add_sender (cam_name, url (), relay);
    ASSERT_TRUE (cam.valid () && cam.play ());
    ASSERT_TRUE (wait_hub_connected (cam));
    Peer &viewer = add_receiver (viewer_name, url (),
                                 "call=" + cam_name + " " + relay);
    ASSERT_TRUE (viewer.valid () && viewer.play ());
    EXPECT_TRUE (wait_until ([&] { return viewer.video_frames () >= 30; }, 30000))
        << "no picture through the TURN server";
    for (Peer *p : {&cam, &viewer}) {
      const auto types = local_candidate_types (p->bin ());
      std::string all;
      for (const auto &t : types)
        all += t + " ";
      report ((std::string (*query ? "tcp_" : "udp_") + p->label ()
               + "_candidates")
                  .c_str (),
              types.size ());
      EXPECT_FALSE (types.empty ()) << p->label () << " has no local candidate";
      EXPECT_EQ (types.count ("relay"), types.size ())
          << p->label () << "'s local candidates: " << all;
    }
    gst_element_set_state (viewer.pipeline (), GST_STATE_NULL);
    gst_element_set_state (cam.pipeline (), GST_STATE_NULL);
  }
  expect_no_errors ();
}

/* Relay only, and the TURN server is not there: the call ends with a
 * reason that says so, soon, not at setup-timeout. */
TEST_F (Elements, RelayOnlyWithNoTurnServerSaysSo)
{
  ASSERT_TRUE (start_hub ());
  const std::string nowhere = "ice-transport-policy=relay turn-server=\"turn://"
                              + std::string (TurnServer::kUser) + ":"
                              + TurnServer::kPassword + "@127.0.0.1:"
                              + std::to_string (HubProcess::free_port ()) + "\"";
  Peer &cam = add_sender ("cam", url (), nowhere);
  ASSERT_TRUE (cam.valid () && cam.play ());
  ASSERT_TRUE (wait_hub_connected (cam));
  Peer &viewer = add_receiver ("viewer", url (), "call=cam " + nowhere);
  ASSERT_TRUE (viewer.valid () && viewer.play ());
  const gint64 start = g_get_monotonic_time ();
  ASSERT_TRUE (wait_until (
      [&] {
        return viewer.count ("signalrtc-peer-disconnected", "username", "cam")
               > 0;
      },
      45000))
      << "the call that cannot connect was not given up";
  report ("given_up_after_ms", (g_get_monotonic_time () - start) / 1000);
  auto reason = viewer.last_field ("signalrtc-peer-disconnected", "reason",
                                   "username", "cam");
  ASSERT_TRUE (reason);
  EXPECT_NE (reason->find ("TURN server"), std::string::npos) << *reason;
  EXPECT_EQ (reason->find (TurnServer::kPassword), std::string::npos)
      << "the reason gives the password away: " << *reason;
}

/* A new caller of a shared encoder gets a key frame of its own, promptly:
 * the encoder makes one only every 3000 frames by itself, so a second
 * caller who joins later sees a picture only through one asked for it.
 * The figure is reported; the assertion's bound is generous. */
TEST_F (Elements, NewCallerGetsAKeyFrame)
{
  ASSERT_TRUE (start_hub ());
  Peer &cam = add_sender ("cam", url ());
  ASSERT_TRUE (cam.valid () && cam.play ());
  ASSERT_TRUE (wait_hub_connected (cam));
  Peer &first = add_receiver ("first", url (), "call=cam latency=0");
  ASSERT_TRUE (first.valid () && first.play ());
  ASSERT_TRUE (wait_until ([&] { return first.video_frames () >= 60; }, 20000));
  Peer &second = add_receiver ("second", url (), "call=cam latency=0");
  ASSERT_TRUE (second.valid () && second.play ());
  ASSERT_TRUE (wait_until ([&] { return second.video_frames () > 0; }, 20000))
      << "the second caller never decoded a frame";
  gint64 connected = second.first_time ("signalrtc-peer-connected");
  ASSERT_NE (connected, 0);
  double ms = ms_since (connected, second.first_video_us ());
  report ("first_decoded_frame_ms_after_connected", ms);
  EXPECT_LT (ms, 2000) << "no key frame came soon after the call connected";
  expect_no_errors ();
}

}  // namespace
