/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-signalrtcsink
 * @title: signalrtcsink
 *
 * The send-only signalrtcbin: joins a SignalRtc hub as a user and sends
 * what it is given (raw, or VP8/VP9/H.264/Opus) to every user who calls it,
 * or whom it calls with #GstSignalrtcBaseBin:call. Raw input is encoded
 * once, however many peers watch. What peers send is not received.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 videotestsrc is-live=true ! signalrtcsink name=cam \
 *     hub-url=http://127.0.0.1:5000/signalrtc username=cam \
 *   audiotestsrc is-live=true ! cam.
 * ]|
 */
#include "gstsignalrtcsink.h"

#include "gstsignalrtcelements.h"

struct _GstSignalrtcSink
{
  GstSignalrtcBaseBin parent;
};

G_DEFINE_TYPE (GstSignalrtcSink, gst_signalrtc_sink,
               GST_TYPE_SIGNALRTC_BASE_BIN);
GST_ELEMENT_REGISTER_DEFINE (signalrtcsink, "signalrtcsink", GST_RANK_NONE,
                             GST_TYPE_SIGNALRTC_SINK);

static GstStaticPadTemplate video_sink_template
    = GST_STATIC_PAD_TEMPLATE ("video_%u", GST_PAD_SINK, GST_PAD_REQUEST,
                               GST_STATIC_CAPS (GST_SIGNALRTC_VIDEO_SINK_CAPS));
static GstStaticPadTemplate audio_sink_template
    = GST_STATIC_PAD_TEMPLATE ("audio_%u", GST_PAD_SINK, GST_PAD_REQUEST,
                               GST_STATIC_CAPS (GST_SIGNALRTC_AUDIO_SINK_CAPS));

static void
gst_signalrtc_sink_init (GstSignalrtcSink *)
{}

static void
gst_signalrtc_sink_class_init (GstSignalrtcSinkClass *klass)
{
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  gst_element_class_add_static_pad_template (element_class,
                                             &video_sink_template);
  gst_element_class_add_static_pad_template (element_class,
                                             &audio_sink_template);
  gst_element_class_set_static_metadata (
      element_class, "SignalRtc WebRTC sink", "Sink/Network/WebRTC",
      "Sends media to every user of a SignalRtc hub who calls it",
      "signalrtc authors");
  GST_SIGNALRTC_BASE_BIN_CLASS (klass)->receives = FALSE;
}
