// What a viewer page gets over a call, from its getStats: for the tests
// and benchmarks on shaped links (tests/lib/netsim.js).
//
//   const r = await measureCall(viewerPage, 'bot', { seconds: 8 });
//   r.fps, r.freezeS, r.nacks, r.rtx, ...

import { sleep, waitFor } from '../../interop/lib/hub.js';
import { startGstLaunch } from './bot.js';

// The sender of the network tests and benchmarks: gst-launch with a
// 1280x720 30 fps test pattern and a tone into `signalrtcsink`; `extra`
// adds properties (call=..., video-bitrate=...); `host`, a test host of
// tests/lib/netsim.js to run it on (it reaches the hub, which listens on
// every address, over its link). The pattern is a moving
// zone plate, whose VP8 bitrate follows the encoder's target (2.3 Mbit/s
// at 2.5, 0.7 at 0.8, 0.5 at 0.25): videotestsrc's default SMPTE bars
// carry a block of random noise that VP8 cannot code under 1.65 Mbit/s at
// 720p whatever its target, as no camera would.
export const BOT_PATTERN = 'pattern=zone-plate kx2=8 ky2=8 kt=1';
export function start720pBot (hub, name, extra = '', { host = null } = {}) {
  const hubUrl = host ? `http://${host.gateway}:${hub.port}${new URL(hub.url).pathname}` : hub.url;
  return startGstLaunch(name,
    `videotestsrc is-live=true ${BOT_PATTERN} ! video/x-raw,width=1280,height=720,framerate=30/1 ` +
    `! signalrtcsink name=${name} hub-url=${hubUrl} username=${name} ${extra} ` +
    `audiotestsrc is-live=true wave=sine freq=440 ! ${name}.`, { host });
}

// What a Chromium sender gets through to a viewer over the link as it is
// now, the figure a bot must reach: `openViewer ()` and `openSender ()`
// open the two pages (AppPages of lib/browser.js); the sender, named
// 'chromium', calls the viewer, named 'viewer'. Both pages are closed
// after.
export async function chromiumOverTheLink (openViewer, openSender, seconds) {
  const viewer = await openViewer();
  const page = await openSender();
  try {
    await page.call('viewer');
    return await measureCall(viewer, 'chromium', { seconds });
  } finally {
    await page.page.context().close();
    await viewer.page.context().close();
  }
}

// The viewer's inbound video and audio entries, raw, for one call.
export async function rawInbound (page, connectionId) {
  return page.page.evaluate(async (id) => {
    const pc = window.signalrtcApp.peerConnection(id);
    if (!pc) return null;
    const out = { video: null, audio: null, at: performance.now() };
    (await pc.getStats()).forEach((s) => {
      if (s.type !== 'inbound-rtp') return;
      const best = out[s.kind];
      if (!best || (s.bytesReceived ?? 0) > (best.bytesReceived ?? 0)) out[s.kind] = s;
    });
    return out;
  }, connectionId);
}

function delta (a, b, key) {
  return (b?.[key] ?? 0) - (a?.[key] ?? 0);
}

export async function measureCall (viewer, senderName, { seconds = 14, settleMs = 1000, connectTimeoutMs = 30000 } = {}) {
  const start = Date.now();
  let id = null;
  await waitFor(async () => {
    id = await viewer.connectionIdOf(senderName).catch(() => null);
    return id && (await viewer.state(senderName)) === 'connected';
  }, `viewer: call from ${senderName} connected`, connectTimeoutMs, 200);
  await sleep(settleMs);
  const a = await rawInbound(viewer, id);
  await sleep(seconds * 1000);
  const b = await rawInbound(viewer, id);
  const dt = (b.at - a.at) / 1000;
  const v0 = a.video;
  const v1 = b.video;
  return {
    fps: delta(v0, v1, 'framesDecoded') / dt,
    freezeS: delta(v0, v1, 'totalFreezesDuration'),
    freezes: delta(v0, v1, 'freezeCount'),
    width: v1?.frameWidth ?? 0,
    height: v1?.frameHeight ?? 0,
    kbps: (delta(v0, v1, 'bytesReceived') * 8) / dt / 1000,
    nacks: delta(v0, v1, 'nackCount'),
    plis: delta(v0, v1, 'pliCount'),
    lost: delta(v0, v1, 'packetsLost'),
    rtx: delta(v0, v1, 'retransmittedPacketsReceived'),
    // The share of the audio played that was concealment (lost, not
    // recovered by Opus FEC), 0..1; null without audio.
    audioConcealed: delta(a.audio, b.audio, 'totalSamplesReceived') > 0
      ? delta(a.audio, b.audio, 'concealedSamples') / delta(a.audio, b.audio, 'totalSamplesReceived')
      : null,
    // From the start of the wait to the end of the window.
    elapsedS: (Date.now() - start) / 1000,
  };
}


// The page's local and remote session descriptions of one call.
export async function descriptions (page, connectionId) {
  return page.page.evaluate((id) => {
    const pc = window.signalrtcApp.peerConnection(id);
    return pc ? { local: pc.localDescription?.sdp ?? '', remote: pc.remoteDescription?.sdp ?? '' } : null;
  }, connectionId);
}

// Whether the video m-section of an SDP offers retransmission: an rtx
// payload type bound to a codec of it (a=fmtp:N apt=M). Whether the rtx
// stream is named too (a=ssrc-group:FID), which Firefox needs, is checked
// apart where it matters.
export function videoRtx (sdp) {
  const video = sdp.split(/\r?\nm=/).find((m) => m.startsWith('video'));
  return Boolean(video && /a=rtpmap:\d+ rtx\/90000/.test(video) && /a=fmtp:\d+ apt=\d+/.test(video));
}

// The bandwidth estimates a bot (gst-launch -m, stats-interval set) has
// posted for calls with `username`, from line `from` of its output on:
// [{ estimate, feedback, line }] (bit/s; feedback 'twcc' or
// 'receiver-reports').
export function botEstimates (bot, username, from = 0) {
  const out = [];
  for (let i = from; i < bot.lines.length; i++) {
    const line = bot.lines[i];
    if (!line.includes('signalrtc-peer-stats') || !line.includes(`username=(string)${username},`)) continue;
    const estimate = /bandwidth-estimate=\(guint64\)(\d+)/.exec(line);
    const feedback = /bandwidth-feedback=\(string\)([a-z-]+)/.exec(line);
    if (estimate) out.push({ estimate: Number(estimate[1]), feedback: feedback?.[1] ?? '', line: i });
  }
  return out;
}

// Whether an SDP's video m-section negotiates transport-wide congestion
// control: the TWCC header extension and rtcp-fb transport-cc.
export function videoTwcc (sdp) {
  const video = sdp.split(/\r?\nm=/).find((m) => m.startsWith('video'));
  return Boolean(video && /a=extmap:\d+ http:\/\/www\.ietf\.org\/id\/draft-holmer-rmcat-transport-wide-cc-extensions-01/.test(video) &&
    /a=rtcp-fb:\d+ transport-cc/.test(video));
}

// The last value of one numeric field of the signalrtc-peer-stats a bot
// (gst-launch -m, stats-interval set) has posted for its call with
// `username` (retransmissions-sent, packets-sent, ...), or null.
export function botStat (bot, username, field) {
  const re = new RegExp(`${field}=\\(g?u?int(?:64)?\\)(\\d+)`);
  for (let i = bot.lines.length - 1; i >= 0; i--) {
    const line = bot.lines[i];
    if (!line.includes('signalrtc-peer-stats') || !line.includes(`username=(string)${username},`)) continue;
    const m = re.exec(line);
    if (m) return Number(m[1]);
  }
  return null;
}
