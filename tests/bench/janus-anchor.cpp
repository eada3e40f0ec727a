/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "janus-anchor.h"

#define GST_USE_UNSTABLE_API
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>
#include <glib/gstdio.h>
#include <nice/agent.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <utility>

namespace signalrtc::bench {

namespace {

/* signalrtcbin's default jitterbuffer latency, as the other modes'
 * viewers have it. */
constexpr guint kViewerLatencyMs = 200;
/* Janus ends a session it has not heard of for 60 s. */
constexpr guint kKeepaliveS = 25;
constexpr guint kStartTimeoutMs = 10000;

bool
inside_isolated ()
{
  return g_strcmp0 (g_getenv ("SIGNALRTC_ISOLATED"), "1") == 0;
}

/* Runs `ip ARGS...` (scripts/isolated puts /usr/sbin on PATH); its stdout
 * in @out. */
bool
run_ip (const std::vector<std::string> &args, std::string *out, GError **error)
{
  std::vector<const char *> argv{"ip"};
  std::string line = "ip";
  for (const auto &a : args) {
    argv.push_back (a.c_str ());
    line += " " + a;
  }
  argv.push_back (nullptr);
  g_autofree gchar *stdout_text = nullptr, *stderr_text = nullptr;
  gint status = 0;
  if (!g_spawn_sync (nullptr, (gchar **)argv.data (), nullptr,
                     G_SPAWN_SEARCH_PATH, nullptr, nullptr, &stdout_text,
                     &stderr_text, &status, error))
    return false;
  if (!g_spawn_check_wait_status (status, nullptr)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", line.c_str (),
                 stderr_text ? g_strstrip (stderr_text) : "");
    return false;
  }
  if (out)
    *out = stdout_text ? stdout_text : "";
  return true;
}

/* @count distinct ports of @type on 127.0.0.1 that were free a moment
 * ago: all bound at once, then let go. Empty on failure. */
std::vector<guint>
free_ports (GSocketType type, int count)
{
  std::vector<guint> ports;
  std::vector<std::unique_ptr<GSocket, decltype (&g_object_unref)>> held;
  g_autoptr (GInetAddress) loopback
      = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  for (int i = 0; i < count; i++) {
    GSocket *socket = g_socket_new (G_SOCKET_FAMILY_IPV4, type,
                                    G_SOCKET_PROTOCOL_DEFAULT, nullptr);
    if (!socket)
      break;
    held.emplace_back (socket, g_object_unref);
    if (!g_socket_bind (socket, any, FALSE, nullptr))
      break;
    g_autoptr (GSocketAddress) bound
        = g_socket_get_local_address (socket, nullptr);
    if (!bound)
      break;
    ports.push_back (
        g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  }
  if ((int)ports.size () != count)
    ports.clear ();
  return ports;
}

/* Where the janus package keeps its plugins and transports (Debian:
 * /usr/lib/<multiarch>/janus), "" if nowhere we know. */
std::string
janus_lib_dir ()
{
  std::vector<std::string> candidates;
  if (g_autoptr (GDir) lib = g_dir_open ("/usr/lib", 0, nullptr)) {
    while (const gchar *name = g_dir_read_name (lib))
      candidates.push_back (std::string ("/usr/lib/") + name + "/janus");
  }
  for (const char *dir :
       {"/usr/lib/janus", "/usr/local/lib/janus", "/opt/janus/lib/janus"})
    candidates.push_back (dir);
  for (const auto &dir : candidates) {
    if (g_file_test ((dir + "/plugins/libjanus_streaming.so").c_str (),
                     G_FILE_TEST_EXISTS)
        && g_file_test ((dir + "/transports/libjanus_http.so").c_str (),
                        G_FILE_TEST_EXISTS))
      return dir;
  }
  return "";
}

/* Removes @path and what is under it (our temporary directory only). */
void
remove_tree (const std::string &path)
{
  if (g_file_test (path.c_str (), G_FILE_TEST_IS_DIR)
      && !g_file_test (path.c_str (), G_FILE_TEST_IS_SYMLINK)) {
    if (g_autoptr (GDir) dir = g_dir_open (path.c_str (), 0, nullptr)) {
      while (const gchar *name = g_dir_read_name (dir))
        remove_tree (path + "/" + name);
    }
  }
  g_remove (path.c_str ());
}

/* janus.jcfg: folders of our own, holding only the streaming plugin and
 * the HTTP transport (no event handler, no logger); ICE on 127.0.0.2
 * alone, and that address in the SDP; no STUN, TURN or 1:1 NAT (none is
 * set); warnings only, in janus.log. */
constexpr const char *kJanusJcfg = R"(general: {
  configs_folder = "@DIR@"
  plugins_folder = "@DIR@/plugins"
  transports_folder = "@DIR@/transports"
  events_folder = "@DIR@/none"
  loggers_folder = "@DIR@/none"
  interface = "@ADDRESS@"
  debug_level = 3
  debug_colors = false
}
nat: {
  ice_enforce_list = "@ADDRESS@"
}
)";

/* The Janus API over plain HTTP on 127.0.0.1; no admin API. */
constexpr const char *kHttpJcfg = R"(general: {
  json = "compact"
  base_path = "/janus"
  http = true
  port = @PORT@
  ip = "127.0.0.1"
  https = false
}
admin: {
  admin_http = false
  admin_https = false
}
)";

/* One RTP mountpoint: VP8 pt 96, with RTCP both ways (Janus forwards the
 * viewers' PLIs to the feeder), and Opus pt 111 (or no audio). */
constexpr const char *kStreamingJcfg = R"(general: {
  events = false
}
bench: {
  type = "rtp"
  id = @ID@
  description = "bench-fanout"
  video = true
  videoport = @VIDEO@
  videortcpport = @RTCP@
  videoiface = "127.0.0.1"
  videopt = 96
  videocodec = "vp8"
@AUDIO@
}
)";
constexpr const char *kAudio = R"(  audio = true
  audioport = @PORT@
  audioiface = "127.0.0.1"
  audiopt = 111
  audiocodec = "opus"
)";

/* @text with each key of @values replaced by its value. */
std::string
fill (std::string text,
      const std::vector<std::pair<std::string, std::string>> &values)
{
  for (const auto &[key, value] : values) {
    for (size_t at = text.find (key); at != std::string::npos;
         at = text.find (key, at + value.size ()))
      text.replace (at, key.size (), value);
  }
  return text;
}

/* The reply to a Janus request, parsed; nullptr (with @error) when it is
 * not a JSON object. */
JsonObject *
parse_object (GBytes *body, std::string *error)
{
  gsize size = 0;
  const char *data = static_cast<const char *> (g_bytes_get_data (body, &size));
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) parse_error = nullptr;
  if (!json_parser_load_from_data (parser, data, (gssize)size, &parse_error)) {
    *error = std::string ("not JSON: ") + parse_error->message;
    return nullptr;
  }
  JsonNode *root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root)) {
    *error = "not a JSON object";
    return nullptr;
  }
  return json_object_ref (json_node_get_object (root));
}

/* The member @name of @object if it is an object, else nullptr. */
JsonObject *
object_member (JsonObject *object, const char *name)
{
  JsonNode *node = object ? json_object_get_member (object, name) : nullptr;
  return node && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node)
                                               : nullptr;
}

const char *
string_member (JsonObject *object, const char *name, const char *fallback)
{
  JsonNode *node = object ? json_object_get_member (object, name) : nullptr;
  return node && JSON_NODE_HOLDS_VALUE (node)
                 && json_node_get_value_type (node) == G_TYPE_STRING
             ? json_node_get_string (node)
             : fallback;
}

std::string
to_json (JsonObject *object)
{
  g_autoptr (JsonNode) node
      = json_node_init_object (json_node_alloc (), object);
  g_autofree gchar *text = json_to_string (node, FALSE);
  return text;
}

/* {"janus": @verb}; the caller adds the rest. */
JsonObject *
janus_request (const char *verb)
{
  JsonObject *o = json_object_new ();
  json_object_set_string_member (o, "janus", verb);
  return o;
}

struct JsonObjectUnref
{
  void operator() (JsonObject *o) const { json_object_unref (o); }
};
using JsonObjectPtr = std::unique_ptr<JsonObject, JsonObjectUnref>;

}  // namespace

std::string
janus_binary ()
{
  g_autofree gchar *found = g_find_program_in_path ("janus");
  if (found)
    return found;
  if (g_file_test ("/usr/bin/janus", G_FILE_TEST_IS_EXECUTABLE))
    return "/usr/bin/janus";
  return "";
}

/* ---- JanusVeth ---------------------------------------------------------- */

JanusVeth::~JanusVeth ()
{
  if (made_)
    remove ();
}

bool
JanusVeth::up (GError **error)
{
  if (!inside_isolated ()) {
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                         "the janus mode adds a veth to its network "
                         "namespace: it runs only inside scripts/isolated");
    return false;
  }
  std::string shown;
  if (run_ip ({"-o", "-4", "addr", "show", "dev", kName}, &shown, nullptr)
      && shown.find (std::string (" ") + kAddress + "/") != std::string::npos)
    return true;
  /* Half made by a point that was killed: start again. */
  remove ();
  if (!run_ip ({"link", "add", kName, "type", "veth", "peer", "name", kPeer},
               nullptr, error))
    return false;
  made_ = true;
  if (!run_ip ({"addr", "add", std::string (kAddress) + "/32", "dev", kName},
               nullptr, error)
      || !run_ip ({"link", "set", kName, "up"}, nullptr, error)
      || !run_ip ({"link", "set", kPeer, "up"}, nullptr, error))
    return false;
  /* Janus takes only interfaces that are up and running (IFF_RUNNING:
   * carrier, once both ends are up). */
  for (int i = 0; i < 40; i++) {
    if (run_ip ({"-o", "link", "show", "dev", kName}, &shown, nullptr)
        && shown.find ("LOWER_UP") != std::string::npos)
      return true;
    g_usleep (50000);
  }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
               "%s has no carrier 2 s after it came up", kName);
  return false;
}

void
JanusVeth::remove ()
{
  if (!inside_isolated ())
    return;
  std::string shown;
  if (run_ip ({"-o", "link", "show", "dev", kName}, &shown, nullptr))
    run_ip ({"link", "del", kName}, nullptr, nullptr);
}

/* ---- JanusServer -------------------------------------------------------- */

JanusServer::JanusServer (bool audio) : audio_ (audio) {}

JanusServer::~JanusServer ()
{
  if (process_) {
    /* By its PID; nothing of its state is kept. */
    g_subprocess_force_exit (process_);
    g_subprocess_wait (process_, nullptr, nullptr);
    g_object_unref (process_);
  }
  if (!dir_.empty ())
    remove_tree (dir_);
}

GPid
JanusServer::pid () const
{
  const char *id = process_ ? g_subprocess_get_identifier (process_) : nullptr;
  return id ? (GPid)atoi (id) : 0;
}

std::string
JanusServer::url () const
{
  return "http://127.0.0.1:" + std::to_string (ports_.http) + "/janus";
}

/* The last lines of its log, on one line: they say why it stopped. */
std::string
JanusServer::log_tail () const
{
  g_autofree gchar *text = nullptr;
  if (!g_file_get_contents ((dir_ + "/janus.log").c_str (), &text, nullptr,
                            nullptr))
    return "(no log)";
  g_auto (GStrv) lines = g_strsplit (g_strstrip (text), "\n", -1);
  const guint n = g_strv_length (lines);
  std::string tail;
  for (guint i = n > 3 ? n - 3 : 0; i < n; i++)
    tail += std::string (tail.empty () ? "" : " / ") + lines[i];
  return tail.empty () ? "(empty log)" : tail;
}

/* The smallest configuration that does the job (kJanusJcfg, kHttpJcfg,
 * kStreamingJcfg), in dir_. */
bool
JanusServer::write_config (GError **error)
{
  const std::string lib = janus_lib_dir ();
  if (lib.empty ()) {
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                         "cannot find janus's libjanus_streaming.so and "
                         "libjanus_http.so");
    return false;
  }
  for (const char *sub : {"/plugins", "/transports", "/none"}) {
    if (g_mkdir (((dir_ + sub).c_str ()), 0700) != 0) {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   "cannot make %s%s: %s", dir_.c_str (), sub,
                   g_strerror (errno));
      return false;
    }
  }
  /* Janus loads every *.so of its folders: these hold one each. */
  for (const char *so :
       {"/plugins/libjanus_streaming.so", "/transports/libjanus_http.so"}) {
    if (symlink ((lib + so).c_str (), (dir_ + so).c_str ()) != 0) {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   "cannot link %s%s: %s", dir_.c_str (), so,
                   g_strerror (errno));
      return false;
    }
  }

  const std::string audio
      = audio_ ? fill (kAudio, {{"@PORT@", std::to_string (ports_.audio)}})
               : "  audio = false\n";
  const std::pair<const char *, std::string> files[] = {
      {"janus.jcfg", fill (kJanusJcfg, {{"@DIR@", dir_},
                                        {"@ADDRESS@", JanusVeth::kAddress}})},
      {"janus.transport.http.jcfg",
       fill (kHttpJcfg, {{"@PORT@", std::to_string (ports_.http)}})},
      {"janus.plugin.streaming.jcfg",
       fill (kStreamingJcfg, {{"@ID@", std::to_string (kMountpoint)},
                              {"@VIDEO@", std::to_string (ports_.video)},
                              {"@RTCP@", std::to_string (ports_.video_rtcp)},
                              {"@AUDIO@\n", audio}})},
  };
  for (const auto &[name, text] : files) {
    if (!g_file_set_contents ((dir_ + "/" + name).c_str (), text.c_str (), -1,
                              error))
      return false;
  }
  return true;
}

bool
JanusServer::start (GError **error)
{
  const std::string binary = janus_binary ();
  if (binary.empty ()) {
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                         "janus is not installed");
    return false;
  }
  g_autofree gchar *dir = g_dir_make_tmp ("bench-fanout-janus-XXXXXX", error);
  if (!dir)
    return false;
  dir_ = dir;
  const auto tcp = free_ports (G_SOCKET_TYPE_STREAM, 1);
  const auto udp = free_ports (G_SOCKET_TYPE_DATAGRAM, 3);
  if (tcp.empty () || udp.empty ()) {
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                         "no free port on 127.0.0.1");
    return false;
  }
  ports_ = {tcp[0], udp[0], udp[1], udp[2]};
  if (!write_config (error))
    return false;

  g_autoptr (GSubprocessLauncher) launcher
      = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_set_stdout_file_path (launcher,
                                              (dir_ + "/janus.log").c_str ());
  const char *argv[]
      = {binary.c_str (), "--configs-folder", dir_.c_str (), nullptr};
  process_ = g_subprocess_launcher_spawnv (launcher, argv, error);
  if (!process_)
    return false;

  /* Ready when its API answers. */
  g_autoptr (SoupSession) session = soup_session_new ();
  soup_session_set_proxy_resolver (session, nullptr);
  const gint64 deadline
      = g_get_monotonic_time () + (gint64)kStartTimeoutMs * 1000;
  JsonObjectPtr info (janus_request ("info"));
  json_object_set_string_member (info.get (), "transaction", "info");
  const std::string body = to_json (info.get ());
  while (g_get_monotonic_time () < deadline) {
    if (g_subprocess_get_identifier (process_) == nullptr) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "janus exited at start: %s", log_tail ().c_str ());
      return false;
    }
    g_autoptr (SoupMessage) msg = soup_message_new ("POST", url ().c_str ());
    g_autoptr (GBytes) bytes = g_bytes_new (body.data (), body.size ());
    soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
    g_autoptr (GBytes) reply
        = soup_session_send_and_read (session, msg, nullptr, nullptr);
    std::string parse_error;
    JsonObjectPtr object (reply && soup_message_get_status (msg) == 200
                              ? parse_object (reply, &parse_error)
                              : nullptr);
    if (object
        && g_strcmp0 (string_member (object.get (), "janus", ""), "server_info")
               == 0) {
      version_ = string_member (object.get (), "version_string", "?");
      return true;
    }
    g_usleep (100000);
  }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
               "janus's API did not answer within %u s: %s",
               kStartTimeoutMs / 1000, log_tail ().c_str ());
  return false;
}

/* ---- The feeder --------------------------------------------------------- */

int
run_janus_feeder (const std::string &raw_video, int bitrate, bool audio,
                  const JanusPorts &ports)
{
  const std::string to = " host=127.0.0.1 sync=false async=false port=";
  std::string line
      = "rtpbin name=rtpbin " + raw_video
        + " ! videoconvert ! vp8enc name=venc "
          "! rtpvp8pay pt=96 picture-id-mode=15-bit ! rtpbin.send_rtp_sink_0 "
          "rtpbin.send_rtp_src_0 ! udpsink"
        + to + std::to_string (ports.video)
        + " rtpbin.send_rtcp_src_0 ! udpsink name=rtcp-out" + to
        + std::to_string (ports.video_rtcp)
        + " udpsrc name=rtcp-in caps=application/x-rtcp "
          "! rtpbin.recv_rtcp_sink_0 ";
  if (audio)
    line += "audiotestsrc is-live=true ! audioconvert ! audioresample "
            "! opusenc name=aenc ! rtpopuspay pt=111 ! udpsink"
            + to + std::to_string (ports.audio);
  g_autoptr (GError) error = nullptr;
  g_autoptr (GstElement) pipeline = gst_parse_launch (line.c_str (), &error);
  if (!pipeline) {
    g_printerr ("bench-fanout feeder: %s\n", error->message);
    return 1;
  }
  gst_object_ref_sink (pipeline); /* parse-launch's is floating */
  /* As gst/signalrtc/send-input.cpp video_encoder () sets signalrtcsink's
   * single encoder. */
  g_autoptr (GstElement) venc
      = gst_bin_get_by_name (GST_BIN (pipeline), "venc");
  g_object_set (venc, "deadline", (gint64)1, "lag-in-frames", 0,
                "keyframe-max-dist", 3000, "cpu-used", 4, "target-bitrate",
                bitrate, "buffer-size", 1000, "buffer-initial-size", 500,
                "buffer-optimal-size", 600, "overshoot", 15, nullptr);
  gst_util_set_object_arg (G_OBJECT (venc), "end-usage", "cbr");
  gst_util_set_object_arg (G_OBJECT (venc), "error-resilient", "default");
  if (audio) {
    /* As its encoder_chain () sets Opus. */
    g_autoptr (GstElement) aenc
        = gst_bin_get_by_name (GST_BIN (pipeline), "aenc");
    g_object_set (aenc, "perfect-timestamp", TRUE, "inband-fec", TRUE, nullptr);
    gst_util_set_object_arg (G_OBJECT (aenc), "audio-type", "voice");
  }

  /* RTCP out and in on one socket: Janus sends its PLIs back to where the
   * feeder's reports came from. */
  g_autoptr (GSocket) rtcp
      = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                      G_SOCKET_PROTOCOL_UDP, &error);
  g_autoptr (GInetAddress) loopback
      = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  if (!rtcp || !g_socket_bind (rtcp, any, FALSE, &error)) {
    g_printerr ("bench-fanout feeder: RTCP socket: %s\n", error->message);
    return 1;
  }
  for (const char *name : {"rtcp-in", "rtcp-out"}) {
    g_autoptr (GstElement) e = gst_bin_get_by_name (GST_BIN (pipeline), name);
    g_object_set (e, "socket", rtcp, "close-socket", FALSE, nullptr);
  }

  if (gst_element_set_state (pipeline, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE) {
    g_printerr ("bench-fanout feeder: cannot play\n");
    return 1;
  }
  g_autoptr (GstBus) bus = gst_element_get_bus (pipeline);
  g_autoptr (GstMessage) msg = gst_bus_timed_pop_filtered (
      bus, GST_CLOCK_TIME_NONE,
      (GstMessageType)(GST_MESSAGE_ERROR | GST_MESSAGE_EOS));
  if (msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    g_autoptr (GError) e = nullptr;
    gst_message_parse_error (msg, &e, nullptr);
    g_printerr ("bench-fanout feeder: %s\n", e->message);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  return 1;
}

/* ---- JanusViewer -------------------------------------------------------- */

/* One viewer: its webrtcbin and its Janus session. Everything but the
 * webrtcbin callbacks runs on the main context (this process's default,
 * which the bench iterates); those hop to it, holding only a weak
 * reference. */
class JanusViewer : public std::enable_shared_from_this<JanusViewer>
{
 public:
  JanusViewer (JanusViewers *owner, int index)
      : owner_ (owner), index_ (index), cancel_ (g_cancellable_new ())
  {}
  ~JanusViewer () { g_object_unref (cancel_); }
  JanusViewer (const JanusViewer &) = delete;
  JanusViewer &operator= (const JanusViewer &) = delete;

  void start ();
  /* Cancels what is under way; the owner stops the pipeline next. */
  void stop ();
  const std::string &error () const { return error_; }

 private:
  using Reply = std::function<void (JanusViewer &, JsonObject *)>;
  struct Request
  {
    std::weak_ptr<JanusViewer> viewer;
    std::string what;
    SoupMessage *msg; /* a reference */
    Reply reply;
  };
  /* What webrtcbin's promise callbacks need, without the viewer. */
  struct Negotiation
  {
    std::weak_ptr<JanusViewer> viewer;
    GstElement *webrtc; /* a reference */
  };
  struct Slot
  {
    JanusViewers *owner;
    int index;
  };

  void request (const char *method, const std::string &path, JsonObject *body,
                const std::string &what, Reply reply);
  static void on_reply (GObject *source, GAsyncResult *result, gpointer data);
  void fail (const std::string &what);
  void hop (std::function<void (JanusViewer &)> fn);
  void poll ();
  void set_offer (const char *sdp);
  void send_answer (const std::string &sdp);
  void send_candidate (guint mline, const std::string &candidate);
  void send_completed ();
  std::string session_path () const { return "/" + std::to_string (session_); }
  std::string handle_path () const
  {
    return session_path () + "/" + std::to_string (handle_);
  }

  static void on_remote_set (GstPromise *promise, gpointer data);
  static void on_answer (GstPromise *promise, gpointer data);
  static void on_pad_added (GstElement *webrtc, GstPad *pad, gpointer data);

  JanusViewers *owner_;
  int index_;
  GCancellable *cancel_;
  GstElement *webrtc_ = nullptr; /* the pipeline's */
  guint64 session_ = 0, handle_ = 0;
  guint keepalive_ = 0;
  guint transaction_ = 0;
  bool answered_ = false; /* "start" acknowledged: trickle now */
  bool gathered_ = false;
  bool offered_ = false;
  std::vector<std::pair<guint, std::string>> candidates_; /* until then */
  std::string error_;
};

void
JanusViewer::request (const char *method, const std::string &path,
                      JsonObject *body, const std::string &what, Reply reply)
{
  JsonObjectPtr owned (body);
  std::string url = owner_->url_ + path;
  SoupMessage *msg = soup_message_new (method, url.c_str ());
  if (body) {
    g_autofree gchar *id = g_strdup_printf ("v%d-%u", index_, ++transaction_);
    json_object_set_string_member (body, "transaction", id);
    std::string text = to_json (body);
    g_autoptr (GBytes) bytes = g_bytes_new (text.data (), text.size ());
    soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
  }
  auto *r = new Request{weak_from_this (), what, msg, std::move (reply)};
  soup_session_send_and_read_async (owner_->session_, msg, G_PRIORITY_DEFAULT,
                                    cancel_, on_reply, r);
}

void
JanusViewer::on_reply (GObject *source, GAsyncResult *result, gpointer data)
{
  std::unique_ptr<Request> r (static_cast<Request *> (data));
  g_autoptr (SoupMessage) msg = r->msg;
  g_autoptr (GError) error = nullptr;
  g_autoptr (GBytes) body = soup_session_send_and_read_finish (
      SOUP_SESSION (source), result, &error);
  auto self = r->viewer.lock ();
  if (!self || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (!body) {
    self->fail (r->what + ": " + error->message);
    return;
  }
  const guint status = soup_message_get_status (msg);
  if (!SOUP_STATUS_IS_SUCCESSFUL (status)) {
    self->fail (r->what + ": HTTP " + std::to_string (status));
    return;
  }
  std::string parse_error;
  JsonObjectPtr reply (parse_object (body, &parse_error));
  if (!reply) {
    self->fail (r->what + ": " + parse_error);
    return;
  }
  if (g_strcmp0 (string_member (reply.get (), "janus", ""), "error") == 0) {
    self->fail (r->what + ": "
                + string_member (object_member (reply.get (), "error"),
                                 "reason", "error"));
    return;
  }
  r->reply (*self, reply.get ());
}

void
JanusViewer::fail (const std::string &what)
{
  if (!error_.empty ())
    return;
  error_ = what;
  g_printerr ("bench-fanout: janus viewer %d: %s\n", index_, what.c_str ());
}

void
JanusViewer::hop (std::function<void (JanusViewer &)> fn)
{
  struct Hop
  {
    std::weak_ptr<JanusViewer> viewer;
    std::function<void (JanusViewer &)> fn;
  };
  g_main_context_invoke_full (
      nullptr, G_PRIORITY_DEFAULT,
      [] (gpointer data) -> gboolean {
        auto *h = static_cast<Hop *> (data);
        if (auto self = h->viewer.lock ())
          h->fn (*self);
        return G_SOURCE_REMOVE;
      },
      new Hop{weak_from_this (), std::move (fn)},
      [] (gpointer data) { delete static_cast<Hop *> (data); });
}

void
JanusViewer::start ()
{
  g_autofree gchar *name = g_strdup_printf ("janus-viewer%d", index_);
  webrtc_ = gst_element_factory_make ("webrtcbin", name);
  if (!webrtc_) {
    fail ("no webrtcbin (gstreamer1.0-plugins-bad, gstreamer1.0-nice)");
    return;
  }
  gst_util_set_object_arg (G_OBJECT (webrtc_), "bundle-policy", "max-bundle");
  g_object_set (webrtc_, "latency", kViewerLatencyMs, nullptr);
  /* ICE on 127.0.0.2 alone, where Janus is (as PeerSession's
   * local-addresses does); no UPnP discovery. */
  GstWebRTCICE *ice = nullptr;
  g_object_get (webrtc_, "ice-agent", &ice, nullptr);
  if (ice) {
    NiceAgent *agent = nullptr;
    if (g_object_class_find_property (G_OBJECT_GET_CLASS (ice), "agent"))
      g_object_get (ice, "agent", &agent, nullptr);
    if (agent) {
      g_object_set (agent, "upnp", FALSE, nullptr);
      NiceAddress address;
      nice_address_init (&address);
      if (nice_address_set_from_string (&address, JanusVeth::kAddress))
        nice_agent_add_local_address (agent, &address);
      g_object_unref (agent);
    }
    gst_object_unref (ice);
  }

  auto *slot = new Slot{owner_, index_};
  g_signal_connect_data (
      webrtc_, "pad-added", G_CALLBACK (on_pad_added), slot,
      [] (gpointer data, GClosure *) { delete static_cast<Slot *> (data); },
      (GConnectFlags)0);
  using Weak = std::weak_ptr<JanusViewer>;
  auto weak_notify
      = [] (gpointer data, GClosure *) { delete static_cast<Weak *> (data); };
  g_signal_connect_data (
      webrtc_, "on-ice-candidate",
      G_CALLBACK (
          +[] (GstElement *, guint mline, gchar *candidate, gpointer data) {
            if (auto self = static_cast<Weak *> (data)->lock ())
              self->hop ([mline, c = std::string (candidate)] (JanusViewer &v) {
                v.send_candidate (mline, c);
              });
          }),
      new Weak (weak_from_this ()), weak_notify, (GConnectFlags)0);
  g_signal_connect_data (
      webrtc_, "notify::ice-gathering-state",
      G_CALLBACK (+[] (GstElement *webrtc, GParamSpec *, gpointer data) {
        GstWebRTCICEGatheringState state;
        g_object_get (webrtc, "ice-gathering-state", &state, nullptr);
        if (state != GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
          return;
        if (auto self = static_cast<Weak *> (data)->lock ())
          self->hop ([] (JanusViewer &v) { v.send_completed (); });
      }),
      new Weak (weak_from_this ()), weak_notify, (GConnectFlags)0);
  gst_bin_add (GST_BIN (owner_->pipeline_), webrtc_);
  gst_element_sync_state_with_parent (webrtc_);

  /* A session, the streaming plugin, "watch"; the offer comes on the
   * session's long poll. */
  request (
      "POST", "", janus_request ("create"), "create",
      [] (JanusViewer &v, JsonObject *reply) {
        JsonObject *data = object_member (reply, "data");
        v.session_ = data ? json_object_get_int_member (data, "id") : 0;
        v.keepalive_ = g_timeout_add_seconds_full (
            G_PRIORITY_DEFAULT, kKeepaliveS,
            [] (gpointer data) -> gboolean {
              auto self = static_cast<Weak *> (data)->lock ();
              if (!self)
                return G_SOURCE_REMOVE;
              self->request ("POST", self->session_path (),
                             janus_request ("keepalive"), "keepalive",
                             [] (JanusViewer &, JsonObject *) {});
              return G_SOURCE_CONTINUE;
            },
            new Weak (v.weak_from_this ()),
            [] (gpointer data) { delete static_cast<Weak *> (data); });
        JsonObject *attach = janus_request ("attach");
        json_object_set_string_member (attach, "plugin",
                                       "janus.plugin.streaming");
        v.request (
            "POST", v.session_path (), attach, "attach",
            [] (JanusViewer &v, JsonObject *reply) {
              JsonObject *data = object_member (reply, "data");
              v.handle_ = data ? json_object_get_int_member (data, "id") : 0;
              JsonObject *watch = janus_request ("message");
              JsonObject *body = json_object_new ();
              json_object_set_string_member (body, "request", "watch");
              json_object_set_int_member (body, "id", JanusServer::kMountpoint);
              json_object_set_object_member (watch, "body", body);
              v.request ("POST", v.handle_path (), watch, "watch",
                         [] (JanusViewer &, JsonObject *) {});
              v.poll ();
            });
      });
}

void
JanusViewer::stop ()
{
  g_cancellable_cancel (cancel_);
  if (keepalive_) {
    g_source_remove (keepalive_);
    keepalive_ = 0;
  }
}

/* Janus's long poll: one event (or a keepalive after 30 s) a request,
 * until the one carrying the offer. */
void
JanusViewer::poll ()
{
  request ("GET", session_path () + "?maxev=1", nullptr, "poll",
           [] (JanusViewer &v, JsonObject *reply) {
             JsonObject *data
                 = object_member (object_member (reply, "plugindata"), "data");
             const char *error = string_member (data, "error", nullptr);
             if (error) {
               v.fail (std::string ("watch: ") + error);
               return;
             }
             JsonObject *jsep = object_member (reply, "jsep");
             if (jsep
                 && g_strcmp0 (string_member (jsep, "type", ""), "offer")
                        == 0) {
               v.set_offer (string_member (jsep, "sdp", ""));
               return;
             }
             v.poll ();
           });
}

void
JanusViewer::set_offer (const char *sdp)
{
  if (offered_)
    return;
  offered_ = true;
  GstSDPMessage *message = nullptr;
  if (gst_sdp_message_new_from_text (sdp, &message) != GST_SDP_OK) {
    fail ("Janus's offer is no SDP");
    return;
  }
  GstWebRTCSessionDescription *offer
      = gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_OFFER, message);
  GstPromise *promise = gst_promise_new_with_change_func (
      on_remote_set,
      new Negotiation{weak_from_this (),
                      GST_ELEMENT (gst_object_ref (webrtc_))},
      [] (gpointer data) {
        auto *n = static_cast<Negotiation *> (data);
        gst_object_unref (n->webrtc);
        delete n;
      });
  g_signal_emit_by_name (webrtc_, "set-remote-description", offer, promise);
  gst_webrtc_session_description_free (offer);
}

/* webrtcbin's thread: the offer is set; answer it. */
void
JanusViewer::on_remote_set (GstPromise *promise, gpointer data)
{
  auto *n = static_cast<Negotiation *> (data);
  gst_promise_unref (promise);
  GstPromise *answer = gst_promise_new_with_change_func (
      on_answer,
      new Negotiation{n->viewer, GST_ELEMENT (gst_object_ref (n->webrtc))},
      [] (gpointer data) {
        auto *n = static_cast<Negotiation *> (data);
        gst_object_unref (n->webrtc);
        delete n;
      });
  g_signal_emit_by_name (n->webrtc, "create-answer", nullptr, answer);
}

/* webrtcbin's thread: the answer is made; set it, send it. */
void
JanusViewer::on_answer (GstPromise *promise, gpointer data)
{
  auto *n = static_cast<Negotiation *> (data);
  GstWebRTCSessionDescription *answer = nullptr;
  const GstStructure *reply = gst_promise_get_reply (promise);
  if (reply)
    gst_structure_get (reply, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION,
                       &answer, nullptr);
  gst_promise_unref (promise);
  auto self = n->viewer.lock ();
  if (!self) {
    if (answer)
      gst_webrtc_session_description_free (answer);
    return;
  }
  if (!answer) {
    self->hop ([] (JanusViewer &v) { v.fail ("webrtcbin made no answer"); });
    return;
  }
  g_signal_emit_by_name (n->webrtc, "set-local-description", answer, nullptr);
  g_autofree gchar *sdp = gst_sdp_message_as_text (answer->sdp);
  gst_webrtc_session_description_free (answer);
  self->hop ([s = std::string (sdp)] (JanusViewer &v) { v.send_answer (s); });
}

void
JanusViewer::send_answer (const std::string &sdp)
{
  JsonObject *start = janus_request ("message");
  JsonObject *body = json_object_new ();
  json_object_set_string_member (body, "request", "start");
  json_object_set_object_member (start, "body", body);
  JsonObject *jsep = json_object_new ();
  json_object_set_string_member (jsep, "type", "answer");
  json_object_set_string_member (jsep, "sdp", sdp.c_str ());
  json_object_set_object_member (start, "jsep", jsep);
  request ("POST", handle_path (), start, "start",
           [] (JanusViewer &v, JsonObject *) {
             v.answered_ = true;
             for (const auto &[mline, candidate] : v.candidates_)
               v.send_candidate (mline, candidate);
             v.candidates_.clear ();
             if (v.gathered_)
               v.send_completed ();
           });
}

void
JanusViewer::send_candidate (guint mline, const std::string &candidate)
{
  if (!answered_) {
    candidates_.emplace_back (mline, candidate);
    return;
  }
  JsonObject *trickle = janus_request ("trickle");
  JsonObject *c = json_object_new ();
  json_object_set_string_member (c, "candidate", candidate.c_str ());
  json_object_set_int_member (c, "sdpMLineIndex", mline);
  json_object_set_object_member (trickle, "candidate", c);
  request ("POST", handle_path (), trickle, "trickle",
           [] (JanusViewer &, JsonObject *) {});
}

void
JanusViewer::send_completed ()
{
  gathered_ = true;
  if (!answered_)
    return;
  JsonObject *trickle = janus_request ("trickle");
  JsonObject *c = json_object_new ();
  json_object_set_boolean_member (c, "completed", TRUE);
  json_object_set_object_member (trickle, "candidate", c);
  request ("POST", handle_path (), trickle, "trickle",
           [] (JanusViewer &, JsonObject *) {});
}

/* A streaming thread: a track arrived. Video is depayloaded (waiting for a
 * key frame and asking for one, as signalrtcbin decode=false does) and its
 * frames counted at a fakesink; audio is depayloaded and dropped. */
void
JanusViewer::on_pad_added (GstElement *webrtc, GstPad *pad, gpointer data)
{
  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  auto *slot = static_cast<Slot *> (data);
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);
  const GstStructure *s = caps && !gst_caps_is_empty (caps)
                              ? gst_caps_get_structure (caps, 0)
                              : nullptr;
  const char *encoding
      = s ? gst_structure_get_string (s, "encoding-name") : nullptr;
  const bool video = g_strcmp0 (encoding, "VP8") == 0;
  GstElement *depay = nullptr;
  if (video) {
    depay = gst_element_factory_make ("rtpvp8depay", nullptr);
    g_object_set (depay, "request-keyframe", TRUE, "wait-for-keyframe", TRUE,
                  nullptr);
  } else if (g_strcmp0 (encoding, "OPUS") == 0) {
    depay = gst_element_factory_make ("rtpopusdepay", nullptr);
  }
  GstElement *sink = gst_element_factory_make ("fakesink", nullptr);
  g_object_set (sink, "sync", FALSE, "async", FALSE, nullptr);
  GstBin *parent = GST_BIN (gst_element_get_parent (webrtc));
  gst_bin_add (parent, sink);
  if (depay)
    gst_bin_add (parent, depay);
  gst_object_unref (parent);
  gst_element_sync_state_with_parent (sink);
  if (depay) {
    gst_element_sync_state_with_parent (depay);
    gst_element_link (depay, sink);
  }
  g_autoptr (GstPad) sink_pad = gst_element_get_static_pad (sink, "sink");
  if (video)
    gst_pad_add_probe (
        sink_pad, GST_PAD_PROBE_TYPE_BUFFER,
        [] (GstPad *, GstPadProbeInfo *info, gpointer d) {
          auto *s = static_cast<Slot *> (d);
          s->owner->frames_[s->index].fetch_add (1);
          s->owner->bytes_[s->index].fetch_add (
              gst_buffer_get_size (GST_PAD_PROBE_INFO_BUFFER (info)));
          return GST_PAD_PROBE_OK;
        },
        new Slot (*slot), [] (gpointer d) { delete static_cast<Slot *> (d); });
  g_autoptr (GstPad) first = depay ? gst_element_get_static_pad (depay, "sink")
                                   : GST_PAD (gst_object_ref (sink_pad));
  gst_pad_link (pad, first);
}

/* ---- JanusViewers ------------------------------------------------------- */

JanusViewers::JanusViewers (const std::string &url, int n)
    : url_ (url), pipeline_ (gst_pipeline_new ("janus-viewers")),
      session_ (soup_session_new_with_options (
          "max-conns", 4 * n + 16, "max-conns-per-host", 4 * n + 16, nullptr)),
      frames_ (n), bytes_ (n)
{
  /* Janus is on 127.0.0.1; no proxy however the environment says. */
  soup_session_set_proxy_resolver (session_, nullptr);
  for (auto &f : frames_)
    f.store (0);
  for (auto &b : bytes_)
    b.store (0);
}

JanusViewers::~JanusViewers ()
{
  for (auto &v : viewers_)
    v->stop ();
  gst_element_set_state (pipeline_, GST_STATE_NULL);
  gst_object_unref (pipeline_);
  viewers_.clear ();
  g_object_unref (session_);
}

bool
JanusViewers::play ()
{
  return gst_element_set_state (pipeline_, GST_STATE_PLAYING)
         != GST_STATE_CHANGE_FAILURE;
}

void
JanusViewers::add (int count)
{
  for (; count > 0 && added () < (int)frames_.size (); count--) {
    auto viewer = std::make_shared<JanusViewer> (this, added ());
    viewers_.push_back (viewer);
    viewer->start ();
  }
}

std::vector<guint64>
JanusViewers::frames () const
{
  std::vector<guint64> out;
  for (auto &f : frames_)
    out.push_back (f.load ());
  return out;
}

guint64
JanusViewers::total_bytes () const
{
  guint64 total = 0;
  for (auto &b : bytes_)
    total += b.load ();
  return total;
}

int
JanusViewers::receiving () const
{
  int n = 0;
  for (auto &f : frames_)
    n += f.load () > 0;
  return n;
}

std::string
JanusViewers::first_error () const
{
  for (const auto &v : viewers_) {
    if (!v->error ().empty ())
      return v->error ();
  }
  return "";
}

}  // namespace signalrtc::bench
