/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-signalrtcsrc
 * @title: signalrtcsrc
 *
 * The receive-only signalrtcbin, a live source: holds one call at a time,
 * with the user named by #GstSignalrtcBaseBin:call (which it calls) or with
 * the first user who calls it, and gives that user's media on the src pads
 * `video_0` and `audio_0`, decoded unless #GstSignalrtcBaseBin:decode is
 * off. When the call ends the pads get EOS and go away, and the element
 * posts EOS: a gst-launch line ends there, its files finished. EOS sent to
 * the element (gst-launch -e on Ctrl-C) ends the pads and the element the
 * same way. An application that keeps playing gets the pads back with the
 * next call.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 signalrtcsrc hub-url=http://127.0.0.1:5000/signalrtc \
 *     username=viewer call=cam name=src \
 *   src.video_0 ! queue ! videoconvert ! autovideosink \
 *   src.audio_0 ! queue ! audioconvert ! autoaudiosink
 * ]|
 * Records "alice" as she sends (VP8, Opus) until she hangs up or Ctrl-C:
 * |[
 * gst-launch-1.0 -e signalrtcsrc hub-url=http://127.0.0.1:5000/signalrtc \
 *     username=recorder call=alice decode=false name=src \
 *   src.video_0 ! queue ! webmmux name=mux ! filesink location=alice.webm \
 *   src.audio_0 ! queue ! mux.audio_%u
 * ]|
 */
#include "gstsignalrtcsrc.h"

#include "gstsignalrtcelements.h"

struct _GstSignalrtcSrc
{
  GstSignalrtcBaseBin parent;
};

G_DEFINE_TYPE (GstSignalrtcSrc, gst_signalrtc_src, GST_TYPE_SIGNALRTC_BASE_BIN);
GST_ELEMENT_REGISTER_DEFINE (signalrtcsrc, "signalrtcsrc", GST_RANK_NONE,
                             GST_TYPE_SIGNALRTC_SRC);

static GstStaticPadTemplate video_src_template
    = GST_STATIC_PAD_TEMPLATE ("video_%u", GST_PAD_SRC, GST_PAD_SOMETIMES,
                               GST_STATIC_CAPS (GST_SIGNALRTC_VIDEO_SRC_CAPS));
static GstStaticPadTemplate audio_src_template
    = GST_STATIC_PAD_TEMPLATE ("audio_%u", GST_PAD_SRC, GST_PAD_SOMETIMES,
                               GST_STATIC_CAPS (GST_SIGNALRTC_AUDIO_SRC_CAPS));

static void
gst_signalrtc_src_init (GstSignalrtcSrc *)
{}

static void
gst_signalrtc_src_class_init (GstSignalrtcSrcClass *klass)
{
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  gst_element_class_add_static_pad_template (element_class,
                                             &video_src_template);
  gst_element_class_add_static_pad_template (element_class,
                                             &audio_src_template);
  gst_element_class_set_static_metadata (
      element_class, "SignalRtc WebRTC source", "Source/Network/WebRTC",
      "Receives the media of one user of a SignalRtc hub", "signalrtc authors");
  GST_SIGNALRTC_BASE_BIN_CLASS (klass)->single_peer = TRUE;
}
