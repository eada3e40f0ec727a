/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_SIGNALRTC_BASE_BIN (gst_signalrtc_base_bin_get_type ())
G_DECLARE_DERIVABLE_TYPE (GstSignalrtcBaseBin, gst_signalrtc_base_bin, GST,
                          SIGNALRTC_BASE_BIN, GstBin)

/* The abstract base of signalrtcbin, signalrtcsink and signalrtcsrc: one
 * user on the hub, one PeerSession per call. The subclasses only choose
 * their pad templates and these two. */
struct _GstSignalrtcBaseBinClass
{
  GstBinClass parent_class;

  /* FALSE: what peers send is dropped (a send-only element). */
  gboolean receives;
  /* TRUE: one call at a time, src pads named video_0, audio_0 (rather than
   * video_<connection-id>_<n>). */
  gboolean single_peer;
};

#define GST_SIGNALRTC_VIDEO_SINK_CAPS                                          \
  "video/x-raw; video/x-vp8; video/x-vp9; "                                    \
  "video/x-h264, stream-format=(string)byte-stream"
#define GST_SIGNALRTC_AUDIO_SINK_CAPS "audio/x-raw; audio/x-opus"
#define GST_SIGNALRTC_VIDEO_SRC_CAPS                                           \
  "video/x-raw; video/x-vp8; video/x-vp9; video/x-h264"
#define GST_SIGNALRTC_AUDIO_SRC_CAPS "audio/x-raw; audio/x-opus"

typedef enum
{
  GST_SIGNALRTC_VIDEO_CODEC_VP8,
  GST_SIGNALRTC_VIDEO_CODEC_VP9,
  GST_SIGNALRTC_VIDEO_CODEC_H264,
} GstSignalrtcVideoCodec;

#define GST_TYPE_SIGNALRTC_VIDEO_CODEC (gst_signalrtc_video_codec_get_type ())
GType gst_signalrtc_video_codec_get_type (void);

typedef enum
{
  GST_SIGNALRTC_CONGESTION_CONTROL_NONE,
  GST_SIGNALRTC_CONGESTION_CONTROL_GCC,
} GstSignalrtcCongestionControl;

#define GST_TYPE_SIGNALRTC_CONGESTION_CONTROL                                  \
  (gst_signalrtc_congestion_control_get_type ())
GType gst_signalrtc_congestion_control_get_type (void);

G_END_DECLS
