/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/* The src pad of one remote track: a ghost pad that tells whose it is. */
#define GST_TYPE_SIGNALRTC_PAD (gst_signalrtc_pad_get_type ())
G_DECLARE_FINAL_TYPE (GstSignalrtcPad, gst_signalrtc_pad, GST, SIGNALRTC_PAD,
                      GstGhostPad)

GstPad *gst_signalrtc_pad_new (const gchar *name, GstPad *target,
                               const gchar *connection_id,
                               const gchar *username, const gchar *kind);
/* The remote user's new hub connection id (the call goes on). */
void gst_signalrtc_pad_set_connection_id (GstPad *pad,
                                          const gchar *connection_id);

G_END_DECLS
