// scripts/demo as README tells a newcomer to use it: it starts the hub with
// the browser client and the two bots; a page joins, calls test-pattern and
// echo, and sees them; Ctrl-C (SIGINT) stops it all.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from 'node:net';
import { launchChromium, openApp } from './lib/browser.js';
import { startProcess } from './lib/bot.js';
import { assertRenditionOf } from './lib/scenario.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PORT = 5000; // the demo's; free inside scripts/isolated
const hub = { origin: `http://127.0.0.1:${PORT}` };

let browser;
let demo;

before(async () => {
  browser = await launchChromium();
});

after(async () => {
  await demo?.stop({ graceMs: 15000 });
  await browser?.close();
});

function portOpen (port) {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('connect', () => { socket.destroy(); resolve(true); });
    socket.on('error', () => resolve(false));
  });
}

test('scripts/demo: call the test pattern and the echo bot, then Ctrl-C', async () => {
  assert.equal(await portOpen(PORT), false, `port ${PORT} is free before the demo`);
  demo = startProcess('demo', join(root, 'scripts', 'demo'), [], {
    env: { SIGNALRTC_BUILD_DIR: process.env.SIGNALRTC_BUILD_ROOT },
  });
  await demo.waitForLine(/signalrtc demo is running/, 120000);
  assert.ok(demo.lines.some((l) => l.includes(`http://127.0.0.1:${PORT}/`)), 'it prints the URL');

  const page = await openApp(browser, hub, 'visitor');
  await page.call('test-pattern');
  const stats = await page.waitForVideo('test-pattern', { minFrames: 30 });
  assertRenditionOf(stats.video, 640, 480);
  await page.waitForAudio('test-pattern');

  await page.call('echo');
  await page.waitForChat('echo', 'Hello visitor, this is echo', 'in');
  await page.waitForVideo('echo', { minFrames: 30 });
  await page.waitForAudio('echo');
  await page.sendChat('echo', 'hello from the demo');
  await page.waitForChat('echo', 'echo: hello from the demo', 'in');
  await page.screenshot('demo.png');

  const result = await demo.stop({ signal: 'SIGINT', graceMs: 15000 });
  assert.equal(result.signal, null, `the demo exited by itself: ${JSON.stringify(result)}\n${demo.tail()}`);
  assert.ok(demo.lines.some((l) => /demo: stopping/.test(l)));
  assert.equal(await portOpen(PORT), false, 'the hub is gone');
});
