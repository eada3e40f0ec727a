/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "gstsignalrtcbasebin.h"

G_BEGIN_DECLS

#define GST_TYPE_SIGNALRTC_SRC (gst_signalrtc_src_get_type ())
G_DECLARE_FINAL_TYPE (GstSignalrtcSrc, gst_signalrtc_src, GST, SIGNALRTC_SRC,
                      GstSignalrtcBaseBin)

G_END_DECLS
