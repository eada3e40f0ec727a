// Real networks, sending: what a Chromium viewer behind a shaped link gets
// from a signalrtcsink, beside what it gets from a Chromium sender over the
// same link in the same run (tests/lib/netsim.js; docs/netsim.md).
//
//   tests/bench/run-network-bench [--links clean,1mbit,loss3] [--seconds 14]
//                                 [--senders bot,chromium] [--bot-props '...']
//
// Host a (this process's namespace): the hub, the senders. Host "viewer":
// a Chromium with the browser client, no camera, answering every call. For
// each link the viewer is called by each sender in turn: the bot is
// gst-launch with a 1280x720 30 fps test pattern and a tone into
// `signalrtcsink call=viewer`; the Chromium sender is the same client with
// its fake camera, calling the viewer. From the viewer's getStats over
// --seconds once the call is connected: decoded frames per second, freeze
// time (totalFreezesDuration), the resolution, the received bitrate, the
// NACKs and PLIs it sent, packets lost, retransmitted packets received,
// and the share of the audio it played that was concealment (lost and not
// recovered by Opus FEC).
//
// The link "step" is 3 Mbit/s until the call has run --seconds, then
// 1 Mbit/s: the row is what the viewer got in the --seconds after the
// step, and "settled" is how long after the step the sender's estimate was
// first at or under 1 Mbit/s (the bot's signalrtc-peer-stats
// bandwidth-estimate, Chromium's availableOutgoingBitrate), sampled every
// 250 ms.

import { sleep, startHub } from '../interop/lib/hub.js';
import { launchChromium, openApp } from '../browser/lib/browser.js';
import { webRoot } from '../browser/lib/scenario.js';
import { createNetwork, linkCounters } from '../lib/netsim.js';
import { botEstimates, measureCall, start720pBot } from '../browser/lib/network.js';
import { LINKS } from './network-links.mjs';

function option (name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

const STEP_TO = { rate: '1mbit' };
const STEP_BPS = 1e6;

const links = option('links', Object.keys(LINKS).join(',')).split(',');
const seconds = Number(option('seconds', '14'));
const senders = option('senders', 'bot,chromium').split(',');
const botProps = option('bot-props', '');
for (const l of links) if (!LINKS[l]) throw new Error(`unknown link ${l}; known: ${Object.keys(LINKS).join(', ')}`);

function log (text) {
  process.stderr.write(`[network-bench ${new Date().toISOString().slice(11, 19)}] ${text}\n`);
}

const net = await createNetwork(['viewer']);
const viewerHost = net.host('viewer');
const hub = await startHub(['--address', '0.0.0.0', '--web-root', webRoot()]);
const origin = `http://${viewerHost.gateway}:${hub.port}`;
const viewerBrowser = await launchChromium({ host: viewerHost, origin });
const senderBrowser = senders.includes('chromium') ? await launchChromium() : null;
log(`hub on ${hub.url}; the viewer reaches it at ${origin}`);

const results = [];
try {
  for (const link of links) {
    await net.shape('viewer', 'down', LINKS[link]);
    for (const sender of senders) {
      const viewer = await openApp(viewerBrowser, hub, 'viewer', { autoaccept: 1 }, { media: false, origin });
      const before = await linkCounters(net, 'viewer', 'down');
      let bot = null;
      let page = null;
      let result;
      try {
        if (sender === 'bot') {
          bot = start720pBot(hub, 'bot', `call=viewer ${link === 'step' ? 'stats-interval=250 ' : ''}${botProps}`);
        } else {
          page = await openApp(senderBrowser, hub, 'chromium');
          await page.call('viewer');
        }
        result = await measureCall(viewer, sender, { seconds });
        if (link === 'step') {
          await net.shape('viewer', 'down', STEP_TO);
          const stepAt = Date.now();
          const settledS = await settleTime(sender === 'bot' ? bot : page, stepAt);
          result = { ...(await measureCall(viewer, sender, { seconds, settleMs: 0 })), settledS };
          await net.shape('viewer', 'down', LINKS.step);
        }
      } catch (err) {
        log(`${link} ${sender}: ${err.message.split('\n')[0]}`);
        result = { failed: err.message.split('\n')[0] };
      }
      const after = await linkCounters(net, 'viewer', 'down');
      result.shaperDropped = after.shaperDropped - before.shaperDropped;
      result.lossDropped = after.lossDropped - before.lossDropped;
      results.push({ link, sender, ...result });
      log(`${link} ${sender}: ${JSON.stringify(result)}`);
      if (bot) await bot.stop();
      if (page) await page.page.context().close();
      await viewer.page.context().close();
      await sleep(1000);
    }
  }
} finally {
  await viewerBrowser.close();
  if (senderBrowser) await senderBrowser.close();
  await hub.stop();
  await net.close();
}

// Seconds from the step until the sender's estimate is first at or under
// the new rate; null if not within 10 s.
async function settleTime (sender, stepAt) {
  let from = sender.lines ? sender.lines.length : 0;
  while (Date.now() - stepAt < 10000) {
    await sleep(250);
    let estimate = null;
    if (sender.lines) {
      const e = botEstimates(sender, 'viewer', from);
      from = sender.lines.length;
      if (e.length) estimate = Math.min(...e.map((x) => x.estimate));
    } else {
      const id = await sender.connectionIdOf('viewer');
      estimate = await sender.page.evaluate(async (cid) => {
        const pc = window.signalrtcApp.peerConnection(cid);
        let best = null;
        (await pc.getStats()).forEach((s) => {
          if (s.type === 'candidate-pair' && s.nominated && s.availableOutgoingBitrate) best = s.availableOutgoingBitrate;
        });
        return best;
      }, id);
    }
    if (estimate !== null && estimate <= STEP_BPS) return (Date.now() - stepAt) / 1000;
  }
  return null;
}

const f = (n, d = 1) => (typeof n === 'number' ? n.toFixed(d) : '-');
console.log(`Network bench: ${seconds} s per point, viewer = Chromium behind the link${botProps ? `; bot props: ${botProps}` : ''}.`);
console.log('');
console.log('| link | sender | frames/s | freeze s | resolution | kbit/s | NACKs | PLIs | lost | rtx recv | link drops (queue/loss) | audio concealed % | settled s |');
console.log('|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of results) {
  if (r.failed) {
    console.log(`| ${r.link} | ${r.sender} | failed: ${r.failed} |||||||||||`);
    continue;
  }
  console.log(`| ${r.link} | ${r.sender} | ${f(r.fps)} | ${f(r.freezeS)} | ${r.width}x${r.height} | ${f(r.kbps, 0)} | ` +
    `${r.nacks} | ${r.plis} | ${r.lost} | ${r.rtx} | ${r.shaperDropped}/${r.lossDropped} | ` +
    `${r.audioConcealed === null || r.audioConcealed === undefined ? '-' : f(100 * r.audioConcealed, 2)} | ` +
    `${r.link === 'step' ? (r.settledS === null ? '> 10' : f(r.settledS, 2)) : ''} |`);
}
const bySender = (link, sender) => results.find((r) => r.link === link && r.sender === sender && !r.failed);
console.log('');
for (const link of links) {
  const b = bySender(link, 'bot');
  const c = bySender(link, 'chromium');
  if (b && c && c.fps > 0) {
    console.log(`${link}: bot/chromium frame rate ${(b.fps / c.fps).toFixed(2)}, ` +
      `freeze ${f(b.freezeS)} s vs ${f(c.freezeS)} s`);
  }
}
