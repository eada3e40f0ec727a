/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "gstsignalrtcbasebin.h"

G_BEGIN_DECLS

#define GST_TYPE_SIGNALRTC_SINK (gst_signalrtc_sink_get_type ())
G_DECLARE_FINAL_TYPE (GstSignalrtcSink, gst_signalrtc_sink, GST, SIGNALRTC_SINK,
                      GstSignalrtcBaseBin)

G_END_DECLS
