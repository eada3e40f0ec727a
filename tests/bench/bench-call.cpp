/* bench-call: one signalrtcbin bot for the call-setup benchmark
 * (tests/bench/setup-bench.mjs, run by tests/bench/run-setup-bench).
 *
 *   bench-call --hub URL --username NAME --wait
 *   bench-call --hub URL --username NAME --call USER [--calls N]
 *   bench-call --hub URL --username NAME --commands     (stdin: "call USER")
 *   options: [--size 640x480] [--pattern smpte] [--timeout SECONDS]
 *            [--latency MS]  (the bin's jitterbuffer latency; default: its
 *                             default)
 *
 * The bot is a signalrtcbin that sends a moving 30 fps test pattern
 * (videotestsrc, VP8 encoded by the bin) and a tone, and decodes what its
 * peers send (decode=true) into fakesinks. Every time is wall-clock epoch
 * milliseconds, g_get_real_time () / 1000, the clock the browser's
 * performance.timeOrigin + performance.now () follows, taken where it
 * happens: in a bus sync handler for the bin's messages (the
 * signalrtc-sdp-sent offer or answer, signalrtc-peer-connected) and in a
 * pad probe for the first buffer out of a video src pad (the first decoded
 * frame).
 *
 * --wait: stays on the hub, answers every call, and prints one JSON line per
 * event (joined, sdp-sent, connected, first-frame, disconnected) until
 * SIGINT or SIGTERM.
 * --call / --commands: each call is a pipeline of its own (a new hub
 * connection, a new webrtcbin), torn down once the first frame of the
 * callee has been decoded or the call has failed; one JSON line per call,
 * {"event": "call", "ok": ..., "offer": ..., "connected": ...,
 * "first_frame": ..., "ms": first_frame - offer, ...}. --commands prints
 * {"event": "ready"} first and exits at the end of its input.
 *
 * Runs inside scripts/isolated (the benchmark's wrapper sees to it).
 */
#include <gst/gst.h>
#include <glib-unix.h>
#include <json-glib/json-glib.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace {

struct Options
{
  std::string hub, username, call, pattern = "smpte";
  int width = 640, height = 480;
  int calls = 1;
  double timeout_s = 20;
  int latency_ms = -1; /* -1: the element's default */
  bool wait = false, commands = false;
};

double
now_ms ()
{
  return g_get_real_time () / 1000.0;
}

/* One JSON object per line on stdout, whole lines only (many threads). */
std::mutex print_lock;

void
print_json (JsonBuilder *builder)
{
  json_builder_end_object (builder);
  g_autoptr (JsonNode) root = json_builder_get_root (builder);
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  json_generator_set_root (generator, root);
  g_autofree gchar *text = json_generator_to_data (generator, nullptr);
  std::lock_guard<std::mutex> lock (print_lock);
  fputs (text, stdout);
  fputc ('\n', stdout);
  fflush (stdout);
}

/* A builder with {"event": @event, "t": now} open, for print_json (). */
JsonBuilder *
event_builder (const char *event, double t)
{
  JsonBuilder *builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "event");
  json_builder_add_string_value (builder, event);
  json_builder_set_member_name (builder, "t");
  json_builder_add_double_value (builder, t);
  return builder;
}

void
add_string (JsonBuilder *builder, const char *name, const std::string &value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_string_value (builder, value.c_str ());
}

void
add_time (JsonBuilder *builder, const char *name, std::optional<double> t)
{
  json_builder_set_member_name (builder, name);
  if (t)
    json_builder_add_double_value (builder, *t);
  else
    json_builder_add_null_value (builder);
}

/* What happened in one call, by the remote connection id. */
struct CallTimes
{
  std::string username;
  std::optional<double> offer, answer, connected, first_frame;
};

/* One pipeline: the test pattern and a tone into a signalrtcbin, whose src
 * pads go to fakesinks. */
class Bot
{
 public:
  Bot (const Options &options, const std::string &call, bool report_events)
      : report_events_ (report_events)
  {
    std::string line = "videotestsrc is-live=true pattern=" + options.pattern
                       + " horizontal-speed=4 ! video/x-raw,width="
                       + std::to_string (options.width)
                       + ",height=" + std::to_string (options.height)
                       + ",framerate=30/1 ! bot.video_0 "
                         "audiotestsrc is-live=true wave=sine ! bot.audio_0 "
                         "signalrtcbin name=bot decode=true hub-url="
                       + options.hub + " username=" + options.username;
    if (!call.empty ())
      line += " call=" + call;
    if (options.latency_ms >= 0)
      line += " latency=" + std::to_string (options.latency_ms);
    g_autoptr (GError) error = nullptr;
    pipeline_ = gst_parse_launch (line.c_str (), &error);
    if (!pipeline_ || error) {
      g_printerr ("bench-call: cannot make the pipeline: %s\n",
                  error ? error->message : "?");
      if (pipeline_)
        gst_clear_object (&pipeline_);
      return;
    }
    gst_object_ref_sink (pipeline_);
    bin_ = gst_bin_get_by_name (GST_BIN (pipeline_), "bot");
    g_autoptr (GstBus) bus = gst_element_get_bus (pipeline_);
    gst_bus_set_sync_handler (bus, on_bus, this, nullptr);
    g_signal_connect (bin_, "pad-added", G_CALLBACK (on_pad_added), this);
    /* Only --wait lives through calls, and runs a main loop to tidy up. */
    if (report_events_)
      g_signal_connect (bin_, "pad-removed", G_CALLBACK (on_pad_removed), this);
  }

  ~Bot ()
  {
    if (!pipeline_)
      return;
    gst_element_set_state (pipeline_, GST_STATE_NULL);
    g_autoptr (GstBus) bus = gst_element_get_bus (pipeline_);
    gst_bus_set_sync_handler (bus, nullptr, nullptr, nullptr);
    g_signal_handlers_disconnect_by_data (bin_, this);
    gst_object_unref (bin_);
    gst_object_unref (pipeline_);
  }

  Bot (const Bot &) = delete;
  Bot &operator= (const Bot &) = delete;

  bool play ()
  {
    return pipeline_
           && gst_element_set_state (pipeline_, GST_STATE_PLAYING)
                  != GST_STATE_CHANGE_FAILURE;
  }

  /* Waits until the first call has decoded a video frame, or has failed,
   * or @timeout_ms passed. */
  void wait_first_frame (gint64 timeout_ms)
  {
    gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;
    std::unique_lock<std::mutex> lock (lock_);
    while (!error_ && !ended_ && !any_frame_locked ()) {
      gint64 left = deadline - g_get_monotonic_time ();
      if (left <= 0)
        break;
      cond_.wait_for (lock, std::chrono::microseconds (left));
    }
  }

  /* The one line of a --call or --commands call. */
  void print_call (int index, const std::string &target, double timeout_s)
  {
    std::lock_guard<std::mutex> lock (lock_);
    g_autoptr (JsonBuilder) b = event_builder ("call", now_ms ());
    json_builder_set_member_name (b, "index");
    json_builder_add_int_value (b, index);
    add_string (b, "target", target);
    add_string (b, "connection_id", my_id_);
    g_autofree gchar *limit = g_strdup_printf ("%g s", timeout_s);
    /* One call per pipeline: the remote user we sent the offer to. */
    std::string remote;
    CallTimes times;
    for (const auto &[id, t] : calls_) {
      if (remote.empty () || t.offer) {
        remote = id;
        times = t;
      }
    }
    add_string (b, "remote_id", remote);
    add_time (b, "offer", times.offer);
    add_time (b, "connected", times.connected);
    add_time (b, "first_frame", times.first_frame);
    bool ok = times.offer && times.first_frame;
    json_builder_set_member_name (b, "ok");
    json_builder_add_boolean_value (b, ok);
    if (ok) {
      json_builder_set_member_name (b, "ms");
      json_builder_add_double_value (b, *times.first_frame - *times.offer);
    } else {
      std::string why
          = error_   ? *error_
            : ended_ ? "the call ended before a frame: " + ended_why_
            : remote.empty ()
                ? "no call in " + std::string (limit)
                : "no decoded video frame in " + std::string (limit);
      add_string (b, "error", why);
    }
    print_json (b);
  }

 private:
  bool any_frame_locked () const
  {
    for (const auto &[id, times] : calls_)
      if (times.first_frame)
        return true;
    return false;
  }

  static std::string string_field (const GstStructure *s, const char *name)
  {
    const char *v = gst_structure_get_string (s, name);
    return v ? v : "";
  }

  /* Any thread: stamps the bin's messages as they are posted. */
  static GstBusSyncReply on_bus (GstBus *, GstMessage *message, gpointer data)
  {
    auto *self = static_cast<Bot *> (data);
    double t = now_ms ();
    switch (GST_MESSAGE_TYPE (message)) {
    case GST_MESSAGE_ELEMENT:
      self->on_element (gst_message_get_structure (message), t);
      break;
    case GST_MESSAGE_ERROR: {
      g_autoptr (GError) error = nullptr;
      g_autofree gchar *debug = nullptr;
      gst_message_parse_error (message, &error, &debug);
      g_printerr ("bench-call: error from %s: %s (%s)\n",
                  GST_OBJECT_NAME (GST_MESSAGE_SRC (message)), error->message,
                  debug ? debug : "");
      std::lock_guard<std::mutex> lock (self->lock_);
      self->error_ = error->message;
      self->cond_.notify_all ();
      break;
    }
    case GST_MESSAGE_WARNING: {
      g_autoptr (GError) error = nullptr;
      g_autofree gchar *debug = nullptr;
      gst_message_parse_warning (message, &error, &debug);
      g_printerr ("bench-call: warning from %s: %s (%s)\n",
                  GST_OBJECT_NAME (GST_MESSAGE_SRC (message)), error->message,
                  debug ? debug : "");
      break;
    }
    default:
      break;
    }
    return GST_BUS_DROP;
  }

  void on_element (const GstStructure *s, double t)
  {
    if (!s)
      return;
    const char *name = gst_structure_get_name (s);
    std::string remote = string_field (s, "connection-id");
    g_autoptr (JsonBuilder) b = nullptr;
    {
      std::lock_guard<std::mutex> lock (lock_);
      if (g_str_equal (name, "signalrtc-hub-connected")) {
        my_id_ = remote;
        if (report_events_) {
          b = event_builder ("joined", t);
          add_string (b, "connection_id", remote);
        }
      } else if (g_str_equal (name, "signalrtc-sdp-sent")) {
        CallTimes &times = calls_[remote];
        times.username = string_field (s, "username");
        std::string type = string_field (s, "type");
        std::optional<double> &slot
            = type == "offer" ? times.offer : times.answer;
        if (!slot)
          slot = t;
        if (report_events_) {
          b = event_builder ("sdp-sent", t);
          add_string (b, "type", type);
        }
      } else if (g_str_equal (name, "signalrtc-peer-connected")) {
        CallTimes &times = calls_[remote];
        if (!times.connected)
          times.connected = t;
        if (report_events_)
          b = event_builder ("connected", t);
      } else if (g_str_equal (name, "signalrtc-peer-disconnected")) {
        std::string why = string_field (s, "reason");
        if (report_events_) {
          b = event_builder ("disconnected", t);
          add_string (b, "reason", why);
          calls_.erase (remote);
        } else {
          ended_ = true;
          ended_why_ = why;
          cond_.notify_all ();
        }
      }
      if (b && !g_str_equal (name, "signalrtc-hub-connected")) {
        add_string (b, "remote_id", remote);
        add_string (b, "username", string_field (s, "username"));
      }
    }
    if (b)
      print_json (b);
  }

  /* Streaming thread: the first buffer out of a video src pad is the first
   * decoded frame of that call. */
  static GstPadProbeReturn on_buffer (GstPad *pad, GstPadProbeInfo *,
                                      gpointer data)
  {
    auto *self = static_cast<Bot *> (data);
    double t = now_ms ();
    g_autofree gchar *remote = nullptr;
    g_autofree gchar *username = nullptr;
    g_object_get (pad, "connection-id", &remote, "username", &username,
                  nullptr);
    g_autoptr (JsonBuilder) b = nullptr;
    {
      std::lock_guard<std::mutex> lock (self->lock_);
      CallTimes &times = self->calls_[remote ? remote : ""];
      if (!times.first_frame) {
        times.first_frame = t;
        self->cond_.notify_all ();
        if (self->report_events_) {
          b = event_builder ("first-frame", t);
          add_string (b, "remote_id", remote ? remote : "");
          add_string (b, "username", username ? username : "");
        }
      }
    }
    if (b)
      print_json (b);
    return GST_PAD_PROBE_REMOVE;
  }

  /* Streaming thread: every track goes to a fakesink; video is watched. */
  static void on_pad_added (GstElement *, GstPad *pad, gpointer data)
  {
    auto *self = static_cast<Bot *> (data);
    if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
      return;
    GstElement *queue = gst_element_factory_make ("queue", nullptr);
    GstElement *sink = gst_element_factory_make ("fakesink", nullptr);
    g_object_set (sink, "sync", FALSE, "async", FALSE, nullptr);
    gst_bin_add_many (GST_BIN (self->pipeline_), queue, sink, nullptr);
    gst_element_link (queue, sink);
    gst_element_sync_state_with_parent (sink);
    gst_element_sync_state_with_parent (queue);
    g_autoptr (GstPad) queue_sink = gst_element_get_static_pad (queue, "sink");
    if (gst_pad_link (pad, queue_sink) != GST_PAD_LINK_OK)
      g_printerr ("bench-call: cannot link %s\n", GST_PAD_NAME (pad));
    g_autofree gchar *kind = nullptr;
    g_object_get (pad, "kind", &kind, nullptr);
    if (g_strcmp0 (kind, "video") == 0)
      gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_buffer, self,
                         nullptr);
    g_object_set_data_full (
        G_OBJECT (pad), "bench-call-sink", new Sink (queue, sink),
        [] (gpointer p) { delete static_cast<Sink *> (p); });
  }

  /* The fakesink branch of a src pad, to remove with it. */
  struct Sink
  {
    Sink (GstElement *queue, GstElement *sink)
        : queue (GST_ELEMENT (gst_object_ref (queue))),
          sink (GST_ELEMENT (gst_object_ref (sink)))
    {}
    ~Sink ()
    {
      gst_object_unref (sink);
      gst_object_unref (queue);
    }
    Sink (const Sink &) = delete;
    Sink &operator= (const Sink &) = delete;
    GstElement *queue, *sink;
  };

  /* A call ended (its pads go): its fakesink branch goes too, from the
   * main loop, not from inside the bin's teardown. */
  static void on_pad_removed (GstElement *, GstPad *pad, gpointer)
  {
    auto *branch = static_cast<Sink *> (
        g_object_steal_data (G_OBJECT (pad), "bench-call-sink"));
    if (!branch)
      return;
    g_idle_add_full (
        G_PRIORITY_DEFAULT_IDLE,
        [] (gpointer data) -> gboolean {
          auto *b = static_cast<Sink *> (data);
          gst_element_set_state (b->queue, GST_STATE_NULL);
          gst_element_set_state (b->sink, GST_STATE_NULL);
          g_autoptr (GstObject) pipeline
              = gst_object_get_parent (GST_OBJECT (b->queue));
          if (pipeline)
            gst_bin_remove_many (GST_BIN (pipeline), b->queue, b->sink,
                                 nullptr);
          return G_SOURCE_REMOVE;
        },
        branch, [] (gpointer p) { delete static_cast<Sink *> (p); });
  }

  bool report_events_;
  GstElement *pipeline_ = nullptr;
  GstElement *bin_ = nullptr;

  std::mutex lock_; /* guards what follows */
  std::condition_variable cond_;
  std::string my_id_;
  std::map<std::string, CallTimes> calls_;
  std::optional<std::string> error_;
  bool ended_ = false;
  std::string ended_why_;
};

/* One call with a fresh pipeline; prints its line. */
void
make_call (const Options &options, const std::string &target, int index)
{
  Bot bot (options, target, false);
  if (!bot.play ())
    g_printerr ("bench-call: the pipeline does not play\n");
  else
    bot.wait_first_frame ((gint64)(options.timeout_s * 1000));
  bot.print_call (index, target, options.timeout_s);
}

int
wait_for_calls (const Options &options)
{
  Bot bot (options, "", true);
  if (!bot.play ()) {
    g_printerr ("bench-call: the pipeline does not play\n");
    return 1;
  }
  g_autoptr (GMainLoop) loop = g_main_loop_new (nullptr, FALSE);
  auto quit = [] (gpointer data) -> gboolean {
    g_main_loop_quit (static_cast<GMainLoop *> (data));
    return G_SOURCE_REMOVE;
  };
  g_unix_signal_add (SIGINT, quit, loop);
  g_unix_signal_add (SIGTERM, quit, loop);
  g_main_loop_run (loop);
  return 0;
}

bool
parse_size (const gchar *text, Options &options)
{
  int w = 0, h = 0;
  if (sscanf (text, "%dx%d", &w, &h) != 2 || w < 16 || h < 16)
    return false;
  options.width = w;
  options.height = h;
  return true;
}

}  // namespace

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  Options options;
  g_autofree gchar *hub = nullptr, *username = nullptr, *call = nullptr,
                   *size = nullptr, *pattern = nullptr;
  gboolean wait = FALSE, commands = FALSE;
  GOptionEntry entries[] = {
      {"hub", 0, 0, G_OPTION_ARG_STRING, &hub, "Hub URL", "URL"},
      {"username", 0, 0, G_OPTION_ARG_STRING, &username, "Our user name",
       "NAME"},
      {"wait", 0, 0, G_OPTION_ARG_NONE, &wait, "Answer calls until SIGTERM",
       nullptr},
      {"call", 0, 0, G_OPTION_ARG_STRING, &call, "Call USER", "USER"},
      {"calls", 0, 0, G_OPTION_ARG_INT, &options.calls,
       "With --call: this many calls in a row (default 1)", "N"},
      {"commands", 0, 0, G_OPTION_ARG_NONE, &commands,
       "Read \"call USER\" lines from stdin, one call each", nullptr},
      {"size", 0, 0, G_OPTION_ARG_STRING, &size,
       "Size of the test pattern (default 640x480)", "WxH"},
      {"pattern", 0, 0, G_OPTION_ARG_STRING, &pattern,
       "videotestsrc pattern (default smpte, moving)", "PATTERN"},
      {"timeout", 0, 0, G_OPTION_ARG_DOUBLE, &options.timeout_s,
       "Seconds a call may take to its first frame (default 20)", "S"},
      {"latency", 0, 0, G_OPTION_ARG_INT, &options.latency_ms,
       "The bin's jitterbuffer latency (default: the element's)", "MS"},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr},
  };
  g_autoptr (GOptionContext) context
      = g_option_context_new ("- one signalrtcbin bot for the call-setup "
                              "benchmark");
  g_option_context_add_main_entries (context, entries, nullptr);
  g_autoptr (GError) error = nullptr;
  if (!g_option_context_parse (context, &argc, &argv, &error)) {
    g_printerr ("bench-call: %s\n", error->message);
    return 2;
  }
  options.hub = hub ? hub : "";
  options.username = username ? username : "";
  options.call = call ? call : "";
  options.pattern = pattern ? pattern : options.pattern;
  options.wait = wait;
  options.commands = commands;
  if (size && !parse_size (size, options)) {
    g_printerr ("bench-call: --size wants WIDTHxHEIGHT\n");
    return 2;
  }
  if (options.hub.empty () || options.username.empty ()
      || (options.wait + options.commands + !options.call.empty ()) != 1) {
    g_printerr ("bench-call: give --hub, --username and one of --wait, "
                "--call USER, --commands\n");
    return 2;
  }

  if (options.wait)
    return wait_for_calls (options);
  if (!options.call.empty ()) {
    for (int i = 0; i < options.calls; i++)
      make_call (options, options.call, i);
    return 0;
  }
  {
    g_autoptr (JsonBuilder) b = event_builder ("ready", now_ms ());
    print_json (b);
  }
  int index = 0;
  for (std::string line; std::getline (std::cin, line);) {
    if (g_str_has_prefix (line.c_str (), "call "))
      make_call (options, line.substr (5), index++);
    else if (!line.empty ())
      g_printerr ("bench-call: unknown command '%s'\n", line.c_str ());
  }
  return 0;
}
