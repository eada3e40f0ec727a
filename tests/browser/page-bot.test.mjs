// (b) A page calls bots started with plain gst-launch lines: it decodes a
// signalrtcsink bot's video and audio, and a signalrtcbin bot decodes the
// page's camera and microphone.
// (f) The first again with the original app's client library, @aspnet/signalr
// 1.x, in the page.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from '../interop/lib/hub.js';
import { launchChromium, openApp } from './lib/browser.js';
import { messageLine } from './lib/bot.js';
import {
  AUDIO_BUFFER, VIDEO_FRAME, assertRenditionOf, reportSetupTime,
  startPatternBot, startViewerBot, waitOnHub, webRoot,
} from './lib/scenario.js';

let hub;
let browser;
const bots = [];

before(async () => {
  hub = await startHub(['--web-root', webRoot()]);
  browser = await launchChromium();
});

after(async () => {
  for (const bot of bots) await bot.stop();
  await browser?.close();
  await hub?.stop();
});

async function pageCallsSender (client) {
  const name = `cam-${client}`;
  const cam = startPatternBot(hub, name);
  bots.push(cam);
  await waitOnHub(cam, name);

  const params = client === 'aspnet' ? { client: 'aspnet' } : {};
  const page = await openApp(browser, hub, `viewer-${client}`, params);
  const camId = await page.call(name);
  await page.waitForState(name, 'connected');
  const stats = await page.waitForVideo(name, { minFrames: 30 });
  assertRenditionOf(stats.video, 640, 480);
  await page.waitForAudio(name);
  await cam.waitForLine(messageLine(name, 'signalrtc-peer-connected'));

  await reportSetupTime(`page→bot (${client})`, page, camId);
  await page.screenshot(`page-bot-${client}.png`);
  // Hang up and call again: the bot survives the browser closing the call
  // (its SCTP association errors out inside webrtcbin) and answers anew.
  await page.hangUp(name);
  await cam.waitForLine(messageLine(name, 'signalrtc-peer-disconnected'), 10000);
  await page.tile(name).waitFor({ state: 'detached', timeout: 10000 });
  await page.call(name);
  await page.waitForVideo(name, { minFrames: 30 });
  assert.ok(cam.alive(), 'the bot is still running');
  assert.equal(cam.count(messageLine(name, 'signalrtc-peer-connected')), 2);
  await page.page.close();
  await cam.stop();
  assert.ok(!cam.alive());
}

test('a page calls a signalrtcsink bot and decodes its video and audio', async () => {
  await pageCallsSender('microsoft');
});

test('the same with the original app\'s client, @aspnet/signalr 1.x', async () => {
  await pageCallsSender('aspnet');
});

test('a page calls a signalrtcbin bot, which decodes the page\'s camera and microphone', async () => {
  const bot = startViewerBot(hub, 'rec');
  bots.push(bot);
  await waitOnHub(bot, 'rec');

  const page = await openApp(browser, hub, 'caller');
  await page.call('rec');
  await page.waitForState('rec', 'connected');
  await bot.waitForLine(messageLine('rec', 'signalrtc-track'));
  await bot.waitForCount(VIDEO_FRAME, 20, 'decoded video frames from the page');
  await bot.waitForCount(AUDIO_BUFFER, 50, 'decoded audio buffers from the page');
  // The page sends what the bot decodes.
  const id = await page.connectionIdOf('rec');
  const out = await page.outboundStats(id);
  assert.ok(out.video && out.video.framesEncoded > 0, JSON.stringify(out));
  await page.screenshot('page-bot-viewer.png');
  await page.page.close();
  await bot.stop();
});
