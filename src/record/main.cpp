/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* signalrtc-record: joins a signalrtc hub and records every call into a
 * file of its own. `signalrtc-record --help` lists the options; README.md
 * has the details. */
#include "recorder.h"

#include <gst/gst.h>

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_autoptr (GError) error = nullptr;
  auto options = signalrtc::parse_record_options (&argc, &argv, &error);
  if (!options) {
    g_printerr ("signalrtc-record: %s (see --help)\n", error->message);
    return 2;
  }
  int status;
  {
    signalrtc::Recorder recorder (std::move (*options));
    status = recorder.run ();
  }
  /* Everything is gone by now; the leaks tracer (GST_TRACERS=leaks) checks
   * that here. */
  gst_deinit ();
  return status;
}
