/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "gstsignalrtcbasebin.h"

G_BEGIN_DECLS

#define GST_TYPE_SIGNALRTC_BIN (gst_signalrtc_bin_get_type ())
G_DECLARE_FINAL_TYPE (GstSignalrtcBin, gst_signalrtc_bin, GST, SIGNALRTC_BIN,
                      GstSignalrtcBaseBin)

G_END_DECLS
