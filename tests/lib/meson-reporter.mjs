// A node:test reporter that makes a file's exit status say what it ran, for
// meson's exit-code protocol. Every node:test program that meson runs has it
// beside spec (`node_test_args` in the top meson.build):
//
//   node --test-reporter=spec --test-reporter-destination=stdout \
//        --test-reporter=tests/lib/meson-reporter.mjs \
//        --test-reporter-destination=stderr FILE
//
// node:test exits 0 when tests skip (`t.skip()`, `{ skip }`, `{ todo }`), so
// meson would record OK for a file that checked nothing. This reporter counts
// the tests that ran or skipped (not suites, nor tests made only of subtests)
// and, once the run is over and nothing failed:
//
// - every test skipped: exit status 77, which meson records as SKIP;
// - some skipped and some passed: exit status 1, a failure. A SKIP for the
//   file would hide what passed, and OK what skipped. A test that may skip
//   (it needs something a machine may lack) goes into a part of its own
//   (`part` in tests/lib/node-test.js), which meson runs as a test of its
//   own: its skip is then that test's SKIP;
// - no test at all (a part or a name pattern that selects nothing): exit
//   status 1.
//
// It prints each skipped test as `skipped: NAME: REASON`, which is what
// scripts/test shows for a skipped test under CI=true. A failure is left to
// node:test, which exits 1 by itself.

// node:test reports tests its filters left out (--test-name-pattern,
// --test-only) as skipped, with these reasons (node 20; newer versions do
// not report them). They were not meant to run.
const FILTERED = new Set(['test name does not match pattern', "'only' option not set"]);

export default async function * mesonReporter (source) {
  let passed = 0;
  let failed = 0;
  const skipped = [];
  // hasChildren[n]: a test at nesting n reported since the last one at n - 1.
  // Subtests report before their parent, so this tells a container.
  const hasChildren = [];

  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { name, nesting, skip, todo, details } = event.data;
    const container = details?.type === 'suite' || hasChildren[nesting + 1] === true;
    hasChildren[nesting + 1] = false;
    hasChildren[nesting] = true;
    if (container) continue;
    if (skip !== undefined && FILTERED.has(skip)) continue;
    if (skip !== undefined || todo !== undefined) {
      const why = skip !== undefined ? skip : `todo${typeof todo === 'string' ? `: ${todo}` : ''}`;
      skipped.push(`${name}: ${why === true || why === '' ? '(no reason given)' : why}`);
    } else if (event.type === 'test:fail') {
      failed++;
    } else {
      passed++;
    }
  }

  for (const s of skipped) yield `skipped: ${s}\n`;
  if (failed > 0 || process.exitCode) return;
  if (passed === 0 && skipped.length === 0) {
    yield 'meson-reporter: no test ran (a part or a name pattern that selects nothing?)\n';
    process.exitCode = 1;
  } else if (passed === 0) {
    process.exitCode = 77;
  } else if (skipped.length > 0) {
    yield `meson-reporter: ${skipped.length} test(s) skipped beside ${passed} that passed: ` +
      'a test that may skip belongs in a part of its own (tests/lib/node-test.js)\n';
    process.exitCode = 1;
  }
}
