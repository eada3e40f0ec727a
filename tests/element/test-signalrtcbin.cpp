/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * gst-check tests of signalrtcbin on its own: properties and their defaults,
 * pad templates, request and release of sink pads, a bad hub-url, and state
 * changes with no hub to talk to. No hub and no WebRTC peer is involved;
 * tests/integration/test-elements.cpp has those.
 */
#include <gst/check/gstcheck.h>

#include <dirent.h>

#include <initializer_list>

/* A hub that is certainly not there: nothing listens on port 1. */
#define ABSENT_HUB_URL "http://127.0.0.1:1/signalrtc"

static GstElement *
make_bin (const gchar *name)
{
  GstElement *bin = gst_element_factory_make ("signalrtcbin", name);
  fail_unless (bin != NULL, "no signalrtcbin (is GST_PLUGIN_PATH_1_0 set?)");
  return bin;
}

static GParamSpec *
find_property (GstElement *element, const gchar *name)
{
  GParamSpec *pspec
      = g_object_class_find_property (G_OBJECT_GET_CLASS (element), name);
  fail_unless (pspec != NULL, "signalrtcbin has no property '%s'", name);
  fail_unless (pspec->flags & G_PARAM_READABLE, "'%s' is not readable", name);
  fail_unless (pspec->flags & G_PARAM_WRITABLE, "'%s' is not writable", name);
  return pspec;
}

/* A string property whose default is "nothing" (NULL or ""). */
static void
check_empty_string_property (GstElement *element, const gchar *name)
{
  GParamSpec *pspec = find_property (element, name);
  fail_unless (G_IS_PARAM_SPEC_STRING (pspec), "'%s' is a %s, not a string",
               name, G_PARAM_SPEC_TYPE_NAME (pspec));
  const gchar *def = G_PARAM_SPEC_STRING (pspec)->default_value;
  fail_unless (def == NULL || def[0] == '\0',
               "'%s' defaults to \"%s\" instead of nothing", name, def);

  gchar *value = NULL;
  g_object_get (element, name, &value, NULL);
  fail_unless (value == NULL || value[0] == '\0',
               "'%s' reads \"%s\" on a fresh element", name, value);
  g_free (value);

  /* And it keeps what it is given. */
  g_object_set (element, name, "x", NULL);
  g_object_get (element, name, &value, NULL);
  fail_unless_equals_string (value, "x");
  g_free (value);
}

static void
check_boolean_property (GstElement *element, const gchar *name,
                        gboolean expected)
{
  GParamSpec *pspec = find_property (element, name);
  fail_unless (G_IS_PARAM_SPEC_BOOLEAN (pspec), "'%s' is a %s, not a boolean",
               name, G_PARAM_SPEC_TYPE_NAME (pspec));
  fail_unless (G_PARAM_SPEC_BOOLEAN (pspec)->default_value == expected,
               "'%s' defaults to %d instead of %d", name,
               G_PARAM_SPEC_BOOLEAN (pspec)->default_value, expected);
  gboolean value = !expected;
  g_object_get (element, name, &value, NULL);
  fail_unless (value == expected, "'%s' reads %d on a fresh element", name,
               value);
}

GST_START_TEST (test_element_exists)
{
  GstElementFactory *factory = gst_element_factory_find ("signalrtcbin");
  fail_unless (factory != NULL, "no signalrtcbin factory");

  GstPlugin *plugin
      = gst_plugin_feature_get_plugin (GST_PLUGIN_FEATURE (factory));
  fail_unless (plugin != NULL);
  fail_unless_equals_string (gst_plugin_get_name (plugin), "signalrtc");
  /* Loaded from the build tree, not from an installed copy. */
  const gchar *filename = gst_plugin_get_filename (plugin);
  const gchar *expected_dir = g_getenv ("SIGNALRTC_PLUGIN_DIR");
  if (expected_dir != NULL && filename != NULL) {
    gchar *dir = g_path_get_dirname (filename);
    fail_unless_equals_string (dir, expected_dir);
    g_free (dir);
  }
  gst_object_unref (plugin);

  GstElement *bin = gst_element_factory_create (factory, "bin0");
  fail_unless (bin != NULL);
  fail_unless (GST_IS_BIN (bin), "signalrtcbin is not a GstBin");
  ASSERT_OBJECT_REFCOUNT (bin, "signalrtcbin", 1);
  gst_object_unref (bin);
  gst_object_unref (factory);
}
GST_END_TEST;

GST_START_TEST (test_string_properties)
{
  GstElement *bin = make_bin ("bin0");

  check_empty_string_property (bin, "hub-url");
  check_empty_string_property (bin, "call");
  check_empty_string_property (bin, "allowed-users");
  check_empty_string_property (bin, "local-addresses");

  /* username: the element name until set. */
  GParamSpec *pspec = find_property (bin, "username");
  fail_unless (G_IS_PARAM_SPEC_STRING (pspec), "'username' is a %s",
               G_PARAM_SPEC_TYPE_NAME (pspec));
  gchar *username = NULL;
  g_object_get (bin, "username", &username, NULL);
  fail_unless_equals_string (username, "bin0");
  g_free (username);
  g_object_set (bin, "username", "alice", NULL);
  g_object_get (bin, "username", &username, NULL);
  fail_unless_equals_string (username, "alice");
  g_free (username);

  gst_object_unref (bin);
}
GST_END_TEST;

GST_START_TEST (test_boolean_properties)
{
  GstElement *bin = make_bin ("bin0");
  check_boolean_property (bin, "auto-answer", TRUE);
  check_boolean_property (bin, "decode", TRUE);
  check_boolean_property (bin, "reconnect", TRUE);
  gst_object_unref (bin);
}
GST_END_TEST;

GST_START_TEST (test_max_peers_property)
{
  GstElement *bin = make_bin ("bin0");
  GParamSpec *pspec = find_property (bin, "max-peers");
  /* A count: unsigned, 0 meaning no limit. */
  fail_unless (G_IS_PARAM_SPEC_UINT (pspec), "'max-peers' is a %s, not a uint",
               G_PARAM_SPEC_TYPE_NAME (pspec));
  fail_unless_equals_int (G_PARAM_SPEC_UINT (pspec)->default_value, 0);
  fail_unless_equals_int (G_PARAM_SPEC_UINT (pspec)->minimum, 0);
  guint max_peers = 7;
  g_object_get (bin, "max-peers", &max_peers, NULL);
  fail_unless_equals_int (max_peers, 0);
  gst_object_unref (bin);
}
GST_END_TEST;

GST_START_TEST (test_video_codec_property)
{
  GstElement *bin = make_bin ("bin0");
  GParamSpec *pspec = find_property (bin, "video-codec");
  fail_unless (G_IS_PARAM_SPEC_ENUM (pspec), "'video-codec' is a %s",
               G_PARAM_SPEC_TYPE_NAME (pspec));
  GEnumClass *codecs = G_PARAM_SPEC_ENUM (pspec)->enum_class;
  for (const gchar *nick : {"vp8", "vp9", "h264"})
    fail_unless (g_enum_get_value_by_nick (codecs, nick) != NULL,
                 "video-codec has no value '%s'", nick);
  GEnumValue *def
      = g_enum_get_value (codecs, G_PARAM_SPEC_ENUM (pspec)->default_value);
  fail_unless (def != NULL);
  fail_unless_equals_string (def->value_nick, "vp8");
  gint codec = -1;
  g_object_get (bin, "video-codec", &codec, NULL);
  fail_unless_equals_int (codec, def->value);
  /* Settable by nick, as gst-launch does. */
  gst_util_set_object_arg (G_OBJECT (bin), "video-codec", "h264");
  g_object_get (bin, "video-codec", &codec, NULL);
  fail_unless_equals_int (codec,
                          g_enum_get_value_by_nick (codecs, "h264")->value);
  gst_object_unref (bin);
}
GST_END_TEST;

GST_START_TEST (test_chat_signals)
{
  GstElement *bin = make_bin (NULL);
  GType type = G_OBJECT_TYPE (bin);

  GSignalQuery query;
  guint id = g_signal_lookup ("send-message", type);
  fail_unless (id != 0, "no 'send-message' signal");
  g_signal_query (id, &query);
  fail_unless (query.signal_flags & G_SIGNAL_ACTION,
               "'send-message' is not an action signal");
  fail_unless_equals_int (query.n_params, 2);
  fail_unless (query.param_types[0] == G_TYPE_STRING);
  fail_unless (query.param_types[1] == G_TYPE_STRING);
  fail_unless (query.return_type == G_TYPE_BOOLEAN,
               "send-message does not say whether the text went out");

  id = g_signal_lookup ("message-received", type);
  fail_unless (id != 0, "no 'message-received' signal");
  g_signal_query (id, &query);
  fail_unless_equals_int (query.n_params, 3);
  for (guint i = 0; i < 3; i++)
    fail_unless (query.param_types[i] == G_TYPE_STRING,
                 "message-received argument %u is not a string", i);

  /* Sending with nobody to send to is harmless, and says so. */
  gboolean sent = TRUE;
  g_signal_emit_by_name (bin, "send-message", "", "nobody hears this", &sent);
  fail_if (sent, "a message to nobody was taken");
  gst_object_unref (bin);
}
GST_END_TEST;

static GstStaticPadTemplate *
find_template (GstElementFactory *factory, const gchar *name_template)
{
  for (const GList *l = gst_element_factory_get_static_pad_templates (factory);
       l != NULL; l = l->next) {
    GstStaticPadTemplate *templ = (GstStaticPadTemplate *)l->data;
    if (g_str_equal (templ->name_template, name_template))
      return templ;
  }
  return NULL;
}

static void
check_template_accepts (GstStaticPadTemplate *templ, const gchar *caps_str)
{
  GstCaps *templ_caps = gst_static_pad_template_get_caps (templ);
  GstCaps *caps = gst_caps_from_string (caps_str);
  fail_unless (gst_caps_can_intersect (templ_caps, caps),
               "pad template %s does not accept %s", templ->name_template,
               caps_str);
  gst_caps_unref (caps);
  gst_caps_unref (templ_caps);
}

GST_START_TEST (test_pad_templates)
{
  GstElementFactory *factory = gst_element_factory_find ("signalrtcbin");
  fail_unless (factory != NULL);

  GstStaticPadTemplate *video = find_template (factory, "video_%u");
  fail_unless (video != NULL, "no video_%%u pad template");
  fail_unless_equals_int (video->direction, GST_PAD_SINK);
  fail_unless_equals_int (video->presence, GST_PAD_REQUEST);
  check_template_accepts (video, "video/x-raw");
  check_template_accepts (video, "video/x-vp8");

  GstStaticPadTemplate *audio = find_template (factory, "audio_%u");
  fail_unless (audio != NULL, "no audio_%%u pad template");
  fail_unless_equals_int (audio->direction, GST_PAD_SINK);
  fail_unless_equals_int (audio->presence, GST_PAD_REQUEST);
  check_template_accepts (audio, "audio/x-raw");
  check_template_accepts (audio, "audio/x-opus");

  /* Received tracks: sometimes src pads, raw or encoded. */
  guint n_src = 0;
  GstCaps *src_caps = gst_caps_new_empty ();
  for (const GList *l = gst_element_factory_get_static_pad_templates (factory);
       l != NULL; l = l->next) {
    GstStaticPadTemplate *templ = (GstStaticPadTemplate *)l->data;
    if (templ->direction != GST_PAD_SRC)
      continue;
    n_src++;
    fail_unless_equals_int (templ->presence, GST_PAD_SOMETIMES);
    src_caps
        = gst_caps_merge (src_caps, gst_static_pad_template_get_caps (templ));
  }
  fail_unless (n_src > 0, "no src pad template");
  for (const gchar *s :
       {"video/x-raw", "audio/x-raw", "video/x-vp8", "audio/x-opus"}) {
    GstCaps *caps = gst_caps_from_string (s);
    fail_unless (gst_caps_can_intersect (src_caps, caps),
                 "no src pad template gives %s", s);
    gst_caps_unref (caps);
  }
  gst_caps_unref (src_caps);
  gst_object_unref (factory);
}
GST_END_TEST;

static guint
count_sink_pads (GstElement *element)
{
  GST_OBJECT_LOCK (element);
  guint n = element->numsinkpads;
  GST_OBJECT_UNLOCK (element);
  return n;
}

GST_START_TEST (test_request_release_pads)
{
  GstElement *bin = make_bin ("bin0");

  GstPad *video0 = gst_element_request_pad_simple (bin, "video_%u");
  fail_unless (video0 != NULL, "no video_%%u pad");
  fail_unless_equals_string (GST_PAD_NAME (video0), "video_0");
  fail_unless_equals_int (GST_PAD_DIRECTION (video0), GST_PAD_SINK);
  GstPad *video1 = gst_element_request_pad_simple (bin, "video_%u");
  fail_unless (video1 != NULL);
  fail_unless_equals_string (GST_PAD_NAME (video1), "video_1");
  GstPad *audio0 = gst_element_request_pad_simple (bin, "audio_%u");
  fail_unless (audio0 != NULL, "no audio_%%u pad");
  fail_unless_equals_string (GST_PAD_NAME (audio0), "audio_0");
  fail_unless_equals_int (count_sink_pads (bin), 3);

  /* The element's reference and ours. */
  ASSERT_OBJECT_REFCOUNT (video0, "video_0", 2);
  ASSERT_OBJECT_REFCOUNT (video1, "video_1", 2);
  ASSERT_OBJECT_REFCOUNT (audio0, "audio_0", 2);

  GstPad *found = gst_element_get_static_pad (bin, "video_1");
  fail_unless (found == video1);
  gst_object_unref (found);

  /* Release in NULL. */
  gst_element_release_request_pad (bin, video1);
  ASSERT_OBJECT_REFCOUNT (video1, "video_1", 1);
  fail_unless (GST_PAD_PARENT (video1) == NULL);
  gst_object_unref (video1);
  fail_unless_equals_int (count_sink_pads (bin), 2);

  gst_element_release_request_pad (bin, video0);
  ASSERT_OBJECT_REFCOUNT (video0, "video_0", 1);
  gst_object_unref (video0);
  gst_element_release_request_pad (bin, audio0);
  ASSERT_OBJECT_REFCOUNT (audio0, "audio_0", 1);
  gst_object_unref (audio0);
  fail_unless_equals_int (count_sink_pads (bin), 0);

  /* A pad requested again after a release works too, and is freed with the
   * element. */
  GstPad *again = gst_element_request_pad_simple (bin, "video_%u");
  fail_unless (again != NULL);
  gst_object_unref (again);

  ASSERT_OBJECT_REFCOUNT (bin, "signalrtcbin", 1);
  gst_object_unref (bin);
}
GST_END_TEST;

/* A pipeline with one signalrtcbin using @hub_url. */
static GstElement *
make_pipeline (const gchar *hub_url, GstElement **bin_out)
{
  GstElement *pipeline = gst_pipeline_new ("pipeline");
  GstElement *bin = make_bin ("rtc");
  g_object_set (bin, "hub-url", hub_url, NULL);
  gst_bin_add (GST_BIN (pipeline), bin);
  if (bin_out != NULL)
    *bin_out = bin;
  return pipeline;
}

static void
check_bad_hub_url (const gchar *hub_url)
{
  GstElement *pipeline = make_pipeline (hub_url, NULL);
  GstBus *bus = gst_element_get_bus (pipeline);

  GstStateChangeReturn ret = gst_element_set_state (pipeline, GST_STATE_READY);
  fail_unless_equals_int (ret, GST_STATE_CHANGE_FAILURE);

  GstMessage *msg
      = gst_bus_timed_pop_filtered (bus, GST_SECOND, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no ERROR message for hub-url \"%s\"", hub_url);
  GError *error = NULL;
  gchar *debug = NULL;
  gst_message_parse_error (msg, &error, &debug);
  GST_INFO ("hub-url \"%s\": %s (%s)", hub_url, error->message, debug);
  fail_unless (error->domain == GST_RESOURCE_ERROR,
               "hub-url \"%s\": error domain %s, not resource", hub_url,
               g_quark_to_string (error->domain));
  fail_unless_equals_int (error->code, GST_RESOURCE_ERROR_SETTINGS);
  fail_unless (error->message != NULL && error->message[0] != '\0');
  g_clear_error (&error);
  g_free (debug);
  gst_message_unref (msg);

  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
                          GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (bus);
  ASSERT_OBJECT_REFCOUNT (pipeline, "pipeline", 1);
  gst_object_unref (pipeline);
}

GST_START_TEST (test_bad_hub_url)
{
  check_bad_hub_url ("not a url");
  check_bad_hub_url ("ftp://x");
}
GST_END_TEST;

/* Entries in a /proc/self directory (open files, threads). */
static guint
count_entries (const gchar *path)
{
  DIR *dir = opendir (path);
  if (dir == NULL)
    return 0;
  guint n = 0;
  while (struct dirent *entry = readdir (dir)) {
    if (entry->d_name[0] != '.')
      n++;
  }
  closedir (dir);
  return n;
}

static void
bin_finalized (gpointer data, GObject *where_the_object_was)
{
  *(gboolean *)data = TRUE;
}

/* NULL -> PLAYING -> NULL with nobody listening at the hub's address. */
static void
cycle_once (gboolean with_input)
{
  GstElement *bin = NULL;
  GstElement *pipeline = make_pipeline (ABSENT_HUB_URL, &bin);
  g_object_set (bin, "reconnect", TRUE, NULL);
  gboolean finalized = FALSE;
  g_object_weak_ref (G_OBJECT (bin), bin_finalized, &finalized);

  if (with_input) {
    GstElement *src = gst_element_factory_make ("videotestsrc", NULL);
    GstElement *filter = gst_element_factory_make ("capsfilter", NULL);
    fail_unless (src != NULL && filter != NULL);
    g_object_set (src, "is-live", TRUE, NULL);
    GstCaps *caps = gst_caps_from_string (
        "video/x-raw,width=320,height=240,framerate=30/1");
    g_object_set (filter, "caps", caps, NULL);
    gst_caps_unref (caps);
    gst_bin_add_many (GST_BIN (pipeline), src, filter, NULL);
    fail_unless (gst_element_link (src, filter));
    fail_unless (gst_element_link_pads (filter, "src", bin, "video_%u"));
  }

  GstStateChangeReturn ret
      = gst_element_set_state (pipeline, GST_STATE_PLAYING);
  fail_unless (ret != GST_STATE_CHANGE_FAILURE, "PLAYING failed");
  ret = gst_element_get_state (pipeline, NULL, NULL, 5 * GST_SECOND);
  fail_unless (ret == GST_STATE_CHANGE_SUCCESS
                   || ret == GST_STATE_CHANGE_NO_PREROLL,
               "PLAYING did not complete: %s",
               gst_element_state_change_return_get_name (ret));
  /* Let it try the hub (and fail) a few times. */
  g_usleep (300 * 1000);

  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  if (msg != NULL) {
    GError *error = NULL;
    gst_message_parse_error (msg, &error, NULL);
    fail ("ERROR with no hub and reconnect on: %s", error->message);
  }
  gst_object_unref (bus);

  ret = gst_element_set_state (pipeline, GST_STATE_NULL);
  fail_unless_equals_int (ret, GST_STATE_CHANGE_SUCCESS);
  ASSERT_OBJECT_REFCOUNT (pipeline, "pipeline", 1);
  ASSERT_OBJECT_REFCOUNT (bin, "signalrtcbin", 1);
  gst_object_unref (pipeline);
  fail_unless (finalized, "signalrtcbin was not finalized with its pipeline");
}

static void
check_cycles_do_not_leak (gboolean with_input)
{
  cycle_once (with_input);
  /* Thread pools and caches are warm now; later cycles must not add. */
  guint fds = count_entries ("/proc/self/fd");
  guint threads = count_entries ("/proc/self/task");
  for (int i = 1; i < 5; i++)
    cycle_once (with_input);
  guint fds_after = count_entries ("/proc/self/fd");
  guint threads_after = count_entries ("/proc/self/task");
  GST_INFO ("fds %u -> %u, threads %u -> %u", fds, fds_after, threads,
            threads_after);
  fail_unless (fds_after <= fds + 1, "open files grew from %u to %u", fds,
               fds_after);
  /* GLib's thread pools may keep a few idle workers. */
  fail_unless (threads_after <= threads + 3, "threads grew from %u to %u",
               threads, threads_after);
}

GST_START_TEST (test_state_cycles_without_hub)
{
  check_cycles_do_not_leak (FALSE);
}
GST_END_TEST;

GST_START_TEST (test_state_cycles_without_hub_with_input)
{
  check_cycles_do_not_leak (TRUE);
}
GST_END_TEST;

static Suite *
signalrtcbin_suite (void)
{
  Suite *s = suite_create ("signalrtcbin");
  TCase *tc = tcase_create ("general");

  /* Five state cycles, each waiting a little. */
  tcase_set_timeout (tc, 60);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_element_exists);
  tcase_add_test (tc, test_string_properties);
  tcase_add_test (tc, test_boolean_properties);
  tcase_add_test (tc, test_max_peers_property);
  tcase_add_test (tc, test_video_codec_property);
  tcase_add_test (tc, test_chat_signals);
  tcase_add_test (tc, test_pad_templates);
  tcase_add_test (tc, test_request_release_pads);
  tcase_add_test (tc, test_bad_hub_url);
  tcase_add_test (tc, test_state_cycles_without_hub);
  tcase_add_test (tc, test_state_cycles_without_hub_with_input);
  return s;
}

GST_CHECK_MAIN (signalrtcbin);
