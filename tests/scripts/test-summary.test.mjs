// scripts/test-summary, the end of scripts/test, on made-up meson test logs:
// the closing line `N passed, N failed, N skipped` (last, alone, on stdout),
// the skipped tests and their reasons on stderr, and the exit status with
// and without CI=true.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const script = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'scripts', 'test-summary');
const work = mkdtempSync(join(tmpdir(), 'signalrtc-summary-'));
after(() => rmSync(work, { recursive: true, force: true }));

let logs = 0;

// One line of testlog.json, as meson 1.0 writes it (the fields used here).
const entry = (name, result, { stdout = '', stderr, returncode = 0 } = {}) => ({
  name: `signalrtc:unit / ${name}`, result, stdout, returncode, ...(stderr === undefined ? {} : { stderr }),
});

// Runs the script on `entries` (null: no log at all) and returns what it said.
function summarize (entries, { mesonStatus = 0, ci = false } = {}) {
  const log = join(work, `testlog-${++logs}.json`);
  if (entries !== null) writeFileSync(log, entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
  const env = { ...process.env };
  delete env.CI;
  if (ci) env.CI = 'true';
  const r = spawnSync(script, [log, String(mesonStatus)], { encoding: 'utf8', env });
  assert.equal(r.error, undefined, String(r.error));
  const lines = r.stdout.split('\n');
  assert.equal(lines.at(-1), '', 'stdout ends with a newline');
  assert.equal(lines.length, 2, `one line on stdout, got:\n${r.stdout}`);
  return { line: lines[0], stderr: r.stderr, status: r.status };
}

const FULL_DISK_SKIP = entry('recorder-cli-full-disk', 'SKIP', {
  returncode: 77,
  stdout: '﹣ a full disk is reported (8ms) # no mount namespace here\nℹ skipped 1\n',
  stderr: 'skipped: a full disk is reported: no mount namespace here (unshare --mount failed)\n',
});

test('all passed: the three counts, exit 0', () => {
  const r = summarize([entry('framing', 'OK'), entry('web-app', 'OK'), entry('x', 'EXPECTEDFAIL')]);
  assert.deepEqual(r, { line: '3 passed, 0 failed, 0 skipped', stderr: '', status: 0 });
});

test('a skip is counted and named with its reason; without CI it is not an error', () => {
  const r = summarize([entry('framing', 'OK'), FULL_DISK_SKIP]);
  assert.equal(r.line, '1 passed, 0 failed, 1 skipped');
  assert.equal(r.status, 0);
  assert.match(r.stderr, /recorder-cli-full-disk: a full disk is reported: no mount namespace here \(unshare --mount failed\)/);
});

test('CI=true: a skip fails the run, naming the test and why', () => {
  const r = summarize([entry('framing', 'OK'), FULL_DISK_SKIP], { ci: true });
  assert.equal(r.line, '1 passed, 0 failed, 1 skipped');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /recorder-cli-full-disk: a full disk is reported: no mount namespace here/);
  assert.match(r.stderr, /CI=true and 1 test\(s\) skipped/);
});

test('CI=true with nothing skipped: exit 0', () => {
  const r = summarize([entry('framing', 'OK')], { ci: true });
  assert.deepEqual(r, { line: '1 passed, 0 failed, 0 skipped', stderr: '', status: 0 });
});

test('a skip without a `skipped:` line is explained by its last lines', () => {
  const r = summarize([entry('framing', 'OK'),
    entry('bare', 'SKIP', { returncode: 77, stdout: 'one\ntwo\nthree\nfour: no chromium\n' }),
    entry('silent', 'SKIP', { returncode: 77 })]);
  assert.equal(r.line, '1 passed, 0 failed, 2 skipped');
  assert.match(r.stderr, /bare: two \| three \| four: no chromium/);
  assert.match(r.stderr, /silent: no output \(exit status 77\)/);
});

test('every result but OK, EXPECTEDFAIL and SKIP is a failure', () => {
  const r = summarize([entry('a', 'OK'), entry('b', 'FAIL'), entry('c', 'TIMEOUT'),
    entry('d', 'ERROR'), entry('e', 'UNEXPECTEDPASS'), entry('f', 'INTERRUPT'), FULL_DISK_SKIP],
  { mesonStatus: 1 });
  assert.equal(r.line, '1 passed, 5 failed, 1 skipped');
  assert.equal(r.status, 1);
});

test('no test ran: no log, an empty log, or only skips', () => {
  for (const entries of [null, [], [FULL_DISK_SKIP]]) {
    const r = summarize(entries);
    assert.equal(r.status, 1, JSON.stringify(entries));
    assert.match(r.stderr, /no test ran/);
  }
  assert.equal(summarize(null).line, '0 passed, 0 failed, 0 skipped');
});

test('meson test failing with every test passed keeps its status', () => {
  const r = summarize([entry('framing', 'OK')], { mesonStatus: 125 });
  assert.equal(r.line, '1 passed, 0 failed, 0 skipped');
  assert.equal(r.status, 125);
  assert.match(r.stderr, /meson test exited with status 125/);
});
