// Sending over a real link: a Chromium viewer on a test host of its own
// (tests/lib/netsim.js) behind a link that drops 3 % of the packets toward
// it, called by a signalrtcsink and, in the same test, by a Chromium
// sender. The bot must retransmit what the viewer asks for (RFC 4588 rtx,
// negotiated whichever side offers) and reach at least 0.8 of the Chromium
// sender's decoded frame rate over the same link.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { test } from '../lib/node-test.js';
import { startHub } from '../interop/lib/hub.js';
import { launchChromium, openApp } from './lib/browser.js';
import { webRoot } from './lib/scenario.js';
import { descriptions, measureCall, start720pBot, videoRtx } from './lib/network.js';
import { createNetwork, linkCounters, unavailable } from '../lib/netsim.js';

const SECONDS = 8;
let why = null;
let net;
let hub;
let origin;
let viewerBrowser;
let senderBrowser;

before(async () => {
  why = await unavailable();
  if (why) return;
  net = await createNetwork(['viewer']);
  hub = await startHub(['--address', '0.0.0.0', '--web-root', webRoot()]);
  origin = `http://${net.host('viewer').gateway}:${hub.port}`;
  viewerBrowser = await launchChromium({ host: net.host('viewer'), origin });
  senderBrowser = await launchChromium();
  await net.shape('viewer', 'down', { loss: 0.03 });
});

after(async () => {
  await viewerBrowser?.close();
  await senderBrowser?.close();
  await hub?.stop();
  await net?.close();
});

const viewerPage = () => openApp(viewerBrowser, hub, 'viewer', { autoaccept: 1 }, { media: false, origin });

test('3 % loss toward a Chromium viewer: the bot retransmits and keeps up with a Chromium sender', { part: 'netsim' }, async (t) => {
  if (why) return t.skip(`no test network here: ${why}`);

  // The Chromium sender over the same link, for the figure to reach.
  let viewer = await viewerPage();
  const page = await openApp(senderBrowser, hub, 'chromium');
  await page.call('viewer');
  const browserSent = await measureCall(viewer, 'chromium', { seconds: SECONDS });
  await page.page.context().close();
  await viewer.page.context().close();

  viewer = await viewerPage();
  const dropsBefore = await linkCounters(net, 'viewer', 'down');
  const bot = start720pBot(hub, 'bot', 'call=viewer');
  try {
    const botSent = await measureCall(viewer, 'bot', { seconds: SECONDS });
    const drops = (await linkCounters(net, 'viewer', 'down')).lossDropped - dropsBefore.lossDropped;
    const sdp = await descriptions(viewer, await viewer.connectionIdOf('bot'));
    t.diagnostic(`chromium: ${JSON.stringify(browserSent)}`);
    t.diagnostic(`bot: ${JSON.stringify(botSent)}; the link dropped ${drops} packets`);
    assert.ok(drops > 0, 'the link dropped nothing: the loss rule is not working');
    assert.ok(videoRtx(sdp.remote), `the bot's offer has no rtx:\n${sdp.remote}`);
    assert.ok(botSent.nacks > 0, 'the viewer sent no NACK');
    assert.ok(botSent.rtx > 0, `no retransmitted packet reached the viewer (${botSent.nacks} NACKs)`);
    assert.ok(botSent.fps >= 0.8 * browserSent.fps,
      `the bot's ${botSent.fps.toFixed(1)} frames/s is below 0.8 of the Chromium sender's ${browserSent.fps.toFixed(1)}`);
  } finally {
    await bot.stop();
    await viewer.page.context().close();
  }
});

test('the viewer calls the bot: the answer carries rtx and lost packets come again', { part: 'netsim' }, async (t) => {
  if (why) return t.skip(`no test network here: ${why}`);
  const bot = start720pBot(hub, 'cam');
  let viewer = null;
  try {
    await bot.waitForLine(/signalrtc-hub-connected/);
    viewer = await viewerPage();
    await viewer.call('cam');
    const got = await measureCall(viewer, 'cam', { seconds: SECONDS });
    const sdp = await descriptions(viewer, await viewer.connectionIdOf('cam'));
    t.diagnostic(`bot answering: ${JSON.stringify(got)}`);
    assert.ok(videoRtx(sdp.remote), `the bot's answer has no rtx:\n${sdp.remote}`);
    assert.ok(got.rtx > 0, `no retransmitted packet reached the viewer (${got.nacks} NACKs)`);
    assert.ok(got.fps > 15, `only ${got.fps.toFixed(1)} frames/s`);
  } finally {
    await bot.stop();
    await viewer?.page.context().close();
  }
});
