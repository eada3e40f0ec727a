/* signalrtc-record's command line and file names. */
#include "record/record-options.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using signalrtc::parse_record_options;
using signalrtc::RecordFormat;
using signalrtc::recording_basename;

namespace {

struct Parsed
{
  std::optional<signalrtc::RecordOptions> options;
  std::string error;
};

Parsed
parse (std::vector<std::string> args)
{
  args.insert (args.begin (), "signalrtc-record");
  std::vector<char *> argv;
  for (auto &a : args)
    argv.push_back (a.data ());
  argv.push_back (nullptr);
  int argc = (int)args.size ();
  char **p = argv.data ();
  GError *error = nullptr;
  Parsed r;
  r.options = parse_record_options (&argc, &p, &error);
  if (error) {
    r.error = error->message;
    g_error_free (error);
  }
  return r;
}

TEST (RecordOptions, Defaults)
{
  auto r = parse ({});
  ASSERT_TRUE (r.options) << r.error;
  EXPECT_EQ (r.options->hub_url, "http://127.0.0.1:5000/signalrtc");
  EXPECT_EQ (r.options->username, "recorder");
  EXPECT_EQ (r.options->output_dir, ".");
  EXPECT_EQ (r.options->format, RecordFormat::WebM);
  EXPECT_FALSE (r.options->transcode);
  EXPECT_TRUE (r.options->call.empty ());
  EXPECT_TRUE (r.options->allowed_users.empty ());
  EXPECT_EQ (r.options->max_duration, 0u);
  EXPECT_FALSE (r.options->quiet);
}

TEST (RecordOptions, Everything)
{
  auto r = parse ({"--hub", "http://hub:8080/x", "--username", "bot", "-o",
                   "/tmp/rec", "--format", "mkv", "--transcode", "--call",
                   "alice", "--allowed-user", "alice", "-a", "bob",
                   "--max-duration", "60", "--quiet"});
  ASSERT_TRUE (r.options) << r.error;
  EXPECT_EQ (r.options->hub_url, "http://hub:8080/x");
  EXPECT_EQ (r.options->username, "bot");
  EXPECT_EQ (r.options->output_dir, "/tmp/rec");
  EXPECT_EQ (r.options->format, RecordFormat::Matroska);
  EXPECT_TRUE (r.options->transcode);
  EXPECT_EQ (r.options->call, "alice");
  EXPECT_EQ (r.options->allowed_users,
             (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ (r.options->max_duration, 60u);
  EXPECT_TRUE (r.options->quiet);
}

TEST (RecordOptions, Mp4AlwaysTranscodes)
{
  auto r = parse ({"--format", "mp4"});
  ASSERT_TRUE (r.options) << r.error;
  EXPECT_EQ (r.options->format, RecordFormat::Mp4);
  EXPECT_TRUE (r.options->transcode);
}

TEST (RecordOptions, Refused)
{
  const struct
  {
    std::vector<std::string> args;
    const char *error;
  } rows[] = {
      {{"--format", "avi"}, "--format must be webm, mkv or mp4, not 'avi'"},
      {{"--transcode"}, "WebM cannot hold"},
      {{"--format", "webm", "--transcode"}, "WebM cannot hold"},
      {{"--max-duration", "-5"}, "--max-duration must be a number of seconds"},
      {{"--max-duration", "soon"}, "soon"},
      {{"--username", ""}, "--username must not be empty"},
      {{"stray"}, "unexpected argument 'stray'"},
      {{"--no-such-option"}, "--no-such-option"},
  };
  for (const auto &row : rows) {
    auto r = parse (row.args);
    EXPECT_FALSE (r.options) << row.args[0];
    EXPECT_NE (r.error.find (row.error), std::string::npos)
        << "got: " << r.error;
  }
}

TEST (RecordOptions, Extensions)
{
  EXPECT_STREQ (signalrtc::record_format_extension (RecordFormat::WebM),
                "webm");
  EXPECT_STREQ (signalrtc::record_format_extension (RecordFormat::Matroska),
                "mkv");
  EXPECT_STREQ (signalrtc::record_format_extension (RecordFormat::Mp4), "mp4");
}

TEST (RecordingBasename, SafeNames)
{
  g_autoptr (GDateTime) t = g_date_time_new_local (2026, 11, 23, 9, 5, 7);
  const struct
  {
    std::string user, expected;
  } rows[] = {
      {"alice", "alice-20261123-090507"},
      {"Bob_2.x-y", "Bob_2.x-y-20261123-090507"},
      {"../../etc/passwd", "_._.._etc_passwd-20261123-090507"},
      {"a/b\\c:d*e?f\"g<h>i|j", "a_b_c_d_e_f_g_h_i_j-20261123-090507"},
      {".hidden", "_hidden-20261123-090507"},
      {"", "caller-20261123-090507"},
      {"two words", "two_words-20261123-090507"},
      {"grüße", "grüße-20261123-090507"},
      {"bad\xff"
       "utf8",
       "bad\xef\xbf\xbdutf8-20261123-090507"},
      {"tab\there\nnl", "tab_here_nl-20261123-090507"},
  };
  for (const auto &row : rows)
    EXPECT_EQ (recording_basename (row.user, t), row.expected) << row.user;
}

TEST (RecordingBasename, LongNamesAreCutOnACharacter)
{
  g_autoptr (GDateTime) t = g_date_time_new_local (2026, 1, 2, 3, 4, 5);
  std::string user;
  for (int i = 0; i < 80; i++)
    user += "é"; /* 2 bytes each */
  std::string name = recording_basename (user, t);
  std::string stem
      = name.substr (0, name.size () - strlen ("-20260102-030405"));
  EXPECT_LE (stem.size (), 100u);
  EXPECT_EQ (stem.size () % 2, 0u);
  EXPECT_TRUE (g_utf8_validate (name.c_str (), -1, nullptr));
}

}  // namespace
