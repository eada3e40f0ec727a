// (e) A page goes away without hanging up (its browser is killed): the bot
// drops that call and keeps serving the other page, and a new caller.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from '../interop/lib/hub.js';
import { launchChromium, openApp } from './lib/browser.js';
import { messageLine } from './lib/bot.js';
import { startPatternBot, waitOnHub, webRoot } from './lib/scenario.js';

let hub;
let doomed;
let browser;
let bot;

before(async () => {
  hub = await startHub(['--web-root', webRoot()]);
  doomed = await launchChromium();
  browser = await launchChromium();
});

after(async () => {
  await bot?.stop();
  await doomed?.close();
  await browser?.close();
  await hub?.stop();
});

test('a page vanishes mid-call; the bot carries on with the others', async () => {
  bot = startPatternBot(hub, 'cam');
  await waitOnHub(bot, 'cam');

  const first = await openApp(doomed, hub, 'first');
  const second = await openApp(browser, hub, 'second');
  await first.call('cam');
  await second.call('cam');
  await first.waitForVideo('cam');
  const before = await second.waitForVideo('cam');
  const firstId = await first.page.evaluate(() => window.signalrtcApp.myConnectionId?.() ?? null);

  doomed.kill();
  // The bot hears of it (the hub's UserDisconnect, or ICE) and drops the call.
  const line = await bot.waitForLine(
    /from element "cam" \(element\): signalrtc-peer-disconnected.*username=\(string\)first/, 40000);
  if (firstId) assert.match(line, new RegExp(firstId));

  // The second page never stopped receiving.
  const after = await second.waitForVideo('cam', { minFrames: before.video.framesDecoded + 60 });
  assert.ok(after.video.framesDecoded >= before.video.framesDecoded + 60);
  assert.ok(bot.alive(), 'the bot is still running');

  // And a newcomer is served.
  const third = await openApp(browser, hub, 'third');
  await third.call('cam');
  await third.waitForVideo('cam');
  assert.equal(bot.count(messageLine('cam', 'signalrtc-peer-connected')), 3);
  await second.screenshot('page-leaves.png');
});
