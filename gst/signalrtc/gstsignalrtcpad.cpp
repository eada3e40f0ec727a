/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "gstsignalrtcpad.h"

/**
 * GstSignalrtcPad:
 *
 * The src pads of signalrtcbin and signalrtcsrc: each carries one track of
 * one remote user, named by the read-only properties below. When that user
 * comes back on the hub with a new connection id (the hub restarted) and
 * the call goes on, connection-id changes to it (with a notify).
 */
struct _GstSignalrtcPad
{
  GstGhostPad parent;
  gchar *connection_id;
  gchar *username;
  gchar *kind;
};

enum
{
  PROP_0,
  PROP_CONNECTION_ID,
  PROP_USERNAME,
  PROP_KIND,
};

G_DEFINE_TYPE (GstSignalrtcPad, gst_signalrtc_pad, GST_TYPE_GHOST_PAD);

static void
gst_signalrtc_pad_init (GstSignalrtcPad *)
{}

static void
gst_signalrtc_pad_finalize (GObject *object)
{
  auto *self = GST_SIGNALRTC_PAD (object);
  g_free (self->connection_id);
  g_free (self->username);
  g_free (self->kind);
  G_OBJECT_CLASS (gst_signalrtc_pad_parent_class)->finalize (object);
}

static void
gst_signalrtc_pad_get_property (GObject *object, guint prop_id, GValue *value,
                                GParamSpec *pspec)
{
  auto *self = GST_SIGNALRTC_PAD (object);
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
  case PROP_CONNECTION_ID:
    g_value_set_string (value, self->connection_id);
    break;
  case PROP_USERNAME:
    g_value_set_string (value, self->username);
    break;
  case PROP_KIND:
    g_value_set_string (value, self->kind);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_signalrtc_pad_class_init (GstSignalrtcPadClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  gobject_class->finalize = gst_signalrtc_pad_finalize;
  gobject_class->get_property = gst_signalrtc_pad_get_property;
  const auto flags = (GParamFlags)(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_property (
      gobject_class, PROP_CONNECTION_ID,
      g_param_spec_string ("connection-id", "Connection id",
                           "Hub connection id of the user this track is from",
                           nullptr, flags));
  g_object_class_install_property (
      gobject_class, PROP_USERNAME,
      g_param_spec_string ("username", "User name",
                           "Name of the user this track is from", nullptr,
                           flags));
  g_object_class_install_property (
      gobject_class, PROP_KIND,
      g_param_spec_string ("kind", "Kind", "\"video\" or \"audio\"", nullptr,
                           flags));
}

GstPad *
gst_signalrtc_pad_new (const gchar *name, GstPad *target,
                       const gchar *connection_id, const gchar *username,
                       const gchar *kind)
{
  auto *pad = GST_SIGNALRTC_PAD (g_object_new (
      GST_TYPE_SIGNALRTC_PAD, "name", name, "direction", GST_PAD_SRC, nullptr));
  pad->connection_id = g_strdup (connection_id);
  pad->username = g_strdup (username);
  pad->kind = g_strdup (kind);
  if (!gst_ghost_pad_set_target (GST_GHOST_PAD (pad), target)) {
    gst_object_unref (pad);
    return nullptr;
  }
  return GST_PAD (pad);
}

void
gst_signalrtc_pad_set_connection_id (GstPad *pad, const gchar *connection_id)
{
  auto *self = GST_SIGNALRTC_PAD (pad);
  GST_OBJECT_LOCK (self);
  g_free (self->connection_id);
  self->connection_id = g_strdup (connection_id);
  GST_OBJECT_UNLOCK (self);
  g_object_notify (G_OBJECT (self), "connection-id");
}
