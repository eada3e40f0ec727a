/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_SIGNALRTC_BIN (gst_signalrtc_bin_get_type ())
G_DECLARE_DERIVABLE_TYPE (GstSignalrtcBin, gst_signalrtc_bin, GST,
                          SIGNALRTC_BIN, GstBin)

struct _GstSignalrtcBinClass
{
  GstBinClass parent_class;
};

typedef enum
{
  GST_SIGNALRTC_VIDEO_CODEC_VP8,
  GST_SIGNALRTC_VIDEO_CODEC_VP9,
  GST_SIGNALRTC_VIDEO_CODEC_H264,
} GstSignalrtcVideoCodec;

#define GST_TYPE_SIGNALRTC_VIDEO_CODEC (gst_signalrtc_video_codec_get_type ())
GType gst_signalrtc_video_codec_get_type (void);

G_END_DECLS
