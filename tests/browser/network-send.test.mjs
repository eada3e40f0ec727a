// Sending over a real link: a Chromium viewer on a test host of its own
// (tests/lib/netsim.js) behind a shaped link, called by a signalrtcsink
// and, in the same test, by a Chromium sender. Over 3 % loss the bot must
// retransmit what the viewer asks for (RFC 4588 rtx, negotiated whichever
// side offers); over a 1 Mbit/s link its bandwidth estimate (TWCC, GCC)
// must follow the link; either way it must reach at least 0.8 of the
// Chromium sender's decoded frame rate over the same link. A step from 3
// to 1 Mbit/s mid-call: the estimate follows within 5 s and the picture
// keeps coming.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { test } from '../lib/node-test.js';
import { sleep, startHub, waitFor } from '../interop/lib/hub.js';
import { launchChromium, openApp } from './lib/browser.js';
import { startGstLaunch } from './lib/bot.js';
import { webRoot } from './lib/scenario.js';
import { botEstimates, chromiumOverTheLink, descriptions, measureCall, start720pBot, videoRtx, videoTwcc } from './lib/network.js';
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
});

after(async () => {
  await viewerBrowser?.close();
  await senderBrowser?.close();
  await hub?.stop();
  await net?.close();
});

const viewerPage = () => openApp(viewerBrowser, hub, 'viewer', { autoaccept: 1 }, { media: false, origin });

const chromiumSender = () => openApp(senderBrowser, hub, 'chromium');

// A viewer opened by `open ()` calls a 720p bot over 3 % loss toward it;
// `check (got, sdp, bot)` asserts on what it got (measureCall), the
// viewer's descriptions and the bot.
async function viewerCallsBot (t, open, label, check) {
  await net.shape('viewer', 'down', { loss: 0.03 });
  const bot = start720pBot(hub, 'cam', 'stats-interval=1000');
  let viewer = null;
  try {
    await bot.waitForLine(/signalrtc-hub-connected/);
    viewer = await open();
    await viewer.call('cam');
    const got = await measureCall(viewer, 'cam', { seconds: SECONDS });
    const sdp = await descriptions(viewer, await viewer.connectionIdOf('cam'));
    t.diagnostic(`${label}: ${JSON.stringify(got)}`);
    check(got, sdp, bot);
  } finally {
    await bot.stop();
    await viewer?.page.context().close();
  }
}

test('3 % loss toward a Chromium viewer: the bot retransmits and keeps up with a Chromium sender', { part: 'netsim' }, async (t) => {
  if (why) return t.skip(`no test network here: ${why}`);
  await net.shape('viewer', 'down', { loss: 0.03 });

  // The Chromium sender over the same link, for the figure to reach.
  const browserSent = await chromiumOverTheLink(viewerPage, chromiumSender, SECONDS);
  const viewer = await viewerPage();
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

test('the viewer calls the bot: the answer carries rtx and TWCC, lost packets come again', { part: 'netsim' }, async (t) => {
  if (why) return t.skip(`no test network here: ${why}`);
  await viewerCallsBot(t, viewerPage, 'bot answering', (got, sdp, bot) => {
    assert.ok(videoRtx(sdp.remote), `the bot's answer has no rtx:\n${sdp.remote}`);
    assert.ok(videoTwcc(sdp.remote), `the bot's answer has no TWCC:\n${sdp.remote}`);
    assert.ok(got.rtx > 0, `no retransmitted packet reached the viewer (${got.nacks} NACKs)`);
    assert.ok(got.fps > 15, `only ${got.fps.toFixed(1)} frames/s`);
    const estimates = botEstimates(bot, 'viewer');
    assert.ok(estimates.some((e) => e.feedback === 'twcc'), `no estimate from TWCC feedback: ${JSON.stringify(estimates)}`);
  });
});

test('a viewer with a camera calls the bot (a two-way offer): the answer carries rtx for the stream it names, lost packets come again', { part: 'netsim' }, async (t) => {
  if (why) return t.skip(`no test network here: ${why}`);
  const withCamera = () => openApp(viewerBrowser, hub, 'viewer', {}, { origin });
  await viewerCallsBot(t, withCamera, 'bot answering a two-way offer', (got, sdp) => {
    const offered = sdp.local.split(/\r?\nm=/).find((m) => m.startsWith('video'));
    assert.match(offered, /a=sendrecv/, 'the viewer offers to send video too');
    assert.ok(videoRtx(sdp.remote), `the bot's answer has no rtx:\n${sdp.remote}`);
    assert.match(sdp.remote, /a=ssrc-group:FID \d+ \d+/, `the bot's answer names no rtx stream:\n${sdp.remote}`);
    assert.ok(got.rtx > 0, `no retransmitted packet reached the viewer (${got.nacks} NACKs)`);
    assert.ok(got.fps > 15, `only ${got.fps.toFixed(1)} frames/s`);
  });
});

test('1 Mbit/s toward a Chromium viewer: the estimate follows the link and the bot keeps up with a Chromium sender', { part: 'netsim' }, async (t) => {
  if (why) return t.skip(`no test network here: ${why}`);
  await net.shape('viewer', 'down', { rate: '1mbit' });
  const browserSent = await chromiumOverTheLink(viewerPage, chromiumSender, SECONDS);
  const viewer = await viewerPage();
  const dropsBefore = await linkCounters(net, 'viewer', 'down');
  const bot = start720pBot(hub, 'bot', 'call=viewer stats-interval=1000');
  try {
    const botSent = await measureCall(viewer, 'bot', { seconds: SECONDS });
    const queueDrops = (await linkCounters(net, 'viewer', 'down')).shaperDropped - dropsBefore.shaperDropped;
    const sdp = await descriptions(viewer, await viewer.connectionIdOf('bot'));
    const estimates = botEstimates(bot, 'viewer');
    t.diagnostic(`chromium: ${JSON.stringify(browserSent)}`);
    t.diagnostic(`bot: ${JSON.stringify(botSent)}; the link's queue dropped ${queueDrops} packets`);
    t.diagnostic(`bot estimates: ${estimates.map((e) => e.estimate).join(' ')}`);
    assert.ok(videoTwcc(sdp.remote), `the bot's offer has no TWCC:\n${sdp.remote}`);
    // A stats sample can come before the first TWCC feedback (receiver
    // reports then): from that feedback on, every estimate is TWCC's.
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

test('a step from 3 to 1 Mbit/s mid-call: the estimate follows within 5 s and the picture keeps coming', { part: 'netsim' }, async (t) => {
  if (why) return t.skip(`no test network here: ${why}`);
  await net.shape('viewer', 'down', { rate: '3mbit' });
  const viewer = await viewerPage();
  const bot = start720pBot(hub, 'bot', 'call=viewer stats-interval=1000');
  try {
    const before = await measureCall(viewer, 'bot', { seconds: SECONDS });
    const high = botEstimates(bot, 'viewer').at(-1)?.estimate ?? 0;
    await net.shape('viewer', 'down', { rate: '1mbit' });
    const stepLine = bot.lines.length;
    await sleep(5000);
    const settled = botEstimates(bot, 'viewer', stepLine);
    const after = await measureCall(viewer, 'bot', { seconds: SECONDS, settleMs: 0 });
    t.diagnostic(`before the step: ${JSON.stringify(before)}, estimate ${high}`);
    t.diagnostic(`estimates in the 5 s after it: ${settled.map((e) => e.estimate).join(' ')}`);
    t.diagnostic(`after: ${JSON.stringify(after)}`);
    assert.ok(high > 1.2e6, `before the step the estimate was only ${high} bit/s on a 3 Mbit/s link`);
    assert.ok(settled.length >= 2 && settled.at(-1).estimate <= 1.1e6,
      `5 s after the step the estimate is ${settled.at(-1)?.estimate} bit/s, above the 1 Mbit/s link`);
    assert.ok(after.fps >= 0.8 * before.fps,
      `after the step ${after.fps.toFixed(1)} frames/s, below 0.8 of the ${before.fps.toFixed(1)} before it`);
  } finally {
    await bot.stop();
    await viewer.page.context().close();
  }
});

// The encode-once ladder (the default for raw video): each call gets the
// rendition its own link carries. One bot, three viewers: a Chromium behind 500 kbit/s, and two
// GStreamer viewers (signalrtcsrc, not decoding: this machine has two
// cores, and three browsers decoding beside the bot's encoders leave none
// to spare, which the estimates read as congestion) on the unshaped
// loopback. Measured together once each call has had the time to climb:
// the estimate grows 8 %/s from where it starts.
function gstViewer (hub, name, caller) {
  return startGstLaunch(name,
    `signalrtcsrc name=${name} hub-url=${hub.url} username=${name} call=${caller} ` +
    `decode=false stats-interval=1000 ${name}.video_0 ! fakesink ${name}.audio_0 ! fakesink`);
}

// [{ frames, at }] from a viewer's signalrtc-peer-stats for its call with
// `username` (gst-launch -m lines, in order).
function framesReceived (viewer, username) {
  return viewer.lines
    .filter((l) => l.includes('signalrtc-peer-stats') && l.includes(`username=(string)${username},`))
    .map((l) => Number(/frames-received=\(guint64\)(\d+)/.exec(l)?.[1] ?? NaN))
    .filter((n) => !Number.isNaN(n));
}

// What the bot said it sends `username` (its stats, from line `from` on):
// every video-width and -temporal-layers, in order.
function botRendition (bot, username, from = 0) {
  const widths = [];
  const layers = [];
  for (const l of bot.lines.slice(from)) {
    if (!l.includes('signalrtc-peer-stats') || !l.includes(`username=(string)${username},`)) continue;
    const w = /video-width=\(int\)(\d+)/.exec(l);
    const t = /video-temporal-layers=\(int\)(\d+)/.exec(l);
    if (w) widths.push(Number(w[1]));
    if (t) layers.push(Number(t[1]));
  }
  return { widths, layers };
}

const share = (values, ok) => values.length ? values.filter(ok).length / values.length : 0;

test('three viewers, one behind 500 kbit/s: the two others keep 720p and their frame rate, the third gets a lower rendition, smoothly', { part: 'netsim' }, async (t) => {
  if (why) return t.skip(`no test network here: ${why}`);
  await net.shape('viewer', 'down', { rate: '500kbit' });
  const bot = start720pBot(hub, 'cam', 'stats-interval=1000');
  const viewers = [];
  let narrow = null;
  try {
    await bot.waitForLine(/signalrtc-hub-connected/);
    narrow = await viewerPage();
    await narrow.call('cam');
    for (const name of ['wide1', 'wide2']) viewers.push(gstViewer(hub, name, 'cam'));
    // Each wide call climbs at the estimate's 8 %/s from where it starts
    // (and its first feedback can take seconds): wait, generously, until
    // both are at 720p with every layer, then measure all three together.
    const at720p = (name) => {
      const r = botRendition(bot, name);
      return r.widths.at(-1) === 1280 && r.layers.at(-1) === 3;
    };
    await waitFor(() => at720p('wide1') && at720p('wide2'),
      'both wide viewers at 720p with three layers', 60000, 500).catch(() => {});
    const windowS = SECONDS;
    const windowLine = bot.lines.length;
    const before = viewers.map((v) => framesReceived(v, 'cam').length);
    const narrowGot = await measureCall(narrow, 'cam', { seconds: windowS, settleMs: 0 });
    viewers.forEach((v, i) => { v.windowFrom = before[i]; });
    t.diagnostic(`behind 500 kbit/s: ${JSON.stringify(narrowGot)}`);
    for (const name of ['viewer', 'wide1', 'wide2']) {
      const r = botRendition(bot, name);
      t.diagnostic(`${name}: the bot sent widths ${r.widths.join(' ')}, layers ${r.layers.join(' ')}; estimates ${botEstimates(bot, name).map((e) => e.estimate).join(' ')}`);
    }
    for (const v of viewers) {
      const { name } = v;
      const frames = framesReceived(v, 'cam').slice(v.windowFrom);
      // stats-interval=1000: one sample a second.
      const fps = frames.length >= 2 ? (frames.at(-1) - frames[0]) / (frames.length - 1) : 0;
      const r = botRendition(bot, name, windowLine);
      const at720p = share(r.widths, (w) => w === 1280);
      t.diagnostic(`${name}: ${fps.toFixed(1)} frames/s over the window, 1280 wide in ${(at720p * 100).toFixed(0)} % of its samples`);
      assert.ok(at720p >= 0.75, `${name} is sent 720p in only ${(at720p * 100).toFixed(0)} % of the window (${r.widths.join(' ')})`);
      // 0.8 of 30 frames/s, the bar of the tests above: the two-core
      // machine runs the bot's three encoders, two viewers and a browser
      // (25.8 frames/s seen once at 720p on loopback).
      assert.ok(fps >= 24, `${name} receives only ${fps.toFixed(1)} frames/s`);
    }
    // A lower rendition, and no freeze; its frame rate is reported, not
    // held to 30: its probes up (a key frame of the next rendition, at 7.5
    // or 15 frames/s while they last) and GCC's saw tooth below the link
    // take some of it (15.1 to 28.8 frames/s seen).
    assert.ok(narrowGot.width > 0 && narrowGot.width < 1280,
      `the viewer behind 500 kbit/s is at ${narrowGot.width}x${narrowGot.height}`);
    assert.ok(narrowGot.fps >= 12, `the viewer behind 500 kbit/s decodes only ${narrowGot.fps.toFixed(1)} frames/s`);
    assert.ok(narrowGot.freezeS <= 1, `the viewer behind 500 kbit/s froze for ${narrowGot.freezeS.toFixed(2)} s`);
  } finally {
    for (const v of viewers) await v.stop();
    await bot.stop();
    await narrow?.page.context().close();
  }
});
