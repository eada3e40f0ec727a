/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* RecordReader against a model: the input chooses a size limit and cuts a
 * byte stream into frames; the records, the pending count and the failure
 * must be those of splitting the whole stream on 0x1E at once. */

#include "protocol/protocol-error.h"
#include "protocol/signalr-framing.h"

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdlib>
#include <string>
#include <vector>

using namespace signalrtc;

namespace {

void
check (bool condition, const char *what)
{
  if (!condition) {
    fprintf (stderr, "invariant broken: %s\n", what);
    abort ();
  }
}

/* The model: what a reader must give for @stream fed in one go. */
struct Expected
{
  std::vector<std::string> records;
  bool fails = false;
  gsize pending = 0;
};

Expected
model (const std::string &stream, gsize limit)
{
  Expected e;
  gsize start = 0;
  while (true) {
    gsize sep = stream.find (kRecordSeparator, start);
    gsize size = (sep == std::string::npos ? stream.size () : sep) - start;
    if (limit > 0 && size > limit) {
      e.fails = true;
      return e;
    }
    if (sep == std::string::npos) {
      e.pending = size;
      return e;
    }
    if (size > 0)
      e.records.push_back (stream.substr (start, size));
    start = sep + 1;
  }
}

} // namespace

extern "C" int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  FuzzedDataProvider provider (data, size);
  gsize limit = provider.ConsumeIntegralInRange<gsize> (0, 48);
  RecordReader reader (limit);

  std::string stream;
  std::vector<std::string> records;
  bool failed = false;

  while (provider.remaining_bytes () > 0) {
    std::string frame = provider.ConsumeRandomLengthString (64);
    /* Separators are rare in random bytes: turn '|' into them. */
    for (char &c : frame) {
      if (c == '|')
        c = kRecordSeparator;
    }
    stream += frame;

    g_autoptr (GError) error = nullptr;
    bool ok = reader.feed (frame, records, &error);
    if (failed) {
      check (!ok, "a failed reader accepted data");
      check (error && error->code == SIGNALRTC_PROTOCOL_ERROR_TOO_LARGE,
             "a failed reader gave no TOO_LARGE error");
      continue;
    }
    if (!ok) {
      check (error != nullptr, "failure without an error");
      check (error->domain == SIGNALRTC_PROTOCOL_ERROR
                 && error->code == SIGNALRTC_PROTOCOL_ERROR_TOO_LARGE,
             "failure with the wrong error");
      check (error->message && error->message[0], "empty error message");
      check (reader.pending () == 0, "a failed reader keeps data");
      failed = true;
      continue;
    }
    check (error == nullptr, "success with an error");
    if (limit > 0)
      check (reader.pending () <= limit, "unfinished record over the limit");
  }

  for (const auto &record : records) {
    check (!record.empty (), "empty record");
    check (record.find (kRecordSeparator) == std::string::npos,
           "separator inside a record");
    if (limit > 0)
      check (record.size () <= limit, "record over the limit");
  }

  /* The model stops at the first oversized record, as the reader does; the
   * records before it are delivered either way. */
  Expected expected = model (stream, limit);
  check (failed == expected.fails, "failure differs from the model");
  check (records == expected.records, "records differ from the model");
  if (!failed)
    check (reader.pending () == expected.pending,
           "pending differs from the model");

  reader.reset ();
  check (reader.pending () == 0, "reset kept data");
  std::vector<std::string> after;
  check (reader.feed ("x\x1e", after, nullptr), "reset reader refused data");
  check (after.size () == 1 && after[0] == "x", "reset reader broken");
  return 0;
}
