// `test` from node:test with one more option, `part`, for the files that hold
// a test that may skip (it needs something a machine may lack, such as a
// mount namespace) beside tests that always run.
//
// meson runs such a file once per part, as tests of their own, with
// SIGNALRTC_TEST_PART naming the part: only that part's tests are declared,
// so a skip is its meson test's SKIP (tests/lib/meson-reporter.mjs), never a
// skip hidden among the passes of the others. A test with no `part` is in
// part "main". With SIGNALRTC_TEST_PART unset (a file run by hand) every
// test runs.
//
//   import { test } from '../lib/node-test.js';
//   test('needs unshare --mount', { part: 'mount' }, async (t) => { ... });
//
// and in meson.build, one test() per part, with
// env: {'SIGNALRTC_TEST_PART': 'main'} and {'SIGNALRTC_TEST_PART': 'mount'}.

import { test as nodeTest } from 'node:test';

export function test (name, options, fn) {
  if (typeof options === 'function') {
    fn = options;
    options = {};
  }
  const { part = 'main', ...rest } = options ?? {};
  const wanted = process.env.SIGNALRTC_TEST_PART;
  if (wanted !== undefined && wanted !== part) return undefined;
  return nodeTest(name, rest, fn);
}
