// (c) A bot with call=<page user> calls the page; the page accepts; media
// flows both ways, the page's audio included. Then the page adds a track the
// bot's offer has no m-line for: simple-peer asks the bot (the initiator)
// to renegotiate and sends a transceiverRequest, and the new track must
// reach the bot.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from '../interop/lib/hub.js';
import { launchChromium, openApp } from './lib/browser.js';
import { messageLine } from './lib/bot.js';
import {
  AUDIO_BUFFER, VIDEO_FRAME, reportSetupTime, startViewerBot, webRoot,
} from './lib/scenario.js';

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

const TRACK = messageLine('caller', 'signalrtc-track');

test('a bot calls a page: the page accepts, media flows both ways', async () => {
  const page = await openApp(browser, hub, 'callee');
  bot = startViewerBot(hub, 'caller', 'call=callee', { sendVideo: true });

  await page.accept('caller');
  const botId = await page.connectionIdOf('caller');
  await page.waitForState('caller', 'connected');
  const stats = await page.waitForVideo('caller');
  assert.equal(stats.video.frameWidth, 320);
  await bot.waitForCount(VIDEO_FRAME, 20, 'decoded video frames from the page');
  await bot.waitForCount(AUDIO_BUFFER, 50, 'decoded audio buffers from the page');
  assert.equal(bot.count(TRACK), 2, 'one video and one audio track');
  await reportSetupTime('bot→page', page, botId);
  await page.screenshot('bot-page.png');

  // A track with no m-line: a second video track, drawn on a canvas.
  await page.page.evaluate((id) => {
    const canvas = document.createElement('canvas');
    canvas.width = 160;
    canvas.height = 120;
    const ctx = canvas.getContext('2d');
    let n = 0;
    setInterval(() => {
      ctx.fillStyle = `hsl(${(n += 7) % 360} 80% 50%)`;
      ctx.fillRect(0, 0, 160, 120);
    }, 33);
    const stream = canvas.captureStream(30);
    window.signalrtcApp.peer(id).addTrack(stream.getVideoTracks()[0], stream);
  }, botId);
  await bot.waitForCount(TRACK, 3, 'the page\'s added track at the bot', 20000);
  const frames = bot.count(VIDEO_FRAME);
  // Both video tracks go to the one video fakesink's branch only if linked;
  // the first keeps flowing through the renegotiation.
  await bot.waitForCount(VIDEO_FRAME, frames + 20, 'video after the renegotiation');
  // The renegotiation kept the call: the page still decodes the bot.
  const after = await page.waitForVideo('caller', { minFrames: stats.video.framesDecoded + 20 });
  assert.ok(after.video.framesDecoded > stats.video.framesDecoded);
  await page.page.close();
});
