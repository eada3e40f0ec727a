/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "key-frame-policy.h"
#include "rendition-ladder.h"

#include <gst/gst.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace signalrtc {

/* What one request sink pad (video_%u, audio_%u) feeds every peer:
 *
 *   ghost sink pad -> queue -> [encoder chain, built at the first caps] -> tee
 *
 * Raw input is encoded once here (the N-th peer costs one more tee branch,
 * not an encoder); input already in the chosen codec goes straight to the
 * tee. Peers hang their own payloader on a tee src pad (see PeerSession).
 *
 * With a ladder (video, congestion control on, video-renditions not
 * empty) there is one tee per rendition instead, made with the input so
 * that peers can hang on them before the first caps:
 *
 *   ghost -> queue -> videoconvert -> tee -> queue -> videoscale
 *            -> capsfilter -> encoder -> rendition tee (one per rendition)
 *
 * The renditions are planned for the input's size at its first caps
 * (RenditionLadder); a configured rendition the plan has no room for keeps
 * an empty tee. VP8 renditions have three temporal layers. Input already
 * encoded cannot be laddered: it goes to the first rendition tee as it is.
 * Each rendition tee has its own KeyFramePolicy.
 *
 * Created and destroyed on the application's thread (request/release pad);
 * the chain is built on the streaming thread, once. */
class SendInput
{
 public:
  /* What the audio encoder (opusenc's default) takes of a call's
   * estimate, bit/s. */
  static constexpr guint kAudioBitrate = 64000;

  /* @kind: "video" or "audio"; @encoding: the RTP encoding name peers get
   * (VP8, VP9, H264, OPUS); @bitrate in bit/s (0: encoder default). */
  SendInput (GstBin *bin, const std::string &pad_name, const std::string &kind,
             const std::string &encoding, guint bitrate,
             std::function<void ()> on_eos,
             std::vector<Rendition> ladder = {});
  ~SendInput ();

  SendInput (const SendInput &) = delete;
  SendInput &operator= (const SendInput &) = delete;

  GstPad *ghost_pad () const { return ghost_; }
  const std::string &kind () const { return kind_; }
  const std::string &encoding () const { return encoding_; }
  GstElement *tee () const { return tee_; }
  /* Asks the encoder for a key frame (a new peer joined). Key-frame
   * requests, these and the peers' PLI/FIR, are thinned by a
   * KeyFramePolicy. Nothing with a ladder: each peer asks for its own
   * rendition. */
  void request_key_frame ();

  /* The ladder: peers hang on rendition_tee (i) for each i < renditions
   * (), fixed at construction (0: no ladder). */
  size_t ladder_size () const { return rungs_.size (); }
  GstElement *rendition_tee (size_t i) const;
  /* What each rendition tee carries, planned at the first caps: empty
   * before them; a rendition with no size is not made. Bitrate 0: input
   * sent as it came. Any thread. */
  std::vector<Rendition> renditions () const;
  /* What rendition @i's encoder makes, bit/s, smoothed over the last
   * seconds; 0 before it has made a second's worth. Any thread. */
  std::uint32_t measured_bps (size_t i) const;
  /* The least rendition @i is made at (RungRates::floor): what a call
   * must carry to take it; its bitrate for input sent as it came. 0
   * before the plan. Any thread. */
  std::uint32_t rendition_floor (size_t i) const;
  /* What rendition @i's encoder was last told to make, bit/s (0: not yet).
   * Any thread. */
  std::uint32_t rendition_rate (size_t i) const;
  /* Call @call takes rendition @i and is switching to @next (-1:
   * neither) with @usable_bps of its estimate for video: the encoders
   * follow the narrowest call taking them, within their range
   * (RungRates). A call that stops saying so is forgotten after a
   * second. Each encoder takes a new rate on its own streaming thread,
   * before its next frame. Any thread. */
  void demand (std::uintptr_t call, int i, int next, std::uint32_t usable_bps);
  /* Temporal layers in each rendition (1: none). */
  int temporal_layers () const;
  /* A key frame of rendition @i, for a peer that has no picture of it
   * (@new_peer) or lost some (PLI/FIR). Any thread. */
  void request_key_frame (size_t i, bool new_peer);
  /* Sets the video encoder's bitrate (bit/s) while it runs; nothing for
   * audio or input that is not encoded here. Any thread. */
  void set_bitrate (guint bitrate);
  /* Tells the audio encoder (Opus, in-band FEC on) how much loss to
   * protect against, in %; nothing for video or audio not encoded here.
   * Any thread. */
  void set_packet_loss (guint percent);
  /* The input has ended (EOS passed). */
  bool eos () const;
  /* Upstream is live (a camera, a live test pattern, a network source):
   * it paces itself. Asks upstream (a latency query); false when it cannot
   * tell. Any thread but a streaming thread holding the input's lock. */
  bool is_live () const;

 private:
  static GstPadProbeReturn on_caps (GstPad *pad, GstPadProbeInfo *info,
                                    gpointer user_data);
  static GstPadProbeReturn
  on_upstream_event (GstPad *pad, GstPadProbeInfo *info, gpointer user_data);
  static GstPadProbeReturn on_buffer (GstPad *pad, GstPadProbeInfo *info,
                                      gpointer user_data);
  static GstPadProbeReturn on_event (GstPad *pad, GstPadProbeInfo *info,
                                     gpointer user_data);
  static GstPadProbeReturn on_encoder_input (GstPad *pad,
                                             GstPadProbeInfo *info,
                                             gpointer user_data);
  static GstPadProbeReturn on_encoder_output (GstPad *pad,
                                              GstPadProbeInfo *info,
                                              gpointer user_data);
  static GstPadProbeReturn on_rendition_input (GstPad *pad,
                                               GstPadProbeInfo *info,
                                               gpointer user_data);
  struct Keyed;
  struct Rung;
  bool build_chain (GstCaps *caps);
  bool build_ladder (GstCaps *caps);
  void watch_key_frames (GstElement *tee, Keyed *keyed);
  static void set_encoder_bitrate (GstElement *encoder, guint bitrate);
  GstElement *update_setting (guint &field, guint value);

  GstBin *bin_;
  std::string kind_;
  std::string encoding_;
  guint bitrate_;
  GstPad *ghost_ = nullptr;
  GstElement *queue_ = nullptr;
  GstElement *tee_ = nullptr;
  /* Between queue_ and tee_, built once on the streaming thread (the first
   * caps), removed with the input. lock_. */
  std::vector<GstElement *> chain_;
  /* The encoder in chain_, if any. lock_. */
  GstElement *encoder_ = nullptr;
  guint loss_percent_ = 0;
  /* guards chain_, encoder_, bitrate_, loss_percent_, the rungs' plans
   * and policies, and the two below */
  GMutex lock_;
  std::unique_ptr<Keyed> keyed_;
  bool eos_ = false;
  /* The ladder's boxes, and one rung per box (the vector is fixed). */
  std::vector<Rendition> ladder_;
  std::vector<std::unique_ptr<Rung>> rungs_;
  std::unique_ptr<RungRates> rates_; /* lock_; made with the plan */
  bool planned_ = false; /* lock_ */
  int layers_ = 1;       /* lock_ */
  std::function<void ()> on_eos_;
};

}  // namespace signalrtc
