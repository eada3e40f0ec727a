/* bench-latency: how long a frame takes from capture to the picture at
 * the other end of one signalrtc call, for several receiver `latency`
 * (jitterbuffer) settings.
 *
 *   tests/bench/run-latency-bench [--latencies 200,100,50,20,0] [--seconds 10]
 *                                 [--warm-up 3] [--bitrate 2000000]
 *                                 [--no-sync] [--stock-clocksync]
 *                                 [--frames FILE] [--self-test]
 *
 * One process, two pipelines, one clock. The sender is a live 1280x720
 * 30 fps moving test pattern into signalrtcsink "cam" (VP8 at --bitrate,
 * the element's own encoder settings); the receiver is a signalrtcbin
 * (decode=true) that calls "cam", its video through a queue into a
 * fakesink that behaves like a video sink (sync, QoS, frames more than
 * 20 ms late dropped). Both run in this process so that every time here
 * is g_get_monotonic_time () (CLOCK_MONOTONIC, which GStreamer's system
 * clock, the clock of both pipelines, reads too) and both sides' probes
 * fill one table keyed by frame number, with no exchange between
 * processes. Two processes would measure the same on one machine: the
 * encoder and the decoder have their own streaming threads either way.
 *
 * Each frame carries its own stamp (frame number and capture time) in the
 * picture: a probe on videotestsrc's src pad writes it into the luma right
 * after capture; probes read it back on the receiver, out of signalrtcbin
 * (decoded) and when the sink renders it (shown). See "The stamp" below;
 * --self-test checks it round-trips, raw and through VP8. Probes on the
 * elements in between (the encoder, the payloader, the receiver's
 * jitterbuffer and depayloader, found as they are added) follow each frame
 * by its PTS and RTP timestamp to split the delay into stages.
 *
 * Why both decoded and shown: rtpjitterbuffer passes packets that come in
 * order straight through; `latency` is how long it waits for a missing
 * one, and how much later than its arrival a frame is scheduled: a
 * syncing sink renders it at its PTS plus the pipeline latency (the
 * jitterbuffer's plus the sink's 20 ms processing deadline). So `latency`
 * hardly moves the decoded figure on a clean loopback; it moves what a
 * viewer sees, and too little of it makes the sink drop late frames.
 *
 * For each latency setting: a fresh call (a new receiver, so a new
 * webrtcbin on both sides; the hub and the sender stay), a warm-up, then
 * a window of --seconds in which every captured frame is followed. "Plays
 * smoothly": at least 99 % of the frames captured in the window shown and
 * no stall (two shown frames more than two frame intervals, 66.7 ms,
 * apart). The lowest setting that plays smoothly is printed as tuned.
 *
 * --no-sync: the sink renders frames as they come (shown = decoded).
 * --stock-clocksync: a comparison, not a setting of the elements: turns
 * back on the clock sync webrtcbin does before sending, which the plugin
 * turns off for live inputs (see on_element_added), to show what it cost.
 * --frames FILE: appends each frame's times (tab-separated).
 *
 * Runs inside scripts/isolated (the wrapper sees to it): all WebRTC is on
 * loopback. No figure here is asserted anywhere; the tables are the
 * output.
 */
#include "tests/integration/hub-process.h"

#include <gst/gst.h>
#include <gst/rtp/rtp.h>
#include <gst/video/video.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

using signalrtc::test::HubProcess;

constexpr int kFps = 30;
/* A gap between two decoded frames longer than this is a stall. */
constexpr gint64 kStallUs = 2 * G_USEC_PER_SEC / kFps;

struct Options
{
  std::vector<guint> latencies{200, 100, 50, 20, 0};
  int seconds = 10;
  int warm_up = 3;
  int bitrate = 2000000;
  bool sync = true;
  bool stock_clocksync = false;
  bool self_test = false;
  std::string frames_file; /* per-frame times, tab-separated */
};

/* The stamp ------------------------------------------------------------
 *
 * 64 bits, most significant first: a 24-bit frame number, the 32-bit
 * capture time in µs since the bench started, and a CRC-8 of those 56
 * bits. Each bit is a 16x16 block of luma, black (16) or white (235), in
 * rows of blocks from the top-left corner (one row of 64 blocks at 720p);
 * the chroma under the blocks is set neutral. The blocks sit on VP8's
 * 16x16 macroblock grid and are read back as the mean of their central
 * 8x8 pixels against the mid level, so lossy coding keeps them. A stamp
 * is only taken when its CRC holds and its frame number and time match
 * the frame the sender stamped. */
struct Stamp
{
  guint32 frame; /* 24 bits */
  guint32 time_us;
};

constexpr int kStampBits = 64;
constexpr int kBlock = 16;
constexpr guint8 kBlack = 16, kWhite = 235;

/* CRC-8 (polynomial 0x07) of the low @bytes bytes of @value. */
guint8
crc8 (guint64 value, int bytes)
{
  guint8 crc = 0;
  for (int i = bytes - 1; i >= 0; i--) {
    crc ^= (guint8)(value >> (8 * i));
    for (int b = 0; b < 8; b++)
      crc = (crc & 0x80) ? (guint8)((crc << 1) ^ 0x07) : (guint8)(crc << 1);
  }
  return crc;
}

guint64
stamp_to_bits (const Stamp &stamp)
{
  guint64 v = ((guint64)(stamp.frame & 0xffffff) << 32) | stamp.time_us;
  return (v << 8) | crc8 (v, 7);
}

std::optional<Stamp>
stamp_from_bits (guint64 bits)
{
  guint64 v = bits >> 8;
  if (crc8 (v, 7) != (guint8)(bits & 0xff))
    return std::nullopt;
  return Stamp{(guint32)(v >> 32), (guint32)v};
}

/* 8-bit YUV (or grey) with one byte per luma sample, large enough for
 * the 64 blocks. */
bool
stamp_fits (const GstVideoInfo *info)
{
  const GstVideoFormatInfo *f = info->finfo;
  if (!GST_VIDEO_FORMAT_INFO_IS_YUV (f) && !GST_VIDEO_FORMAT_INFO_IS_GRAY (f))
    return false;
  for (guint c = 0; c < GST_VIDEO_FORMAT_INFO_N_COMPONENTS (f); c++) {
    if (GST_VIDEO_FORMAT_INFO_DEPTH (f, c) != 8)
      return false;
  }
  if (GST_VIDEO_FORMAT_INFO_PSTRIDE (f, 0) != 1)
    return false;
  int per_row = GST_VIDEO_INFO_WIDTH (info) / kBlock;
  return per_row > 0
         && (kStampBits + per_row - 1) / per_row * kBlock
                <= GST_VIDEO_INFO_HEIGHT (info);
}

void
fill_block (GstVideoFrame *frame, int bx, int by, guint8 luma)
{
  const GstVideoFormatInfo *f = frame->info.finfo;
  for (guint c = 0; c < GST_VIDEO_FRAME_N_COMPONENTS (frame); c++) {
    const int x0 = GST_VIDEO_FORMAT_INFO_SCALE_WIDTH (f, c, bx * kBlock);
    const int x1 = GST_VIDEO_FORMAT_INFO_SCALE_WIDTH (f, c, (bx + 1) * kBlock);
    const int y0 = GST_VIDEO_FORMAT_INFO_SCALE_HEIGHT (f, c, by * kBlock);
    const int y1 = GST_VIDEO_FORMAT_INFO_SCALE_HEIGHT (f, c, (by + 1) * kBlock);
    auto *data = static_cast<guint8 *> (GST_VIDEO_FRAME_COMP_DATA (frame, c));
    const int stride = GST_VIDEO_FRAME_COMP_STRIDE (frame, c);
    const int pstride = GST_VIDEO_FRAME_COMP_PSTRIDE (frame, c);
    const guint8 value = c == 0 ? luma : 128;
    for (int y = y0; y < y1; y++) {
      for (int x = x0; x < x1; x++)
        data[y * stride + x * pstride] = value;
    }
  }
}

void
stamp_write (GstVideoFrame *frame, const Stamp &stamp)
{
  const int per_row = GST_VIDEO_FRAME_WIDTH (frame) / kBlock;
  const guint64 bits = stamp_to_bits (stamp);
  for (int i = 0; i < kStampBits; i++) {
    const bool one = (bits >> (kStampBits - 1 - i)) & 1;
    fill_block (frame, i % per_row, i / per_row, one ? kWhite : kBlack);
  }
}

std::optional<Stamp>
stamp_read (const GstVideoFrame *frame)
{
  const int per_row = GST_VIDEO_FRAME_WIDTH (frame) / kBlock;
  const auto *luma
      = static_cast<const guint8 *> (GST_VIDEO_FRAME_COMP_DATA (frame, 0));
  const int stride = GST_VIDEO_FRAME_COMP_STRIDE (frame, 0);
  guint64 bits = 0;
  for (int i = 0; i < kStampBits; i++) {
    const int x0 = (i % per_row) * kBlock + kBlock / 4;
    const int y0 = (i / per_row) * kBlock + kBlock / 4;
    int sum = 0;
    for (int y = y0; y < y0 + kBlock / 2; y++) {
      for (int x = x0; x < x0 + kBlock / 2; x++)
        sum += luma[y * stride + x];
    }
    const int mean = sum / (kBlock / 2 * kBlock / 2);
    bits = (bits << 1) | (mean > (kBlack + kWhite) / 2 ? 1u : 0u);
  }
  return stamp_from_bits (bits);
}

/* Where each frame was when -------------------------------------------- */

/* When one frame passed each point, in g_get_monotonic_time () µs; 0:
 * not seen there. */
struct FrameTimes
{
  gint64 captured = 0;
  gint64 queued = 0;   /* into vp8enc (after signalrtcsink's input queue) */
  gint64 encoded = 0;  /* out of vp8enc */
  gint64 paid = 0;     /* last RTP packet out of the sender's payloader */
  gint64 synced = 0;   /* ... out of webrtcbin's clocksync, to rtpbin */
  gint64 arrived = 0;  /* last RTP packet into the receiver's jitterbuffer */
  gint64 released = 0; /* last RTP packet out of the jitterbuffer */
  gint64 depaid = 0;   /* out of the depayloader (a whole VP8 frame) */
  gint64 decoded = 0;  /* out of signalrtcbin's src pad, stamp read back */
  gint64 shown = 0;    /* rendered by the syncing sink, stamp read back */
  gsize bytes = 0;     /* encoded size, at the depayloader */
  /* How long after its PTS (as running time on the sender's clock) the
   * frame left videotestsrc. */
  gint64 pts_lag = 0;

  /* The points above in the order a frame passes them: the stages are the
   * spans between neighbours. */
  static constexpr int kPoints = 10;
  std::array<gint64, kPoints> points () const
  {
    return {captured, queued,   encoded, paid,    synced,
            arrived,  released, depaid,  decoded, shown};
  }
};

/* Every frame of the run, indexed by frame number, and the keys that lead
 * to it: the sender's PTS, the RTP timestamp, the receiver's PTS. Written
 * by probes on streaming threads, hence the lock. */
struct Timeline
{
  std::mutex lock;
  const gint64 origin = g_get_monotonic_time ();
  std::vector<FrameTimes> frames;
  std::unordered_map<GstClockTime, guint32> by_sender_pts;
  std::unordered_map<guint32, guint32> by_rtp_time;
  std::unordered_map<GstClockTime, guint32> by_receiver_pts;
  guint64 unreadable = 0;     /* decoded frames without a valid stamp */
  bool stock_clocksync = false; /* --stock-clocksync */

  /* A new call: the receiver's keys start over. */
  void new_call ()
  {
    std::lock_guard<std::mutex> guard (lock);
    by_rtp_time.clear ();
    by_receiver_pts.clear ();
    unreadable = 0;
  }
  FrameTimes *find (const std::unordered_map<GstClockTime, guint32> &keys,
                    GstClockTime pts)
  {
    auto it = keys.find (pts);
    return it == keys.end () ? nullptr : &frames[it->second];
  }
};

void
set_first (gint64 &slot, gint64 now)
{
  if (!slot)
    slot = now;
}

void
set_last (gint64 &slot, gint64 now)
{
  slot = std::max (slot, now);
}

/* Calls @fn on the buffer, or on each buffer of the list, of @info. */
template <typename Fn>
void
for_each_buffer (GstPadProbeInfo *info, Fn fn)
{
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    fn (GST_PAD_PROBE_INFO_BUFFER (info));
  } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList *list = GST_PAD_PROBE_INFO_BUFFER_LIST (info);
    for (guint i = 0; i < gst_buffer_list_length (list); i++)
      fn (gst_buffer_list_get (list, i));
  }
}

std::optional<guint32>
rtp_time (GstBuffer *buffer)
{
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (!gst_rtp_buffer_map (buffer, GST_MAP_READ, &rtp))
    return std::nullopt;
  guint32 time = gst_rtp_buffer_get_timestamp (&rtp);
  gst_rtp_buffer_unmap (&rtp);
  return time;
}

constexpr auto kAnyBuffer = (GstPadProbeType)(GST_PAD_PROBE_TYPE_BUFFER
                                              | GST_PAD_PROBE_TYPE_BUFFER_LIST);

/* videotestsrc's src pad: capture. The buffer gets its stamp. */
GstPadProbeReturn
on_captured (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  auto *tl = static_cast<Timeline *> (data);
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);
  GstVideoInfo vinfo;
  if (!caps || !gst_video_info_from_caps (&vinfo, caps)
      || !stamp_fits (&vinfo)) {
    g_printerr ("bench-latency: cannot stamp %" GST_PTR_FORMAT "\n", caps);
    return GST_PAD_PROBE_OK;
  }
  GstBuffer *buffer
      = gst_buffer_make_writable (GST_PAD_PROBE_INFO_BUFFER (info));
  GST_PAD_PROBE_INFO_DATA (info) = buffer;
  GstVideoFrame frame;
  if (!gst_video_frame_map (&frame, &vinfo, buffer, GST_MAP_WRITE))
    return GST_PAD_PROBE_OK;
  const gint64 now = g_get_monotonic_time ();
  gint64 pts_lag = 0;
  GstElement *src = GST_PAD_PARENT (pad);
  if (g_autoptr (GstClock) clock = gst_element_get_clock (src))
    pts_lag = GST_CLOCK_DIFF (GST_BUFFER_PTS (buffer),
                              gst_clock_get_time (clock)
                                  - gst_element_get_base_time (src))
              / 1000;
  Stamp stamp;
  {
    std::lock_guard<std::mutex> guard (tl->lock);
    stamp = Stamp{(guint32)tl->frames.size (), (guint32)(now - tl->origin)};
    tl->frames.push_back (FrameTimes{});
    tl->frames.back ().captured = now;
    tl->frames.back ().pts_lag = pts_lag;
    tl->by_sender_pts[GST_BUFFER_PTS (buffer)] = stamp.frame;
  }
  stamp_write (&frame, stamp);
  gst_video_frame_unmap (&frame);
  return GST_PAD_PROBE_OK;
}

/* The frame whose stamp @buffer (with @caps) carries, or nullptr when it
 * has none or one the sender did not write. Called with the lock held. */
FrameTimes *
stamped_frame (Timeline *tl, GstCaps *caps, GstBuffer *buffer)
{
  GstVideoInfo vinfo;
  GstVideoFrame frame;
  if (!caps || !gst_video_info_from_caps (&vinfo, caps) || !stamp_fits (&vinfo)
      || !gst_video_frame_map (&frame, &vinfo, buffer, GST_MAP_READ))
    return nullptr;
  std::optional<Stamp> stamp = stamp_read (&frame);
  gst_video_frame_unmap (&frame);
  if (!stamp || stamp->frame >= tl->frames.size ()
      || (guint32)(tl->frames[stamp->frame].captured - tl->origin)
             != stamp->time_us)
    return nullptr;
  return &tl->frames[stamp->frame];
}

/* The receiver's decoded video (signalrtcbin's src pad): the stamp read
 * back. */
GstPadProbeReturn
on_decoded (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  const gint64 now = g_get_monotonic_time ();
  auto *tl = static_cast<Timeline *> (data);
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);
  std::lock_guard<std::mutex> guard (tl->lock);
  if (FrameTimes *f
      = stamped_frame (tl, caps, GST_PAD_PROBE_INFO_BUFFER (info)))
    set_first (f->decoded, now);
  else
    tl->unreadable++;
  return GST_PAD_PROBE_OK;
}

/* The receiver's sink renders a frame (fakesink's handoff comes after its
 * wait on the clock). */
void
on_shown (GstElement *, GstBuffer *buffer, GstPad *pad, gpointer data)
{
  const gint64 now = g_get_monotonic_time ();
  auto *tl = static_cast<Timeline *> (data);
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);
  std::lock_guard<std::mutex> guard (tl->lock);
  if (FrameTimes *f = stamped_frame (tl, caps, buffer))
    set_first (f->shown, now);
}

/* RTP packets of frames the sender sent: the time the last one passed
 * goes in @Slot. */
template <gint64 FrameTimes::*Slot>
GstPadProbeReturn
on_rtp (GstPad *, GstPadProbeInfo *info, gpointer data)
{
  const gint64 now = g_get_monotonic_time ();
  auto *tl = static_cast<Timeline *> (data);
  std::lock_guard<std::mutex> guard (tl->lock);
  for_each_buffer (info, [&] (GstBuffer *buffer) {
    auto time = rtp_time (buffer);
    auto it = time ? tl->by_rtp_time.find (*time) : tl->by_rtp_time.end ();
    if (it != tl->by_rtp_time.end ())
      set_last (tl->frames[it->second].*Slot, now);
  });
  return GST_PAD_PROBE_OK;
}

/* A sender's frame (raw or encoded, known by its PTS) passes: the time
 * goes in @Slot. */
template <gint64 FrameTimes::*Slot>
GstPadProbeReturn
on_sender_frame (GstPad *, GstPadProbeInfo *info, gpointer data)
{
  const gint64 now = g_get_monotonic_time ();
  auto *tl = static_cast<Timeline *> (data);
  std::lock_guard<std::mutex> guard (tl->lock);
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  if (FrameTimes *f = tl->find (tl->by_sender_pts, buffer->pts))
    set_first (f->*Slot, now);
  return GST_PAD_PROBE_OK;
}

/* Probes on the elements inside the bins, added as they appear: the
 * encoder, payloader and webrtcbin's clocksync of the sender, the
 * jitterbuffer and depayloader of the receiver. */
void
probe (GstElement *element, const char *pad_name, GstPadProbeType type,
       GstPadProbeCallback callback, Timeline *tl)
{
  g_autoptr (GstPad) pad = gst_element_get_static_pad (element, pad_name);
  if (pad)
    gst_pad_add_probe (pad, type, callback, tl, nullptr);
}

void
on_element_added (GstBin *, GstBin *, GstElement *element, gpointer data)
{
  auto *tl = static_cast<Timeline *> (data);
  GstElementFactory *factory = gst_element_get_factory (element);
  if (!factory)
    return;
  const std::string name = GST_OBJECT_NAME (factory);
  if (name == "clocksync") {
    /* webrtcbin (1.22) puts a clocksync with sync=true in front of its
     * rtpbin for each stream it sends: it holds every frame until its PTS
     * plus the latency upstream of it (the sender pipeline's, once the
     * application has it recomputed, as gst-launch does). The plugin turns
     * that off for live inputs (PeerSession::on_element_added, which runs
     * before this handler); --stock-clocksync turns it back on, to measure
     * what that wait costs. The clocksyncs inside dtlssrtpenc have
     * sync=false. */
    g_autoptr (GstObject) parent = gst_object_get_parent (GST_OBJECT (element));
    GstElementFactory *pf
        = parent ? gst_element_get_factory (GST_ELEMENT (parent)) : nullptr;
    if (!pf || !g_str_equal (GST_OBJECT_NAME (pf), "webrtcbin"))
      return;
    probe (element, "src", kAnyBuffer, on_rtp<&FrameTimes::synced>, tl);
    if (tl->stock_clocksync)
      g_object_set (element, "sync", TRUE, nullptr);
  } else if (name == "vp8enc") {
    probe (element, "sink", GST_PAD_PROBE_TYPE_BUFFER,
           on_sender_frame<&FrameTimes::queued>, tl);
    probe (element, "src", GST_PAD_PROBE_TYPE_BUFFER,
           on_sender_frame<&FrameTimes::encoded>, tl);
  } else if (name == "rtpvp8pay") {
    probe (
        element, "src", kAnyBuffer,
        [] (GstPad *, GstPadProbeInfo *info, gpointer d) {
          const gint64 now = g_get_monotonic_time ();
          auto *tl = static_cast<Timeline *> (d);
          std::lock_guard<std::mutex> guard (tl->lock);
          for_each_buffer (info, [&] (GstBuffer *buffer) {
            auto it = tl->by_sender_pts.find (buffer->pts);
            auto time = rtp_time (buffer);
            if (it == tl->by_sender_pts.end () || !time)
              return;
            tl->by_rtp_time[*time] = it->second;
            set_last (tl->frames[it->second].paid, now);
          });
          return GST_PAD_PROBE_OK;
        },
        tl);
  } else if (name == "rtpjitterbuffer") {
    probe (element, "sink", kAnyBuffer, on_rtp<&FrameTimes::arrived>, tl);
    probe (element, "src", kAnyBuffer, on_rtp<&FrameTimes::released>, tl);
  } else if (name == "rtpvp8depay") {
    probe (
        element, "sink", kAnyBuffer,
        [] (GstPad *, GstPadProbeInfo *info, gpointer d) {
          auto *tl = static_cast<Timeline *> (d);
          std::lock_guard<std::mutex> guard (tl->lock);
          for_each_buffer (info, [&] (GstBuffer *buffer) {
            auto time = rtp_time (buffer);
            auto it
                = time ? tl->by_rtp_time.find (*time) : tl->by_rtp_time.end ();
            if (it != tl->by_rtp_time.end ())
              tl->by_receiver_pts[buffer->pts] = it->second;
          });
          return GST_PAD_PROBE_OK;
        },
        tl);
    probe (
        element, "src", GST_PAD_PROBE_TYPE_BUFFER,
        [] (GstPad *, GstPadProbeInfo *info, gpointer d) {
          const gint64 now = g_get_monotonic_time ();
          auto *tl = static_cast<Timeline *> (d);
          std::lock_guard<std::mutex> guard (tl->lock);
          GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
          if (FrameTimes *f = tl->find (tl->by_receiver_pts, buffer->pts)) {
            set_first (f->depaid, now);
            f->bytes = gst_buffer_get_size (buffer);
          }
          return GST_PAD_PROBE_OK;
        },
        tl);
  }
}

/* Pipelines ------------------------------------------------------------ */

/* Serves the buses for @ms as gst-launch would: prints errors and
 * warnings, recomputes the latency when an element asks (the receiver's
 * jitterbuffer and decoder appear after PLAYING), drops the rest. */
void
spin (const std::vector<GstElement *> &pipelines, guint ms)
{
  const gint64 end = g_get_monotonic_time () + (gint64)ms * 1000;
  do {
    for (GstElement *p : pipelines) {
      g_autoptr (GstBus) bus = gst_element_get_bus (p);
      while (GstMessage *m = gst_bus_pop (bus)) {
        if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_LATENCY) {
          gst_bin_recalculate_latency (GST_BIN (p));
        } else if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR
                   || GST_MESSAGE_TYPE (m) == GST_MESSAGE_WARNING) {
          g_autoptr (GError) error = nullptr;
          g_autofree gchar *debug = nullptr;
          if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR)
            gst_message_parse_error (m, &error, &debug);
          else
            gst_message_parse_warning (m, &error, &debug);
          g_printerr ("# %s from %s: %s\n", GST_MESSAGE_TYPE_NAME (m),
                      GST_MESSAGE_SRC_NAME (m), error->message);
        }
        gst_message_unref (m);
      }
    }
    g_usleep (20000);
  } while (g_get_monotonic_time () < end);
}

std::string
raw_caps (int width, int height)
{
  return "video/x-raw,format=I420,width=" + std::to_string (width)
         + ",height=" + std::to_string (height)
         + ",framerate=" + std::to_string (kFps) + "/1";
}

/* The sender: moving SMPTE bars (vp8enc sends close to its target on
 * them), stamped, into signalrtcsink "cam". */
GstElement *
make_sender (const Options &o, const std::string &hub_url, Timeline *tl)
{
  std::string line = "videotestsrc name=src is-live=true pattern=smpte "
                     "horizontal-speed=8 ! "
                     + raw_caps (1280, 720)
                     + " ! signalrtcsink username=cam stats-interval=0 "
                       "hub-url="
                     + hub_url + " video-bitrate=" + std::to_string (o.bitrate);
  g_autoptr (GError) error = nullptr;
  GstElement *pipeline = gst_parse_launch (line.c_str (), &error);
  if (!pipeline) {
    g_printerr ("bench-latency: %s\n", error->message);
    return nullptr;
  }
  g_signal_connect (pipeline, "deep-element-added",
                    G_CALLBACK (on_element_added), tl);
  g_autoptr (GstElement) src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  g_autoptr (GstPad) pad = gst_element_get_static_pad (src, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_captured, tl, nullptr);
  return pipeline;
}

/* The receiver: signalrtcbin calling "cam" with @latency, its decoded
 * video through a queue into a fakesink that behaves like a video sink
 * (sync, QoS, frames more than 20 ms late dropped): frames are timed out
 * of signalrtcbin (decoded) and when the sink renders them (shown). With
 * @sync false the sink renders as soon as a frame comes. */
GstElement *
make_receiver (const std::string &hub_url, guint latency, bool sync,
               Timeline *tl)
{
  GstElement *pipeline = gst_pipeline_new ("receiver");
  GstElement *bin = gst_element_factory_make ("signalrtcbin", nullptr);
  const std::string name = "viewer-" + std::to_string (latency);
  g_object_set (bin, "hub-url", hub_url.c_str (), "username", name.c_str (),
                "call", "cam", "latency", latency, "decode", TRUE,
                "stats-interval", 0u, nullptr);
  gst_bin_add (GST_BIN (pipeline), bin);
  g_signal_connect (pipeline, "deep-element-added",
                    G_CALLBACK (on_element_added), tl);
  g_object_set_data (G_OBJECT (bin), "sync", GINT_TO_POINTER (sync));
  g_signal_connect (
      bin, "pad-added",
      G_CALLBACK (+[] (GstElement *b, GstPad *pad, gpointer d) {
        g_autofree gchar *kind = nullptr;
        g_object_get (pad, "kind", &kind, nullptr);
        const bool video = g_strcmp0 (kind, "video") == 0;
        const bool sync
            = video
              && GPOINTER_TO_INT (g_object_get_data (G_OBJECT (b), "sync"));
        g_autoptr (GstObject) parent = gst_element_get_parent (b);
        GstElement *sink = gst_element_factory_make ("fakesink", nullptr);
        g_object_set (sink, "sync", (gboolean)sync, "async", FALSE, nullptr);
        GstElement *first = sink;
        if (video) {
          g_object_set (sink, "qos", TRUE, "max-lateness",
                        (gint64)20 * GST_MSECOND, "signal-handoffs", TRUE,
                        "enable-last-sample", FALSE, nullptr);
          g_signal_connect (sink, "handoff", G_CALLBACK (on_shown), d);
          gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_decoded, d,
                             nullptr);
          /* A player's queue: decoding goes on while the sink waits. */
          first = gst_element_factory_make ("queue", nullptr);
          g_object_set (first, "max-size-buffers", 0, "max-size-bytes", 0,
                        "max-size-time", (guint64)2 * GST_SECOND, nullptr);
          gst_bin_add (GST_BIN (parent), first);
        }
        gst_bin_add (GST_BIN (parent), sink);
        if (first != sink)
          gst_element_link (first, sink);
        gst_element_sync_state_with_parent (sink);
        gst_element_sync_state_with_parent (first);
        g_autoptr (GstPad) sink_pad
            = gst_element_get_static_pad (first, "sink");
        gst_pad_link (pad, sink_pad);
      }),
      tl);
  return pipeline;
}

/* Figures ---------------------------------------------------------------- */

std::string
ms (double v)
{
  if (v < 0)
    return "-";
  char text[32];
  g_snprintf (text, sizeof text, "%.1f", v);
  return text;
}

double
percentile (std::vector<gint64> v, double p)
{
  if (v.empty ())
    return -1;
  std::sort (v.begin (), v.end ());
  size_t i = (size_t)(p / 100.0 * (double)(v.size () - 1) + 0.5);
  return (double)v[std::min (i, v.size () - 1)] / 1000.0;
}

/* Capture to one point (decoded or shown), over the frames of a window. */
struct Delays
{
  guint64 frames = 0, stalls = 0;
  double median = -1, p90 = -1, p99 = -1, max = -1, longest_gap = 0;

  /* @at: when each frame of the window reached the point (0: never);
   * @captured: when it was captured. */
  Delays (const std::vector<gint64> &captured, const std::vector<gint64> &at)
  {
    std::vector<gint64> delay, times;
    for (size_t i = 0; i < at.size (); i++) {
      if (!at[i])
        continue;
      delay.push_back (at[i] - captured[i]);
      times.push_back (at[i]);
    }
    frames = delay.size ();
    median = percentile (delay, 50);
    p90 = percentile (delay, 90);
    p99 = percentile (delay, 99);
    max = percentile (delay, 100);
    std::sort (times.begin (), times.end ());
    for (size_t i = 1; i < times.size (); i++) {
      const gint64 gap = times[i] - times[i - 1];
      stalls += gap > kStallUs;
      longest_gap = std::max (longest_gap, (double)gap / 1000.0);
    }
  }
  Delays () = default;
};

struct Row
{
  guint latency = 0;
  std::string error;
  guint64 sent = 0, unreadable = 0;
  Delays decoded, shown;
  /* Medians of each stage, ms: input queue, encode, payload, clock sync,
   * network, jitterbuffer, depayload, decode, display. */
  static constexpr int kStages = FrameTimes::kPoints - 1;
  double stage[kStages] = {};   /* set by figures () */
  double pipeline_latency = -1; /* the receiver's, as configured, ms */
  std::string jitterbuffer;     /* its jitterbuffer's settings */
  double mbps = 0;

  bool smooth () const
  {
    return error.empty () && sent > 0 && shown.frames * 100 >= sent * 99
           && shown.stalls == 0;
  }
};

/* The frames captured in [@from, @to). */
Row
figures (Timeline &tl, guint latency, gint64 from, gint64 to)
{
  Row row;
  row.latency = latency;
  std::lock_guard<std::mutex> guard (tl.lock);
  row.unreadable = tl.unreadable;
  std::vector<gint64> captured, decoded, shown;
  std::vector<gint64> stage[Row::kStages];
  guint64 bytes = 0;
  for (const FrameTimes &f : tl.frames) {
    if (f.captured < from || f.captured >= to)
      continue;
    row.sent++;
    bytes += f.bytes;
    captured.push_back (f.captured);
    decoded.push_back (f.decoded);
    shown.push_back (f.shown);
    const auto points = f.points ();
    for (int s = 0; s < Row::kStages; s++) {
      if (points[s] && points[s + 1])
        stage[s].push_back (points[s + 1] - points[s]);
    }
  }
  row.decoded = Delays (captured, decoded);
  row.shown = Delays (captured, shown);
  for (int s = 0; s < Row::kStages; s++)
    row.stage[s] = percentile (stage[s], 50);
  row.mbps = (double)bytes * 8 / ((double)(to - from) / 1e6) / 1e6;
  return row;
}

/* The settings of the receiver's jitterbuffer, as webrtcbin left them. */
std::string
jitterbuffer_settings (GstElement *pipeline)
{
  std::string out;
  g_autoptr (GstIterator) it = gst_bin_iterate_recurse (GST_BIN (pipeline));
  GValue item = G_VALUE_INIT;
  while (out.empty () && gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    auto *e = GST_ELEMENT (g_value_get_object (&item));
    GstElementFactory *f = gst_element_get_factory (e);
    if (f && g_str_equal (GST_OBJECT_NAME (f), "rtpjitterbuffer")) {
      for (const char *prop :
           {"mode", "latency", "do-retransmission", "do-lost",
            "drop-on-latency", "faststart-min-packets"}) {
        GParamSpec *spec
            = g_object_class_find_property (G_OBJECT_GET_CLASS (e), prop);
        if (!spec)
          continue;
        GValue v = G_VALUE_INIT;
        g_value_init (&v, spec->value_type);
        g_object_get_property (G_OBJECT (e), prop, &v);
        g_autofree gchar *text
            = G_VALUE_HOLDS_ENUM (&v) ? g_strdup (
                  g_enum_get_value (
                      G_ENUM_CLASS (g_type_class_peek (spec->value_type)),
                      g_value_get_enum (&v))
                      ->value_nick)
                                      : g_strdup_value_contents (&v);
        g_value_unset (&v);
        out += std::string (out.empty () ? "" : " ") + prop + "=" + text;
      }
    }
    g_value_reset (&item);
  }
  g_value_unset (&item);
  return out;
}

double
pipeline_latency_ms (GstElement *pipeline)
{
  g_autoptr (GstQuery) query = gst_query_new_latency ();
  if (!gst_element_query (pipeline, query))
    return -1;
  gboolean live;
  GstClockTime min, max;
  gst_query_parse_latency (query, &live, &min, &max);
  return GST_CLOCK_TIME_IS_VALID (min) ? (double)min / GST_MSECOND : -1;
}

/* --frames: one line per frame captured in [@from, @to), times in ms
 * from one point to the next as in the stage table ("-": never got
 * there). */
void
dump_frames (Timeline &tl, const std::string &path, guint latency, gint64 from,
             gint64 to)
{
  FILE *out = fopen (path.c_str (), "a");
  if (!out) {
    g_printerr ("bench-latency: cannot write %s\n", path.c_str ());
    return;
  }
  fseek (out, 0, SEEK_END);
  if (ftell (out) == 0)
    fprintf (out, "latency\tframe\tcaptured\tpts_lag\tqueue\tencode\tpayload\t"
                  "clocksync\tnetwork\tjitterbuffer\tdepayload\tdecode\t"
                  "display\t"
                  "decoded\tshown\tbytes\n");
  std::lock_guard<std::mutex> guard (tl.lock);
  for (size_t i = 0; i < tl.frames.size (); i++) {
    const FrameTimes &f = tl.frames[i];
    if (f.captured < from || f.captured >= to)
      continue;
    auto span = [] (gint64 a, gint64 b) {
      return a && b ? ms ((double)(b - a) / 1000.0) : std::string ("-");
    };
    fprintf (out, "%u\t%zu\t%.1f\t%.1f", latency, i,
             (double)(f.captured - tl.origin) / 1000.0,
             (double)f.pts_lag / 1000.0);
    const auto points = f.points ();
    for (int s = 0; s < Row::kStages; s++)
      fprintf (out, "\t%s", span (points[s], points[s + 1]).c_str ());
    fprintf (out, "\t%s\t%s\t%zu\n", span (f.captured, f.decoded).c_str (),
             span (f.captured, f.shown).c_str (), f.bytes);
  }
  fclose (out);
}

/* One call with @latency: a new receiver, warm-up, then the window. */
Row
measure (const Options &o, const std::string &hub_url, GstElement *sender,
         Timeline &tl, guint latency)
{
  tl.new_call ();
  GstElement *receiver = make_receiver (hub_url, latency, o.sync, &tl);
  const std::vector<GstElement *> pipelines{sender, receiver};
  Row row;
  row.latency = latency;
  auto shown_any = [&tl] {
    std::lock_guard<std::mutex> guard (tl.lock);
    for (auto it = tl.frames.rbegin ();
         it != tl.frames.rend () && it - tl.frames.rbegin () < 10 * kFps;
         ++it) {
      if (it->shown)
        return true;
    }
    return false;
  };
  if (gst_element_set_state (receiver, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE) {
    row.error = "the receiver did not start";
  } else {
    const gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
    while (!shown_any () && g_get_monotonic_time () < deadline)
      spin (pipelines, 100);
    if (!shown_any ())
      row.error = "no frame shown in 30 s";
  }
  if (row.error.empty ()) {
    spin (pipelines, o.warm_up * 1000);
    const double configured = pipeline_latency_ms (receiver);
    const gint64 from = g_get_monotonic_time ();
    spin (pipelines, o.seconds * 1000);
    const gint64 to = g_get_monotonic_time ();
    /* The last frames of the window on their way. */
    spin (pipelines, latency + 1000);
    row = figures (tl, latency, from, to);
    row.pipeline_latency = configured;
    row.jitterbuffer = jitterbuffer_settings (receiver);
    if (!o.frames_file.empty ())
      dump_frames (tl, o.frames_file, latency, from, to);
  }
  gst_element_set_state (receiver, GST_STATE_NULL);
  gst_object_unref (receiver);
  /* The sender ends its side of the call when the hub says we left. */
  spin ({sender}, 500);
  return row;
}

void
print_delays (const std::vector<Row> &rows, const Delays Row::*which,
              bool smooth_column)
{
  printf ("| latency setting | frames | median | p90 | p99 | max | stalls "
          "(longest gap) |%s\n|---|---|---|---|---|---|---|%s\n",
          smooth_column ? " smooth |" : "", smooth_column ? "---|" : "");
  for (const Row &r : rows) {
    if (!r.error.empty ()) {
      printf ("| %u ms | %s | | | | | |%s\n", r.latency, r.error.c_str (),
              smooth_column ? " no |" : "");
      continue;
    }
    const Delays &d = r.*which;
    char frames[96];
    g_snprintf (frames, sizeof frames, "%llu/%llu (%.1f %%)",
                (unsigned long long)d.frames, (unsigned long long)r.sent,
                r.sent ? 100.0 * (double)d.frames / (double)r.sent : 0.0);
    printf ("| %u ms | %s | %s | %s | %s | %s | %llu (%s) |%s\n", r.latency,
            frames, ms (d.median).c_str (), ms (d.p90).c_str (),
            ms (d.p99).c_str (), ms (d.max).c_str (),
            (unsigned long long)d.stalls, ms (d.longest_gap).c_str (),
            smooth_column ? (r.smooth () ? " yes |" : " no |") : "");
  }
}

void
print_tables (const Options &o, const std::vector<Row> &rows)
{
  printf ("\nsignalrtc end-to-end latency: 1280x720 %d fps VP8 at %.1f "
          "Mbit/s on loopback, sender and receiver in one process (one "
          "clock); %d s per setting after %d s of warm-up, each a new call; "
          "times in ms; frames: of those captured in the window\n",
          kFps, o.bitrate / 1e6, o.seconds, o.warm_up);
  printf ("\nCapture to decoded frame (out of signalrtcbin):\n\n");
  print_delays (rows, &Row::decoded, false);
  printf ("\nCapture to shown frame (a %s sink behind a queue, as a "
          "player has):\n\n",
          o.sync ? "syncing video-like (qos, max-lateness 20 ms)"
                 : "non-syncing");
  print_delays (rows, &Row::shown, true);

  printf ("\nWhere the time goes (medians per frame, ms; each from the "
          "point before): queue = into vp8enc, through signalrtcsink's "
          "input queue; encode = out of vp8enc; payload = last RTP packet "
          "out of the sender's payloader; clock sync = out of the clocksync "
          "webrtcbin has in front of its rtpbin%s; network = into the "
          "receiver's jitterbuffer (rtpbin, SRTP, DTLS, ICE, loopback); "
          "jitterbuffer = out of it; depayload = frame out of the "
          "depayloader; decode = out of signalrtcbin; display = rendered by "
          "the sink. pipeline = the receiver's latency as configured.\n\n",
          o.stock_clocksync ? " (webrtcbin's own sync on: --stock-clocksync)"
                            : "");
  printf ("| latency setting | queue | encode | payload | clock sync | "
          "network | jitterbuffer | depayload | decode | display | pipeline | "
          "unreadable stamps | video |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const Row &r : rows) {
    if (!r.error.empty ())
      continue;
    printf ("| %u ms |", r.latency);
    for (double s : r.stage)
      printf (" %s |", ms (s).c_str ());
    printf (" %s | %llu | %.2f Mbit/s |\n", ms (r.pipeline_latency).c_str (),
            (unsigned long long)r.unreadable, r.mbps);
  }

  for (const Row &r : rows) {
    if (!r.jitterbuffer.empty ())
      printf ("\nreceiver's jitterbuffer at latency %u ms: %s", r.latency,
              r.jitterbuffer.c_str ());
  }
  printf ("\n");
  printf ("\nplays smoothly: at least 99 %% of the frames captured in the "
          "window shown, and no stall (two shown frames more than %.1f ms "
          "apart)\n",
          (double)kStallUs / 1000.0);
  const Row *tuned = nullptr;
  for (const Row &r : rows) {
    if (r.smooth () && (!tuned || r.latency < tuned->latency))
      tuned = &r;
  }
  if (tuned)
    printf ("tuned: latency=%u is the lowest that plays smoothly: shown "
            "median %s ms, p99 %s ms (decoded median %s ms)\n",
            tuned->latency, ms (tuned->shown.median).c_str (),
            ms (tuned->shown.p99).c_str (),
            ms (tuned->decoded.median).c_str ());
  else
    printf ("tuned: no setting played smoothly\n");
}

/* --self-test: the stamp round-trips on raw frames, and through VP8. */
int
self_test (const Options &o)
{
  int failures = 0;
  const GstVideoFormat formats[]
      = {GST_VIDEO_FORMAT_I420, GST_VIDEO_FORMAT_NV12, GST_VIDEO_FORMAT_YV12};
  const Stamp stamps[] = {{0, 0},
                          {0xffffff, 0xffffffff},
                          {12345, 987654321},
                          {g_random_int () & 0xffffff, g_random_int ()}};
  for (GstVideoFormat format : formats) {
    for (auto [w, h] : {std::pair{1280, 720}, {640, 480}, {176, 144}}) {
      GstVideoInfo info;
      gst_video_info_set_format (&info, format, w, h);
      if (!stamp_fits (&info)) {
        g_printerr ("self-test: no room for a stamp in %s %dx%d\n",
                    gst_video_format_to_string (format), w, h);
        failures++;
        continue;
      }
      g_autoptr (GstBuffer) buffer
          = gst_buffer_new_allocate (nullptr, info.size, nullptr);
      GstMapInfo map;
      gst_buffer_map (buffer, &map, GST_MAP_WRITE);
      for (gsize i = 0; i < map.size; i++)
        map.data[i] = (guint8)g_random_int ();
      gst_buffer_unmap (buffer, &map);
      GstVideoFrame frame;
      gst_video_frame_map (&frame, &info, buffer, GST_MAP_READWRITE);
      for (const Stamp &s : stamps) {
        stamp_write (&frame, s);
        auto back = stamp_read (&frame);
        if (!back || back->frame != s.frame || back->time_us != s.time_us) {
          g_printerr ("self-test: %s %dx%d: %u/%u did not round-trip\n",
                      gst_video_format_to_string (format), w, h, s.frame,
                      s.time_us);
          failures++;
        }
        /* One bit flipped: the CRC must refuse it. */
        const int per_row = w / kBlock;
        const int bit = (int)(g_random_int () % kStampBits);
        const bool one = (stamp_to_bits (s) >> (kStampBits - 1 - bit)) & 1;
        fill_block (&frame, bit % per_row, bit / per_row,
                    one ? kBlack : kWhite);
        if (stamp_read (&frame)) {
          g_printerr ("self-test: a flipped bit %d went unnoticed\n", bit);
          failures++;
        }
      }
      gst_video_frame_unmap (&frame);
    }
  }
  printf ("stamp on raw frames (I420, NV12, YV12; 3 sizes): %s\n",
          failures ? "FAILED" : "ok");

  /* Through the encoder settings of send-input.cpp, at the bench's
   * bitrate and at a starved one. */
  for (int bitrate : {o.bitrate, 200000}) {
    Timeline tl;
    std::string line = "videotestsrc name=src num-buffers=150 pattern=smpte "
                       "horizontal-speed=8 ! "
                       + raw_caps (1280, 720)
                       + " ! vp8enc deadline=1 lag-in-frames=0 "
                         "keyframe-max-dist=3000 cpu-used=4 end-usage=cbr "
                         "error-resilient=default target-bitrate="
                       + std::to_string (bitrate)
                       + " ! vp8dec ! fakesink name=sink";
    g_autoptr (GError) error = nullptr;
    g_autoptr (GstElement) pipeline = gst_parse_launch (line.c_str (), &error);
    if (!pipeline) {
      g_printerr ("self-test: %s\n", error->message);
      return 1;
    }
    g_autoptr (GstElement) src
        = gst_bin_get_by_name (GST_BIN (pipeline), "src");
    g_autoptr (GstElement) sink
        = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
    g_autoptr (GstPad) src_pad = gst_element_get_static_pad (src, "src");
    g_autoptr (GstPad) sink_pad = gst_element_get_static_pad (sink, "sink");
    gst_pad_add_probe (src_pad, GST_PAD_PROBE_TYPE_BUFFER, on_captured, &tl,
                       nullptr);
    gst_pad_add_probe (sink_pad, GST_PAD_PROBE_TYPE_BUFFER, on_decoded, &tl,
                       nullptr);
    gst_element_set_state (pipeline, GST_STATE_PLAYING);
    g_autoptr (GstBus) bus = gst_element_get_bus (pipeline);
    g_autoptr (GstMessage) done = gst_bus_timed_pop_filtered (
        bus, 60 * GST_SECOND,
        (GstMessageType)(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
    gst_element_set_state (pipeline, GST_STATE_NULL);
    size_t read = 0;
    for (const FrameTimes &f : tl.frames)
      read += f.decoded != 0;
    printf ("stamp through vp8enc/vp8dec at %.1f Mbit/s: %zu/%zu frames read "
            "back, %llu unreadable\n",
            bitrate / 1e6, read, tl.frames.size (),
            (unsigned long long)tl.unreadable);
    if (!done || GST_MESSAGE_TYPE (done) != GST_MESSAGE_EOS
        || tl.frames.empty ()
        || (bitrate == o.bitrate && read != tl.frames.size ()))
      failures++;
  }
  printf ("self-test: %s\n", failures ? "FAILED" : "ok");
  return failures ? 1 : 0;
}

std::vector<guint>
parse_list (const std::string &value)
{
  std::vector<guint> out;
  std::istringstream list (value);
  for (std::string v; std::getline (list, v, ',');)
    out.push_back ((guint)std::stoul (v));
  return out;
}

}  // namespace

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  Options o;
  for (int i = 1; i < argc; i++) {
    std::string key = argv[i];
    if (key == "--self-test") {
      o.self_test = true;
      continue;
    }
    if (key == "--no-sync") {
      o.sync = false;
      continue;
    }
    if (key == "--stock-clocksync") {
      o.stock_clocksync = true;
      continue;
    }
    std::string value = i + 1 < argc ? argv[++i] : "";
    if (key == "--latencies" && !value.empty ()) {
      o.latencies = parse_list (value);
    } else if (key == "--seconds" && !value.empty ()) {
      o.seconds = std::stoi (value);
    } else if (key == "--warm-up" && !value.empty ()) {
      o.warm_up = std::stoi (value);
    } else if (key == "--bitrate" && !value.empty ()) {
      o.bitrate = std::stoi (value);
    } else if (key == "--frames" && !value.empty ()) {
      o.frames_file = value;
    } else {
      g_printerr ("usage: bench-latency [--latencies 200,100,50,20,0] "
                  "[--seconds 10] [--warm-up 3] [--bitrate 2000000] "
                  "[--no-sync] [--stock-clocksync] [--frames FILE] "
                  "[--self-test]\n");
      return 2;
    }
  }
  if (o.self_test)
    return self_test (o);
  if (HubProcess::binary ().empty ()) {
    g_printerr ("bench-latency: set SIGNALRTC_HUB (the wrapper does)\n");
    return 2;
  }

  HubProcess hub;
  g_autoptr (GError) error = nullptr;
  if (!hub.start (0, &error)) {
    g_printerr ("bench-latency: %s\n", error->message);
    return 1;
  }
  Timeline tl;
  tl.stock_clocksync = o.stock_clocksync;
  GstElement *sender = make_sender (o, hub.url (), &tl);
  if (!sender
      || gst_element_set_state (sender, GST_STATE_PLAYING)
             == GST_STATE_CHANGE_FAILURE) {
    g_printerr ("bench-latency: the sender did not start\n");
    return 1;
  }
  spin ({sender}, 1000);

  std::vector<Row> rows;
  for (guint latency : o.latencies) {
    Row r = measure (o, hub.url (), sender, tl, latency);
    g_printerr ("# latency=%u: of %llu frames %llu decoded (median %s ms), "
                "%llu shown (median %s ms, p99 %s ms, %llu stalls) %s\n",
                latency, (unsigned long long)r.sent,
                (unsigned long long)r.decoded.frames,
                ms (r.decoded.median).c_str (),
                (unsigned long long)r.shown.frames,
                ms (r.shown.median).c_str (), ms (r.shown.p99).c_str (),
                (unsigned long long)r.shown.stalls, r.error.c_str ());
    rows.push_back (r);
  }
  gst_element_set_state (sender, GST_STATE_NULL);
  gst_object_unref (sender);
  print_tables (o, rows);
  return 0;
}
