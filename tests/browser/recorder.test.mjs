// signalrtc-record with Chromium callers: a call of about 5 s gives one
// file with audio and video whose duration is the call's; the MP4 variant;
// two callers at once; chat into the .jsonl.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { sleep, startHub } from '../interop/lib/hub.js';
import { launchChromium, openApp } from './lib/browser.js';
import { assertDuration, decodeFrames, discover, firstVideoBuffers, startRecorder } from './lib/recording.js';
import { webRoot } from './lib/scenario.js';

// Chromium's fake camera gives 20 frames/s here (tests/bench/run-network-bench
// measures 20.0): a file must decode at least three quarters of what a call
// of that length sent. (A fixed 100 for a 5 s call was at the edge: 99 once.)
const minFrames = (callS) => Math.floor(15 * callS);

let hub;
let browser;
const recorders = [];

before(async () => {
  hub = await startHub(['--web-root', webRoot()]);
  browser = await launchChromium();
});

after(async () => {
  for (const r of recorders) {
    await r.stop();
    r.cleanup();
  }
  await browser?.close();
  await hub?.stop();
});

// README: "Each file starts at 0 with a key frame": the first video frame
// is a key frame, at the start.
async function assertStartsWithKeyFrame (file) {
  const first = await firstVideoBuffers(file, 10);
  console.log(`# ${basename(file)}: first video pts ${first.map((b) => b.ptsS.toFixed(3) + (b.key ? 'K' : '')).join(' ')}`);
  assert.ok(first.length > 0, `video buffers in ${file}`);
  assert.ok(first[0].key, `the first video frame is a key frame: ${first[0].line}`);
  // The file's zero is the call's first buffer of either kind: audio may
  // come a few frames before the video.
  assert.ok(first[0].ptsS <= 0.5, `the first video frame is at the start: ${first[0].line}`);
}

// Calls the recorder from `page` for `seconds`, hangs up; returns the call's
// length as the page saw it (connected to hang-up), in seconds.
async function recordCall (page, recName, seconds) {
  await page.call(recName);
  await page.waitForState(recName, 'connected');
  const start = Date.now();
  // The caller is told that it is recorded.
  await page.waitForChat(recName, `This call is being recorded by ${recName}.`, 'in');
  await sleep(seconds * 1000);
  await page.hangUp(recName);
  return (Date.now() - start) / 1000;
}

test('a 5 s call gives one WebM file with video and audio that plays', async () => {
  const rec = startRecorder(hub, 'rec');
  recorders.push(rec);
  await rec.waitOnHub();
  const page = await openApp(browser, hub, 'alice');
  const callS = await recordCall(page, 'rec', 5);
  const [file] = await rec.waitFinished();
  assert.deepEqual(rec.files(), [basename(file)], 'one file, no chat log');
  assert.match(basename(file), /^alice-\d{8}-\d{6}\.webm$/);
  const info = await discover(file);
  assert.match(info.container ?? '', /WebM/);
  assert.match(info.video ?? '', /VP8/);
  assert.match(info.audio ?? '', /Opus/);
  await assertDuration(file, info, callS - 1, callS + 1, `a ${callS} s call: `);
  const frames = await decodeFrames(file);
  assert.ok(frames >= minFrames(callS), `${frames} frames decode from a ${callS} s call`);
  await assertStartsWithKeyFrame(file);
  assert.ok(rec.alive(), 'the recorder goes on');
  await page.page.close();
});

test('the MP4 variant: H.264 and AAC', async () => {
  const rec = startRecorder(hub, 'rec-mp4', ['--format', 'mp4']);
  recorders.push(rec);
  await rec.waitOnHub();
  const page = await openApp(browser, hub, 'bob');
  const callS = await recordCall(page, 'rec-mp4', 5);
  const [file] = await rec.waitFinished();
  assert.match(file, /bob-\d{8}-\d{6}\.mp4$/);
  const info = await discover(file);
  assert.match(info.video ?? '', /H\.264/);
  assert.match(info.audio ?? '', /AAC/);
  await assertDuration(file, info, callS - 1, callS + 1, `a ${callS} s call: `);
  const frames = await decodeFrames(file);
  assert.ok(frames >= minFrames(callS), `${frames} frames decode from a ${callS} s call`);
  await assertStartsWithKeyFrame(file);
  await page.page.close();
});

test('two callers at once give two files; chat lands in the .jsonl', async () => {
  const rec = startRecorder(hub, 'rec-two');
  recorders.push(rec);
  await rec.waitOnHub();
  const carol = await openApp(browser, hub, 'carol');
  const dave = await openApp(browser, hub, 'dave');
  await carol.call('rec-two');
  await dave.call('rec-two');
  await carol.waitForState('rec-two', 'connected');
  await dave.waitForState('rec-two', 'connected');
  await carol.waitForChat('rec-two', 'This call is being recorded by rec-two.', 'in');
  await carol.sendChat('rec-two', 'hello from carol');
  await dave.sendChat('rec-two', 'dave says "hi" ✓');
  await sleep(4000);
  await carol.hangUp('rec-two');
  await dave.hangUp('rec-two');
  const files = await rec.waitFinished(2);
  assert.equal(files.length, 2);
  for (const [who, file] of [['carol', files.find((f) => /carol-/.test(f))],
    ['dave', files.find((f) => /dave-/.test(f))]]) {
    assert.ok(file, `a file for ${who}: ${files}`);
    const info = await discover(file);
    assert.ok(info.video && info.audio, `${who}: ${info.text}`);
    await assertDuration(file, info, 3, 7, `${who}: `);
  }
  const chat = (who) => readFileSync(files.find((f) => f.includes(`${who}-`))
    .replace(/\.webm$/, '.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const carolChat = chat('carol');
  assert.equal(carolChat.length, 1);
  assert.equal(carolChat[0].from, 'carol');
  assert.equal(carolChat[0].text, 'hello from carol');
  assert.ok(carolChat[0].offset >= 0 && carolChat[0].offset < 5, JSON.stringify(carolChat[0]));
  assert.match(carolChat[0].time, /^\d{4}-\d\d-\d\dT/);
  assert.deepEqual(chat('dave').map((m) => m.text), ['dave says "hi" ✓']);
  await carol.page.close();
  await dave.page.close();
});

// Chat that comes before any media is kept: here the caller has no camera
// or microphone, so no media ever comes (the old recorder made its entry
// at the first track and dropped every line before it).
test('a caller without camera or microphone: its chat still lands in a .jsonl', async () => {
  const rec = startRecorder(hub, 'rec-chat');
  recorders.push(rec);
  await rec.waitOnHub();
  const erin = await openApp(browser, hub, 'erin', {}, { media: false });
  await erin.call('rec-chat');
  await erin.waitForState('rec-chat', 'connected');
  await erin.sendChat('rec-chat', 'only words');
  await erin.waitForChat('rec-chat', 'This call is being recorded by rec-chat.', 'in');
  await erin.sendChat('rec-chat', 'and more words');
  await sleep(1000);
  await erin.hangUp('rec-chat');
  await rec.waitForLine(/^signalrtc-record: no media from erin; 2 chat messages in \S+erin-\d{8}-\d{6}\.jsonl$/);
  const files = rec.files();
  assert.equal(files.length, 1, `only the chat log: ${files}`);
  assert.match(files[0], /^erin-\d{8}-\d{6}\.jsonl$/);
  const lines = readFileSync(`${rec.dir}/${files[0]}`, 'utf8').trim().split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((m) => [m.from, m.text, m.offset]),
    [['erin', 'only words', 0], ['erin', 'and more words', 0]]);
  assert.ok(rec.alive(), 'the recorder goes on');
  await erin.page.close();
});
