/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "rendition-ladder.h"
#include "rendition-selector.h"

#include <gst/gst.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace signalrtc {

class CongestionControl;
class SendInput;

/* One call's side of a video ladder: a funnel with one sink pad per
 * rendition tee, each gated by a probe that asks this call's
 * RenditionSelector, fed with this call's estimate.
 *
 *   rendition tee i -> [gate] -> funnel sink_i \
 *                                               funnel -> (the call's queue,
 *                                               payloader, webrtcbin)
 *
 * Threads: the gates run on the renditions' streaming threads (one per
 * encoder), serialized by lock_; the funnel src's upstream probe (key-frame
 * requests from the call's PLI/FIR) on the RTCP thread; add_stats on the
 * hub thread. The selector is made at the first frame, when the input's
 * plan is known. The probes hold the gate (shared_ptr) until their pads
 * go. */
class RenditionGate : public std::enable_shared_from_this<RenditionGate>
{
 public:
  /* @audio_bps: what the call's audio takes of its estimate. */
  static std::shared_ptr<RenditionGate>
  create (SendInput *input, std::shared_ptr<CongestionControl> congestion,
          std::uint32_t audio_bps, std::string peer);

  /* Links every rendition tee to a new sink pad of @funnel (in the bin
   * already, not yet playing) and watches the funnel's src. Appends the
   * tee src pads (references) to @tee_pads. False if a link failed. */
  bool link (GstElement *funnel, std::vector<GstPad *> &tee_pads);

  /* A key frame, as for a new peer, of the rendition the call gets (or
   * is switching to), if it has one yet. Any thread. */
  void request_key_frame ();

  /* video-rendition, -width, -height, -temporal-layers,
   * video-rendition-switches and -bitrate (what its encoder makes). */
  void add_stats (GstStructure *stats);

 private:
  RenditionGate (SendInput *input,
                 std::shared_ptr<CongestionControl> congestion,
                 std::uint32_t audio_bps, std::string peer);
  struct Probe;
  static GstPadProbeReturn on_buffer (GstPad *pad, GstPadProbeInfo *info,
                                      gpointer user_data);
  static GstPadProbeReturn on_upstream (GstPad *pad, GstPadProbeInfo *info,
                                        gpointer user_data);
  /* lock_ held. False while the input has no plan yet. */
  bool ensure_selector ();

  SendInput *input_;
  std::shared_ptr<CongestionControl> congestion_;
  std::uint32_t audio_bps_;
  std::string peer_;

  std::mutex lock_;
  std::optional<RenditionSelector> selector_;
  std::vector<Rendition> renditions_; /* per tee */
  std::vector<int> index_of_tee_;     /* tee -> selector index, or -1 */
  std::vector<size_t> tee_of_index_;  /* selector index -> tee */
  bool can_pad_ = false;
  std::int64_t next_pad_check_us_ = 0;
};

}  // namespace signalrtc
