/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "protocol-error.h"

G_DEFINE_QUARK (signalrtc - protocol - error - quark, signalrtc_protocol_error)
