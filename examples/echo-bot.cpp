/* signalrtc-echo-bot: a hub user that sends every caller back what it
 * receives, video, audio and chat.
 *
 *   signalrtc-echo-bot [--hub URL] [--username NAME]
 *
 * Call it from the browser client: you see and hear yourself, delayed by one
 * trip through the bot, and every chat message comes back as "echo: TEXT".
 *
 * How it works, as an example of driving signalrtcbin from C++:
 *  - one signalrtcbin with max-peers=1 (its inputs go to every peer, so an
 *    echo has one caller at a time; a second caller is refused and told so
 *    by the `signalrtc-call-rejected` message);
 *  - two request sink pads, video_0 and audio_0, so that every answer
 *    offers to send video and audio;
 *  - each received track (a src pad, decoded) is linked through a queue into
 *    the sink pad of its kind when it appears ("pad-added"). The bin encodes
 *    it again for the caller. EOS from a finished call is dropped there, or it
 *    would end the bot's inputs for good;
 *  - "message-received" answers chat with "send-message".
 *
 * Stop it with Ctrl-C.
 */
#include "example-util.h"

#include <gst/gst.h>

#include <glib-unix.h>

namespace {

using signalrtc::examples::say;
using signalrtc::examples::send_chat;

struct EchoBot
{
  GstElement *pipeline = nullptr;
  GstElement *bin = nullptr;
  /* The bin's input for each kind, behind a queue: "video" and "audio". */
  GstElement *video_queue = nullptr;
  GstElement *audio_queue = nullptr;
  GMainLoop *loop = nullptr;
  gchar *username = nullptr;
};

GstPadProbeReturn
drop_eos (GstPad *, GstPadProbeInfo *info, gpointer)
{
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  return GST_EVENT_TYPE (event) == GST_EVENT_EOS ? GST_PAD_PROBE_DROP
                                                 : GST_PAD_PROBE_OK;
}

void
on_pad_added (GstElement *, GstPad *pad, EchoBot *bot)
{
  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  g_autofree gchar *kind = nullptr, *username = nullptr;
  g_object_get (pad, "kind", &kind, "username", &username, nullptr);
  GstElement *queue
      = g_strcmp0 (kind, "audio") == 0 ? bot->audio_queue : bot->video_queue;
  g_autoptr (GstPad) sink = gst_element_get_static_pad (queue, "sink");
  if (gst_pad_is_linked (sink)) {
    g_printerr ("echo: already echoing a %s track; ignoring %s's\n", kind,
                username);
    return;
  }
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, drop_eos,
                     nullptr, nullptr);
  if (gst_pad_link (pad, sink) != GST_PAD_LINK_OK)
    g_printerr ("echo: cannot link %s's %s track\n", username, kind);
  else
    say ("echo: sending %s's %s back", username, kind);
}

void
on_message_received (GstElement *bin, const gchar *connection_id,
                     const gchar *username, const gchar *text, EchoBot *)
{
  say ("echo: message from %s: %s", username, text);
  g_autofree gchar *reply = g_strdup_printf ("echo: %s", text);
  send_chat (bin, connection_id, reply);
}

gboolean
on_bus_message (GstBus *, GstMessage *message, EchoBot *bot)
{
  switch (GST_MESSAGE_TYPE (message)) {
  case GST_MESSAGE_ERROR: {
    g_autoptr (GError) error = nullptr;
    g_autofree gchar *debug = nullptr;
    gst_message_parse_error (message, &error, &debug);
    g_printerr ("echo: error: %s (%s)\n", error->message,
                debug ? debug : "no details");
    g_main_loop_quit (bot->loop);
    break;
  }
  case GST_MESSAGE_EOS:
    g_main_loop_quit (bot->loop);
    break;
  case GST_MESSAGE_ELEMENT: {
    const GstStructure *s = gst_message_get_structure (message);
    if (GST_MESSAGE_SRC (message) != GST_OBJECT (bot->bin) || !s)
      break;
    const gchar *name = gst_structure_get_name (s);
    const gchar *who = gst_structure_get_string (s, "username");
    const gchar *id = gst_structure_get_string (s, "connection-id");
    if (g_str_equal (name, "signalrtc-hub-connected")) {
      say ("echo: on the hub as %s", bot->username);
    } else if (g_str_equal (name, "signalrtc-peer-connected")) {
      say ("echo: %s connected", who);
      g_autofree gchar *hello = g_strdup_printf (
          "Hello %s, this is %s: you get back what you send.", who,
          bot->username);
      send_chat (bot->bin, id, hello);
    } else if (g_str_equal (name, "signalrtc-peer-disconnected")) {
      say ("echo: %s left", who);
    } else if (g_str_equal (name, "signalrtc-call-rejected")) {
      say ("echo: refused a call from %s: busy", who);
    }
    break;
  }
  default:
    break;
  }
  return G_SOURCE_CONTINUE;
}

gboolean
on_signal (gpointer data)
{
  auto *bot = static_cast<EchoBot *> (data);
  say ("echo: stopping");
  g_main_loop_quit (bot->loop);
  return G_SOURCE_CONTINUE;
}

/* A queue in front of the bin's request pad @templ ("video_%u", ...). */
GstElement *
add_input (EchoBot *bot, const gchar *templ)
{
  GstElement *queue = gst_element_factory_make ("queue", nullptr);
  gst_bin_add (GST_BIN (bot->pipeline), queue);
  g_autoptr (GstPad) src = gst_element_get_static_pad (queue, "src");
  g_autoptr (GstPad) sink = gst_element_request_pad_simple (bot->bin, templ);
  if (!sink || gst_pad_link (src, sink) != GST_PAD_LINK_OK)
    return nullptr;
  return queue;
}

}  // namespace

int
main (int argc, char **argv)
{
  g_autofree gchar *hub = g_strdup ("http://127.0.0.1:5000/signalrtc");
  g_autofree gchar *username = g_strdup ("echo");
  const GOptionEntry entries[] = {
      {"hub", 0, 0, G_OPTION_ARG_STRING, &hub, "The hub's URL", "URL"},
      {"username", 0, 0, G_OPTION_ARG_STRING, &username,
       "The user name on the hub", "NAME"},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr},
  };
  g_autoptr (GOptionContext) context
      = g_option_context_new ("- send every caller back what it sends");
  g_option_context_add_main_entries (context, entries, nullptr);
  g_option_context_add_group (context, gst_init_get_option_group ());
  g_autoptr (GError) error = nullptr;
  if (!g_option_context_parse (context, &argc, &argv, &error)) {
    g_printerr ("signalrtc-echo-bot: %s\n", error->message);
    return 2;
  }

  EchoBot bot;
  bot.username = username;
  bot.pipeline = gst_pipeline_new ("echo-bot");
  bot.bin = gst_element_factory_make ("signalrtcbin", "echo");
  if (!bot.bin) {
    g_printerr ("signalrtc-echo-bot: no signalrtcbin element: is the "
                "signalrtc plugin installed or on GST_PLUGIN_PATH?\n");
    return 1;
  }
  g_object_set (bot.bin, "hub-url", hub, "username", username, "max-peers", 1u,
                nullptr);
  gst_bin_add (GST_BIN (bot.pipeline), bot.bin);
  bot.video_queue = add_input (&bot, "video_%u");
  bot.audio_queue = add_input (&bot, "audio_%u");
  if (!bot.video_queue || !bot.audio_queue) {
    g_printerr ("signalrtc-echo-bot: cannot link the bin's inputs\n");
    gst_object_unref (bot.pipeline);
    return 1;
  }
  g_signal_connect (bot.bin, "pad-added", G_CALLBACK (on_pad_added), &bot);
  g_signal_connect (bot.bin, "message-received",
                    G_CALLBACK (on_message_received), &bot);

  bot.loop = g_main_loop_new (nullptr, FALSE);
  g_autoptr (GstBus) bus = gst_element_get_bus (bot.pipeline);
  gst_bus_add_watch (bus, (GstBusFunc)on_bus_message, &bot);
  guint sigint = g_unix_signal_add (SIGINT, on_signal, &bot);
  guint sigterm = g_unix_signal_add (SIGTERM, on_signal, &bot);

  int status = 0;
  if (gst_element_set_state (bot.pipeline, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE) {
    g_printerr ("signalrtc-echo-bot: cannot start (is the hub URL right?)\n");
    status = 1;
  } else {
    g_main_loop_run (bot.loop);
  }

  gst_element_set_state (bot.pipeline, GST_STATE_NULL);
  g_source_remove (sigint);
  g_source_remove (sigterm);
  gst_bus_remove_watch (bus);
  gst_object_unref (bot.pipeline);
  g_main_loop_unref (bot.loop);
  return status;
}
