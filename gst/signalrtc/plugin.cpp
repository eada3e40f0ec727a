/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "gstsignalrtcelements.h"

static gboolean
plugin_init (GstPlugin *plugin)
{
  gboolean ret = FALSE;
  ret |= GST_ELEMENT_REGISTER (signalrtcbin, plugin);
  ret |= GST_ELEMENT_REGISTER (signalrtcsink, plugin);
  ret |= GST_ELEMENT_REGISTER (signalrtcsrc, plugin);
  return ret;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, signalrtc,
                   "WebRTC calls with browsers, signaled through a SignalR hub",
                   plugin_init, VERSION, "LGPL", "signalrtc", "signalrtc")
