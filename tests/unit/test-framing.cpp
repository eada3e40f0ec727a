/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "protocol/protocol-error.h"
#include "protocol/signalr-framing.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace signalrtc;

namespace {

#define RS "\x1e"

void
expect_too_large (const GError *error)
{
  ASSERT_NE (error, nullptr);
  EXPECT_EQ (error->domain, SIGNALRTC_PROTOCOL_ERROR);
  EXPECT_EQ (error->code, SIGNALRTC_PROTOCOL_ERROR_TOO_LARGE);
  EXPECT_STRNE (error->message, "");
}

TEST (Framing, FrameRecordAppendsTheSeparator)
{
  EXPECT_EQ (frame_record ("{}"), std::string ("{}\x1e"));
  EXPECT_EQ (frame_record (""), std::string ("\x1e"));
  EXPECT_EQ (frame_record ("{\"type\":6}"), std::string ("{\"type\":6}\x1e"));
}

struct SplitCase
{
  const char *name;
  std::vector<std::string> frames;
  std::vector<std::string> records;
  gsize pending;
};

TEST (Framing, SplitsFramesIntoRecords)
{
  const std::vector<SplitCase> cases = {
      {"one record", {"{}" RS}, {"{}"}, 0},
      {"several records in one frame",
       {"{\"type\":6}" RS "{\"type\":6}" RS "{}" RS},
       {"{\"type\":6}", "{\"type\":6}", "{}"},
       0},
      {"handshake reply sharing a frame with a message",
       {"{}" RS
        "{\"type\":1,\"target\":\"NewUserArrived\",\"arguments\":[]}" RS},
       {"{}", "{\"type\":1,\"target\":\"NewUserArrived\",\"arguments\":[]}"},
       0},
      {"a record split over 3 frames",
       {"{\"ty", "pe\":", "6}" RS},
       {"{\"type\":6}"},
       0},
      {"a record split over 3 frames, then another",
       {"{\"type\":1,", "\"target\":\"x\",", "\"arguments\":[]}" RS "{}" RS},
       {"{\"type\":1,\"target\":\"x\",\"arguments\":[]}", "{}"},
       0},
      {"empty records are skipped", {RS RS "{}" RS RS}, {"{}"}, 0},
      {"only separators", {RS, RS RS}, {}, 0},
      {"empty frames", {"", "{}", "", RS, ""}, {"{}"}, 0},
      {"separator at the start of the next frame",
       {"{}", RS "[]", RS},
       {"{}", "[]"},
       0},
      {"unfinished tail is kept", {"{}" RS "{\"ty"}, {"{}"}, 4},
      {"no separator yet", {"abc", "def"}, {}, 6},
      {"separator inside a JSON string is still a separator",
       {"{\"a\":\"x" RS "y\"}" RS},
       {"{\"a\":\"x", "y\"}"},
       0},
  };

  for (const auto &c : cases) {
    SCOPED_TRACE (c.name);
    RecordReader reader;
    std::vector<std::string> records;
    for (const auto &frame : c.frames) {
      g_autoptr (GError) error = nullptr;
      ASSERT_TRUE (reader.feed (frame, records, &error));
      EXPECT_EQ (error, nullptr);
    }
    EXPECT_EQ (records, c.records);
    EXPECT_EQ (reader.pending (), c.pending);
  }
}

TEST (Framing, EveryByteAlone)
{
  const std::string stream = "{\"protocol\":\"json\",\"version\":1}" RS
                             "{\"type\":6}" RS RS "{}" RS "{\"x";
  RecordReader reader;
  std::vector<std::string> records;
  for (char c : stream)
    ASSERT_TRUE (reader.feed (std::string_view (&c, 1), records, nullptr));
  EXPECT_EQ (records,
             (std::vector<std::string>{"{\"protocol\":\"json\",\"version\":1}",
                                       "{\"type\":6}", "{}"}));
  EXPECT_EQ (reader.pending (), 3u);
}

TEST (Framing, RecordsAreAppended)
{
  RecordReader reader;
  std::vector<std::string> records = {"earlier"};
  ASSERT_TRUE (reader.feed ("a" RS, records, nullptr));
  EXPECT_EQ (records, (std::vector<std::string>{"earlier", "a"}));
}

struct LimitCase
{
  const char *name;
  gsize limit;
  std::vector<std::string> frames;
  bool ok;
  std::vector<std::string> records;
  gsize pending;
};

TEST (Framing, SizeLimit)
{
  const std::string ten (10, 'x');
  const std::string eleven (11, 'x');
  const std::vector<LimitCase> cases = {
      {"finished record at the limit", 10, {ten + RS}, true, {ten}, 0},
      {"finished record over the limit", 10, {eleven + RS}, false, {}, 0},
      {"unfinished record at the limit", 10, {ten}, true, {}, 10},
      {"unfinished record over the limit fails at once",
       10,
       {eleven},
       false,
       {},
       0},
      {"unfinished record growing over the limit",
       10,
       {"xxxxxx", "xxxxx"},
       false,
       {},
       0},
      {"finished over the limit across frames",
       10,
       {"xxxxxx", "xxxxx" RS},
       false,
       {},
       0},
      {"records before the oversized one are kept",
       10,
       {"a" RS "b" RS + eleven + RS "c" RS},
       false,
       {"a", "b"},
       0},
      {"separator not counted", 2, {"ab" RS "cd" RS}, true, {"ab", "cd"}, 0},
      {"limit per record, not per frame",
       4,
       {"abcd" RS "abcd" RS "abcd" RS},
       true,
       {"abcd", "abcd", "abcd"},
       0},
      {"0 means no limit",
       0,
       {std::string (1 << 20, 'x') + RS},
       true,
       {std::string (1 << 20, 'x')},
       0},
  };

  for (const auto &c : cases) {
    SCOPED_TRACE (c.name);
    RecordReader reader (c.limit);
    std::vector<std::string> records;
    bool ok = true;
    g_autoptr (GError) error = nullptr;
    for (const auto &frame : c.frames) {
      ok = reader.feed (frame, records, &error);
      if (!ok)
        break;
    }
    EXPECT_EQ (ok, c.ok);
    if (!c.ok)
      expect_too_large (error);
    else
      EXPECT_EQ (error, nullptr);
    EXPECT_EQ (records, c.records);
    EXPECT_EQ (reader.pending (), c.pending);
  }
}

TEST (Framing, EndlessRecordNeverBuffersPastTheLimit)
{
  const gsize limit = 32 * 1024;
  RecordReader reader (limit);
  std::vector<std::string> records;
  const std::string chunk (1000, 'x');
  g_autoptr (GError) error = nullptr;
  int fed = 0;
  while (reader.feed (chunk, records, &error)) {
    ASSERT_LE (reader.pending (), limit);
    ASSERT_LT (++fed, 1000);
  }
  EXPECT_EQ (fed, 32);
  expect_too_large (error);
  EXPECT_EQ (reader.pending (), 0u);
  EXPECT_TRUE (records.empty ());
}

TEST (Framing, FailedReaderStaysFailedUntilReset)
{
  RecordReader reader (4);
  std::vector<std::string> records;
  g_autoptr (GError) error = nullptr;
  ASSERT_FALSE (reader.feed ("toolong", records, &error));
  expect_too_large (error);
  g_clear_error (&error);

  ASSERT_FALSE (reader.feed ("ok" RS, records, &error));
  expect_too_large (error);
  EXPECT_TRUE (records.empty ());
  g_clear_error (&error);

  reader.reset ();
  ASSERT_TRUE (reader.feed ("ok" RS "ne", records, &error));
  EXPECT_EQ (records, std::vector<std::string>{"ok"});
  EXPECT_EQ (reader.pending (), 2u);
  reader.reset ();
  EXPECT_EQ (reader.pending (), 0u);
  ASSERT_TRUE (reader.feed ("xt" RS, records, &error));
  EXPECT_EQ (records, (std::vector<std::string>{"ok", "xt"}));
}

TEST (Framing, EmptyView)
{
  RecordReader reader (4);
  std::vector<std::string> records;
  EXPECT_TRUE (reader.feed (std::string_view (), records, nullptr));
  EXPECT_TRUE (records.empty ());
  EXPECT_EQ (reader.pending (), 0u);
}

TEST (Framing, NullErrorIsAccepted)
{
  RecordReader reader (2);
  std::vector<std::string> records;
  EXPECT_FALSE (reader.feed ("abc", records, nullptr));
  EXPECT_FALSE (reader.feed ("a" RS, records, nullptr));
}

} // namespace
