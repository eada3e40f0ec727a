/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* signalrtc-record: joins a signalrtc hub and records every call into a
 * file of its own. `signalrtc-record --help` lists the options; README.md
 * has the details. */
#include "recorder.h"

#include <gst/gst.h>
#include <malloc.h>

#include <cstdlib>

int
main (int argc, char **argv)
{
  /* Each call brings a dozen threads that come and go (webrtcbin's, the
   * muxer's queues): glibc gives new threads arenas of their own, up to 8
   * per core, and keeps what they freed. Over a soak (docs/performance.md,
   * section 6) that grew the recorder's RSS by a quarter while nothing
   * leaked; with two arenas it stays flat. MALLOC_ARENA_MAX still wins. */
  if (!std::getenv ("MALLOC_ARENA_MAX"))
    mallopt (M_ARENA_MAX, 2);
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
