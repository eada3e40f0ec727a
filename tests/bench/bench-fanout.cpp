/* bench-fanout: what one more viewer costs a signalrtcsink sender.
 *
 *   tests/bench/run-fanout-bench [--viewers 1,5,25,50,100] [--seconds 10]
 *                                [--size 1280x720] [--bitrate 2000000]
 *                                [--modes shared,ladder,per-viewer,janus]
 *                                [--janus-audio yes|no]
 *                                [--point-timeout S]
 *                                [--sink-props "congestion-control=none"]
 *
 * For each N, in one run, side by side:
 *  - shared: one gst-launch sender process, a moving 30 fps test pattern
 *    into one signalrtcsink "cam" (encoded once, VP8, video-renditions=""),
 *    called by N viewers;
 *  - ladder: the same with the sink's default ladder (video-renditions:
 *    720p, 360p and 180p, each encoded once, each viewer taking the one
 *    its estimate carries; a rendition no call takes is not encoded, the
 *    lowest always is); the window waits until the viewers are at 720p
 *    (at most 30 s); its sender CPU at N = 1 beside shared's is the
 *    ladder's encode cost against one 720p encode;
 *  - per-viewer: the same pattern teed into N signalrtcsink users cam0..,
 *    each encoding for its one viewer (one encoder per viewer, as
 *    gst-plugins-rs webrtcsink does per consumer);
 *  - janus, the anchor: the same N viewers watching Janus's streaming
 *    plugin (Debian's janus, a process of our own with a configuration of
 *    our own, janus-anchor.cpp), fed by a feeder process that encodes the
 *    same pattern with signalrtcsink's VP8 settings at --bitrate, plus an
 *    Opus tone (--janus-audio no: video only, as the shared sender sends),
 *    as RTP. Its "sender CPU" is the janus process: the fan-out's cost;
 *    the feeder's (the encode) is shown under the table. Janus gathers no
 *    ICE candidate on loopback, so this point adds a veth carrying
 *    127.0.0.2/32 to the namespace, and both sides use that address.
 *    Without janus installed the mode is shown as not run.
 * The N viewers live in this process: signalrtcbin elements with
 * decode=false, each calling its sender (for janus: webrtcbins signaled
 * over Janus's HTTP API, with the same depayloader settings), depayloading
 * without decoding and counting frames at a fakesink. Sender CPU comes
 * from /proc/PID/stat (utime + stime) over a steady window once every
 * viewer receives; frames delivered per viewer are counted over the same
 * window.
 *
 * Each point (a mode and an N) runs in a child process of its own, in a
 * process group of its own with its hub and sender, and has a deadline
 * (setup, the window and a margin, growing with N): a point that has not
 * reported by then, as on a machine too saturated to finish setting up or
 * tearing down a hundred calls, is killed with its group and shown as not
 * ended; larger N of that mode are not run. The table always comes out.
 *
 * Runs inside scripts/isolated (the wrapper sees to it): all WebRTC is on
 * loopback. No figure here is asserted anywhere; the table is the output.
 */
#include "tests/bench/janus-anchor.h"
#include "tests/integration/hub-process.h"

#include <gst/gst.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using signalrtc::bench::JanusPorts;
using signalrtc::bench::JanusServer;
using signalrtc::bench::JanusVeth;
using signalrtc::bench::JanusViewers;
using signalrtc::test::HubProcess;

struct Options
{
  std::vector<int> viewers{1, 2, 5, 25, 50, 100};
  int seconds = 10;
  int width = 1280, height = 720;
  int bitrate = 2000000;
  /* And "janus" when it is installed (main ()). */
  std::vector<std::string> modes{"shared", "ladder", "per-viewer"};
  int point_timeout = 0; /* s; 0: point_deadline_s () */
  /* More signalrtcsink properties, e.g. "congestion-control=none". */
  std::string sink_props;
  /* The janus mode's feed: VP8 and Opus (the anchor), or VP8
   * alone, as the shared sender sends. */
  bool janus_audio = true;
};

double
now_s ()
{
  return std::chrono::duration<double> (
             std::chrono::steady_clock::now ().time_since_epoch ())
      .count ();
}

/* CPU seconds (user + system) of process @pid. */
double
cpu_seconds (GPid pid)
{
  std::ifstream in ("/proc/" + std::to_string (pid) + "/stat");
  std::string stat ((std::istreambuf_iterator<char> (in)),
                    std::istreambuf_iterator<char> ());
  auto close = stat.rfind (')');
  if (close == std::string::npos)
    return 0;
  std::istringstream fields (stat.substr (close + 2));
  std::string f;
  double ticks = 0;
  for (int i = 0; i < 13 && fields >> f; i++) {
    if (i == 11 || i == 12) /* utime, stime */
      ticks += std::stod (f);
  }
  return ticks / (double)sysconf (_SC_CLK_TCK);
}

/* CPU seconds of this process (the viewers). */
double
own_cpu_seconds ()
{
  return cpu_seconds (getpid ());
}

/* Idle CPU seconds of the whole machine (all cores), from /proc/stat. */
double
idle_seconds ()
{
  std::ifstream in ("/proc/stat");
  std::string cpu;
  double user, nice, system, idle, iowait;
  in >> cpu >> user >> nice >> system >> idle >> iowait;
  return (idle + iowait) / (double)sysconf (_SC_CLK_TCK);
}

/* One sender process: gst-launch of @pipeline, or any @args. */
class Sender
{
 public:
  explicit Sender (const std::string &pipeline)
      : Sender (launch_args (pipeline))
  {}
  explicit Sender (const std::vector<std::string> &args)
  {
    std::vector<const char *> argv;
    for (auto &a : args)
      argv.push_back (a.c_str ());
    argv.push_back (nullptr);
    g_autoptr (GError) error = nullptr;
    process_
        = g_subprocess_newv (argv.data (), G_SUBPROCESS_FLAGS_NONE, &error);
    if (!process_)
      g_printerr ("bench-fanout: cannot start %s: %s\n", args[0].c_str (),
                  error->message);
  }
  ~Sender ()
  {
    if (!process_)
      return;
    /* Nothing of its output is kept: no need for a clean EOS. */
    g_subprocess_force_exit (process_);
    g_subprocess_wait (process_, nullptr, nullptr);
    g_object_unref (process_);
  }
  GPid pid () const
  {
    const char *id
        = process_ ? g_subprocess_get_identifier (process_) : nullptr;
    return id ? (GPid)atoi (id) : 0;
  }

 private:
  static std::vector<std::string> launch_args (const std::string &pipeline)
  {
    std::vector<std::string> args = {"gst-launch-1.0", "-q"};
    std::istringstream words (pipeline);
    for (std::string w; words >> w;)
      args.push_back (w);
    return args;
  }

  GSubprocess *process_ = nullptr;
};

/* N viewers in one pipeline: signalrtcbin decode=false into fakesinks. */
class Viewers
{
 public:
  Viewers (const std::string &hub_url, int n, bool per_viewer)
      : hub_url_ (hub_url), per_viewer_ (per_viewer), frames_ (n), bytes_ (n)
  {
    pipeline_ = gst_pipeline_new ("viewers");
    for (auto &f : frames_)
      f.store (0);
    for (auto &b : bytes_)
      b.store (0);
  }
  ~Viewers ()
  {
    gst_element_set_state (pipeline_, GST_STATE_NULL);
    gst_object_unref (pipeline_);
  }
  bool play ()
  {
    return gst_element_set_state (pipeline_, GST_STATE_PLAYING)
           != GST_STATE_CHANGE_FAILURE;
  }
  /* Up to @count more viewers join the playing pipeline and call. */
  void add (int count)
  {
    for (; count > 0 && added_ < (int)frames_.size (); count--, added_++) {
      GstElement *bin = gst_element_factory_make ("signalrtcbin", nullptr);
      std::string name = "viewer" + std::to_string (added_);
      std::string target
          = per_viewer_ ? "cam" + std::to_string (added_) : "cam";
      g_object_set (bin, "hub-url", hub_url_.c_str (), "username",
                    name.c_str (), "call", target.c_str (), "decode", FALSE,
                    "stats-interval", 0u, nullptr);
      auto *slot = new Slot{this, added_};
      g_signal_connect_data (
          bin, "pad-added", G_CALLBACK (on_pad_added), slot,
          [] (gpointer data, GClosure *) { delete static_cast<Slot *> (data); },
          (GConnectFlags)0);
      gst_bin_add (GST_BIN (pipeline_), bin);
      gst_element_sync_state_with_parent (bin);
    }
  }
  int added () const { return added_; }
  std::vector<guint64> frames () const
  {
    std::vector<guint64> out;
    for (auto &f : frames_)
      out.push_back (f.load ());
    return out;
  }
  guint64 total_bytes () const
  {
    guint64 total = 0;
    for (auto &b : bytes_)
      total += b.load ();
    return total;
  }
  int receiving () const
  {
    int n = 0;
    for (auto &f : frames_)
      n += f.load () > 0;
    return n;
  }

 private:
  struct Slot
  {
    Viewers *self;
    int index;
  };
  static void on_pad_added (GstElement *bin, GstPad *pad, gpointer data)
  {
    auto *slot = static_cast<Slot *> (data);
    GstElement *sink = gst_element_factory_make ("fakesink", nullptr);
    g_object_set (sink, "sync", FALSE, "async", FALSE, nullptr);
    GstBin *parent = GST_BIN (gst_element_get_parent (bin));
    gst_bin_add (parent, sink);
    gst_object_unref (parent);
    gst_element_sync_state_with_parent (sink);
    g_autoptr (GstPad) sink_pad = gst_element_get_static_pad (sink, "sink");
    g_autofree gchar *kind = nullptr;
    g_object_get (pad, "kind", &kind, nullptr);
    if (g_strcmp0 (kind, "video") == 0) {
      gst_pad_add_probe (
          sink_pad, GST_PAD_PROBE_TYPE_BUFFER,
          [] (GstPad *, GstPadProbeInfo *info, gpointer d) {
            auto *s = static_cast<Slot *> (d);
            s->self->frames_[s->index].fetch_add (1);
            s->self->bytes_[s->index].fetch_add (
                gst_buffer_get_size (GST_PAD_PROBE_INFO_BUFFER (info)));
            return GST_PAD_PROBE_OK;
          },
          new Slot (*slot),
          [] (gpointer d) { delete static_cast<Slot *> (d); });
    }
    gst_pad_link (pad, sink_pad);
  }

  std::string hub_url_;
  bool per_viewer_;
  int added_ = 0;
  GstElement *pipeline_;
  std::vector<std::atomic<guint64>> frames_;
  std::vector<std::atomic<guint64>> bytes_;
};

struct Row
{
  std::string mode;
  int n = 0;
  double sender_cores = 0;
  double viewer_cores = 0; /* the load generator (this process) */
  double idle_cores = 0;   /* the machine's idle share over the window */
  double min_pct = 0, median_pct = 0;
  double mbps = 0; /* video received per viewer */
  int receiving = 0;
  double feeder_cores = 0; /* janus: the process that encodes its feed */
  std::string info = "-";  /* janus: its version; one word */
  bool skipped = false;
  std::string skip_reason; /* when skipped; else the usual one */
  std::string error;

  /* Every viewer got at least 95 % of the frames: the point is usable
   * for costs, the machine kept up. */
  bool served () const
  {
    return error.empty () && !skipped && receiving == n && min_pct >= 95;
  }
};

void
spin (double seconds)
{
  double end = now_s () + seconds;
  while (now_s () < end)
    g_main_context_iteration (nullptr, FALSE), g_usleep (10000);
}

/* Every mode's picture, as gst-launch words. */
std::string
raw_video (const Options &o)
{
  /* Moving SMPTE bars with their noise patch: vp8enc sends close to its
   * 2 Mbit/s target at 720p (a bouncing ball comes out near 0.2). */
  return "videotestsrc is-live=true pattern=smpte horizontal-speed=8 "
         "! video/x-raw,width="
         + std::to_string (o.width) + ",height=" + std::to_string (o.height)
         + ",framerate=30/1 ";
}

std::string
sender_pipeline (const Options &o, const std::string &hub_url, int n,
                 const std::string &mode)
{
  const bool per_viewer = mode == "per-viewer";
  std::string pattern = raw_video (o);
  /* shared and per-viewer: one encoder (to the sink, to each sink);
   * ladder: the default video-renditions, an encoder per rendition. */
  std::string sink_props = " hub-url=" + hub_url + " video-bitrate="
                           + std::to_string (o.bitrate) + " stats-interval=0"
                           + (mode == "ladder" ? "" : " video-renditions=\"\"")
                           + " " + o.sink_props;
  if (!per_viewer)
    return pattern + "! signalrtcsink username=cam" + sink_props;
  std::string line = pattern + "! tee name=t ";
  for (int i = 0; i < n; i++)
    line += "t. ! queue leaky=downstream max-size-buffers=2 "
            "! signalrtcsink username=cam"
            + std::to_string (i) + sink_props + " ";
  return line;
}

/* The N viewers join, receive, steady; then the window: @sender's (and
 * @feeder's, if any) CPU and the frames each viewer got. @V: Viewers or
 * JanusViewers. */
template <typename V>
void
watch (const Options &o, int n, V &viewers, GPid sender, GPid feeder, Row &row)
{
  /* Viewers join ten at a time, as an audience does, not all in one
   * millisecond: a hundred DTLS handshakes at once are a different
   * benchmark (setup), and starve the calls already up. */
  while (viewers.added () < n) {
    viewers.add (10);
    spin (0.5);
  }
  /* Every viewer receiving... */
  double deadline = now_s () + 30 + n * 0.5;
  while (viewers.receiving () < n && now_s () < deadline)
    spin (0.2);
  row.receiving = viewers.receiving ();
  /* ...then steady: the calls' setup (DTLS handshakes, key frames) costs
   * CPU, and a sender that fell behind catches up with a burst of frames
   * that would count twice in the window. Wait (at most 15 s) until a
   * second delivers what a second should, within 5 %. */
  const double target = 30.0 * n;
  for (int i = 0; i < 15; i++) {
    auto a = viewers.frames ();
    double t = now_s ();
    spin (1);
    auto b = viewers.frames ();
    double got = 0;
    for (int v = 0; v < n; v++)
      got += (double)(b[v] - a[v]);
    got /= now_s () - t;
    if (i >= 2 && got > target * 0.95 && got < target * 1.05)
      break;
  }
  /* The ladder: every call starts at 640x360 (half its first estimate)
   * and climbs 8 %/s; its 720p encoder runs only once a call takes it.
   * Wait (at most 30 s) until a second brings each viewer 720p's worth. */
  if (row.mode == "ladder") {
    const double top_mbps = 1.8;
    double mbps = 0;
    for (int i = 0; i < 30; i++) {
      guint64 b0 = viewers.total_bytes ();
      double t = now_s ();
      spin (1);
      mbps = (double)(viewers.total_bytes () - b0) * 8 / (now_s () - t) / n
             / 1e6;
      if (mbps >= top_mbps)
        break;
    }
    if (mbps < top_mbps)
      row.info = "below-720p";
  }
  auto before = viewers.frames ();
  guint64 bytes0 = viewers.total_bytes ();
  double cpu0 = cpu_seconds (sender), own0 = own_cpu_seconds ();
  double feed0 = feeder ? cpu_seconds (feeder) : 0;
  double idle0 = idle_seconds (), t0 = now_s ();
  spin (o.seconds);
  double cpu1 = cpu_seconds (sender), own1 = own_cpu_seconds ();
  double feed1 = feeder ? cpu_seconds (feeder) : 0;
  double idle1 = idle_seconds (), t1 = now_s ();
  auto after = viewers.frames ();
  row.mbps
      = (double)(viewers.total_bytes () - bytes0) * 8 / (t1 - t0) / n / 1e6;
  row.sender_cores = (cpu1 - cpu0) / (t1 - t0);
  row.feeder_cores = (feed1 - feed0) / (t1 - t0);
  row.viewer_cores = (own1 - own0) / (t1 - t0);
  row.idle_cores = (idle1 - idle0) / (t1 - t0);
  std::vector<double> pct;
  const double expected = 30.0 * (t1 - t0);
  for (int i = 0; i < n; i++)
    pct.push_back (100.0 * (double)(after[i] - before[i]) / expected);
  std::sort (pct.begin (), pct.end ());
  row.min_pct = pct.front ();
  row.median_pct = pct[pct.size () / 2];
}

/* The janus point: the veth, Janus, its feeder (this program with --feed),
 * then the viewers. Everything it starts goes with its destructors, or
 * with the point's process group. */
Row
measure_janus (const Options &o, int n)
{
  Row row{"janus", n};
  g_autoptr (GError) error = nullptr;
  JanusVeth veth;
  if (!veth.up (&error)) {
    row.error = std::string ("no veth for Janus's ICE: ") + error->message;
    return row;
  }
  JanusServer janus (o.janus_audio);
  if (!janus.start (&error)) {
    row.error = error->message;
    return row;
  }
  row.info = janus.version ();
  const JanusPorts &p = janus.ports ();
  Sender feeder (std::vector<std::string>{
      "/proc/self/exe", "--size",
      std::to_string (o.width) + "x" + std::to_string (o.height), "--bitrate",
      std::to_string (o.bitrate), "--janus-audio", o.janus_audio ? "yes" : "no",
      "--feed",
      std::to_string (p.video) + ":" + std::to_string (p.video_rtcp) + ":"
          + std::to_string (p.audio)});
  /* As long as the shared sender gets, and its first RTCP report reaches
   * Janus (a viewer's first PLI finds its way back only then). */
  spin (2.5);
  if (!feeder.pid ()) {
    row.error = "the feeder did not start";
    return row;
  }
  JanusViewers viewers (janus.url (), n);
  if (!viewers.play ()) {
    row.error = "viewers did not start";
    return row;
  }
  watch (o, n, viewers, janus.pid (), feeder.pid (), row);
  if (row.receiving < n && !viewers.first_error ().empty ())
    row.error = "a viewer failed: " + viewers.first_error ();
  return row;
}

Row
measure (const Options &o, const std::string &mode, int n)
{
  if (mode == "janus")
    return measure_janus (o, n);
  Row row{mode, n};
  HubProcess hub;
  g_autoptr (GError) error = nullptr;
  if (!hub.start (0, &error)) {
    row.error = error->message;
    return row;
  }
  const bool per_viewer = mode == "per-viewer";
  Sender sender (sender_pipeline (o, hub.url (), n, mode));
  spin (1.5);
  Viewers viewers (hub.url (), n, per_viewer);
  if (!viewers.play ()) {
    row.error = "viewers did not start";
    return row;
  }
  watch (o, n, viewers, sender.pid (), 0, row);
  return row;
}

/* A point's row on one line, for the parent: the error (free text) last. */
void
print_row (const Row &r)
{
  printf ("ROW %s %d %.6f %.6f %.6f %.4f %.4f %.6f %d %.6f %s %s\n",
          r.mode.c_str (), r.n, r.sender_cores, r.viewer_cores, r.idle_cores,
          r.min_pct, r.median_pct, r.mbps, r.receiving, r.feeder_cores,
          r.info.c_str (), r.error.c_str ());
  fflush (stdout);
}

bool
parse_row (const std::string &line, Row *r)
{
  char mode[32], info[64];
  int consumed = 0;
  if (sscanf (line.c_str (),
              "ROW %31s %d %lf %lf %lf %lf %lf %lf %d %lf %63s %n", mode, &r->n,
              &r->sender_cores, &r->viewer_cores, &r->idle_cores, &r->min_pct,
              &r->median_pct, &r->mbps, &r->receiving, &r->feeder_cores, info,
              &consumed)
          < 11
      || consumed == 0)
    return false;
  r->mode = mode;
  r->info = info;
  r->error = line.substr (consumed);
  return true;
}

/* How long a point may take: joining, every viewer receiving (30 s + 0.5 s
 * a viewer), steadying (15 s), the window, and a margin for tearing down;
 * janus also starts (10 s at most) and so does its feeder. */
int
point_deadline_s (const Options &o, const std::string &mode, int n)
{
  if (o.point_timeout > 0)
    return o.point_timeout;
  return 60 + n + 15 + o.seconds + 30 + (mode == "janus" ? 15 : 0);
}

/* Runs one point in a child (this program with --point MODE N and the same
 * options), in a process group of its own so that the hub and the sender
 * it starts go with it. Its row, or one saying it did not end in time. */
Row
run_point (char **argv, const Options &o, const std::string &mode, int n)
{
  Row row{mode, n};
  std::vector<std::string> args{"/proc/self/exe"};
  for (char **a = argv + 1; *a; a++)
    args.push_back (*a);
  args.push_back ("--point");
  args.push_back (mode + ":" + std::to_string (n));
  std::vector<const char *> child_argv;
  for (auto &a : args)
    child_argv.push_back (a.c_str ());
  child_argv.push_back (nullptr);

  g_autoptr (GSubprocessLauncher) launcher
      = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_child_setup (
      launcher, [] (gpointer) { setpgid (0, 0); }, nullptr, nullptr);
  g_autoptr (GError) error = nullptr;
  g_autoptr (GSubprocess) child
      = g_subprocess_launcher_spawnv (launcher, child_argv.data (), &error);
  if (!child) {
    row.error = std::string ("cannot start the point: ") + error->message;
    return row;
  }
  const GPid pid = (GPid)atoi (g_subprocess_get_identifier (child));
  GInputStream *out = g_subprocess_get_stdout_pipe (child);
  g_autoptr (GDataInputStream) lines = g_data_input_stream_new (out);
  const int deadline = point_deadline_s (o, mode, n);
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  GSource *timer = g_timeout_source_new_seconds (deadline);
  g_source_set_callback (
      timer,
      [] (gpointer c) -> gboolean {
        g_cancellable_cancel (G_CANCELLABLE (c));
        return G_SOURCE_REMOVE;
      },
      cancel, nullptr);
  /* The timer needs a context that runs while the read blocks: its own
   * thread's. */
  GMainContext *context = g_main_context_new ();
  g_source_attach (timer, context);
  std::atomic<bool> reading{true};
  std::thread clock ([&] {
    while (reading.load ())
      g_main_context_iteration (context, TRUE);
  });
  bool got = false;
  for (;;) {
    g_autofree char *line
        = g_data_input_stream_read_line_utf8 (lines, nullptr, cancel, nullptr);
    if (!line)
      break;
    if (parse_row (line, &row)) {
      got = true;
      break;
    }
  }
  reading = false;
  g_source_destroy (timer);
  g_source_unref (timer);
  g_main_context_wakeup (context);
  clock.join ();
  g_main_context_unref (context);
  /* Row or not, the point is over: its group goes (the child, its hub, its
   * sender), without waiting for a hundred calls to hang up. */
  kill (-pid, SIGKILL);
  g_subprocess_wait (child, nullptr, nullptr);
  if (!got) {
    row = Row{mode, n};
    row.error = "did not end within " + std::to_string (deadline)
                + " s; killed with its hub and sender";
  }
  return row;
}

/* Sender cores per viewer from @a to @b. */
double
slope (const Row &a, const Row &b)
{
  return (b.sender_cores - a.sender_cores) / (b.n - a.n);
}

/* What one more viewer costs the sender in @mode: the slope between its
 * smallest and largest N where every viewer was served (a saturated
 * machine says nothing about cost). -1 when there are not two such points. */
double
marginal_cost (const std::vector<Row> &rows, const std::string &mode,
               int *from = nullptr, int *to = nullptr)
{
  const Row *a = nullptr, *b = nullptr;
  for (const auto &r : rows) {
    if (r.mode != mode || !r.served ())
      continue;
    if (!a)
      a = &r;
    b = &r;
  }
  if (!a || !b || b->n <= a->n)
    return -1;
  if (from)
    *from = a->n;
  if (to)
    *to = b->n;
  return slope (*a, *b);
}

/* What one more viewer costs in modes @a and @b over the same viewers:
 * slopes from the smallest to the largest N served in both. FALSE when
 * there are not two such N. */
bool
marginal_costs_alike (const std::vector<Row> &rows, const std::string &a,
                      const std::string &b, double *cost_a, double *cost_b,
                      int *from, int *to)
{
  auto served = [&] (const std::string &mode, int n) -> const Row * {
    for (const auto &r : rows)
      if (r.mode == mode && r.n == n && r.served ())
        return &r;
    return nullptr;
  };
  const Row *a0 = nullptr, *a1 = nullptr, *b0 = nullptr, *b1 = nullptr;
  for (const auto &r : rows) {
    const Row *other = r.mode == a && r.served () ? served (b, r.n) : nullptr;
    if (!other)
      continue;
    if (!a0 || r.n < a0->n)
      a0 = &r, b0 = other;
    if (!a1 || r.n > a1->n)
      a1 = &r, b1 = other;
  }
  if (!a0 || a1->n <= a0->n)
    return false;
  *cost_a = slope (*a0, *a1);
  *cost_b = slope (*b0, *b1);
  *from = a0->n;
  *to = a1->n;
  return true;
}

}  // namespace

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  Options o;
  std::string point; /* MODE:N: run that one point, print its row */
  std::string feed;  /* V:VR:A: be a janus point's feeder */
  bool modes_given = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string key = argv[i], value = argv[i + 1];
    if (key == "--viewers") {
      o.viewers.clear ();
      std::istringstream list (value);
      for (std::string v; std::getline (list, v, ',');)
        o.viewers.push_back (std::stoi (v));
    } else if (key == "--seconds") {
      o.seconds = std::stoi (value);
    } else if (key == "--size") {
      sscanf (value.c_str (), "%dx%d", &o.width, &o.height);
    } else if (key == "--bitrate") {
      o.bitrate = std::stoi (value);
    } else if (key == "--point-timeout") {
      o.point_timeout = std::stoi (value);
    } else if (key == "--sink-props") {
      o.sink_props = value;
    } else if (key == "--point") {
      point = value;
    } else if (key == "--feed") {
      feed = value;
    } else if (key == "--janus-audio") {
      o.janus_audio = value != "no";
    } else if (key == "--modes") {
      modes_given = true;
      o.modes.clear ();
      std::istringstream list (value);
      for (std::string v; std::getline (list, v, ',');)
        o.modes.push_back (v);
    } else {
      g_printerr ("usage: bench-fanout [--viewers 1,5,25] [--seconds 10] "
                  "[--size 1280x720] [--bitrate 2000000] "
                  "[--modes shared,ladder,per-viewer,janus] "
                  "[--janus-audio yes|no] "
                  "[--point-timeout S] [--sink-props 'PROP=VALUE ...']\n");
      return 2;
    }
  }
  if (!feed.empty ()) {
    /* A janus point's feeder, until the point kills it. */
    JanusPorts ports;
    sscanf (feed.c_str (), "%u:%u:%u", &ports.video, &ports.video_rtcp,
            &ports.audio);
    return signalrtc::bench::run_janus_feeder (raw_video (o), o.bitrate,
                                               o.janus_audio, ports);
  }
  const bool janus_installed = !signalrtc::bench::janus_binary ().empty ();
  if (!modes_given && janus_installed)
    o.modes.push_back ("janus");
  if (HubProcess::binary ().empty ()) {
    g_printerr ("bench-fanout: set SIGNALRTC_HUB (the wrapper does)\n");
    return 2;
  }

  if (!point.empty ()) {
    /* A child: the one point, its row, and out at once (the parent kills
     * what is left: tearing down every call is not the benchmark). */
    const auto colon = point.find (':');
    print_row (measure (o, point.substr (0, colon),
                        std::stoi (point.substr (colon + 1))));
    _exit (0);
  }

  std::vector<Row> rows;
  for (const auto &mode : o.modes) {
    if (mode == "janus" && !janus_installed) {
      g_printerr ("# janus: not run: janus is not installed (no janus on "
                  "PATH nor /usr/bin/janus; scripts/deps installs Debian's)\n");
      for (int n : o.viewers) {
        Row r{mode, n};
        r.skipped = true;
        r.skip_reason = "janus is not installed";
        rows.push_back (r);
      }
      continue;
    }
    int saturated_at = 0;
    for (int n : o.viewers) {
      Row r{mode, n};
      if (saturated_at) {
        /* More than a saturated machine ran already: nothing to learn,
         * minutes to lose. */
        r.skipped = true;
        rows.push_back (r);
        continue;
      }
      r = run_point (argv, o, mode, n);
      /* Killed or not, the point leaves the namespace as it found it:
       * loopback alone, for the next point of any mode. */
      if (mode == "janus")
        JanusVeth::remove ();
      char feeder[32] = "";
      if (mode == "janus")
        snprintf (feeder, sizeof feeder, " (feeder %.2f)", r.feeder_cores);
      g_printerr ("# %s N=%d: sender %.2f cores%s, viewers %.2f, idle %.2f, "
                  "frames min %.0f%% median %.0f%%, %d/%d receiving %s\n",
                  mode.c_str (), n, r.sender_cores, feeder, r.viewer_cores,
                  r.idle_cores, r.min_pct, r.median_pct, r.receiving, n,
                  r.error.c_str ());
      /* Per viewer, a point not served means more encoders than the
       * machine runs; in either mode, a point that did not end at all. */
      if ((mode == "per-viewer" && !r.served ()) || !r.error.empty ())
        saturated_at = n;
      rows.push_back (r);
    }
  }

  printf ("\nsignalrtcsink fan-out: %dx%d 30 fps VP8 at %.1f Mbit/s, viewers "
          "depayload without decoding; CPU in cores over %d s windows "
          "(this machine: %ld cores)\n\n",
          o.width, o.height, o.bitrate / 1e6, o.seconds,
          sysconf (_SC_NPROCESSORS_ONLN));
  printf ("| viewers | mode | sender CPU | marginal per viewer | frames "
          "delivered (min / median) | video per viewer | receiving | viewers' "
          "CPU (load generator) | machine idle |\n"
          "|---|---|---|---|---|---|---|---|---|\n");
  for (const auto &mode : o.modes) {
    const Row *first = nullptr;
    for (const auto &r : rows) {
      if (r.mode != mode)
        continue;
      if (r.skipped) {
        printf ("| %d | %s | not run: %s | | | | | | |\n", r.n, r.mode.c_str (),
                r.skip_reason.empty ()
                    ? "a smaller N saturated the machine or did not end"
                    : r.skip_reason.c_str ());
        continue;
      }
      if (!r.error.empty ()) {
        printf ("| %d | %s | failed: %s | | | | | | |\n", r.n, r.mode.c_str (),
                r.error.c_str ());
        continue;
      }
      char marginal[32] = "";
      if (first && r.n > first->n)
        snprintf (marginal, sizeof marginal, "%.4f%s", slope (*first, r),
                  r.served () ? "" : " (saturated)");
      printf ("| %d | %s | %.3f | %s | %.0f%% / %.0f%% | %.2f Mbit/s | %d/%d "
              "| %.3f | %.2f |\n",
              r.n, r.mode.c_str (), r.sender_cores, marginal, r.min_pct,
              r.median_pct, r.mbps, r.receiving, r.n, r.viewer_cores,
              r.idle_cores);
      if (!first && r.served ())
        first = &r;
    }
  }

  auto ran = [&] (const char *mode) {
    return std::find (o.modes.begin (), o.modes.end (), mode) != o.modes.end ();
  };
  /* What the janus rows' sender is, and what its feed cost. */
  std::string feeders, version;
  for (const auto &r : rows) {
    if (r.mode != "janus" || r.skipped || !r.error.empty ())
      continue;
    char one[64];
    snprintf (one, sizeof one, "%s%.3f at N = %d", feeders.empty () ? "" : ", ",
              r.feeder_cores, r.n);
    feeders += one;
    version = r.info;
  }
  if (!feeders.empty ())
    printf ("\njanus: \"sender CPU\" is the janus process (Janus %s, "
            "streaming plugin, HTTP API, ICE on 127.0.0.2 of a veth), fed "
            "%s RTP by a process of its own; that feeder (the encode) took, "
            "in cores: %s\n",
            version.c_str (), o.janus_audio ? "VP8 + Opus" : "VP8",
            feeders.c_str ());

  /* The ratio the issue asks for, over served points only. */
  int sf = 0, st = 0, pf = 0, pt = 0;
  double shared = marginal_cost (rows, "shared", &sf, &st);
  double per = marginal_cost (rows, "per-viewer", &pf, &pt);
  printf ("\n");
  if (shared > 0 && per > 0)
    printf ("marginal viewer: shared encoder %.4f cores (N %d to %d), one "
            "encoder per viewer %.4f cores (N %d to %d): ratio %.3f (1/%.0f)\n",
            shared, sf, st, per, pf, pt, shared / per, per / shared);
  else if (ran ("per-viewer"))
    printf ("marginal viewer: not enough served points to compare "
            "(shared %.4f, per-viewer %.4f)\n",
            shared, per);
  /* The anchor: no more per viewer than Janus, in the same run and over
   * the same N. */
  double mine = 0, theirs = 0;
  int jf = 0, jt = 0;
  if (ran ("janus") && ran ("shared")) {
    /* Bytes cost too: the shared sender's rate follows its estimate (up
     * to max-bitrate), the feeder's stays at --bitrate. */
    auto mbps_at = [&] (const char *mode, int n) {
      for (const auto &r : rows)
        if (r.mode == mode && r.n == n)
          return r.mbps;
      return 0.0;
    };
    if (marginal_costs_alike (rows, "shared", "janus", &mine, &theirs, &jf,
                              &jt))
      printf ("marginal viewer against Janus (this run, N %d to %d served in "
              "both): shared encoder %.4f cores, Janus %.4f cores: ratio "
              "%.3f (target <= 1: %s); video per viewer at N %d: shared "
              "%.2f, Janus %.2f Mbit/s%s\n",
              jf, jt, mine, theirs, theirs > 0 ? mine / theirs : 0.0,
              mine <= 0 || theirs <= 0 ? "a slope <= 0 is noise, not a cost"
              : mine <= theirs         ? "met"
                                       : "not met",
              jt, mbps_at ("shared", jt), mbps_at ("janus", jt),
              o.janus_audio ? "; Janus also forwards Opus, the shared sender "
                              "sends video only"
                            : "");
    else
      printf ("marginal viewer against Janus: not enough N served in both "
              "modes to compare\n");
  }
  /* The ladder's encode against one encode: both at N = 1. */
  const Row *one = nullptr, *ladder = nullptr;
  for (const auto &r : rows) {
    if (r.n == 1 && r.served () && r.mode == "shared")
      one = &r;
    if (r.n == 1 && r.served () && r.mode == "ladder")
      ladder = &r;
  }
  if (one && ladder && one->sender_cores > 0)
    printf ("ladder encode against one 720p encode, both with one viewer "
            "(%s; 360p is not encoded while no call takes it, 180p always "
            "is): %.3f against %.3f cores: ratio %.2f (target <= 1.5)\n",
            ladder->info == "below-720p"
                ? "the viewer never reached 720p: 360p and 180p encoded"
                : "the viewer at 720p: 720p and 180p encoded",
            ladder->sender_cores, one->sender_cores,
            ladder->sender_cores / one->sender_cores);
  if (ran ("ladder")) {
    int lf = 0, lt = 0;
    const double marginal = marginal_cost (rows, "ladder", &lf, &lt);
    if (marginal > 0 && one)
      printf ("marginal viewer with the ladder: %.4f cores (N %d to %d), "
              "1/%.0f of one 720p encode\n",
              marginal, lf, lt, one->sender_cores / marginal);
  }
  int most = 0;
  for (const auto &r : rows)
    if (r.mode == "shared" && r.served ())
      most = std::max (most, r.n);
  printf ("most viewers served by one shared encoder (every viewer >= 95 %% of "
          "the frames): %d\n",
          most);
  return 0;
}
