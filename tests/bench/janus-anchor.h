/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

/* The Janus anchor of tests/bench/bench-fanout (--modes janus): the same
 * viewers watching Janus's streaming plugin (Debian's janus package), fed
 * the same VP8 (and Opus) RTP by a process of its own.
 *
 * Janus gathers no ICE candidate on a loopback interface, and the bench's
 * network namespace (scripts/isolated) has nothing else: JanusVeth adds a
 * veth pair whose first end carries 127.0.0.2/32, and both Janus
 * (ice_enforce_list) and the viewers (their libnice agent) use that
 * address alone. Traffic between two local addresses never leaves the
 * namespace's loopback. */

#include <gio/gio.h>
#include <gst/gst.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace signalrtc::bench {

/* The janus binary (on PATH, else /usr/bin/janus); "" when not installed. */
std::string janus_binary ();

/* A veth pair jv0/jv1, both ends in this network namespace and up, jv0
 * carrying 127.0.0.2/32. Made only inside scripts/isolated
 * (SIGNALRTC_ISOLATED=1): a bench run by hand outside it must not add
 * interfaces to the machine. */
class JanusVeth
{
 public:
  static constexpr const char *kAddress = "127.0.0.2";
  static constexpr const char *kName = "jv0";
  static constexpr const char *kPeer = "jv1";

  JanusVeth () = default;
  ~JanusVeth ();
  JanusVeth (const JanusVeth &) = delete;
  JanusVeth &operator= (const JanusVeth &) = delete;

  /* Makes the pair unless jv0 already carries the address; FALSE with
   * @error when `ip` cannot (no namespace of our own, no privilege). */
  bool up (GError **error);
  /* Deletes jv0 (and with it jv1) if it is there: what a point that was
   * killed leaves, so that the next point of another mode finds loopback
   * alone again. Outside scripts/isolated, nothing. */
  static void remove ();

 private:
  bool made_ = false;
};

/* The ports of one Janus: its HTTP API on 127.0.0.1, and the mountpoint's
 * RTP inputs (video RTCP both ways, for the PLIs Janus forwards). */
struct JanusPorts
{
  guint http = 0;
  guint video = 0;
  guint video_rtcp = 0;
  guint audio = 0;
};

/* One janus process with a configuration of its own (a temporary
 * directory): the HTTP transport on 127.0.0.1 and the streaming plugin
 * with one RTP mountpoint, nothing else. The destructor kills it by its
 * PID and removes the directory. */
class JanusServer
{
 public:
  static constexpr int kMountpoint = 1;

  explicit JanusServer (bool audio);
  ~JanusServer ();
  JanusServer (const JanusServer &) = delete;
  JanusServer &operator= (const JanusServer &) = delete;

  /* Writes the configuration, starts janus and waits (10 s at most) until
   * its API answers {"janus":"info"}. */
  bool start (GError **error);
  GPid pid () const;
  const JanusPorts &ports () const { return ports_; }
  /* http://127.0.0.1:PORT/janus */
  std::string url () const;
  /* From the info reply, e.g. "1.1.2". */
  const std::string &version () const { return version_; }

 private:
  bool write_config (GError **error);
  std::string log_tail () const;

  bool audio_;
  JanusPorts ports_;
  std::string dir_;
  std::string version_;
  GSubprocess *process_ = nullptr;
};

/* The feeder: @raw_video (a gst-launch description of raw video) encoded
 * with the VP8 settings of signalrtcsink's single encoder at @bitrate,
 * and, if @audio, a tone in Opus, as RTP to the mountpoint's ports; the
 * video's RTCP goes to Janus and comes back from it on one socket, so
 * that a viewer's PLI reaches the encoder. Runs until killed; returns
 * (non-zero) only on an error. */
int run_janus_feeder (const std::string &raw_video, int bitrate, bool audio,
                      const JanusPorts &ports);

class JanusViewer;

/* N viewers in one pipeline, each a webrtcbin signaled through Janus's
 * REST API (a session of its own, the streaming plugin, "watch" the
 * mountpoint), depayloading without decoding into fakesinks and counting
 * video frames, as signalrtcbin decode=false does for the other modes. */
class JanusViewers
{
 public:
  JanusViewers (const std::string &url, int n);
  ~JanusViewers ();
  JanusViewers (const JanusViewers &) = delete;
  JanusViewers &operator= (const JanusViewers &) = delete;

  bool play ();
  /* Up to @count more viewers join and start watching. */
  void add (int count);
  int added () const { return (int)viewers_.size (); }
  std::vector<guint64> frames () const;
  guint64 total_bytes () const;
  int receiving () const;
  /* The first viewer's failure (signaling, negotiation), "" if none. */
  std::string first_error () const;

 private:
  friend class JanusViewer;

  std::string url_;
  GstElement *pipeline_;
  SoupSession *session_;
  std::vector<std::atomic<guint64>> frames_;
  std::vector<std::atomic<guint64>> bytes_;
  std::vector<std::shared_ptr<JanusViewer>> viewers_;
};

}  // namespace signalrtc::bench
