/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "signalr-framing.h"

#include "protocol-error.h"

namespace signalrtc {

std::string
frame_record (std::string_view json)
{
  std::string record;
  record.reserve (json.size () + 1);
  record.append (json);
  record.push_back (kRecordSeparator);
  return record;
}

RecordReader::RecordReader (gsize max_record_size)
    : max_record_size_ (max_record_size)
{}

bool
RecordReader::feed (std::string_view data, std::vector<std::string> &records,
                    GError **error)
{
  if (failed_) {
    g_set_error_literal (error, SIGNALRTC_PROTOCOL_ERROR,
                         SIGNALRTC_PROTOCOL_ERROR_TOO_LARGE,
                         "The record reader already failed on an oversized "
                         "record");
    return false;
  }

  /* Records before an oversized one are complete and valid: they are
   * appended even when this call fails, so that the caller can handle them
   * in order before giving up. */
  while (!data.empty ()) {
    gsize sep = data.find (kRecordSeparator);
    gsize piece = sep == std::string_view::npos ? data.size () : sep;
    gsize size = buffer_.size () + piece;

    /* Checked before anything is copied: an endless record never makes the
     * buffer grow past the limit. */
    if (max_record_size_ > 0 && size > max_record_size_) {
      if (sep == std::string_view::npos)
        g_set_error (error, SIGNALRTC_PROTOCOL_ERROR,
                     SIGNALRTC_PROTOCOL_ERROR_TOO_LARGE,
                     "An unfinished record already holds %" G_GSIZE_FORMAT
                     " bytes, over the limit of %" G_GSIZE_FORMAT " bytes",
                     size, max_record_size_);
      else
        g_set_error (error, SIGNALRTC_PROTOCOL_ERROR,
                     SIGNALRTC_PROTOCOL_ERROR_TOO_LARGE,
                     "A record of %" G_GSIZE_FORMAT " bytes is over the "
                     "limit of %" G_GSIZE_FORMAT " bytes",
                     size, max_record_size_);
      failed_ = true;
      std::string ().swap (buffer_);
      return false;
    }

    if (sep == std::string_view::npos) {
      buffer_.append (data);
      break;
    }

    if (buffer_.empty ()) {
      if (piece > 0)
        records.emplace_back (data.substr (0, piece));
    } else {
      buffer_.append (data.substr (0, piece));
      records.push_back (std::move (buffer_));
      buffer_.clear ();
    }
    data.remove_prefix (piece + 1);
  }
  return true;
}

void
RecordReader::reset ()
{
  std::string ().swap (buffer_);
  failed_ = false;
}

}  // namespace signalrtc
