/* signalrtc-record's chat log lines (the .jsonl beside a recording). */
#include "record/chat-log.h"

#include <gtest/gtest.h>

#include <string>

using signalrtc::chat_log_line;

namespace {

struct LineCase
{
  const char *what;
  GstClockTime offset;
  std::string from, text;
  std::string expected;
};

TEST (ChatLogLine, Table)
{
  g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
  g_autoptr (GDateTime) when
      = g_date_time_new (utc, 2026, 11, 23, 23, 27, 48.1);
  const std::string t = "\"time\":\"2026-11-23T23:27:48.100000Z\"";
  const LineCase cases[] = {
      {"before the recording's first media: offset 0", 0, "carol", "hello",
       "{" + t + ",\"offset\":0.0,\"from\":\"carol\",\"text\":\"hello\"}\n"},
      {"no clock yet (GST_CLOCK_TIME_NONE) is 0 too", GST_CLOCK_TIME_NONE,
       "carol", "hi",
       "{" + t + ",\"offset\":0.0,\"from\":\"carol\",\"text\":\"hi\"}\n"},
      {"whole milliseconds, the rest dropped",
       2 * GST_SECOND + 500 * GST_MSECOND + 999 * GST_USECOND, "dave", "x",
       "{" + t + ",\"offset\":2.5,\"from\":\"dave\",\"text\":\"x\"}\n"},
      {"quotes, backslashes, newlines and non-ASCII are JSON-escaped", 0,
       "d\"q", "say \"hi\" \\ ✓\nnext",
       "{" + t
           + ",\"offset\":0.0,\"from\":\"d\\\"q\",\"text\":\"say \\\"hi\\\" "
             "\\\\ ✓\\nnext\"}\n"},
      {"empty text is kept", 0, "e", "",
       "{" + t + ",\"offset\":0.0,\"from\":\"e\",\"text\":\"\"}\n"},
  };
  for (const auto &c : cases)
    EXPECT_EQ (chat_log_line (when, c.offset, c.from, c.text), c.expected)
        << c.what;
}

}  // namespace
