// Receiving over a real link: a Chromium page (fake camera) on a test host
// of its own (tests/lib/netsim.js) sends to a receiving signalrtcbin bot
// over 3 % loss. The bot must ask for what is lost (RFC 4585 NACK) and
// take it again on the rtx stream (RFC 4588), whichever side offers: the
// page's own getStats count the NACKs it got and the packets it sent again.
// On a clean link the bot's transport-wide feedback lets the page's
// congestion control open up as a Chromium receiver's does: what the page
// sends the bot is held to 0.8 of what it sends a Chromium receiver.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { test } from '../lib/node-test.js';
import { sleep, startHub } from '../interop/lib/hub.js';
import { launchChromium, openApp } from './lib/browser.js';
import { VIDEO_FRAME, startViewerBot, webRoot } from './lib/scenario.js';
import { startRecorder } from './lib/recording.js';
import { checkStamps, stampedMedia } from './lib/stamp.js';
import { createNetwork, linkCounters, unavailable } from '../lib/netsim.js';

const SECONDS = 10;
let why = null;
let net;
let hub;
let origin;
let browser;
let receiverBrowser;

before(async () => {
  why = await unavailable();
  if (why) return;
  net = await createNetwork(['page']);
  hub = await startHub(['--address', '0.0.0.0', '--web-root', webRoot()]);
  origin = `http://${net.host('page').gateway}:${hub.port}`;
  browser = await launchChromium({ host: net.host('page'), origin });
  receiverBrowser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await receiverBrowser?.close();
  await hub?.stop();
  await net?.close();
});

// The page's video outbound-rtp entry for its call, and whether the
// remote description (the bot's offer or answer) has rtx.
async function sent (page, connectionId) {
  return page.page.evaluate(async (id) => {
    const pc = window.signalrtcApp.peerConnection(id);
    let video = null;
    (await pc.getStats()).forEach((s) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video' && (!video || s.bytesSent > video.bytesSent)) video = s;
    });
    return {
      nacks: video?.nackCount ?? 0,
      bytes: video?.bytesSent ?? 0,
      resent: video?.retransmittedPacketsSent ?? 0,
      packets: video?.packetsSent ?? 0,
      rtx: /a=rtpmap:\d+ rtx\//.test(pc.remoteDescription?.sdp ?? ''),
    };
  }, connectionId);
}

async function lossyCall (t, label, { pageCalls }) {
  await net.shape('page', 'up', { loss: 0.03 });
  const bot = startViewerBot(hub, 'rec', `stats-interval=1000${pageCalls ? '' : ' call=page'}`);
  let page = null;
  try {
    if (pageCalls) await bot.waitForLine(/signalrtc-hub-connected/);
    page = await openApp(browser, hub, 'page', pageCalls ? {} : { autoaccept: 1 }, { origin });
    let id = null;
    if (pageCalls) {
      id = await page.call('rec');
    } else {
      id = await page.waitForCallFrom('rec');
    }
    await page.waitForState('rec', 'connected');
    const dropsBefore = await linkCounters(net, 'page', 'up');
    const framesBefore = bot.count(VIDEO_FRAME);
    const before = await sent(page, id);
    await sleep(SECONDS * 1000);
    const after = await sent(page, id);
    const drops = (await linkCounters(net, 'page', 'up')).lossDropped - dropsBefore.lossDropped;
    const frames = bot.count(VIDEO_FRAME) - framesBefore;
    const got = { nacks: after.nacks - before.nacks, resent: after.resent - before.resent,
      packets: after.packets - before.packets, rtx: after.rtx, frames, drops };
    // What the bot says it did (its last signalrtc-peer-stats).
    const statsLine = bot.lines.filter((l) => l.includes('signalrtc-peer-stats')).at(-1) ?? '';
    const stat = (name) => Number(new RegExp(`${name}=\\(guint64\\)(\\d+)`).exec(statsLine)?.[1] ?? NaN);
    got.requested = stat('retransmissions-requested');
    got.repaired = stat('packets-repaired');
    t.diagnostic(`${label}: ${JSON.stringify(got)}`);
    assert.ok(got.rtx, `the bot's ${pageCalls ? 'answer' : 'offer'} has no rtx for the page's video`);
    assert.ok(got.nacks > 0, `the page got no NACK in ${SECONDS} s at 3 % loss (${got.packets} packets sent)`);
    assert.ok(got.resent > 0, `the page sent nothing again (${got.nacks} NACKs)`);
    assert.ok(frames >= SECONDS * 10, `the bot decoded only ${frames} frames in ${SECONDS} s`);
    assert.ok(got.requested > 0 && got.repaired > 0,
      `the bot's stats say ${got.requested} retransmissions requested, ${got.repaired} packets repaired`);
  } finally {
    await bot.stop();
    await page?.page.context().close();
  }
}

test('3 % loss from a Chromium page that calls a receiving bot: the bot asks for what is lost and gets it again', { part: 'netsim' }, async (t) => {
  if (why) return t.skip(`no test network here: ${why}`);
  await lossyCall(t, 'page calls the bot', { pageCalls: true });
});

test('3 % loss toward a receiving bot that calls the page: its offer has rtx, it asks for what is lost and gets it again', { part: 'netsim' }, async (t) => {
  if (why) return t.skip(`no test network here: ${why}`);
  await lossyCall(t, 'the bot calls the page', { pageCalls: false });
});

// What the page sent on its call `id` over `seconds`, after a second of
// settling: kbit/s, and whether the remote description has transport-cc.
async function sendRate (page, id, seconds) {
  await sleep(1000);
  const first = await sent(page, id);
  const t0 = Date.now();
  await sleep(seconds * 1000);
  const last = await sent(page, id);
  const twcc = await page.page.evaluate((cid) =>
    /transport-wide-cc/.test(window.signalrtcApp.peerConnection(cid).remoteDescription?.sdp ?? ''), id);
  return { kbps: (last.bytes - first.bytes) * 8 / (Date.now() - t0), twcc };
}

test('a clean link: a page sends a receiving bot what it sends a Chromium receiver (transport-wide feedback)', { part: 'netsim' }, async (t) => {
  if (why) return t.skip(`no test network here: ${why}`);
  await net.shape('page', 'up', {});
  // The same page, in the same run, calls a Chromium receiver, then the bot.
  const receiver = await openApp(receiverBrowser, hub, 'crx', { autoaccept: 1 }, { media: false });
  const bot = startViewerBot(hub, 'rec', '');
  let page = null;
  try {
    await bot.waitForLine(/signalrtc-hub-connected/);
    page = await openApp(browser, hub, 'page', {}, { origin });
    const toChromium = await page.call('crx');
    await page.waitForState('crx', 'connected');
    const chromium = await sendRate(page, toChromium, SECONDS);
    await page.hangUp('crx');
    const toBot = await page.call('rec');
    await page.waitForState('rec', 'connected');
    const gst = await sendRate(page, toBot, SECONDS);
    t.diagnostic(`to Chromium: ${JSON.stringify(chromium)}; to the bot: ${JSON.stringify(gst)}`);
    assert.ok(gst.twcc, "the bot's answer has no transport-cc");
    assert.ok(gst.kbps >= 0.8 * chromium.kbps,
      `the page sent the bot ${gst.kbps.toFixed(0)} kbit/s, under 0.8 of the ${chromium.kbps.toFixed(0)} it sent a Chromium receiver`);
  } finally {
    await bot.stop();
    await page?.page.context().close();
    await receiver.page.context().close();
  }
});

// signalrtc-record behind the page's link, the page sending stamped video
// (lib/stamp.js): every frame written decodes whole. First on the clean
// link (the stamps read back: the control), then over 3 % loss, where the
// recorder asks for what is lost and waits for a key frame (asking for
// one) when a frame cannot be repaired, rather than write it broken.
async function stampedRecording (t, label, link) {
  await net.shape('page', 'up', link);
  const rec = startRecorder(hub, 'rec');
  let page = null;
  try {
    await rec.waitOnHub();
    page = await openApp(browser, hub, 'page', {}, { origin, init: stampedMedia });
    const id = await page.call('rec');
    await page.waitForState('rec', 'connected');
    const before = await sent(page, id);
    await sleep(SECONDS * 1000);
    const after = await sent(page, id);
    await page.hangUp('rec');
    const [file] = await rec.waitFinished(1, 30000);
    const check = await checkStamps(file);
    const { sequence, ...summary } = check;
    const got = { ...summary, nacks: after.nacks - before.nacks, resent: after.resent - before.resent };
    t.diagnostic(`${label}: ${JSON.stringify(got)}`);
    assert.equal(check.error, null, `the recording did not decode to the end: ${check.error}`);
    assert.equal(check.bad, 0, `${check.bad} of ${check.frames} frames written broken (the first: frame ${check.firstBad})`);
    assert.ok(check.good >= SECONDS * 10, `only ${check.good} whole frames in the recording`);
    return got;
  } finally {
    await rec.stop();
    rec.cleanup();
    await page?.page.context().close();
  }
}

test('signalrtc-record over 3 % loss: every frame it writes is whole (stamped video), and it asks for what is lost', { part: 'netsim' }, async (t) => {
  if (why) return t.skip(`no test network here: ${why}`);
  const clean = await stampedRecording(t, 'clean link', {});
  const lossy = await stampedRecording(t, '3 % loss', { loss: 0.03 });
  assert.ok(lossy.nacks > 0 && lossy.resent > 0, `the page got ${lossy.nacks} NACKs and resent ${lossy.resent} packets`);
  assert.ok(lossy.good >= 0.5 * clean.good,
    `${lossy.good} whole frames over 3 % loss against ${clean.good} on the clean link`);
});
