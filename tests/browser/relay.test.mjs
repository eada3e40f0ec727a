// Calls through a TURN server: Debian's coturn, started by this test on the
// gateway address of a test host (tests/lib/netsim.js) with long-term
// credentials. A Chromium page on that host, relay only (the browser
// client's ?relay=1, iceTransportPolicy 'relay', its ICE servers from
// ?ice=), and a bot with ice-transport-policy=relay: the page calls the
// bot, then the bot calls the page; both see the other's video, the bot
// gets the page's chat, and the pair each side chose is the relay's.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { test } from '../lib/node-test.js';
import { startHub, waitFor } from '../interop/lib/hub.js';
import { launchChromium, openApp } from './lib/browser.js';
import { messageLine } from './lib/bot.js';
import { VIDEO_FRAME, startViewerBot, webRoot } from './lib/scenario.js';
import { createNetwork, unavailable } from '../lib/netsim.js';

const TURNSERVER = '/usr/bin/turnserver';
const USER = 'signalrtc';
const PASSWORD = 'relay-secret';
let why = null;
let net;
let hub;
let origin;
let browser;
let turn;
let turnDir;
let turnAddress;
let turnPort;

async function freePort () {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

before(async () => {
  why = await unavailable();
  if (!why && !existsSync(TURNSERVER)) why = 'no turnserver (Debian\'s coturn; scripts/deps installs it)';
  if (why) return;
  net = await createNetwork(['page']);
  turnAddress = net.host('page').gateway;
  turnPort = await freePort();
  turnDir = mkdtempSync(join(tmpdir(), 'signalrtc-turn-'));
  turn = spawn(TURNSERVER, ['-n', '--listening-ip', turnAddress, '--relay-ip', turnAddress,
    '--listening-port', String(turnPort), '--min-port', '49200', '--max-port', '49300',
    '--lt-cred-mech', '--user', `${USER}:${PASSWORD}`, '--realm', 'signalrtc.test',
    '--no-cli', '--no-tls', '--no-dtls', '--simple-log', '--log-file', join(turnDir, 'turn.log'),
    '--pidfile', join(turnDir, 'turn.pid')], { stdio: 'ignore' });
  hub = await startHub(['--address', '0.0.0.0', '--web-root', webRoot()]);
  origin = `http://${turnAddress}:${hub.port}`;
  browser = await launchChromium({ host: net.host('page'), origin });
});

after(async () => {
  await browser?.close();
  await hub?.stop();
  if (turn && turn.exitCode === null) {
    turn.kill('SIGTERM');
    await new Promise((resolve) => turn.once('exit', resolve));
  }
  if (turnDir) rmSync(turnDir, { recursive: true, force: true });
  await net?.close();
});

const relayProps = () =>
  `ice-transport-policy=relay turn-server=turn://${USER}:${PASSWORD}@${turnAddress}:${turnPort} stats-interval=1000`;

const pageParams = (extra = {}) => ({
  relay: 1,
  ice: JSON.stringify([{ urls: `turn:${turnAddress}:${turnPort}`, username: USER, credential: PASSWORD }]),
  ...extra,
});

// The candidate types of the pair the page's call chose, and its video in.
async function chosenPair (page, id) {
  return page.page.evaluate(async (cid) => {
    const stats = await window.signalrtcApp.peerConnection(cid).getStats();
    let pair = null;
    let frames = 0;
    stats.forEach((s) => {
      if (s.type === 'transport' && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId);
      if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded ?? 0;
    });
    return {
      local: pair ? stats.get(pair.localCandidateId)?.candidateType : null,
      remote: pair ? stats.get(pair.remoteCandidateId)?.candidateType : null,
      frames,
    };
  }, id);
}

async function relayedCall (t, { pageCalls }) {
  const bot = startViewerBot(hub, 'rec', `${relayProps()}${pageCalls ? '' : ' call=page'}`, { sendVideo: true });
  let page = null;
  try {
    if (pageCalls) await bot.waitForLine(/signalrtc-hub-connected/);
    page = await openApp(browser, hub, 'page', pageParams(pageCalls ? {} : { autoaccept: 1 }), { origin });
    let id = null;
    if (pageCalls) {
      id = await page.call('rec');
    } else {
      id = await page.waitForCallFrom('rec');
    }
    await page.waitForState('rec', 'connected', 30000);
    await page.waitForVideo('rec', { minFrames: 30, timeoutMs: 30000 });
    const framesBefore = bot.count(VIDEO_FRAME);
    await waitFor(async () => bot.count(VIDEO_FRAME) - framesBefore >= 30,
      "the page's video at the bot", 30000, 200);
    await page.sendChat('rec', 'through-the-relay');
    await bot.waitForLine(/signalrtc-message.*through-the-relay/, 10000);
    const pair = await chosenPair(page, id);
    t.diagnostic(`${pageCalls ? 'page calls the bot' : 'the bot calls the page'}: ${JSON.stringify(pair)}`);
    assert.equal(pair.local, 'relay', "the page's chosen pair is not its relay candidate");
    assert.equal(pair.remote, 'relay', "the bot's candidate in the page's pair is not a relay");
  } finally {
    await bot.stop();
    await page?.page.context().close();
  }
}

test('relay only, the page calls the bot: media both ways and chat through coturn', { part: 'netsim' }, async (t) => {
  if (why) return t.skip(`cannot run here: ${why}`);
  await relayedCall(t, { pageCalls: true });
});

test('relay only, the bot calls the page: media both ways and chat through coturn', { part: 'netsim' }, async (t) => {
  if (why) return t.skip(`cannot run here: ${why}`);
  await relayedCall(t, { pageCalls: false });
});

test('relay only and the TURN server refuses the credentials: the bot says why, soon', { part: 'netsim' }, async (t) => {
  if (why) return t.skip(`cannot run here: ${why}`);
  const wrong = `ice-transport-policy=relay turn-server=turn://${USER}:wrong@${turnAddress}:${turnPort}`;
  const bot = startViewerBot(hub, 'rec', `${wrong} call=page`);
  let page = null;
  try {
    page = await openApp(browser, hub, 'page', pageParams({ autoaccept: 1 }), { origin });
    const started = Date.now();
    const line = await bot.waitForLine(messageLine('rec', 'signalrtc-peer-disconnected'), 45000);
    t.diagnostic(`after ${Date.now() - started} ms: ${line}`);
    assert.match(line, /TURN\\? server/);
    assert.doesNotMatch(line, new RegExp(PASSWORD));
  } finally {
    await bot.stop();
    await page?.page.context().close();
  }
});
