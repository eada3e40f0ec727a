/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "call-recording.h"

#include <gst/video/video.h>
#include <glib/gstdio.h>

#include <vector>

GST_DEBUG_CATEGORY_STATIC (record_debug);
#define GST_CAT_DEFAULT record_debug

namespace signalrtc {

/* The elements in front of the muxer for one kind of media. */
struct CallRecording::Branch
{
  std::string kind;
  std::vector<GstElement *> elements; /* queue first; owned by the bin */
  GstPad *mux_pad = nullptr;          /* requested from the muxer */
  GstPad *input = nullptr;            /* the bin's sink pad (a ghost) */
  GstPad *track = nullptr;            /* the linked track (a ref) */
  bool offset_set = false;

  GstElement *queue () const { return elements.front (); }
};

namespace {

/* The elements between the queue and the muxer. Passthrough needs none:
 * signalrtcbin already parses what it depayloads. */
std::vector<const char *>
encoder_chain (const std::string &kind, RecordFormat format, bool transcode)
{
  if (!transcode)
    return {};
  if (kind == "video")
    return {"videoconvert", "x264enc", "h264parse"};
  if (format == RecordFormat::Mp4)
    return {"audioconvert", "audioresample", "avenc_aac", "aacparse"};
  return {"audioconvert", "audioresample", "opusenc"};
}

const char *
muxer_for (RecordFormat format)
{
  switch (format) {
  case RecordFormat::WebM:
    return "webmmux";
  case RecordFormat::Matroska:
    return "matroskamux";
  case RecordFormat::Mp4:
    return "mp4mux";
  }
  return "webmmux";
}

}  // namespace

CallRecording::CallRecording (GstBin *pipeline, Config config)
    : pipeline_ (pipeline), config_ (std::move (config))
{}

CallRecording::~CallRecording ()
{
  for (auto *b : {video_.get (), audio_.get ()}) {
    if (b && b->track)
      gst_object_unref (b->track);
    /* request_pad_simple's reference (the muxer has its own). */
    if (b && b->mux_pad)
      gst_object_unref (b->mux_pad);
  }
}

std::shared_ptr<CallRecording>
CallRecording::create (GstBin *pipeline, Config config,
                       std::function<void (CallRecording &)> on_done,
                       GError **error)
{
  static gsize debug_once = 0;
  if (g_once_init_enter (&debug_once)) {
    GST_DEBUG_CATEGORY_INIT (record_debug, "signalrtc-record", 0,
                             "signalrtc-record recordings");
    g_once_init_leave (&debug_once, 1);
  }
  std::shared_ptr<CallRecording> rec (
      new CallRecording (pipeline, std::move (config)));
  rec->on_done_ = std::move (on_done);
  if (!rec->build (error))
    return nullptr;
  return rec;
}

bool
CallRecording::build (GError **error)
{
  auto make = [error] (const char *factory) -> GstElement * {
    GstElement *e = gst_element_factory_make (factory, nullptr);
    if (!e && error && !*error)
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
                   "the GStreamer element '%s' is missing (run "
                   "scripts/deps, or install its plugin)",
                   factory);
    return e;
  };

  bin_ = gst_bin_new (nullptr);
  mux_ = make (muxer_for (config_.format));
  sink_ = make ("filesink");
  if (!mux_ || !sink_) {
    for (GstElement *e : {mux_, sink_})
      if (e)
        gst_object_unref (gst_object_ref_sink (e));
    gst_object_unref (gst_object_ref_sink (bin_));
    bin_ = nullptr;
    return false;
  }
  /* A sink added to a playing live pipeline must not wait for preroll. */
  g_object_set (sink_, "location", config_.path.c_str (), "async", FALSE,
                nullptr);
  gst_bin_add_many (GST_BIN (bin_), mux_, sink_, nullptr);
  gst_element_link (mux_, sink_);

  for (const char *kind : {"video", "audio"}) {
    auto branch = std::make_unique<Branch> ();
    branch->kind = kind;
    GstElement *queue = make ("queue");
    if (!queue)
      break;
    /* Holds what arrives while the muxer waits for the other kind. */
    g_object_set (queue, "max-size-buffers", 0, "max-size-bytes", 0,
                  "max-size-time", (guint64)10 * GST_SECOND, nullptr);
    branch->elements.push_back (queue);
    for (const char *f :
         encoder_chain (kind, config_.format, config_.transcode)) {
      GstElement *e = make (f);
      if (!e)
        break;
      branch->elements.push_back (e);
    }
    if (error && *error) {
      for (GstElement *e : branch->elements)
        gst_object_unref (gst_object_ref_sink (e));
      break;
    }
    for (GstElement *e : branch->elements) {
      const char *factory = GST_OBJECT_NAME (gst_element_get_factory (e));
      if (g_str_equal (factory, "x264enc")) {
        /* Real time on a small machine, a key frame every 2 s so that the
         * file seeks well. */
        gst_util_set_object_arg (G_OBJECT (e), "speed-preset", "veryfast");
        gst_util_set_object_arg (G_OBJECT (e), "tune", "zerolatency");
        g_object_set (e, "key-int-max", 60, "bitrate", 2000, nullptr);
      }
      gst_bin_add (GST_BIN (bin_), e);
    }
    for (gsize i = 1; i < branch->elements.size (); i++)
      gst_element_link (branch->elements[i - 1], branch->elements[i]);
    branch->mux_pad = gst_element_request_pad_simple (
        mux_, g_str_equal (kind, "video") ? "video_%u" : "audio_%u");
    g_autoptr (GstPad) last
        = gst_element_get_static_pad (branch->elements.back (), "src");
    if (!branch->mux_pad
        || gst_pad_link (last, branch->mux_pad) != GST_PAD_LINK_OK) {
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
                   "cannot link the %s branch to %s", kind,
                   muxer_for (config_.format));
      break;
    }
    /* Tracks live in signalrtcbin, a sibling: they link to a pad of ours. */
    g_autoptr (GstPad) queue_sink
        = gst_element_get_static_pad (branch->queue (), "sink");
    branch->input = gst_ghost_pad_new (kind, queue_sink);
    gst_pad_set_active (branch->input, TRUE);
    gst_element_add_pad (bin_, branch->input);
    (g_str_equal (kind, "video") ? video_ : audio_) = std::move (branch);
  }
  if (error && *error) {
    gst_object_unref (gst_object_ref_sink (bin_));
    bin_ = nullptr;
    return false;
  }

  /* EOS at the file: it is complete. */
  g_autoptr (GstPad) sink_pad = gst_element_get_static_pad (sink_, "sink");
  gst_pad_add_probe (
      sink_pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      [] (GstPad *, GstPadProbeInfo *info, gpointer data) {
        auto *self = static_cast<CallRecording *> (data);
        if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) == GST_EVENT_EOS
            && !self->done_.exchange (true))
          self->on_done_ (*self);
        return GST_PAD_PROBE_OK;
      },
      this, nullptr);

  gst_bin_add (pipeline_, bin_);
  gst_element_sync_state_with_parent (bin_);
  GST_INFO ("recording %s (%s) into %s", config_.username.c_str (),
            config_.connection_id.c_str (), config_.path.c_str ());
  return true;
}

CallRecording::Branch *
CallRecording::branch (const std::string &kind)
{
  return kind == "video"   ? video_.get ()
         : kind == "audio" ? audio_.get ()
                           : nullptr;
}

bool
CallRecording::add_track (GstPad *track, const std::string &kind)
{
  std::lock_guard<std::mutex> lock (lock_);
  Branch *b = branch (kind);
  if (!b || b->track || finishing_)
    return false;
  g_autoptr (GstPad) queue_sink
      = gst_element_get_static_pad (b->queue (), "sink");
  /* The first buffer fixes the file's zero (see the class comment). */
  struct Probe
  {
    CallRecording *self;
    Branch *branch;
  };
  gst_pad_add_probe (
      queue_sink, GST_PAD_PROBE_TYPE_BUFFER,
      [] (GstPad *pad, GstPadProbeInfo *info, gpointer data) {
        auto *p = static_cast<Probe *> (data);
        p->self->on_buffer (*p->branch, pad, GST_PAD_PROBE_INFO_BUFFER (info));
        return GST_PAD_PROBE_OK;
      },
      new Probe{this, b},
      [] (gpointer data) { delete static_cast<Probe *> (data); });
  GstPadLinkReturn link = gst_pad_link (track, b->input);
  if (link != GST_PAD_LINK_OK) {
    g_printerr ("signalrtc-record: cannot link %s's %s track: %s\n",
                config_.username.c_str (), kind.c_str (),
                gst_pad_link_get_name (link));
    return false;
  }
  b->track = GST_PAD (gst_object_ref (track));
  /* A file starts with a picture: ask the sender for one now. */
  if (kind == "video")
    gst_pad_push_event (b->input, gst_video_event_new_upstream_force_key_unit (
                                      GST_CLOCK_TIME_NONE, TRUE, 0));
  GST_INFO ("%s: recording the %s track", config_.username.c_str (),
            kind.c_str ());
  return true;
}

/* Streaming thread, every buffer into a branch: the first one of the call
 * sets the file's zero, each one moves the duration on. */
void
CallRecording::on_buffer (Branch &b, GstPad *pad, GstBuffer *buffer)
{
  g_autoptr (GstEvent) event
      = gst_pad_get_sticky_event (pad, GST_EVENT_SEGMENT, 0);
  GstClockTime pts = GST_BUFFER_PTS (buffer);
  if (!event || !GST_CLOCK_TIME_IS_VALID (pts))
    return;
  const GstSegment *segment;
  gst_event_parse_segment (event, &segment);
  GstClockTime running
      = gst_segment_to_running_time (segment, GST_FORMAT_TIME, pts);
  if (!GST_CLOCK_TIME_IS_VALID (running))
    return;
  GstClockTime base;
  {
    std::lock_guard<std::mutex> lock (lock_);
    if (!GST_CLOCK_TIME_IS_VALID (base_))
      base_ = running;
    base = base_;
    if (!b.offset_set) {
      b.offset_set = true;
      g_autoptr (GstPad) src = gst_element_get_static_pad (b.queue (), "src");
      gst_pad_set_offset (src, -(gint64)base);
    }
  }
  if (running > base) {
    GstClockTime end = running - base;
    if (GST_BUFFER_DURATION_IS_VALID (buffer))
      end += GST_BUFFER_DURATION (buffer);
    GstClockTime last = last_end_.load ();
    while ((last == GST_CLOCK_TIME_NONE || end > last)
           && !last_end_.compare_exchange_weak (last, end)) {
    }
  }
}

void
CallRecording::close_missing_tracks ()
{
  std::lock_guard<std::mutex> lock (lock_);
  for (auto *slot : {&video_, &audio_}) {
    Branch *b = slot->get ();
    if (!b || b->track)
      continue;
    GST_INFO ("%s sent no %s: recording without it", config_.username.c_str (),
              b->kind.c_str ());
    /* Nothing ever flowed here: take the branch out before the muxer
     * waits for it. */
    for (GstElement *e : b->elements) {
      gst_element_set_locked_state (e, TRUE);
      gst_element_set_state (e, GST_STATE_NULL);
    }
    gst_element_release_request_pad (mux_, b->mux_pad);
    gst_object_unref (b->mux_pad);
    gst_pad_set_active (b->input, FALSE);
    gst_element_remove_pad (bin_, b->input);
    for (GstElement *e : b->elements)
      gst_bin_remove (GST_BIN (bin_), e);
    slot->reset ();
  }
}

void
CallRecording::finish ()
{
  if (finishing_.exchange (true))
    return;
  GST_INFO ("finishing %s", config_.path.c_str ());
  /* A kind that never came would hold the muxer back. */
  close_missing_tracks ();
  std::vector<GstPad *> sinks;
  {
    std::lock_guard<std::mutex> lock (lock_);
    for (auto *b : {video_.get (), audio_.get ()}) {
      if (!b)
        continue;
      sinks.push_back (GST_PAD (gst_object_ref (b->input)));
    }
  }
  if (sinks.empty ()) {
    /* Nothing to end: the muxer never had a branch. */
    if (!done_.exchange (true))
      on_done_ (*this);
    return;
  }
  for (GstPad *sink : sinks) {
    /* Off the track first (signalrtcbin drops what an unlinked track
     * sends), then EOS: nothing may follow it. */
    if (GstPad *peer = gst_pad_get_peer (sink)) {
      gst_pad_unlink (peer, sink);
      gst_object_unref (peer);
    }
    gst_pad_send_event (sink, gst_event_new_eos ());
    gst_object_unref (sink);
  }
}

void
CallRecording::destroy ()
{
  if (!bin_)
    return;
  gst_element_set_locked_state (bin_, TRUE);
  gst_element_set_state (bin_, GST_STATE_NULL);
  gst_bin_remove (pipeline_, bin_);
  bin_ = nullptr;
}

GstClockTime
CallRecording::duration () const
{
  return last_end_.load ();
}

guint64
CallRecording::size () const
{
  GStatBuf st;
  if (g_stat (config_.path.c_str (), &st) != 0)
    return 0;
  return (guint64)st.st_size;
}

guint
CallRecording::tracks () const
{
  std::lock_guard<std::mutex> lock (lock_);
  guint n = 0;
  for (auto *b : {video_.get (), audio_.get ()})
    n += b && b->track ? 1 : 0;
  return n;
}

}  // namespace signalrtc
