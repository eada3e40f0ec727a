// The RTSP bridge (examples/rtsp-bridge.cpp): a page with the fake camera
// and microphone calls it, and plain RTSP clients (gst-launch rtspsrc) play
// the page's VP8 video and Opus audio from the URL it prints, the user name
// percent-encoded in the path. A second client joining the running stream
// gets a key frame at once. When the page hangs up, the clients get the end
// of the stream and the path is gone (404).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from '../interop/lib/hub.js';
import { launchChromium, openApp } from './lib/browser.js';
import { startGstLaunch, startProcess } from './lib/bot.js';
import { webRoot } from './lib/scenario.js';

const VIDEO_FRAME = /vs: last-message = chain/;
const AUDIO_BUFFER = /as: last-message = chain/;

let hub;
let browser;
const bots = [];

function startBridge (name) {
  const exe = process.env.SIGNALRTC_RTSP_BRIDGE;
  if (!exe) throw new Error('SIGNALRTC_RTSP_BRIDGE is not set: run this test with meson test');
  const bot = startProcess(name, exe, ['--hub', hub.url, '--username', name, '--port', '0']);
  bots.push(bot);
  return bot;
}

// An RTSP client decoding the video (and the audio, with `audio`) into
// fakesinks that print every buffer.
function startClient (name, url, { audio = false } = {}) {
  const client = startGstLaunch(name,
    `rtspsrc name=r location=${url} latency=100 ` +
    'r. ! rtpvp8depay ! vp8dec ! fakesink name=vs silent=false ' +
    (audio ? 'r. ! rtpopusdepay ! opusdec ! fakesink name=as silent=false' : ''),
    { verbose: true });
  bots.push(client);
  return client;
}

before(async () => {
  hub = await startHub(['--web-root', webRoot()]);
  browser = await launchChromium();
});

after(async () => {
  for (const bot of bots) await bot.stop();
  await browser?.close();
  await hub?.stop();
});

test('a caller becomes an RTSP stream, for as long as the call lasts', async () => {
  const bridge = startBridge('rtsp');
  const serving = await bridge.waitForLine(/^rtsp-bridge: serving rtsp:\/\/127\.0\.0\.1:\d+\/$/);
  const port = Number(/:(\d+)\/$/.exec(serving)[1]);
  assert.ok(port > 0, `a free port: ${serving}`);
  await bridge.waitForLine(/^rtsp-bridge: on the hub as rtsp$/);

  // A name that needs percent-encoding in a URL path.
  const page = await openApp(browser, hub, 'Zoë cam');
  await page.call('rtsp');
  await page.waitForState('rtsp', 'connected');
  const line = await bridge.waitForLine(/^rtsp-bridge: Zoë cam at /);
  const url = `rtsp://127.0.0.1:${port}/Zo%C3%AB%20cam`;
  assert.equal(line, `rtsp-bridge: Zoë cam at ${url}`);

  // Video and audio, re-payloaded from the page's own VP8 and Opus.
  const started = Date.now();
  const first = startClient('rtsp-client', url, { audio: true });
  await first.waitForLine(VIDEO_FRAME, 15000);
  console.log(`# first decoded frame ${Date.now() - started} ms after the client started`);
  await first.waitForCount(VIDEO_FRAME, 20, 'decoded video frames', 15000);
  await first.waitForCount(AUDIO_BUFFER, 50, 'decoded audio buffers', 15000);
  console.log(`# after ${Date.now() - started} ms: ${first.count(VIDEO_FRAME)} frames, ` +
    `${first.count(AUDIO_BUFFER)} audio buffers`);

  // A second client joins the running (shared) media: the bridge asks the
  // page for a key frame when it plays, so it decodes at once too.
  const joined = Date.now();
  const second = startClient('rtsp-client-2', url);
  await second.waitForCount(VIDEO_FRAME, 20, 'decoded video frames', 10000);
  console.log(`# second client: 20 frames ${Date.now() - joined} ms after it started`);
  await second.stop();

  // The page hangs up: the stream ends for the client (EOS from the RTCP
  // BYE, then the bridge closes its connection) and the path goes away.
  const framesBefore = first.count(VIDEO_FRAME);
  await page.hangUp('rtsp');
  await bridge.waitForLine(/^rtsp-bridge: Zoë cam left; rtsp:\/\/\S+ is gone$/, 10000);
  const ended = await Promise.race([
    first.exited,
    new Promise((resolve) => setTimeout(() => resolve(null), 10000)),
  ]);
  assert.ok(ended, `the RTSP client ends with the call\n${first.tail()}`);
  console.log(`# the first client ended (code ${ended.code}) after ${framesBefore} frames`);

  const late = startGstLaunch('rtsp-late', `rtspsrc location=${url} ! fakesink`);
  bots.push(late);
  const { code } = await late.exited;
  assert.notEqual(code, 0, 'no stream at that path any more');
  assert.ok(late.lines.some((l) => /Not Found|404/.test(l)), `404:\n${late.tail()}`);

  assert.ok(bridge.alive(), 'the bridge goes on');
  assert.equal((await bridge.stop()).code, 0);
  await page.page.close();
});
