/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * main () of every GoogleTest program here, instead of gtest_main, so that
 * the exit status says what ran. GoogleTest exits 0 when tests skip
 * (GTEST_SKIP), and meson 1.0 takes a `protocol: 'gtest'` test's result
 * from its exit status alone (the XML is only copied into its own report):
 * a program whose every test skipped was recorded OK. Here, when nothing
 * failed:
 *
 * - every test that was to run skipped: exit status 77, meson's SKIP;
 * - some skipped and some passed: exit status 1, a failure (a skip must not
 *   hide among passes: a test that may skip goes into a program, or a meson
 *   test with --gtest_filter, of its own).
 *
 * Each skipped test is printed as `skipped: Suite.Name: message`, which is
 * what scripts/test shows for a skipped test under CI=true. The node:test
 * programs do the same through tests/lib/meson-reporter.mjs.
 */
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace {

/* The message of a GTEST_SKIP () << "..." in @result, or "". */
std::string
skip_message (const testing::TestResult &result)
{
  for (int i = 0; i < result.total_part_count (); i++) {
    const testing::TestPartResult &part = result.GetTestPartResult (i);
    if (part.skipped () && part.message () && *part.message ())
      return part.message ();
  }
  return "";
}

} // namespace

int
main (int argc, char **argv)
{
  testing::InitGoogleTest (&argc, argv);
  int status = RUN_ALL_TESTS ();

  testing::UnitTest *unit = testing::UnitTest::GetInstance ();
  if (unit->skipped_test_count () == 0)
    return status;
  for (int i = 0; i < unit->total_test_suite_count (); i++) {
    const testing::TestSuite *suite = unit->GetTestSuite (i);
    for (int j = 0; j < suite->total_test_count (); j++) {
      const testing::TestInfo *info = suite->GetTestInfo (j);
      if (!info->should_run () || !info->result ()->Skipped ())
        continue;
      std::string why = skip_message (*info->result ());
      std::printf ("skipped: %s.%s: %s\n", suite->name (), info->name (),
                   why.empty () ? "(no reason given)" : why.c_str ());
    }
  }
  if (status != 0)
    return status;
  if (unit->successful_test_count () == 0)
    return 77;
  std::printf ("gtest-main: %d test(s) skipped beside %d that passed: a "
               "test that may skip belongs in a meson test of its own\n",
               unit->skipped_test_count (), unit->successful_test_count ());
  return 1;
}
