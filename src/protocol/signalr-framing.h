/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include <string>
#include <string_view>
#include <vector>

namespace signalrtc {

/* SignalR's text protocols end every record with this byte. */
inline constexpr char kRecordSeparator = '\x1e';

/* Returns @json followed by the record separator. */
std::string frame_record (std::string_view json);

/* Splits a stream of WebSocket text frames into SignalR records. A frame
 * may hold several records, and a record may span frames: the unfinished
 * tail is kept until its separator arrives. */
class RecordReader
{
 public:
  /* @max_record_size: largest record accepted, in bytes, separator not
   * counted; 0 means no limit. */
  explicit RecordReader (gsize max_record_size = 0);

  /* Appends every record completed by @data to @records (without the
   * separator; empty records are skipped). Returns FALSE with
   * SIGNALRTC_PROTOCOL_ERROR_TOO_LARGE when a record, finished or not, grows
   * past the limit; the reader is then unusable until reset(). */
  bool feed (std::string_view data, std::vector<std::string> &records,
             GError **error);

  /* Bytes of an unfinished record held. */
  gsize pending () const { return buffer_.size (); }
  void reset ();

 private:
  gsize max_record_size_;
  std::string buffer_;
  bool failed_ = false;
};

}  // namespace signalrtc
