// The playlist broadcaster (examples/broadcaster.cpp): a page calls it and
// gets the playlist's video and audio, continuing from item to item and
// around the loop; the chat greets it with what is playing and takes the
// "next" and "now" commands. Without --loop the broadcaster ends after the
// last item (exit 0), skipping files it cannot play; with nothing playable
// it exits 1.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep, startHub } from '../interop/lib/hub.js';
import { launchChromium, openApp } from './lib/browser.js';
import { startGstLaunch, startProcess } from './lib/bot.js';
import { assertRenditionOf, webRoot } from './lib/scenario.js';

// Each item lasts 2 s: a test pattern and a tone of its own.
const ITEM_SECONDS = 2;
const ITEMS = [
  { file: 'smpte.webm', pattern: 'smpte', freq: 440, enc: 'vp8enc deadline=1', mux: 'webmmux' },
  { file: 'ball.ogg', pattern: 'ball', freq: 880, enc: 'theoraenc', mux: 'oggmux' },
];

let hub;
let browser;
let dir;
const bots = [];

function broadcasterExe () {
  const exe = process.env.SIGNALRTC_BROADCASTER;
  if (!exe) throw new Error('SIGNALRTC_BROADCASTER is not set: run this test with meson test');
  return exe;
}

function startBroadcaster (name, args) {
  const bot = startProcess(name, broadcasterExe(),
    ['--hub', hub.url, '--username', name, '--size', '640x360', ...args]);
  bots.push(bot);
  return bot;
}

async function makeItem ({ file, pattern, freq, enc, mux }) {
  const frames = ITEM_SECONDS * 30;
  const blocks = Math.ceil(ITEM_SECONDS * 48000 / 1024);
  const gen = startGstLaunch(`make-${file}`,
    `videotestsrc num-buffers=${frames} pattern=${pattern} ` +
    '! video/x-raw,width=320,height=240,framerate=30/1 ' +
    `! ${enc} ! ${mux} name=mux ! filesink location=${join(dir, file)} ` +
    `audiotestsrc num-buffers=${blocks} freq=${freq} ! audio/x-raw,rate=48000 ` +
    '! audioconvert ! vorbisenc ! mux.');
  const { code } = await gen.exited;
  assert.equal(code, 0, `making ${file}:\n${gen.tail()}`);
  return join(dir, file);
}

// The chat messages the page got from `user`, oldest first.
async function chatIn (page, user) {
  return page.tile(user).first().locator('.chat-log .msg.in').allTextContents();
}

async function waitForNewChat (page, user, seen, re, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const fresh = (await chatIn(page, user)).slice(seen).find((t) => re.test(t));
    if (fresh) return fresh;
    if (Date.now() > deadline) {
      throw new Error(`no new chat message matching ${re} from ${user} in ${timeoutMs} ms: ` +
        JSON.stringify(await chatIn(page, user)));
    }
    await sleep(100);
  }
}

before(async () => {
  hub = await startHub(['--web-root', webRoot()]);
  browser = await launchChromium();
  dir = mkdtempSync(join(tmpdir(), 'signalrtc-broadcaster-'));
  for (const item of ITEMS) item.path = await makeItem(item);
  writeFileSync(join(dir, 'not-media.webm'), 'this is no media file\n');
});

after(async () => {
  for (const bot of bots) await bot.stop();
  await browser?.close();
  await hub?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a page watches the looping playlist and drives it from the chat', async () => {
  const bot = startBroadcaster('tv', ['--loop', ...ITEMS.map((i) => i.path)]);
  await bot.waitForLine(/^broadcaster: on the hub as tv$/);
  await bot.waitForLine(/^broadcaster: Now playing: smpte\.webm \(1\/2\)$/);

  const page = await openApp(browser, hub, 'viewer');
  const id = await page.call('tv');
  await page.waitForState('tv', 'connected');
  await page.waitForChat('tv', 'Hello viewer, this is tv. Now playing: ', 'in');
  await bot.waitForLine(/^broadcaster: viewer connected$/);

  const first = await page.waitForVideo('tv', { minFrames: 30 });
  assertRenditionOf(first.video, 640, 360);
  await page.waitForAudio('tv');

  // The picture goes on past the whole playlist's length and around the
  // loop: framesDecoded rises every second for 7 s (3.5 items), at about
  // the files' 30 fps: paced in real time, neither stalled at a switch nor
  // pushed faster.
  const samples = [first.video.framesDecoded];
  const announced = bot.count(/^broadcaster: Now playing: /);
  const start = Date.now();
  while (Date.now() - start < 7000) {
    await sleep(1000);
    const stats = await page.inboundStats(id);
    samples.push(stats.video.framesDecoded);
  }
  console.log(`# frames decoded, one sample a second: ${samples.join(' ')}`);
  for (let i = 1; i < samples.length; i++) {
    assert.ok(samples[i] > samples[i - 1] + 5,
      `video stalled between seconds ${i - 1} and ${i}: ${samples.join(' ')}`);
  }
  const perSecond = (samples.at(-1) - samples[0]) / (samples.length - 1);
  console.log(`# ${perSecond.toFixed(1)} frames a second over the loop`);
  assert.ok(perSecond > 15 && perSecond < 40, `about 30 fps, not ${perSecond}`);
  assert.ok(bot.count(/^broadcaster: Now playing: /) >= announced + 3,
    'three more items were announced in 7 s: the playlist looped');
  const audio = await page.inboundStats(id);
  assert.ok(audio.audio.packetsReceived > 7 * 40, `audio went on: ${JSON.stringify(audio.audio)}`);

  // "now" answers with what is playing, unknown text with the commands.
  let seen = (await chatIn(page, 'tv')).length;
  await page.sendChat('tv', 'now');
  await waitForNewChat(page, 'tv', seen, /^Now playing: (smpte\.webm \(1|ball\.ogg \(2)\/2\)$/);
  seen = (await chatIn(page, 'tv')).length;
  await page.sendChat('tv', 'hello?');
  await waitForNewChat(page, 'tv', seen, /"next"/);

  // "next" skips at once: the bot says what it skipped, and every caller
  // is told what comes instead.
  seen = (await chatIn(page, 'tv')).length;
  const sent = Date.now();
  await page.sendChat('tv', 'next');
  const skipped = await bot.waitForLine(/^broadcaster: viewer skips /);
  const skippedName = /skips (\S+)$/.exec(skipped)[1];
  const other = ITEMS.map((i) => i.file).find((f) => f !== skippedName);
  const news = await waitForNewChat(page, 'tv', seen,
    new RegExp(`^Now playing: ${other.replace('.', '\\.')} \\(\\d/2\\)$`));
  console.log(`# "next" during ${skippedName}: "${news}" after ${Date.now() - sent} ms`);
  assert.ok(Date.now() - sent < 1500, 'the skip is at once');
  const later = await page.waitForVideo('tv', { minFrames: samples.at(-1) + 30 });
  assert.ok(later.video.framesDecoded > samples.at(-1));
  await page.screenshot('broadcaster.png');

  await page.hangUp('tv');
  await bot.waitForLine(/^broadcaster: viewer left$/, 10000);
  assert.ok(bot.alive(), 'the broadcaster goes on without viewers');
  const { code } = await bot.stop();
  assert.equal(code, 0);
  await page.page.close();
});

test('without --loop it ends after the last item, skipping what it cannot play', async () => {
  const started = Date.now();
  const bot = startBroadcaster('once',
    [ITEMS[0].path, join(dir, 'not-media.webm'), ITEMS[1].path]);
  const { code, signal } = await bot.exited;
  const seconds = (Date.now() - started) / 1000;
  console.log(`# the playlist of ${ITEMS.length * ITEM_SECONDS} s ended after ${seconds.toFixed(1)} s`);
  assert.equal(code, 0, `exit ${code} ${signal}\n${bot.tail()}`);
  assert.equal(bot.count(/^broadcaster: Now playing: smpte\.webm \(1\/3\)$/), 1);
  assert.equal(bot.count(/^broadcaster: cannot play not-media\.webm: /), 1);
  assert.equal(bot.count(/^broadcaster: Now playing: ball\.ogg \(3\/3\)$/), 1);
  assert.equal(bot.count(/^broadcaster: end of the playlist$/), 1);
  // Played in real time, not as fast as it decodes.
  assert.ok(seconds >= ITEMS.length * ITEM_SECONDS, `it took ${seconds} s`);
  assert.ok(seconds < 15, `it took ${seconds} s`);
});

test('with nothing it can play it exits 1', async () => {
  const bot = startBroadcaster('nothing',
    [join(dir, 'not-media.webm'), join(dir, 'missing.webm')]);
  const { code } = await bot.exited;
  assert.equal(code, 1, bot.tail());
  assert.equal(bot.count(/^broadcaster: cannot play /), 2);
  assert.equal(bot.count(/^broadcaster: nothing could be played$/), 1);
});
