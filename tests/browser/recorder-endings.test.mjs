// Every way a recording can end leaves a file that plays: SIGINT and SIGTERM
// to the recorder mid-call, the caller's browser killed, and the hub killed
// mid-call (the recording goes on while media flows, and ends with the call).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { sleep, startHub, waitFor } from '../interop/lib/hub.js';
import { launchChromium, openApp } from './lib/browser.js';
import { assertDuration, decodeFrames, discover, startRecorder } from './lib/recording.js';
import { webRoot } from './lib/scenario.js';

let browser;
const cleanups = [];

before(async () => {
  browser = await launchChromium();
});

after(async () => {
  for (const c of cleanups.reverse()) await c();
  await browser?.close();
});

async function setUp (recArgs = []) {
  const hub = await startHub(['--web-root', webRoot()]);
  const rec = startRecorder(hub, 'rec', recArgs);
  cleanups.push(async () => { await rec.stop(); rec.cleanup(); await hub.stop(); });
  await rec.waitOnHub();
  return { hub, rec };
}

async function assertPlays (file, minS, maxS) {
  const info = await discover(file);
  assert.ok(info.video && info.audio, `video and audio in ${file}:\n${info.text}`);
  await assertDuration(file, info, minS, maxS);
  const frames = await decodeFrames(file);
  assert.ok(frames >= minS * 20, `${frames} frames decode`);
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  test(`${signal} to the recorder mid-call finishes the file`, async () => {
    const { hub, rec } = await setUp();
    const page = await openApp(browser, hub, `caller-${signal.toLowerCase()}`);
    await page.call('rec');
    await page.waitForState('rec', 'connected');
    await sleep(4000);
    const result = await rec.stop({ signal, graceMs: 15000 });
    assert.deepEqual(result, { code: 0, signal: null }, rec.tail());
    const [file] = await rec.waitFinished(1, 1000);
    await assertPlays(file, 3, 5.5);
    await page.page.close();
  });
}

test('the caller\'s browser is killed: the file is finished and plays', async () => {
  const { hub, rec } = await setUp();
  const doomed = await launchChromium();
  const page = await openApp(doomed, hub, 'vanishing');
  await page.call('rec');
  await page.waitForState('rec', 'connected');
  await sleep(4000);
  doomed.kill();
  const [file] = await rec.waitFinished(1, 40000);
  await assertPlays(file, 3, 6);
  assert.ok(rec.alive(), 'the recorder goes on');
  await doomed.close();
});

test('the hub is killed mid-call: recording goes on, then ends with the call', async () => {
  const { hub, rec } = await setUp();
  const page = await openApp(browser, hub, 'survivor');
  await page.call('rec');
  await page.waitForState('rec', 'connected');
  await sleep(2000);
  hub.proc.kill('SIGKILL');
  await hub.exited;
  await rec.waitForLine(/lost the hub/);
  await sleep(500);
  const file = () => rec.files().map((f) => `${rec.dir}/${f}`).find((f) => /survivor-/.test(f));
  const sizeThen = statSync(file()).size;
  await sleep(3000);
  assert.ok(statSync(file()).size > sizeThen, 'the file still grows without the hub');
  // The call ends peer to peer (the data channel closes).
  await page.hangUp('rec');
  const [done] = await rec.waitFinished(1, 40000);
  await assertPlays(done, 4.5, 7.5);
  await page.page.close();
});

// The hub restarts on its port mid-call: the caller and the recorder both
// rejoin with new connection ids. The call is still the one call (the
// recorder follows signalrtc-peer-rejoined): chat after the rejoin lands in
// the same .jsonl, hanging up finishes the one file.
test('the hub restarts mid-call: one file, and chat after the rejoin lands in its .jsonl', async () => {
  const { hub, rec } = await setUp();
  const page = await openApp(browser, hub, 'steady');
  await page.call('rec');
  await page.waitForState('rec', 'connected');
  await page.waitForChat('rec', 'This call is being recorded by rec.', 'in');
  await page.sendChat('rec', 'before the restart');
  await sleep(1500);
  hub.proc.kill('SIGKILL');
  await hub.exited;
  await rec.waitForLine(/lost the hub/);
  const again = await startHub(['--web-root', webRoot(), '--port', String(hub.port)]);
  cleanups.push(() => again.stop());
  await rec.waitForLine(/^signalrtc-record: back on the hub as rec/, 30000);
  await waitFor(() => page.logs.some((l) => /\] hub-reconnected/.test(l)),
    'the page back on the hub', 30000, 100);
  await page.waitForUser('rec', 30000);
  await page.sendChat('rec', 'after the restart');
  await sleep(1500);
  await page.hangUp('rec');
  const [done] = await rec.waitFinished(1, 20000);
  assert.match(done, /steady-\d{8}-\d{6}\.webm$/);
  await assertPlays(done, 3, 40);
  const logs = rec.files().filter((f) => f.endsWith('.jsonl'));
  assert.equal(logs.length, 1, `one chat log: ${rec.files()}`);
  const lines = readFileSync(`${rec.dir}/${logs[0]}`, 'utf8').trim().split('\n')
    .map((l) => JSON.parse(l).text);
  assert.deepEqual(lines, ['before the restart', 'after the restart']);
  assert.equal(rec.files().filter((f) => f.endsWith('.webm')).length, 1, `${rec.files()}`);
  // Back on the new hub for good: the next call gets a file of its own.
  await page.call('rec');
  await page.waitForState('rec', 'connected');
  await sleep(2500);
  await page.hangUp('rec');
  const [, next] = await rec.waitFinished(2, 20000);
  assert.notEqual(next, done);
  await assertPlays(next, 1.5, 15);
  await page.page.close();
});
