// A Chromium page (fake camera) on a test host of its own calls a
// receiving signalrtcbin bot over a shaped link (page -> bot), second by
// second: what the page sent (getStats outbound-rtp: bitrate, NACKs it got,
// packets it sent again) and its target bitrate. For issue 13 (receiving).
//
//   scripts/isolated node tests/bench/receive-trace.mjs [--link loss0.03|1mbit|clean] [--seconds 20] [--bot-calls]
// (--bot-calls: the bot calls the page, instead of the page calling it)
import { sleep, startHub } from '../interop/lib/hub.js';
import { launchChromium, openApp } from '../browser/lib/browser.js';
import { startViewerBot, webRoot } from '../browser/lib/scenario.js';
import { createNetwork } from '../lib/netsim.js';

function option (name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}
const linkText = option('link', 'loss0.03');
const link = linkText === 'clean' ? {} : linkText.startsWith('loss')
  ? { loss: Number(linkText.slice(4)) } : { rate: linkText };
const seconds = Number(option('seconds', '20'));
const botCalls = process.argv.includes('--bot-calls');

const net = await createNetwork(['page']);
const host = net.host('page');
const hub = await startHub(['--address', '0.0.0.0', '--web-root', webRoot()]);
const origin = `http://${host.gateway}:${hub.port}`;
const browser = await launchChromium({ host, origin });
const bot = startViewerBot(hub, 'rec', `stats-interval=1000${botCalls ? ' call=page' : ''}`);
try {
  await net.shape('page', 'up', link);
  let page;
  let id = null;
  if (botCalls) {
    page = await openApp(browser, hub, 'page', { autoaccept: 1 }, { origin });
    id = await page.waitForCallFrom('rec');
  } else {
    await bot.waitForLine(/signalrtc-hub-connected/);
    page = await openApp(browser, hub, 'page', {}, { origin });
    id = await page.call('rec');
  }
  await page.waitForState('rec', 'connected');
  const out = async () => page.page.evaluate(async (cid) => {
    const pc = window.signalrtcApp.peerConnection(cid);
    let v = null;
    let c = null;
    (await pc.getStats()).forEach((s) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video' && (!v || s.bytesSent > v.bytesSent)) v = s;
      if (s.type === 'candidate-pair' && s.nominated) c = s;
    });
    const sdp = pc.remoteDescription?.sdp ?? '';
    return { at: performance.now(), v, target: v?.targetBitrate ?? 0, avail: c?.availableOutgoingBitrate ?? 0,
      rtx: /a=rtpmap:\d+ rtx\//.test(sdp), twcc: /transport-wide-cc/.test(sdp) };
  }, id);
  let prev = await out();
  console.log(`Receive trace: page -> signalrtcbin over ${linkText}, ${botCalls ? 'the bot calls' : 'the page calls'}; the bot's description: rtx ${prev.rtx}, transport-cc ${prev.twcc}`);
  console.log('| s | sent kbit/s | frames/s | width | NACKs got | packets resent | available out kbit/s |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|');
  let nacks = 0;
  let resent = 0;
  for (let s = 1; s <= seconds; s++) {
    await sleep(1000);
    const now = await out();
    const dt = (now.at - prev.at) / 1000;
    const d = (k) => (now.v?.[k] ?? 0) - (prev.v?.[k] ?? 0);
    nacks += d('nackCount');
    resent += d('retransmittedPacketsSent');
    console.log(`| ${s} | ${(d('bytesSent') * 8 / dt / 1000).toFixed(0)} | ${(d('framesEncoded') / dt).toFixed(1)} | ${now.v?.frameWidth ?? '-'} | ${d('nackCount')} | ${d('retransmittedPacketsSent')} | ${(now.avail / 1000).toFixed(0)} |`);
    prev = now;
  }
  console.log(`\ntotal: ${nacks} NACKs got, ${resent} packets resent`);
  await page.page.context().close();
} finally {
  await bot.stop();
  await browser.close();
  await hub.stop();
  await net.close();
}
