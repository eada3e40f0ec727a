/* signalrtc-broadcaster: a hub user that plays a playlist of media files to
 * everyone who calls it, like a small TV channel.
 *
 *   signalrtc-broadcaster [--hub URL] [--username NAME] [--loop]
 *                         [--size WIDTHxHEIGHT] FILE...
 *
 * Call it from the browser client: you join the broadcast where it is, and
 * the chat says what is playing. Chat "next" to skip to the next item (for
 * every viewer), "now" to be told what is playing. Without --loop it ends
 * (exit status 0) after the last item; with --loop it starts over. Any file
 * or URI that uridecodebin plays will do; one that cannot be played is
 * reported and skipped, and when no item plays at all the status is 1.
 *
 * How it works, as an example of feeding signalrtcsink from C++ and of
 * using its signals:
 *  - one signalrtcsink with two request pads, video_0 and audio_0: what they
 *    get is encoded once (VP8, Opus) and goes to every caller. In front of
 *    each a clocksync paces the media in real time: the files are not live,
 *    their decoders would push them as fast as they decode, and the sink's
 *    network path does not wait for the clock;
 *  - each playlist item is a bin of its own: uridecodebin, then
 *    videorate/videoconvert/videoscale to one fixed format (--size, 30 fps)
 *    and audioconvert/audioresample to 48 kHz stereo, behind two ghost src
 *    pads "video" and "audio". An item without audio gets silence
 *    (audiotestsrc), one without video black (videotestsrc), for as long as
 *    its other stream lasts: the encoders then never see a stream come and
 *    go, nor their caps change;
 *  - the next item is prepared while the current one plays: its pads are
 *    blocked on their first buffer, decoded and waiting, so a switch costs
 *    no start-up time (nothing stalls the sink, however slow a file is to
 *    open). The item bins handle their own asynchronous state changes
 *    (async-handling), so adding one never takes the pipeline out of
 *    PLAYING;
 *  - every item starts its timestamps at 0. A pad offset on its ghost pads
 *    (gst_pad_set_offset) moves it to the running time where the previous
 *    one ended, so running time, and with it the RTP timestamps the
 *    callers see, keeps rising from item to item;
 *  - the end of an item is its EOS, dropped by a pad probe on the ghost pads
 *    (it would end the sink's inputs for good); once every stream of the
 *    item has ended, the main thread unlinks it, links the prepared next
 *    one in and announces it. "next" does the same at once. After the last
 *    item (no --loop) EOS goes to the sink.
 *  - signals: `signalrtc-peer-connected` (a bus message) greets the caller
 *    with `send-message`; `message-received` takes the chat commands; a new
 *    item is announced to every caller (`send-message` to peer "").
 *
 * Threads: the main thread (the GLib main loop) owns the playlist and the
 * items, and does every link, unlink and state change. Pad probes (the
 * items' streaming threads) and `message-received` (the element's hub
 * thread) only set atomics and post work to the main loop; that work finds
 * its item by serial number, so it is harmless once the item is gone.
 *
 * Stop it with Ctrl-C.
 */
#include "example-util.h"

#include <gst/gst.h>

#include <glib-unix.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

using signalrtc::examples::say;
using signalrtc::examples::send_chat;
using signalrtc::examples::run_on_main;

enum Kind
{
  VIDEO = 0,
  AUDIO = 1,
};
constexpr Kind kKinds[] = {VIDEO, AUDIO};
const char *const kKindNames[] = {"video", "audio"};
/* On an item's bin: its serial number. */
const char *const kSerialKey = "signalrtc-broadcaster-item";

struct Broadcaster;

/* One playlist entry being prepared or played: a bin in the pipeline.
 * Fields without a comment belong to the main thread. */
struct Item
{
  Broadcaster *owner = nullptr;
  guint serial = 0;
  guint index = 0;
  GstElement *bin = nullptr; /* owned by the pipeline */
  GstElement *chain_in[2] = {};
  GstPad *out[2] = {}; /* the bin's ghost src pads */
  gulong block[2] = {};
  bool prepared = false; /* its streams are known and linked */
  bool finished = false;
  /* Streaming threads. */
  std::atomic<bool> decoded[2] = {}; /* a decoded stream feeds the chain */
  std::atomic<bool> ended[2] = {};   /* and has ended */
  std::atomic<bool> retired = false; /* drop everything from now on */
  std::atomic<bool> played = false;  /* a buffer went out */
};

struct Broadcaster
{
  GstElement *pipeline = nullptr;
  GstElement *sink = nullptr;
  GstPad *tail_in[2] = {};   /* the clocksyncs' sink pads */
  GstPad *sink_pads[2] = {}; /* the sink's request pads */
  GMainLoop *loop = nullptr;
  const gchar *username = nullptr;
  int width = 1280, height = 720;
  bool loop_playlist = false;

  std::vector<std::string> uris, names;
  std::vector<bool> bad; /* could not be played: skipped from now on */
  std::unique_ptr<Item> current, next;
  std::optional<guint> cursor; /* index of the last item made */
  guint next_serial = 1;
  bool skip_pending = false;
  bool ending = false;
  int status = 0;

  /* Streaming threads. */
  std::atomic<GstClockTime> pushed_end[2] = {}; /* running time */
  std::atomic<bool> any_played = false;
  std::atomic<int> eos_at_sink = 0;

  Item *find (guint serial);
  std::optional<guint> following (std::optional<guint> index) const;
  std::string now_playing () const;
  void make_item (guint index);
  void destroy (std::unique_ptr<Item> item);
  void prepare_next ();
  void on_prepared (guint serial);
  void on_finished (guint serial);
  void on_error (Item *item, const GError *error);
  void maybe_switch ();
  void start (Item *item);
  void skip ();
  void finish ();
  void stop (int exit_status);
};

/* ---- the items' streaming threads ------------------------------------- */

/* Holds an item's output until it is linked in and unblocked. */
GstPadProbeReturn
hold (GstPad *, GstPadProbeInfo *, gpointer)
{
  return GST_PAD_PROBE_OK;
}

/* Everything an item sends out passes here. */
template <Kind kind>
GstPadProbeReturn
on_item_data (GstPad *, GstPadProbeInfo *info, gpointer data)
{
  auto *item = static_cast<Item *> (data);
  if (item->retired)
    return GST_PAD_PROBE_DROP;
  if (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) != GST_EVENT_EOS)
      return GST_PAD_PROBE_OK;
    /* The end of this stream, not of the broadcast. */
    item->ended[kind] = true;
    bool all = true;
    for (Kind k : kKinds)
      all = all && (!item->decoded[k] || item->ended[k]);
    if (all) {
      Broadcaster *owner = item->owner;
      guint serial = item->serial;
      run_on_main ([owner, serial] { owner->on_finished (serial); });
    }
    return GST_PAD_PROBE_DROP;
  }
  if (!item->played.exchange (true))
    item->owner->any_played = true;
  return GST_PAD_PROBE_OK;
}

/* uridecodebin's new pad: into the chain of its kind, or into a fakesink
 * (subtitles, a second video stream, ...) so that it does not stop the
 * decoder with not-linked. */
void
on_decoded_pad (GstElement *, GstPad *pad, Item *item)
{
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);
  if (!caps)
    caps = gst_pad_query_caps (pad, nullptr);
  const gchar *media
      = gst_caps_is_empty (caps)
            ? ""
            : gst_structure_get_name (gst_caps_get_structure (caps, 0));
  for (Kind kind : kKinds) {
    if (!g_str_has_prefix (media, kKindNames[kind]))
      continue;
    g_autoptr (GstPad) sink
        = gst_element_get_static_pad (item->chain_in[kind], "sink");
    if (!gst_pad_is_linked (sink)
        && gst_pad_link (pad, sink) == GST_PAD_LINK_OK) {
      item->decoded[kind] = true;
      return;
    }
  }
  GstElement *fakesink = gst_element_factory_make ("fakesink", nullptr);
  g_object_set (fakesink, "sync", FALSE, "async", FALSE, nullptr);
  gst_bin_add (GST_BIN (item->bin), fakesink);
  gst_element_sync_state_with_parent (fakesink);
  g_autoptr (GstPad) sink = gst_element_get_static_pad (fakesink, "sink");
  gst_pad_link (pad, sink);
}

void
on_no_more_pads (GstElement *, Item *item)
{
  Broadcaster *owner = item->owner;
  guint serial = item->serial;
  run_on_main ([owner, serial] { owner->on_prepared (serial); });
}

/* The sink's side: how far in running time the media has gone, so that the
 * next item starts there. */
template <Kind kind>
GstPadProbeReturn
on_tail_buffer (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  auto *b = static_cast<Broadcaster *> (data);
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  g_autoptr (GstEvent) event
      = gst_pad_get_sticky_event (pad, GST_EVENT_SEGMENT, 0);
  if (!event || !GST_BUFFER_PTS_IS_VALID (buffer))
    return GST_PAD_PROBE_OK;
  const GstSegment *segment;
  gst_event_parse_segment (event, &segment);
  GstClockTime end = GST_BUFFER_PTS (buffer);
  if (GST_BUFFER_DURATION_IS_VALID (buffer))
    end += GST_BUFFER_DURATION (buffer);
  GstClockTime rt = gst_segment_to_running_time (segment, GST_FORMAT_TIME, end);
  GstClockTime seen = b->pushed_end[kind];
  while (GST_CLOCK_TIME_IS_VALID (rt) && rt > seen
         && !b->pushed_end[kind].compare_exchange_weak (seen, rt)) {
  }
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn
on_sink_event (GstPad *, GstPadProbeInfo *info, gpointer data)
{
  auto *b = static_cast<Broadcaster *> (data);
  if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) == GST_EVENT_EOS
      && ++b->eos_at_sink == 2)
    run_on_main ([b] { b->stop (b->status); });
  return GST_PAD_PROBE_OK;
}

/* ---- the main thread -------------------------------------------------- */

Item *
Broadcaster::find (guint serial)
{
  for (Item *item : {current.get (), next.get ()}) {
    if (item && item->serial == serial)
      return item;
  }
  return nullptr;
}

/* The playable index after @index (the first one when there is none), or
 * nothing at the end of the playlist. */
std::optional<guint>
Broadcaster::following (std::optional<guint> index) const
{
  const guint n = uris.size ();
  guint i = index ? *index + 1 : 0;
  for (guint tried = 0; tried < n; tried++, i++) {
    if (i >= n) {
      if (!loop_playlist)
        return std::nullopt;
      i = 0;
    }
    if (!bad[i])
      return i;
  }
  return std::nullopt;
}

std::string
Broadcaster::now_playing () const
{
  if (!current)
    return "Nothing is playing yet.";
  return "Now playing: " + names[current->index] + " ("
         + std::to_string (current->index + 1) + "/"
         + std::to_string (uris.size ()) + ")";
}

GstElement *
make_chain (GstBin *bin, std::initializer_list<const char *> factories,
            GstCaps *caps)
{
  GstElement *first = nullptr, *previous = nullptr;
  for (const char *factory : factories) {
    GstElement *e = gst_element_factory_make (factory, nullptr);
    if (!e)
      return nullptr;
    gst_bin_add (bin, e);
    if (previous)
      gst_element_link (previous, e);
    else
      first = e;
    previous = e;
  }
  g_object_set (previous, "caps", caps, nullptr);
  return first;
}

/* The item bin: uridecodebin -> chain per kind -> ghost src pad, blocked. */
void
Broadcaster::make_item (guint index)
{
  auto item = std::make_unique<Item> ();
  item->owner = this;
  item->serial = next_serial++;
  item->index = index;
  cursor = index;

  g_autofree gchar *name = g_strdup_printf ("item%u", item->serial);
  item->bin = gst_bin_new (name);
  /* Every element of the item carries its serial number, so that a message
   * from one is known as the item's even after the item is gone. */
  g_object_set_data (G_OBJECT (item->bin), kSerialKey,
                     GUINT_TO_POINTER (item->serial));
  g_signal_connect (item->bin, "deep-element-added",
                    G_CALLBACK (+[] (GstBin *self, GstBin *, GstElement *e) {
                      g_object_set_data (
                          G_OBJECT (e), kSerialKey,
                          g_object_get_data (G_OBJECT (self), kSerialKey));
                    }),
                    nullptr);
  /* The bin completes its own state changes: a new item must not take the
   * pipeline back to PAUSED while uridecodebin finds its streams. */
  g_object_set (item->bin, "async-handling", TRUE, nullptr);
  GstBin *bin = GST_BIN (item->bin);

  g_autoptr (GstCaps) video_caps = gst_caps_new_simple (
      "video/x-raw", "format", G_TYPE_STRING, "I420", "width", G_TYPE_INT,
      width, "height", G_TYPE_INT, height, "framerate", GST_TYPE_FRACTION, 30,
      1, "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, nullptr);
  g_autoptr (GstCaps) audio_caps = gst_caps_from_string (
      "audio/x-raw,format=S16LE,layout=interleaved,rate=48000,channels=2");
  item->chain_in[VIDEO] = make_chain (
      bin, {"videorate", "videoconvert", "videoscale", "capsfilter"},
      video_caps);
  item->chain_in[AUDIO] = make_chain (
      bin, {"audioconvert", "audioresample", "capsfilter"}, audio_caps);
  GstElement *decoder = gst_element_factory_make ("uridecodebin", nullptr);
  if (!item->chain_in[VIDEO] || !item->chain_in[AUDIO] || !decoder) {
    g_printerr ("signalrtc-broadcaster: a GStreamer element is missing "
                "(install gstreamer1.0-plugins-base and -good)\n");
    gst_object_unref (gst_object_ref_sink (item->bin));
    if (decoder)
      gst_object_unref (gst_object_ref_sink (decoder));
    stop (1);
    return;
  }
  g_object_set (decoder, "uri", uris[index].c_str (), nullptr);
  gst_bin_add (bin, decoder);
  g_signal_connect (decoder, "pad-added", G_CALLBACK (on_decoded_pad),
                    item.get ());
  g_signal_connect (decoder, "no-more-pads", G_CALLBACK (on_no_more_pads),
                    item.get ());

  for (Kind kind : kKinds) {
    /* The chain's last element: a capsfilter, whose src pad the ghost
     * pad exposes. */
    GstElement *last = item->chain_in[kind];
    for (;;) {
      g_autoptr (GstPad) src = gst_element_get_static_pad (last, "src");
      g_autoptr (GstPad) peer = gst_pad_get_peer (src);
      if (!peer)
        break;
      last = GST_PAD_PARENT (peer);
    }
    g_autoptr (GstPad) target = gst_element_get_static_pad (last, "src");
    item->out[kind] = gst_ghost_pad_new (kKindNames[kind], target);
    gst_pad_set_active (item->out[kind], TRUE);
    gst_element_add_pad (item->bin, item->out[kind]);
    item->block[kind] = gst_pad_add_probe (
        item->out[kind],
        (GstPadProbeType)(GST_PAD_PROBE_TYPE_BLOCK | GST_PAD_PROBE_TYPE_BUFFER
                          | GST_PAD_PROBE_TYPE_BUFFER_LIST),
        hold, nullptr, nullptr);
    gst_pad_add_probe (item->out[kind], GST_PAD_PROBE_TYPE_DATA_DOWNSTREAM,
                       kind == VIDEO ? on_item_data<VIDEO>
                                     : on_item_data<AUDIO>,
                       item.get (), nullptr);
  }

  gst_bin_add (GST_BIN (pipeline), item->bin);
  next = std::move (item);
  gst_element_sync_state_with_parent (next->bin);
}

void
Broadcaster::destroy (std::unique_ptr<Item> item)
{
  if (!item)
    return;
  item->retired = true;
  for (Kind kind : kKinds) {
    if (gst_pad_is_linked (item->out[kind]))
      gst_pad_unlink (item->out[kind], tail_in[kind]);
  }
  gst_element_set_state (item->bin, GST_STATE_NULL);
  gst_bin_remove (GST_BIN (pipeline), item->bin);
}

/* Makes the item after the current one, if the playlist has one. */
void
Broadcaster::prepare_next ()
{
  if (next || ending)
    return;
  if (auto index = following (cursor))
    make_item (*index);
}

void
Broadcaster::on_prepared (guint serial)
{
  Item *item = find (serial);
  if (!item || item->prepared)
    return;
  if (!item->decoded[VIDEO] && !item->decoded[AUDIO]) {
    g_autoptr (GError) error = g_error_new_literal (
        GST_STREAM_ERROR, GST_STREAM_ERROR_CODEC_NOT_FOUND,
        "no audio or video stream that can be decoded");
    on_error (item, error);
    return;
  }
  /* Silence for an item without audio, black for one without video. */
  for (Kind kind : kKinds) {
    if (item->decoded[kind])
      continue;
    GstElement *filler = gst_element_factory_make (
        kind == VIDEO ? "videotestsrc" : "audiotestsrc", nullptr);
    gst_util_set_object_arg (G_OBJECT (filler),
                             kind == VIDEO ? "pattern" : "wave",
                             kind == VIDEO ? "black" : "silence");
    gst_bin_add (GST_BIN (item->bin), filler);
    gst_element_link (filler, item->chain_in[kind]);
    gst_element_sync_state_with_parent (filler);
  }
  item->prepared = true;
  maybe_switch ();
}

void
Broadcaster::on_finished (guint serial)
{
  Item *item = find (serial);
  if (!item || item->finished)
    return;
  item->finished = true;
  maybe_switch ();
}

/* An element of @item failed: the file is reported and skipped. */
void
Broadcaster::on_error (Item *item, const GError *error)
{
  say ("broadcaster: cannot play %s: %s", names[item->index].c_str (),
       error->message);
  if (!item->played)
    bad[item->index] = true;
  if (item == next.get ()) {
    destroy (std::move (next));
    prepare_next ();
  } else {
    item->finished = true;
  }
  maybe_switch ();
}

/* Moves on when the current item is over (or skipped) and the next one is
 * ready; ends the broadcast when there is nothing left. */
void
Broadcaster::maybe_switch ()
{
  if (ending)
    return;
  const bool current_done = !current || current->finished || skip_pending;
  if (!current_done)
    return;
  if (next && next->prepared) {
    skip_pending = false;
    destroy (std::move (current));
    current = std::move (next);
    start (current.get ());
    prepare_next ();
    /* An item that ended before it started (no data at all). */
    maybe_switch ();
    return;
  }
  if (!next) {
    if (current && !current->finished)
      return; /* a skip at the end: keep playing */
    finish ();
  }
}

/* Links @item in where the media has got to, and announces it. */
void
Broadcaster::start (Item *item)
{
  GstClockTime base = gst_element_get_current_running_time (pipeline);
  if (!GST_CLOCK_TIME_IS_VALID (base))
    base = 0;
  for (Kind kind : kKinds)
    base = std::max (base, pushed_end[kind].load ());
  for (Kind kind : kKinds) {
    gst_pad_set_offset (item->out[kind], (gint64)base);
    if (gst_pad_link (item->out[kind], tail_in[kind]) != GST_PAD_LINK_OK)
      g_printerr ("signalrtc-broadcaster: cannot link the %s of %s\n",
                  kKindNames[kind], names[item->index].c_str ());
    gst_pad_remove_probe (item->out[kind], item->block[kind]);
  }
  std::string line = now_playing ();
  say ("broadcaster: %s", line.c_str ());
  send_chat (sink, "", line.c_str ());
}

void
Broadcaster::skip ()
{
  if (!current || ending)
    return;
  if (!next) {
    if (!following (cursor)) {
      say ("broadcaster: skipped past the last item");
      finish ();
    }
    return;
  }
  skip_pending = true;
  maybe_switch ();
}

/* The end of the playlist: EOS into the sink, then stop once it is there
 * (or after a second, if it never gets there). */
void
Broadcaster::finish ()
{
  if (ending)
    return;
  ending = true;
  destroy (std::move (current));
  destroy (std::move (next));
  if (!any_played) {
    say ("broadcaster: nothing could be played");
    stop (1);
    return;
  }
  say ("broadcaster: end of the playlist");
  status = 0;
  for (Kind kind : kKinds)
    gst_pad_send_event (tail_in[kind], gst_event_new_eos ());
  g_timeout_add_seconds (
      1,
      [] (gpointer data) -> gboolean {
        auto *b = static_cast<Broadcaster *> (data);
        b->stop (b->status);
        return G_SOURCE_REMOVE;
      },
      this);
}

void
Broadcaster::stop (int exit_status)
{
  status = exit_status;
  g_main_loop_quit (loop);
}

/* The hub thread: a chat message. The answer is given on the main loop,
 * which owns the playlist. */
void
on_message_received (GstElement *, const gchar *connection_id,
                     const gchar *username, const gchar *text, Broadcaster *b)
{
  run_on_main ([b, id = std::string (connection_id),
                who = std::string (username), text = std::string (text)] {
    say ("broadcaster: message from %s: %s", who.c_str (), text.c_str ());
    g_autofree gchar *command = g_utf8_strdown (text.c_str (), -1);
    g_strstrip (command);
    std::string reply;
    if (g_str_equal (command, "next")) {
      say ("broadcaster: %s skips %s", who.c_str (),
           b->current ? b->names[b->current->index].c_str () : "nothing");
      b->skip (); /* the next item is announced to everyone */
      return;
    } else if (g_str_equal (command, "now")) {
      reply = b->now_playing ();
    } else {
      reply = "Say \"next\" to skip to the next item, or \"now\" to hear "
              "what is playing.";
    }
    send_chat (b->sink, id.c_str (),
                           reply.c_str ());
  });
}

/* The serial number of the item that @object belongs to, or 0. */
guint
serial_of (GstObject *object)
{
  return object ? GPOINTER_TO_UINT (
             g_object_get_data (G_OBJECT (object), kSerialKey))
                : 0;
}

gboolean
on_bus_message (GstBus *, GstMessage *message, Broadcaster *b)
{
  switch (GST_MESSAGE_TYPE (message)) {
  case GST_MESSAGE_ERROR: {
    g_autoptr (GError) error = nullptr;
    g_autofree gchar *debug = nullptr;
    gst_message_parse_error (message, &error, &debug);
    if (guint serial = serial_of (GST_MESSAGE_SRC (message))) {
      /* An item's, or the last words of one that is gone. */
      if (Item *item = b->find (serial))
        b->on_error (item, error);
      break;
    }
    g_printerr ("signalrtc-broadcaster: error: %s (%s)\n", error->message,
                debug ? debug : "no details");
    b->stop (1);
    break;
  }
  case GST_MESSAGE_EOS:
    b->stop (b->status);
    break;
  case GST_MESSAGE_ELEMENT: {
    const GstStructure *s = gst_message_get_structure (message);
    if (GST_MESSAGE_SRC (message) != GST_OBJECT (b->sink) || !s)
      break;
    const gchar *name = gst_structure_get_name (s);
    const gchar *who = gst_structure_get_string (s, "username");
    const gchar *id = gst_structure_get_string (s, "connection-id");
    if (g_str_equal (name, "signalrtc-hub-connected")) {
      say ("broadcaster: on the hub as %s", b->username);
    } else if (g_str_equal (name, "signalrtc-peer-connected")) {
      say ("broadcaster: %s connected", who);
      std::string hello = "Hello " + std::string (who) + ", this is "
                          + b->username + ". " + b->now_playing ()
                          + ". Chat \"next\" to skip, \"now\" to ask.";
      send_chat (b->sink, id, hello.c_str ());
    } else if (g_str_equal (name, "signalrtc-peer-disconnected")) {
      say ("broadcaster: %s left", who);
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
  auto *b = static_cast<Broadcaster *> (data);
  say ("broadcaster: stopping");
  b->stop (b->status);
  return G_SOURCE_CONTINUE;
}

/* clocksync -> the sink's request pad @templ; returns the clocksync's sink
 * pad. */
GstPad *
add_tail (Broadcaster *b, Kind kind)
{
  GstElement *sync = gst_element_factory_make ("clocksync", nullptr);
  if (!sync)
    return nullptr;
  gst_bin_add (GST_BIN (b->pipeline), sync);
  g_autoptr (GstPad) src = gst_element_get_static_pad (sync, "src");
  g_autofree gchar *templ = g_strdup_printf ("%s_%%u", kKindNames[kind]);
  b->sink_pads[kind] = gst_element_request_pad_simple (b->sink, templ);
  if (!b->sink_pads[kind]
      || gst_pad_link (src, b->sink_pads[kind]) != GST_PAD_LINK_OK)
    return nullptr;
  gst_pad_add_probe (b->sink_pads[kind], GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
                     on_sink_event, b, nullptr);
  GstPad *in = gst_element_get_static_pad (sync, "sink");
  gst_pad_add_probe (in, GST_PAD_PROBE_TYPE_BUFFER,
                     kind == VIDEO ? on_tail_buffer<VIDEO>
                                   : on_tail_buffer<AUDIO>,
                     b, nullptr);
  return in;
}

/* "a.webm" for file:///x/a.webm or /x/a.webm. */
std::string
display_name (const std::string &uri)
{
  g_autofree gchar *path = g_filename_from_uri (uri.c_str (), nullptr, nullptr);
  g_autofree gchar *base = g_path_get_basename (path ? path : uri.c_str ());
  return base;
}

}  // namespace

int
main (int argc, char **argv)
{
  g_autofree gchar *hub = g_strdup ("http://127.0.0.1:5000/signalrtc");
  g_autofree gchar *username = g_strdup ("broadcast");
  g_autofree gchar *size = g_strdup ("1280x720");
  gboolean loop_playlist = FALSE;
  const GOptionEntry entries[] = {
      {"hub", 0, 0, G_OPTION_ARG_STRING, &hub, "The hub's URL", "URL"},
      {"username", 0, 0, G_OPTION_ARG_STRING, &username,
       "The user name on the hub", "NAME"},
      {"loop", 0, 0, G_OPTION_ARG_NONE, &loop_playlist,
       "Start over after the last item", nullptr},
      {"size", 0, 0, G_OPTION_ARG_STRING, &size,
       "The video size sent (default 1280x720)", "WIDTHxHEIGHT"},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr},
  };
  g_autoptr (GOptionContext) context
      = g_option_context_new ("FILE... - play a playlist to every caller");
  g_option_context_add_main_entries (context, entries, nullptr);
  g_option_context_add_group (context, gst_init_get_option_group ());
  g_autoptr (GError) error = nullptr;
  if (!g_option_context_parse (context, &argc, &argv, &error)) {
    g_printerr ("signalrtc-broadcaster: %s\n", error->message);
    return 2;
  }

  Broadcaster b;
  if (sscanf (size, "%dx%d", &b.width, &b.height) != 2 || b.width < 16
      || b.height < 16 || b.width > 7680 || b.height > 4320 || b.width % 2
      || b.height % 2) {
    g_printerr ("signalrtc-broadcaster: --size wants an even WIDTHxHEIGHT, "
                "e.g. 1280x720\n");
    return 2;
  }
  if (argc < 2) {
    g_printerr ("signalrtc-broadcaster: give at least one file to play "
                "(--help)\n");
    return 2;
  }
  for (int i = 1; i < argc; i++) {
    g_autofree gchar *uri = gst_uri_is_valid (argv[i])
                                ? g_strdup (argv[i])
                                : gst_filename_to_uri (argv[i], nullptr);
    if (!uri) {
      g_printerr ("signalrtc-broadcaster: cannot make a URI of %s\n", argv[i]);
      return 2;
    }
    b.uris.emplace_back (uri);
    b.names.push_back (display_name (uri));
  }
  b.bad.assign (b.uris.size (), false);
  b.username = username;
  b.loop_playlist = loop_playlist;

  b.pipeline = gst_pipeline_new ("broadcaster");
  b.sink = gst_element_factory_make ("signalrtcsink", "broadcaster");
  if (!b.sink) {
    g_printerr ("signalrtc-broadcaster: no signalrtcsink element: is the "
                "signalrtc plugin installed or on GST_PLUGIN_PATH?\n");
    gst_object_unref (b.pipeline);
    return 1;
  }
  g_object_set (b.sink, "hub-url", hub, "username", username, nullptr);
  gst_bin_add (GST_BIN (b.pipeline), b.sink);
  for (Kind kind : kKinds) {
    b.tail_in[kind] = add_tail (&b, kind);
    if (!b.tail_in[kind]) {
      g_printerr ("signalrtc-broadcaster: cannot link the sink's inputs "
                  "(is clocksync there?)\n");
      gst_object_unref (b.pipeline);
      return 1;
    }
  }
  g_signal_connect (b.sink, "message-received",
                    G_CALLBACK (on_message_received), &b);

  b.loop = g_main_loop_new (nullptr, FALSE);
  g_autoptr (GstBus) bus = gst_element_get_bus (b.pipeline);
  gst_bus_add_watch (bus, (GstBusFunc)on_bus_message, &b);
  guint sigint = g_unix_signal_add (SIGINT, on_signal, &b);
  guint sigterm = g_unix_signal_add (SIGTERM, on_signal, &b);

  if (gst_element_set_state (b.pipeline, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE) {
    g_printerr ("signalrtc-broadcaster: cannot start (is the hub URL "
                "right?)\n");
    b.status = 1;
  } else {
    b.prepare_next ();
    g_main_loop_run (b.loop);
  }

  gst_element_set_state (b.pipeline, GST_STATE_NULL);
  b.current.reset ();
  b.next.reset ();
  g_source_remove (sigint);
  g_source_remove (sigterm);
  gst_bus_remove_watch (bus);
  for (Kind kind : kKinds) {
    gst_clear_object (&b.tail_in[kind]);
    gst_clear_object (&b.sink_pads[kind]);
  }
  gst_object_unref (b.pipeline);
  g_main_loop_unref (b.loop);
  return b.status;
}
