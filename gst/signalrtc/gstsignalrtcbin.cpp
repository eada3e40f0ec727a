/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-signalrtcbin
 * @title: signalrtcbin
 *
 * signalrtcbin joins a SignalRtc SignalR hub (signalrtc-hub, or the
 * original ASP.NET Core app's) as one user and holds a WebRTC call, one
 * webrtcbin each, with every user that calls it or that it calls. Browsers
 * running the SignalRtc app (simple-peer) see it as one more user.
 *
 * Media given to its request sink pads (raw, or already VP8/VP9/H.264/Opus)
 * is encoded once and sent to every peer. What each peer sends appears on
 * a sometimes src pad per track, named `video_<connection-id>_<n>` or
 * `audio_<connection-id>_<n>`, decoded unless #GstSignalrtcBaseBin:decode is
 * off; a `signalrtc-track` element message names the user behind it.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 videotestsrc is-live=true ! signalrtcbin name=cam \
 *     hub-url=http://127.0.0.1:5000/signalrtc username=cam \
 *   audiotestsrc is-live=true ! cam.
 * ]| Sends a test pattern and a tone to everyone who calls "cam".
 * |[
 * gst-launch-1.0 signalrtcbin hub-url=http://127.0.0.1:5000/signalrtc \
 *     username=viewer call=cam ! queue ! videoconvert ! autovideosink
 * ]| Calls "cam" once it is on the hub and shows its video.
 *
 * ## Element messages
 * signalrtc-hub-connected (connection-id), signalrtc-hub-lost (error),
 * signalrtc-user-joined and signalrtc-user-left (username, connection-id),
 * signalrtc-peer-connected and signalrtc-peer-disconnected (username,
 * connection-id, reason), signalrtc-call-rejected (username,
 * connection-id, reason), signalrtc-track (pad-name, kind, username,
 * connection-id), signalrtc-sdp-sent (username, connection-id, type:
 * "offer" or "answer", sdp; each time the bin sends a session description
 * to a peer through the hub: one offer from the caller and one answer from
 * the callee per call, more when a call is renegotiated),
 * signalrtc-message (username, connection-id, text), and
 * every #GstSignalrtcBaseBin:stats-interval signalrtc-peer-stats (username,
 * connection-id, bitrate-sent, bitrate-received, packets-sent,
 * packets-received, packets-lost, round-trip-time, packets-repaired,
 * retransmissions-requested, packets-late, plis-sent, frames-received).
 */
#include "gstsignalrtcbin.h"

#include "gstsignalrtcelements.h"

struct _GstSignalrtcBin
{
  GstSignalrtcBaseBin parent;
};

G_DEFINE_TYPE (GstSignalrtcBin, gst_signalrtc_bin, GST_TYPE_SIGNALRTC_BASE_BIN);
GST_ELEMENT_REGISTER_DEFINE (signalrtcbin, "signalrtcbin", GST_RANK_NONE,
                             GST_TYPE_SIGNALRTC_BIN);

static GstStaticPadTemplate video_sink_template
    = GST_STATIC_PAD_TEMPLATE ("video_%u", GST_PAD_SINK, GST_PAD_REQUEST,
                               GST_STATIC_CAPS (GST_SIGNALRTC_VIDEO_SINK_CAPS));
static GstStaticPadTemplate audio_sink_template
    = GST_STATIC_PAD_TEMPLATE ("audio_%u", GST_PAD_SINK, GST_PAD_REQUEST,
                               GST_STATIC_CAPS (GST_SIGNALRTC_AUDIO_SINK_CAPS));
static GstStaticPadTemplate video_src_template
    = GST_STATIC_PAD_TEMPLATE ("video_%s_%u", GST_PAD_SRC, GST_PAD_SOMETIMES,
                               GST_STATIC_CAPS (GST_SIGNALRTC_VIDEO_SRC_CAPS));
static GstStaticPadTemplate audio_src_template
    = GST_STATIC_PAD_TEMPLATE ("audio_%s_%u", GST_PAD_SRC, GST_PAD_SOMETIMES,
                               GST_STATIC_CAPS (GST_SIGNALRTC_AUDIO_SRC_CAPS));

static void
gst_signalrtc_bin_init (GstSignalrtcBin *)
{}

static void
gst_signalrtc_bin_class_init (GstSignalrtcBinClass *klass)
{
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  gst_element_class_add_static_pad_template (element_class,
                                             &video_sink_template);
  gst_element_class_add_static_pad_template (element_class,
                                             &audio_sink_template);
  gst_element_class_add_static_pad_template (element_class,
                                             &video_src_template);
  gst_element_class_add_static_pad_template (element_class,
                                             &audio_src_template);
  gst_element_class_set_static_metadata (
      element_class, "SignalRtc WebRTC bin", "Filter/Network/WebRTC",
      "Joins a SignalRtc SignalR hub as a user and holds WebRTC calls with "
      "the users who call it or whom it calls",
      "signalrtc authors");
}
