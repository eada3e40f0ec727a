/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "bandwidth-estimator.h"
#include "protocol/peer-signal.h"

#include <gst/gst.h>
#define GST_USE_UNSTABLE_API
#include <gst/webrtc/webrtc.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace signalrtc {

class CongestionControl;
class SendInput;

/* One call with one remote user: owns one webrtcbin inside the signalrtcbin,
 * the per-peer payloader branches hung on the shared inputs' tees, and the
 * depayload/decode chains behind the src pads of that peer.
 *
 * Threads and ownership:
 * - The bin's hub thread (its hub GMainContext) owns the session: every
 *   public method runs there, and so does everything that adds or removes
 *   elements and pads of this call (branches, tracks, the webrtcbin).
 * - webrtcbin calls back on its own threads (signals, promises, pad-added).
 *   Those callbacks touch nothing of the session: they hold a weak_ptr and
 *   hop to the hub thread (Delegate::run_on_hub) with what they need, held
 *   by references that free it if the hop never runs (the session or the
 *   hub thread is gone). A new src pad is blocked where it appears and
 *   linked on the hub thread, so a call that stops meanwhile never gains a
 *   track; the blocked pads are the one thing both sides touch (held_,
 *   under held_lock_): stop () unblocks them before the webrtcbin goes to
 *   NULL, which waits for the threads they hold. The other exceptions are
 *   the element-added handler, which only sets a property on the new
 *   element from an atomic, and CongestionControl, which locks itself.
 * - The bin holds the only strong reference; stop () (hub thread) releases
 *   the webrtcbin after it is in NULL, so no webrtcbin thread runs then. */
struct StatsTotals;

class PeerSession : public std::enable_shared_from_this<PeerSession>
{
 public:
  /* The bin's side: all called on the hub thread, but run_on_hub. */
  class Delegate
  {
   public:
    virtual ~Delegate () = default;
    /* Any thread: runs @fn on the hub thread later. FALSE when the hub
     * thread is gone: @fn is destroyed unrun. */
    virtual bool run_on_hub (std::function<void ()> fn) = 0;
    virtual void send_signal (const std::string &connection_id,
                              const PeerSignal &signal)
        = 0;
    virtual std::vector<SendInput *> send_inputs () = 0;
    virtual void session_connected (PeerSession &session) = 0;
    /* The session cannot go on; the bin stops and forgets it. */
    virtual void session_failed (PeerSession &session, const std::string &why)
        = 0;
    virtual void message_received (PeerSession &session,
                                   const std::string &text)
        = 0;
    /* A stats sample (see request_stats ()). */
    virtual void peer_stats (PeerSession &session, GstStructure *stats) = 0;
    /* A src pad for this peer appeared. */
    virtual void track_added (PeerSession &session, GstPad *pad,
                              const std::string &kind)
        = 0;
    /* The call's bandwidth estimate moved (see bandwidth_estimate ()). */
    virtual void bandwidth_changed (PeerSession &session) = 0;
  };

  struct Config
  {
    std::string connection_id;
    std::string username;
    bool initiator = false;
    bool decode = true;
    /* FALSE: drop what the peer sends (no src pads). */
    bool receive = true;
    /* src pads named <kind>_<n> rather than <kind>_<connection-id>_<n>. */
    bool stable_pad_names = false;
    guint latency_ms = 200;
    std::string stun_server;
    std::string turn_server;
    /* ice-transport-policy=relay: TURN relay candidates only. */
    bool relay_only = false;
    /* Addresses ICE gathers host candidates on; empty: libnice's own
     * choice (every interface that is up but loopback). */
    std::vector<std::string> local_addresses;
    /* Give up on a call not connected (transport up, data channel open)
     * this long after start (0: never). */
    guint setup_timeout_ms = 30000;
    /* Estimate this call's bandwidth (transport-wide congestion control
     * feedback, else receiver reports), within these bounds; nullopt:
     * no congestion control (no TWCC header extension either). */
    std::optional<BandwidthEstimator::Config> congestion;
  };

  static std::shared_ptr<PeerSession> create (GstBin *bin, Delegate *delegate,
                                              Config config);
  ~PeerSession ();

  /* Builds the webrtcbin. An initiator links the inputs, adds receive
   * transceivers and a data channel, and sends an offer. FALSE when the
   * webrtcbin cannot be made. */
  bool start (GError **error);
  /* A signal from the remote peer. */
  void handle_signal (const PeerSignal &signal);
  /* Chat over the data channel. While the call is being set up the text
   * waits until the channel opens. FALSE when the call has ended or its
   * channel has closed. */
  bool send_message (const std::string &text);
  /* The call has just connected: a key frame of each video rendition it
   * gets, as for a new peer (what the gates passed before went nowhere). */
  void request_key_frames ();
  /* Asks webrtcbin for its statistics; the delegate gets a
   * signalrtc-peer-stats structure: bitrate-sent, bitrate-received (bit/s
   * since the last sample), packets-sent, packets-received, packets-lost,
   * round-trip-time (s, -1 unknown), packets-repaired (received packets a
   * retransmission repaired), retransmissions-requested (by our
   * jitterbuffers), packets-late (came after their time, dropped),
   * plis-sent, frames-received (buffers out of the
   * video src pads); with congestion control also bandwidth-estimate
   * (bit/s) and how it was made (see CongestionControl::add_stats). */
  void request_stats ();
  /* Feeds congestion control the round trip and the loss of the peer's
   * latest receiver report (the estimate's fallback when the peer sends
   * no TWCC feedback). Called every kFeedbackPollMs by the bin, whatever
   * stats-interval says: the fallback moves once per poll. */
  void poll_feedback ();
  static constexpr guint kFeedbackPollMs = 1000;

 private:
  void ask_stats (std::function<void (PeerSession &, const StatsTotals &)> use);

 public:
  /* What this call's link carries (bit/s, everything sent to the peer);
   * 0 without congestion control. Any thread. */
  std::uint32_t bandwidth_estimate () const;
  /* The share of what we sent that this call's peer lost lately (0..1);
   * 0 without congestion control. Any thread. */
  double fraction_lost () const;
  /* Tears everything down: src pads get EOS and are removed. */
  void stop ();

  const std::string &connection_id () const { return config_.connection_id; }
  /* The remote user has a new hub connection id (the hub restarted): the
   * call goes on, signals now go to @id, and the src pads say so. */
  void set_connection_id (const std::string &id);
  const std::string &username () const { return config_.username; }
  bool initiator () const { return config_.initiator; }
  bool connected () const { return connected_; }
  GstElement *webrtcbin () const { return webrtc_; }

 private:
  struct Branch;
  struct Track;

  PeerSession (GstBin *bin, Delegate *delegate, Config config);

  void configure_ice ();
  static void on_element_added (GstBin *webrtc, GstElement *element,
                                gpointer user_data);
  bool link_input (SendInput *input, guint pt, guint twcc_id);
  void add_receive_transceivers ();
  void add_receive_transceiver (const char *media,
                                const GstSDPMessage *offer = nullptr);
  bool receive_nack () const;
  static void on_jitterbuffer (GstElement *rtpbin, GstElement *jitterbuffer,
                               guint session, guint ssrc, gpointer data);
  static constexpr guint kNackLatencyMs = 50;
  void create_data_channel ();
  void watch_data_channel (GstWebRTCDataChannel *channel);
  void adopt_data_channel (GstWebRTCDataChannel *channel);
  void create_offer ();
  void handle_description (const PeerSignal &signal);
  void on_remote_description_set (bool offer);
  void add_remote_candidate (const PeerSignal &signal);
  void set_local_description (GstWebRTCSessionDescription *desc);
  void send_local_description (GstWebRTCSessionDescription *desc);
  void send_local_candidate (guint mline, const std::string &candidate);
  void fail (const std::string &why);
  void maybe_connected ();
  void add_track (GstPad *pad, GstCaps *caps);
  void drop_track (GstPad *pad);
  void flush_outbox ();
  bool hold_track (GstPad *pad);
  bool release_held_track (GstPad *pad);
  void release_held_tracks ();
  void setup_timed_out ();

  /* Runs @fn on the hub thread if the session still exists then. */
  template <typename Fn> void hop (Fn fn);

  GstBin *bin_;
  Delegate *delegate_;
  Config config_;
  GstElement *webrtc_ = nullptr;
  /* Inputs linked so far: none yet (0), all live (1), not all live (-1).
   * See on_element_added. */
  std::atomic<int> send_live_{0};
  GstWebRTCDataChannel *channel_ = nullptr;
  /* Set in start () when config_.congestion is; fed on webrtcbin's RTCP
   * thread (it locks itself), read anywhere. */
  std::shared_ptr<CongestionControl> congestion_;
  std::vector<std::unique_ptr<Branch>> branches_;
  /* Hub thread; each also held by its probes. */
  std::vector<std::shared_ptr<class RenditionGate>> gates_;
  std::vector<std::string> remote_mids_;
  /* The SSRCs the remote description gives video (on_jitterbuffer reads
   * them on a streaming thread). */
  std::mutex ssrc_lock_;
  std::set<guint32> remote_video_ssrcs_;
  /* The remote description came from a webrtcbin (on_jitterbuffer). */
  bool remote_is_webrtcbin_ = false;
  /* Candidates of ours sent to the peer (hub thread). */
  guint local_candidates_ = 0;
  std::vector<PeerSignal> pending_candidates_;
  /* Chat waiting for the data channel to open. */
  std::vector<std::string> outbox_;
  GSource *setup_timer_ = nullptr;
  bool remote_set_ = false;
  bool connected_ = false; /* transport up and data channel open */
  bool transport_connected_ = false;
  bool channel_open_ = false;
  bool stopped_ = false;
  bool failed_ = false;
  /* last stats sample, hub thread */
  gint64 stats_time_us_ = 0;
  guint64 bytes_sent_ = 0, bytes_received_ = 0;

  std::vector<std::unique_ptr<Track>> tracks_;
  /* Remote tracks that appeared but are not linked yet: each is blocked
   * (a BLOCK probe holding a webrtcbin streaming thread, which keeps that
   * pad's stream lock) until its hop to the hub thread links or drops it.
   * pad-added adds on a webrtcbin thread, the hop or stop () takes out on
   * the hub thread; stop () sets held_closed_ and unblocks what is left
   * before the webrtcbin goes to NULL, which needs those stream locks and
   * would otherwise wait for a hop queued behind itself. */
  struct HeldTrack
  {
    GstPad *pad; /* owned */
    gulong block;
  };
  std::mutex held_lock_;
  std::vector<HeldTrack> held_; /* guarded by held_lock_ */
  bool held_closed_ = false;    /* guarded by held_lock_ */
  guint next_track_[2] = {0, 0}; /* video, audio */
  /* Streaming threads count, the hub thread reads. */
  std::atomic<guint64> frames_received_{0};
};

}  // namespace signalrtc
