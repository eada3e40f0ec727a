// What the browser scenarios share: where the built client and the programs
// are, the bots' gst-launch lines, and the call-setup figures.

import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { artifactsDir } from './browser.js';
import { messageLine, startGstLaunch, startProcess } from './bot.js';

function required (name, what) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (${what}): run these tests with meson test`);
  return value;
}

// The built browser client (examples/web), served by the hub's --web-root.
export function webRoot () {
  return required('SIGNALRTC_WEB_ROOT', 'the built examples/web');
}

// A sender bot from a plain gst-launch line: a moving test pattern and a tone.
export function startPatternBot (hub, name) {
  return startGstLaunch(name,
    'videotestsrc is-live=true pattern=ball ! video/x-raw,width=640,height=480,framerate=30/1 ' +
    `! signalrtcsink name=${name} hub-url=${hub.url} username=${name} ` +
    `audiotestsrc is-live=true wave=sine freq=440 ! ${name}.`);
}

// A receiver bot from a plain gst-launch line: signalrtcbin decodes what its
// callers send into two fakesinks that print every buffer (-v), so the test
// counts the frames it decoded. `extra` adds properties (call=...).
// `host`: a test host of tests/lib/netsim.js to run on (it reaches the hub
// at its gateway).
export function startViewerBot (hub, name, extra = '', { sendVideo = false, host = null } = {}) {
  const input = sendVideo
    ? `videotestsrc is-live=true pattern=smpte ! video/x-raw,width=320,height=240 ! ${name}. `
    : '';
  const hubUrl = host ? `http://${host.gateway}:${hub.port}${new URL(hub.url).pathname}` : hub.url;
  return startGstLaunch(name,
    `${input}signalrtcbin name=${name} hub-url=${hubUrl} username=${name} ${extra} ` +
    `${name}. ! video/x-raw ! queue ! fakesink name=vsink silent=false ` +
    `${name}. ! audio/x-raw ! queue ! fakesink name=asink silent=false`,
    { verbose: true, host });
}

export const VIDEO_FRAME = /vsink: last-message = chain/;
export const AUDIO_BUFFER = /asink: last-message = chain/;

export function startEchoBot (hub, name) {
  const exe = required('SIGNALRTC_ECHO_BOT', 'the signalrtc-echo-bot program');
  return startProcess(name, exe, ['--hub', hub.url, '--username', name]);
}

export async function waitOnHub (bot, element) {
  await bot.waitForLine(element
    ? messageLine(element, 'signalrtc-hub-connected')
    : /on the hub as/);
}

// Prints the call-setup time of one call (the page's click, or the accept
// for a call the page received, to its first remote frame) and keeps it in
// setup-times.jsonl beside the screenshots.
export async function reportSetupTime (label, page, connectionId) {
  const marks = await page.marks();
  const start = marks.callClicked?.[connectionId] ?? marks.accepted?.[connectionId];
  const frame = marks.firstFrame?.[connectionId];
  if (start === undefined || frame === undefined) {
    console.log(`# setup ${label}: no marks (${JSON.stringify(marks)})`);
    return null;
  }
  const ms = Math.round(frame - start);
  console.log(`# setup ${label}: ${ms} ms to the first remote frame`);
  appendFileSync(join(artifactsDir(), 'setup-times.jsonl'),
    JSON.stringify({ label, ms, at: new Date().toISOString() }) + '\n');
  return ms;
}

// What a page decodes of a bot sending raw video: a rendition of its
// ladder (video-renditions, the default), which keeps the input's shape and
// is never larger than the input; which one depends on the call's
// estimate (on a loaded two-core machine a loopback call's estimate can
// start low). Throws unless `video` (getStats' inbound video) is one.
export function assertRenditionOf (video, width, height) {
  const w = video?.frameWidth ?? 0;
  const h = video?.frameHeight ?? 0;
  if (!(w > 0 && w <= width && h <= height && Math.abs(w * height - h * width) <= width * 2)) {
    throw new Error(`the page decodes ${w}x${h}, no rendition of a ${width}x${height} input`);
  }
}
