// signalrtc-record against gst-launch senders (no browser): it calls a user
// with --call, ends a recording at --max-duration while the call goes on,
// reports a full disk and keeps serving, and refuses bad options.

import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sleep, startHub, waitFor } from '../interop/lib/hub.js';
import { test } from '../lib/node-test.js';
import { messageLine, startGstLaunch, startProcess } from './lib/bot.js';
import { decodeFrames, discover, firstVideoBuffers, startRecorder } from './lib/recording.js';
import { startPatternBot, waitOnHub } from './lib/scenario.js';

const run = promisify(execFile);
let hub;
const cleanups = [];

before(async () => {
  hub = await startHub();
});

after(async () => {
  for (const c of cleanups.reverse()) await c();
  await hub?.stop();
});

// The command that runs a program in a mount namespace of its own (as root
// in a user namespace when we are not root), or null where there is none.
async function mountNamespace () {
  const unshare = ['unshare', '--mount', '--propagation', 'private'];
  if (process.getuid() !== 0) unshare.splice(1, 0, '--user', '--map-root-user');
  try {
    await run(unshare[0], [...unshare.slice(1), 'true']);
    return unshare;
  } catch {
    return null;
  }
}

async function sender (name) {
  const bot = startPatternBot(hub, name);
  cleanups.push(() => bot.stop());
  await waitOnHub(bot, name);
  return bot;
}

test('--call USER records that user; SIGINT finishes the file', async () => {
  await sender('cam1');
  const rec = startRecorder(hub, 'rec-call', ['--call', 'cam1']);
  cleanups.push(async () => { await rec.stop(); rec.cleanup(); });
  await rec.waitForLine(/^signalrtc-record: recording cam1 into /);
  await sleep(3000);
  assert.deepEqual(await rec.stop(), { code: 0, signal: null });
  const [file] = await rec.waitFinished(1, 1000);
  const info = await discover(file);
  assert.match(info.video ?? '', /VP8/);
  assert.match(info.audio ?? '', /Opus/);
  assert.ok(info.durationS >= 2 && info.durationS <= 4, `${info.durationS} s`);
  assert.ok(await decodeFrames(file) >= 50);
  // README: "Each file starts at 0 with a key frame".
  const [first] = await firstVideoBuffers(file, 1);
  assert.ok(first?.key && first.ptsS <= 0.5, `first video buffer: ${first?.line}`);
});

test('--max-duration ends the recording; the call and the recorder go on', async () => {
  const cam = await sender('cam2');
  const rec = startRecorder(hub, 'rec-max', ['--call', 'cam2', '--max-duration', '2', '--format', 'mkv']);
  cleanups.push(async () => { await rec.stop(); rec.cleanup(); });
  const [file] = await rec.waitFinished(1, 20000);
  assert.match(file, /cam2-\d{8}-\d{6}\.mkv$/);
  assert.ok(rec.lines.some((l) => /finishing .*--max-duration reached/.test(l)), rec.tail());
  const info = await discover(file);
  assert.ok(info.video && info.audio, info.text);
  assert.ok(info.durationS >= 1.5 && info.durationS <= 3, `${info.durationS} s`);
  await sleep(2000);
  assert.equal(cam.count(messageLine('cam2', 'signalrtc-peer-disconnected')), 0,
    'the call goes on');
  assert.ok(rec.alive());
  assert.equal(rec.files().filter((f) => /\.mkv$/.test(f)).length, 1, 'no second file');
});

// The recorder under GStreamer's leaks tracer (it calls gst_deinit at
// exit, where the tracer lists what is still alive): two recordings, then
// SIGINT. Before, each recording left its two muxer request pads behind.
test('two recordings, then SIGINT: nothing of them is left (leaks tracer)', async () => {
  const rec = startRecorder(hub, 'rec-leaks', ['--call', 'cam4'], {
    env: { GST_TRACERS: 'leaks(filters="GstElement,GstPad")', GST_DEBUG: 'GST_TRACER:7' },
  });
  cleanups.push(async () => { await rec.stop(); rec.cleanup(); });
  await rec.waitOnHub();
  for (let i = 1; i <= 2; i++) {
    const cam = await sender('cam4');
    await rec.waitForCount(/^signalrtc-record: recording cam4 into /, i, `recording ${i}`, 20000);
    await sleep(2000);
    await cam.stop();
    await rec.waitFinished(i, 20000);
  }
  assert.deepEqual(await rec.stop(), { code: 0, signal: null }, rec.tail());
  const alive = rec.lines.filter((l) => /object-alive, type-name=\(string\)\w/.test(l));
  assert.deepEqual(alive, [], `left alive at exit:\n${alive.join('\n')}`);
  assert.ok(rec.lines.some((l) => /GST_TRACER/.test(l)), 'the tracer ran');
});

// The output directory is a 200 kB tmpfs, seen only by the recorder (a mount
// namespace of its own): the test pattern fills it in a few seconds.
test('a full disk is reported, and the recorder serves the next call', { part: 'full-disk' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'signalrtc-full-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const unshare = await mountNamespace();
  if (!unshare) {
    t.skip('no mount namespace here (unshare --mount failed)');
    return;
  }
  const cam = await sender('cam3');
  const rec = startProcess('rec-full', unshare[0], [
    ...unshare.slice(1), 'sh', '-c',
    'mount -t tmpfs -o size=200k tmpfs "$0" && exec "$@"', dir,
    process.env.SIGNALRTC_RECORD, '--hub', hub.url, '--username', 'rec-full',
    '--output-dir', dir, '--call', 'cam3']);
  cleanups.push(() => rec.stop());
  const failed = await rec.waitForLine(/^signalrtc-record: recording \S*cam3-\S* failed: /, 40000);
  assert.match(failed, /space|write|resource/i);
  assert.ok(rec.alive(), 'still running after the failed recording');

  // Room again (the files are under the recorder's own root), and cam3
  // comes back: the recorder calls it again and records.
  const inside = `/proc/${rec.pid}/root${dir}`;
  for (const f of readdirSync(inside)) unlinkSync(join(inside, f));
  await cam.stop();
  await sender('cam3');
  await rec.waitForCount(/^signalrtc-record: recording cam3 into /, 2, 'a second recording', 20000);
  // filesink writes in 64 KiB blocks: a few seconds of media.
  await waitFor(() => {
    const files = readdirSync(inside);
    return files.length === 1 && statSync(join(inside, files[0])).size > 0;
  }, `the new file in ${inside} to grow`, 10000, 200);
  assert.ok(rec.alive());
});

// A full disk under one recording while another goes on: the output
// directory is an ordinary one, and only \`fills\`' files land on a 200 kB
// tmpfs (the recorder, in a mount namespace of its own, sees it at
// DIR/small; the test made DIR/fills-<time>.webm symlinks into it for every
// second of the next two minutes, so whatever name the recorder picks for
// fills is on the small disk). fills' recording fails; keeps' goes on and
// plays.
test('a full disk under one recording: the other goes on and plays', { part: 'full-disk' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'signalrtc-half-full-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const unshare = await mountNamespace();
  if (!unshare) {
    t.skip('no mount namespace here (unshare --mount failed)');
    return;
  }
  mkdirSync(join(dir, 'small'));
  const pad = (n) => String(n).padStart(2, '0');
  for (let s = -5; s < 120; s++) {
    const d = new Date(Date.now() + s * 1000);
    const name = `fills-${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}-` +
      `${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}.webm`;
    symlinkSync(join(dir, 'small', name), join(dir, name));
  }
  const rec = startProcess('rec-half', unshare[0], [
    ...unshare.slice(1), 'sh', '-c',
    'mount -t tmpfs -o size=200k tmpfs "$0/small" && exec "$@"', dir,
    process.env.SIGNALRTC_RECORD, '--hub', hub.url, '--username', 'rec-half',
    '--output-dir', dir]);
  cleanups.push(() => rec.stop());
  await rec.waitForLine(/^signalrtc-record: on the hub as/);
  const keeps = startGstLaunch('keeps',
    'videotestsrc is-live=true pattern=ball ! video/x-raw,width=640,height=480,framerate=30/1 ' +
    `! signalrtcsink name=keeps hub-url=${hub.url} username=keeps call=rec-half ` +
    'audiotestsrc is-live=true ! keeps.');
  cleanups.push(() => keeps.stop());
  await rec.waitForLine(/^signalrtc-record: recording keeps into /);
  const fills = startGstLaunch('fills',
    'videotestsrc is-live=true pattern=snow ! video/x-raw,width=640,height=480,framerate=30/1 ' +
    `! signalrtcsink name=fills hub-url=${hub.url} username=fills call=rec-half ` +
    'audiotestsrc is-live=true ! fills.');
  cleanups.push(() => fills.stop());
  const failed = await rec.waitForLine(/^signalrtc-record: recording \S*fills-\S* failed: /, 40000);
  assert.match(failed, /space|write|resource/i);
  const keepsFile = readdirSync(dir).find((f) => /^keeps-.*\.webm$/.test(f));
  assert.ok(keepsFile, `keeps' file in ${readdirSync(dir)}`);
  const sizeThen = statSync(join(dir, keepsFile)).size;
  await waitFor(() => statSync(join(dir, keepsFile)).size > sizeThen + 64 * 1024,
    'keeps\' file to grow after fills\' failed', 15000, 200);
  await keeps.stop();
  await rec.waitForLine(new RegExp(`^signalrtc-record: finished \\S*${keepsFile}`), 20000);
  const info = await discover(join(dir, keepsFile));
  assert.ok(info.video && info.audio && info.durationS >= 2, info.text);
  assert.ok(await decodeFrames(join(dir, keepsFile)) >= 50);
  assert.ok(rec.alive());
});

test('bad options: a clear message and exit status 2', async () => {
  for (const [args, message] of [
    [['--format', 'avi'], /--format must be webm, mkv or mp4/],
    [['--transcode'], /WebM cannot hold/],
    [['--bogus'], /Unknown option --bogus/],
  ]) {
    const p = startProcess('rec-bad', process.env.SIGNALRTC_RECORD, args);
    const { code } = await p.exited;
    assert.equal(code, 2, args.join(' '));
    assert.ok(p.lines.some((l) => message.test(l)), p.tail());
  }
});
