// Sending over a real link to Firefox: a Firefox ESR viewer (Debian's,
// over WebDriver BiDi) behind a shaped link, called by a signalrtcsink and,
// in the same test, by a Chromium sender over the same link. As with the
// Chromium viewer (network-send.test.mjs): over 3 % loss Firefox asks for
// what it lost (its nackCount) and the bot sends it again (its
// retransmissions-sent); over 1 Mbit/s the bot's estimate comes from
// Firefox's TWCC feedback and follows the link; either way the bot reaches
// at least 0.8 of the Chromium sender's decoded frame rate.
//
// The senders run on a test host (tests/lib/netsim.js) and Firefox in the
// test's own namespace, where puppeteer reaches it: the shaped direction is
// the senders' host's 'up'.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { test } from '../lib/node-test.js';
import { sleep, startHub } from '../interop/lib/hub.js';
import { launchChromium, openApp } from './lib/browser.js';
import { launchFirefox } from './lib/firefox.js';
import { VIDEO_FRAME, startViewerBot, webRoot } from './lib/scenario.js';
import { botEstimates, botStat, chromiumOverTheLink, descriptions, measureCall, start720pBot, videoRtx, videoTwcc } from './lib/network.js';
import { createNetwork, linkCounters, unavailable } from '../lib/netsim.js';

const SECONDS = 8;
let why = null;
let net;
let hub;
let senderOrigin;
let firefox;
let senderBrowser;

before(async () => {
  why = await unavailable();
  if (why) return;
  net = await createNetwork(['senders']);
  hub = await startHub(['--address', '0.0.0.0', '--web-root', webRoot()]);
  senderOrigin = `http://${net.host('senders').gateway}:${hub.port}`;
  firefox = await launchFirefox();
  senderBrowser = await launchChromium({ host: net.host('senders'), origin: senderOrigin });
});

after(async () => {
  await firefox?.close();
  await senderBrowser?.close();
  await hub?.stop();
  await net?.close();
});

const viewerPage = () => openApp(firefox, hub, 'viewer', { autoaccept: 1 }, { media: false });

const chromiumSender = () => openApp(senderBrowser, hub, 'chromium', {}, { origin: senderOrigin });

test('3 % loss toward a Firefox viewer: it asks, the bot retransmits and keeps up with a Chromium sender', { part: 'netsim' }, async (t) => {
  if (why) return t.skip(`no test network here: ${why}`);
  await net.shape('senders', 'up', { loss: 0.03 });
  const browserSent = await chromiumOverTheLink(viewerPage, chromiumSender, SECONDS);
  const viewer = await viewerPage();
  const dropsBefore = await linkCounters(net, 'senders', 'up');
  const bot = start720pBot(hub, 'bot', 'call=viewer stats-interval=1000', { host: net.host('senders') });
  try {
    const botSent = await measureCall(viewer, 'bot', { seconds: SECONDS });
    const drops = (await linkCounters(net, 'senders', 'up')).lossDropped - dropsBefore.lossDropped;
    const sdp = await descriptions(viewer, await viewer.connectionIdOf('bot'));
    const resent = botStat(bot, 'viewer', 'retransmissions-sent');
    t.diagnostic(`chromium: ${JSON.stringify(browserSent)}`);
    t.diagnostic(`bot: ${JSON.stringify(botSent)}; it sent ${resent} packets again; the link dropped ${drops}`);
    assert.ok(drops > 0, 'the link dropped nothing: the loss rule is not working');
    assert.ok(videoRtx(sdp.remote), `the bot's offer has no rtx:\n${sdp.remote}`);
    assert.ok(videoRtx(sdp.local), `Firefox's answer has no rtx:\n${sdp.local}`);
    assert.ok(botSent.nacks > 0, 'Firefox sent no NACK');
    assert.ok(resent > 0, `the bot sent nothing again (${botSent.nacks} NACKs)`);
    assert.ok(botSent.fps >= 0.8 * browserSent.fps,
      `the bot's ${botSent.fps.toFixed(1)} frames/s is below 0.8 of the Chromium sender's ${browserSent.fps.toFixed(1)}`);
  } finally {
    await bot.stop();
    await viewer.page.context().close();
  }
});

test('1 Mbit/s toward a Firefox viewer: the estimate comes from its TWCC feedback, follows the link, and the bot keeps up with a Chromium sender', { part: 'netsim' }, async (t) => {
  if (why) return t.skip(`no test network here: ${why}`);
  await net.shape('senders', 'up', { rate: '1mbit' });
  const browserSent = await chromiumOverTheLink(viewerPage, chromiumSender, SECONDS);
  const viewer = await viewerPage();
  const bot = start720pBot(hub, 'bot', 'call=viewer stats-interval=1000', { host: net.host('senders') });
  try {
    const botSent = await measureCall(viewer, 'bot', { seconds: SECONDS });
    const sdp = await descriptions(viewer, await viewer.connectionIdOf('bot'));
    const estimates = botEstimates(bot, 'viewer');
    t.diagnostic(`chromium: ${JSON.stringify(browserSent)}`);
    t.diagnostic(`bot: ${JSON.stringify(botSent)}`);
    t.diagnostic(`bot estimates: ${estimates.map((e) => `${e.estimate} (${e.feedback})`).join(' ')}`);
    assert.ok(videoTwcc(sdp.local), `Firefox's answer has no TWCC:\n${sdp.local}`);
    const fromTwcc = estimates.slice(Math.max(0, estimates.findIndex((e) => e.feedback === 'twcc')));
    assert.ok(fromTwcc.length >= 3 && fromTwcc.every((e) => e.feedback === 'twcc'),
      `the estimates are not from TWCC feedback: ${JSON.stringify(estimates)}`);
    const last = estimates.at(-1).estimate;
    // Near the link, or, when the bot sends less than the link carries
    // (its ladder's 640x360 at its bitrate), no more than GCC lets an
    // application-limited sender's estimate grow: 1.5 times what arrives
    // (the video the viewer counts, and about 100 kbit/s of audio and
    // packet headers it does not).
    const sentBps = botSent.kbps * 1000;
    assert.ok(last >= 0.4e6 && (last <= 1.2e6 || (sentBps <= 0.9e6 && last <= 1.5 * (sentBps + 100e3) + 10e3)),
      `the last estimate ${last} bit/s is not near the 1 Mbit/s link (the viewer received ${Math.round(sentBps)} bit/s)`);
    assert.ok(botSent.fps >= 0.8 * browserSent.fps,
      `the bot's ${botSent.fps.toFixed(1)} frames/s is below 0.8 of the Chromium sender's ${browserSent.fps.toFixed(1)}`);
  } finally {
    await bot.stop();
    await viewer.page.context().close();
  }
});

// What a Firefox page sent on its call `id`: video bytes, the NACKs it got,
// and whether the remote description (the bot's answer) has transport-cc.
async function firefoxSent (page, id) {
  return page.page.evaluate(async (cid) => {
    const pc = window.signalrtcApp.peerConnection(cid);
    let video = null;
    (await pc.getStats()).forEach((s) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video' && (!video || s.bytesSent > video.bytesSent)) video = s;
    });
    return { at: performance.now(), bytes: video?.bytesSent ?? 0, nacks: video?.nackCount ?? 0,
      offeredTwcc: /transport-wide-cc/.test(pc.localDescription?.sdp ?? ''),
      answeredTwcc: /transport-wide-cc/.test(pc.remoteDescription?.sdp ?? ''),
      remb: /goog-remb/.test(pc.localDescription?.sdp ?? '') };
  }, id);
}

// Receiving from Firefox: its page (fake camera) calls a receiving bot on
// the test host over a link with 3 % loss toward the bot. What Firefox
// offers for feedback (transport-cc, REMB) and what the bot's answer keeps
// are reported; the bot must keep transport-cc when Firefox offers it,
// and ask Firefox for what is lost.
test('a Firefox page sends to a receiving bot over 3 % loss: the answer keeps its transport-cc, the bot asks for what is lost', { part: 'netsim' }, async (t) => {
  if (why) return t.skip(`no test network here: ${why}`);
  await net.shape('senders', 'down', { loss: 0.03 });
  const bot = startViewerBot(hub, 'rec', 'stats-interval=1000', { host: net.host('senders') });
  let page = null;
  try {
    await bot.waitForLine(/signalrtc-hub-connected/);
    page = await openApp(firefox, hub, 'firefox');
    const id = await page.call('rec');
    await page.waitForState('rec', 'connected', 30000);
    const a = await firefoxSent(page, id);
    await sleep(10000);
    const b = await firefoxSent(page, id);
    const got = { ...b, kbps: (b.bytes - a.bytes) * 8 / (b.at - a.at), nacks: b.nacks - a.nacks,
      frames: bot.count(VIDEO_FRAME) };
    t.diagnostic(`firefox -> bot: ${JSON.stringify(got)}`);
    if (got.offeredTwcc) assert.ok(got.answeredTwcc, "Firefox offered transport-cc and the bot's answer dropped it");
    assert.ok(got.nacks > 0, 'Firefox got no NACK in 10 s at 3 % loss');
    assert.ok(got.frames >= 100, `the bot decoded only ${got.frames} frames of Firefox's`);
  } finally {
    await bot.stop();
    await page?.page.context().close();
  }
});
