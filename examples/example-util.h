/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What the example programs share: their console output and a way back to
 * the main loop.
 */
#pragma once

#include <gst/gst.h>

#include <cstdarg>
#include <cstdio>
#include <functional>

namespace signalrtc::examples {

/* Prints a line as it is, flushed at once (scripts and tests read the
 * output line by line). Chat is UTF-8 and goes out unchanged, whatever the
 * locale (g_print would turn it into '?' under the C locale). */
G_GNUC_PRINTF (1, 2) inline void say (const char *format, ...)
{
  va_list args;
  va_start (args, format);
  vfprintf (stdout, format, args);
  va_end (args);
  fputc ('\n', stdout);
  fflush (stdout);
}

/* Runs @fn on the default main context, always later (never on the calling
 * thread, unlike g_main_context_invoke before the loop runs). */
inline void
run_on_main (std::function<void ()> fn)
{
  GSource *source = g_idle_source_new ();
  g_source_set_callback (
      source,
      [] (gpointer data) -> gboolean {
        (*static_cast<std::function<void ()> *> (data)) ();
        return G_SOURCE_REMOVE;
      },
      new std::function<void ()> (std::move (fn)),
      [] (gpointer data) {
        delete static_cast<std::function<void ()> *> (data);
      });
  g_source_attach (source, nullptr);
  g_source_unref (source);
}

/* Chat to @peer (a connection id or user name; "" for every call) through
 * the element's send-message action signal, which says whether the text
 * went out (or waits for a call being set up). */
inline bool
send_chat (GstElement *bin, const char *peer, const char *text)
{
  gboolean sent = FALSE;
  g_signal_emit_by_name (bin, "send-message", peer, text, &sent);
  return sent;
}

}  // namespace signalrtc::examples
