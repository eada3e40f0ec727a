// Real networks, receiving: what signalrtc-record writes of a Chromium
// page's stamped video (tests/browser/lib/stamp.js) sent over a shaped
// link, beside what a Chromium receiver gets from the same page over the
// same link in the same run (tests/lib/netsim.js; docs/netsim.md).
//
//   tests/bench/run-network-bench --part receive [--links clean,loss3] [--seconds 14]
//
// Host a (this process's namespace): the hub, signalrtc-record, and a
// Chromium receiver (the browser client, no camera, answering every call).
// Host "page": a Chromium with the browser client whose camera is the
// stamped canvas (640x480, 30 frames/s, a tone), calling each receiver in
// turn over the link (its 'up' direction shaped). Per receiver over
// --seconds once connected: frames per second and freeze time (the
// recorder: whole frames in its file, and gaps in their stamps counted as
// getStats counts freezes; Chromium: framesDecoded, totalFreezesDuration),
// the received bitrate (what the page sent), frames written broken (the
// recorder's file: a stamp that does not read back), and the NACKs the page
// got and the packets it sent again.

import { join } from 'node:path';
import { sleep, startHub } from '../interop/lib/hub.js';
import { launchChromium, openApp } from '../browser/lib/browser.js';
import { webRoot } from '../browser/lib/scenario.js';
import { measureCall } from '../browser/lib/network.js';
import { startRecorder } from '../browser/lib/recording.js';
import { checkStamps, freezeSeconds, stampedMedia } from '../browser/lib/stamp.js';
import { createNetwork } from '../lib/netsim.js';
import { LINKS } from './network-links.mjs';

function option (name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

const links = option('links', Object.keys(LINKS).filter((l) => l !== 'step').join(',')).split(',');
const seconds = Number(option('seconds', '14'));
for (const l of links) if (!LINKS[l]) throw new Error(`unknown link ${l}; known: ${Object.keys(LINKS).join(', ')}`);

function log (text) {
  process.stderr.write(`[receive-bench ${new Date().toISOString().slice(11, 19)}] ${text}\n`);
}

// What the page sent on its call `id`: bytes, NACKs it got, packets resent.
async function sent (page, id) {
  return page.page.evaluate(async (cid) => {
    let video = null;
    (await window.signalrtcApp.peerConnection(cid).getStats()).forEach((s) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video' && (!video || s.bytesSent > video.bytesSent)) video = s;
    });
    return { at: performance.now(), bytes: video?.bytesSent ?? 0, nacks: video?.nackCount ?? 0,
      resent: video?.retransmittedPacketsSent ?? 0 };
  }, id);
}

const net = await createNetwork(['page']);
const pageHost = net.host('page');
const hub = await startHub(['--address', '0.0.0.0', '--web-root', webRoot()]);
const origin = `http://${pageHost.gateway}:${hub.port}`;
const pageBrowser = await launchChromium({ host: pageHost, origin });
const receiverBrowser = await launchChromium();
log(`hub on ${hub.url}; the page reaches it at ${origin}`);

const results = [];
try {
  for (const link of links) {
    await net.shape('page', 'up', LINKS[link]);
    for (const receiver of ['recorder', 'chromium']) {
      let rec = null;
      let crx = null;
      let page = null;
      let result;
      try {
        if (receiver === 'recorder') {
          rec = startRecorder(hub, 'rec');
          await rec.waitOnHub();
        } else {
          crx = await openApp(receiverBrowser, hub, 'crx', { autoaccept: 1 }, { media: false });
        }
        const callee = receiver === 'recorder' ? 'rec' : 'crx';
        page = await openApp(pageBrowser, hub, 'page', {}, { origin, init: stampedMedia });
        const id = await page.call(callee);
        await page.waitForState(callee, 'connected', 30000);
        if (receiver === 'recorder') {
          await sleep(1000);
          const a = await sent(page, id);
          await sleep(seconds * 1000);
          const b = await sent(page, id);
          await page.hangUp(callee);
          const [file] = await rec.waitFinished(1, 30000);
          const check = await checkStamps(file);
          // The file holds the whole call; its rate is over the call's span
          // of stamps, its freeze over all of it.
          const numbers = check.sequence.filter((n) => n !== null);
          const spanS = numbers.length > 1 ? (numbers.at(-1) - numbers[0]) / 30 : 0;
          result = {
            fps: spanS > 0 ? (check.good - 1) / spanS : 0,
            freezeS: freezeSeconds(check.sequence),
            kbps: (b.bytes - a.bytes) * 8 / (b.at - a.at),
            bad: check.bad,
            frames: check.frames,
            nacks: b.nacks - a.nacks,
            resent: b.resent - a.resent,
            error: check.error,
          };
        } else {
          const a = await sent(page, id);
          const got = await measureCall(crx, 'page', { seconds });
          const b = await sent(page, id);
          result = { fps: got.fps, freezeS: got.freezeS, kbps: got.kbps, bad: null, frames: null,
            nacks: b.nacks - a.nacks, resent: b.resent - a.resent, error: null };
        }
      } catch (err) {
        log(`${link} ${receiver}: ${err.message.split('\n')[0]}`);
        result = { failed: err.message.split('\n')[0] };
      }
      results.push({ link, receiver, ...result });
      log(`${link} ${receiver}: ${JSON.stringify(result)}`);
      if (rec) {
        await rec.stop();
        rec.cleanup();
      }
      if (page) await page.page.context().close();
      if (crx) await crx.page.context().close();
      await sleep(1000);
    }
  }
} finally {
  await pageBrowser.close();
  await receiverBrowser.close();
  await hub.stop();
  await net.close();
}

const f = (n, d = 1) => (typeof n === 'number' ? n.toFixed(d) : '-');
console.log(`Receive bench: ${seconds} s per point; a Chromium page (stamped 640x480 canvas, 30 frames/s) behind the link sends to signalrtc-record and to a Chromium receiver.`);
console.log('');
console.log('| link | receiver | frames/s | freeze s | kbit/s | frames written broken | NACKs the page got | packets it resent |');
console.log('|---|---|---:|---:|---:|---:|---:|---:|');
for (const r of results) {
  if (r.failed) {
    console.log(`| ${r.link} | ${r.receiver} | failed: ${r.failed} ||||||`);
    continue;
  }
  console.log(`| ${r.link} | ${r.receiver} | ${f(r.fps)} | ${f(r.freezeS)} | ${f(r.kbps, 0)} | ` +
    `${r.bad === null ? '-' : `${r.bad} of ${r.frames}`}${r.error ? ' (decode error)' : ''} | ${r.nacks} | ${r.resent} |`);
}
console.log('');
for (const link of links) {
  const rec = results.find((r) => r.link === link && r.receiver === 'recorder' && !r.failed);
  const crx = results.find((r) => r.link === link && r.receiver === 'chromium' && !r.failed);
  if (rec && crx) {
    console.log(`${link}: recorder freeze ${f(rec.freezeS)} s vs Chromium's ${f(crx.freezeS)} s ` +
      `(target: no more); ${rec.bad} broken frames written (target 0); bitrate ${f(rec.kbps / Math.max(crx.kbps, 1), 2)} of Chromium's`);
  }
}
