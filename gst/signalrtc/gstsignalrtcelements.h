/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

GST_ELEMENT_REGISTER_DECLARE (signalrtcbin);
GST_ELEMENT_REGISTER_DECLARE (signalrtcsink);
GST_ELEMENT_REGISTER_DECLARE (signalrtcsrc);

G_END_DECLS
