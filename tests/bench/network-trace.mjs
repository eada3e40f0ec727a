// One call from a signalrtcsink to a Chromium viewer behind a shaped link,
// second by second: what the bot's congestion control and ladder decided
// (its signalrtc-peer-stats) beside what the viewer decoded (getStats).
// For seeing why a figure of run-network-bench is what it is.
//
//   tests/bench/run-network-trace [--link 1mbit] [--seconds 40]
//                                 [--step-at S --step-to 1mbit]
//                                 [--bot-props '...']
//
// --link and --step-to take rate[,loss] (e.g. "1mbit", "3mbit",
// "1mbit,0.02", "clean"). Prints one row a second: time since the call
// connected, the bot's bandwidth-estimate (and its delay- and loss-based
// parts) and its usage, the rendition's
// width and temporal layers it sends (ladder only), packets it paced and
// padding packets it sent (totals so far), and
// the viewer's decoded frames/s, received kbit/s, width, freeze time and
// packets lost in that second.

import { sleep, startHub, waitFor } from '../interop/lib/hub.js';
import { launchChromium, openApp } from '../browser/lib/browser.js';
import { webRoot } from '../browser/lib/scenario.js';
import { createNetwork } from '../lib/netsim.js';
import { rawInbound, start720pBot } from '../browser/lib/network.js';

function option (name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

function shapeOf (text) {
  if (text === 'clean') return {};
  const [rate, loss] = text.split(',');
  return { ...(rate ? { rate } : {}), ...(loss ? { loss: Number(loss) } : {}) };
}

const link = shapeOf(option('link', '1mbit'));
const seconds = Number(option('seconds', '40'));
const stepAt = Number(option('step-at', '0'));
const stepTo = shapeOf(option('step-to', '1mbit'));
const botProps = option('bot-props', '');

const net = await createNetwork(['viewer']);
const viewerHost = net.host('viewer');
const hub = await startHub(['--address', '0.0.0.0', '--web-root', webRoot()]);
const origin = `http://${viewerHost.gateway}:${hub.port}`;
const browser = await launchChromium({ host: viewerHost, origin });
let bot = null;
try {
  await net.shape('viewer', 'down', link);
  const viewer = await openApp(browser, hub, 'viewer', { autoaccept: 1 }, { media: false, origin });
  bot = start720pBot(hub, 'bot', `call=viewer stats-interval=1000 ${botProps}`);
  let id = null;
  await waitFor(async () => {
    id = await viewer.connectionIdOf('bot').catch(() => null);
    return id && (await viewer.state('bot')) === 'connected';
  }, 'the call connected', 30000, 200);
  const field = (line, name) => {
    const m = new RegExp(`${name}=\\([a-z0-9]+\\)([^,;]+)`).exec(line);
    return m ? m[1] : '-';
  };
  console.log(`Trace: link ${option('link', '1mbit')}${stepAt ? `, ${option('step-to', '1mbit')} from ${stepAt} s` : ''}; bot props: ${botProps || '(default)'}`);
  console.log('');
  console.log('| s | estimate kbit/s | delay-based | loss-based | usage | width | layers | paced | padding | fps | kbit/s | width | freeze s | lost |');
  console.log('|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  let prev = await rawInbound(viewer, id);
  for (let s = 1; s <= seconds; s++) {
    if (stepAt && s === stepAt + 1) await net.shape('viewer', 'down', stepTo);
    await sleep(1000);
    const now = await rawInbound(viewer, id);
    const dt = (now.at - prev.at) / 1000;
    const d = (k) => (now.video?.[k] ?? 0) - (prev.video?.[k] ?? 0);
    const line = [...bot.lines].reverse().find((l) => l.includes('signalrtc-peer-stats') && l.includes('username=(string)viewer,')) ?? '';
    const kbit = (name) => { const v = Number(field(line, name)); return Number.isNaN(v) ? '-' : (v / 1000).toFixed(0); };
    console.log(`| ${s} | ${kbit('bandwidth-estimate')} | ${kbit('bandwidth-delay-based')} | ${kbit('bandwidth-loss-based')} | ${field(line, 'bandwidth-usage')} | ` +
      `${field(line, 'video-width')} | ${field(line, 'video-temporal-layers')} | ${field(line, 'paced-packets')} | ${field(line, 'padding-sent')} | ` +
      `${(d('framesDecoded') / dt).toFixed(1)} | ${(d('bytesReceived') * 8 / dt / 1000).toFixed(0)} | ` +
      `${now.video?.frameWidth ?? '-'} | ${d('totalFreezesDuration').toFixed(2)} | ${d('packetsLost')} |`);
    prev = now;
  }
  await viewer.page.context().close();
} finally {
  if (bot) await bot.stop();
  await browser.close();
  await hub.stop();
  await net.close();
}
