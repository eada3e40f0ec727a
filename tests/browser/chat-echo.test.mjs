// (d) Chat between a page and a bot both ways, with the demo's echo bot
// (examples/echo-bot.cpp): the bot greets the page with `send-message` when
// the call connects, prints what `message-received` gives it, and answers
// each message; it also sends the page's video and audio back.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from '../interop/lib/hub.js';
import { launchChromium, openApp } from './lib/browser.js';
import { startEchoBot, waitOnHub, webRoot } from './lib/scenario.js';

let hub;
let browser;
let bot;

before(async () => {
  hub = await startHub(['--web-root', webRoot()]);
  browser = await launchChromium();
});

after(async () => {
  await bot?.stop();
  await browser?.close();
  await hub?.stop();
});

test('chat both ways with the echo bot, and it sends back our media', async () => {
  bot = startEchoBot(hub, 'echo');
  await waitOnHub(bot);
  const page = await openApp(browser, hub, 'talker');
  await page.call('echo');
  await page.waitForState('echo', 'connected');

  // bot -> page: the greeting.
  await page.waitForChat('echo', 'Hello talker, this is echo', 'in');
  // page -> bot, and back.
  await page.sendChat('echo', 'are you there?');
  await bot.waitForLine(/^echo: message from talker: are you there\?$/);
  await page.waitForChat('echo', 'echo: are you there?', 'in');
  // Text that is not plain ASCII arrives unchanged.
  await page.sendChat('echo', 'grüße ✓ "quoted" \\ back');
  await bot.waitForLine(/^echo: message from talker: grüße ✓ "quoted" \\ back$/);
  await page.waitForChat('echo', 'echo: grüße ✓ "quoted" \\ back', 'in');

  // The echo: our fake camera comes back, decoded by the page.
  const stats = await page.waitForVideo('echo', { minFrames: 30 });
  assert.ok(stats.video.frameWidth > 0);
  await page.waitForAudio('echo');
  await page.screenshot('chat-echo.png');

  // A second call after the first ends: the bot serves it too.
  await page.hangUp('echo');
  await bot.waitForLine(/^echo: talker left$/, 10000);
  const again = await openApp(browser, hub, 'second');
  await again.call('echo');
  await again.waitForChat('echo', 'Hello second, this is echo', 'in');
  await again.waitForVideo('echo', { minFrames: 30 });
  await again.page.close();
  await page.page.close();
});
