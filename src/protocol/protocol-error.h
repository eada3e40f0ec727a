/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Errors of the pure codecs in src/protocol/: every malformed input gives
 * one of these with a message that names what was wrong. */
#define SIGNALRTC_PROTOCOL_ERROR (signalrtc_protocol_error_quark ())
GQuark signalrtc_protocol_error_quark (void);

typedef enum
{
  SIGNALRTC_PROTOCOL_ERROR_INVALID_JSON,     /* not JSON at all */
  SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE,  /* JSON, but the wrong shape */
  SIGNALRTC_PROTOCOL_ERROR_UNKNOWN_TYPE,     /* a message type we do not know */
  SIGNALRTC_PROTOCOL_ERROR_TOO_LARGE,        /* over the size limit */
  SIGNALRTC_PROTOCOL_ERROR_UNSUPPORTED,      /* well formed, not supported */
} SignalrtcProtocolError;

G_END_DECLS
