// Debian's Chromium, driven by playwright-core, with a fake camera and
// microphone, for the browser suite.
//
//   const browser = await launchChromium();
//   const alice = await openApp(browser, hub, 'alice');
//   await alice.call('bob');
//   ...
//   await browser.close();
//
// Every test runs inside scripts/isolated (only `lo` exists). PROTOCOL.md §6:
// Chromium gathers no loopback candidates without
// --allow-loopback-in-peer-connection, and the host-resolver rule stops the
// DNS look-ups it would otherwise try toward Google's hosts.

import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { waitFor } from '../../interop/lib/hub.js';

const require = createRequire(import.meta.url);

function loadPlaywright () {
  try {
    return require('playwright-core');
  } catch (err) {
    if (err.code === 'MODULE_NOT_FOUND') {
      throw new Error('playwright-core is not installed: run scripts/deps ' +
        '(npm ci in tests/browser)');
    }
    throw err;
  }
}

export const CHROMIUM = process.env.SIGNALRTC_CHROMIUM || '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
  '--autoplay-policy=no-user-gesture-required',
];

// Where a test leaves its screenshots: the build directory (meson sets
// SIGNALRTC_ARTIFACTS), never the source tree.
export function artifactsDir () {
  const dir = process.env.SIGNALRTC_ARTIFACTS ||
    join(tmpdir(), 'signalrtc-browser-artifacts');
  mkdirSync(dir, { recursive: true });
  return dir;
}

// The PIDs of this process's children (from /proc).
function childPids () {
  const pids = new Set();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...; comm may hold spaces and parentheses.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid) pids.add(Number(entry));
    } catch { /* gone meanwhile */ }
  }
  return pids;
}

// One Chromium process (with a fresh profile of playwright's). Each page gets
// a context of its own, so pages share no storage and each one is a visible
// window of its own. Pages in different browsers share nothing, so a test
// that kills one browser leaves the other's pages running.
//
// `host`: a test host of tests/lib/netsim.js to run this Chromium on (its
// network namespace; playwright talks to it over a pipe, which crosses
// namespaces). Such a browser reaches the hub over the link, at
// `origin` (http://198.18.i.1:PORT): that origin is treated as secure (so
// getUserMedia works over plain http) and kept from the host-resolver
// rule, and no loopback candidates are gathered (the host's loopback is
// its own; only the link joins the hosts).
export async function launchChromium ({ host = null, origin = null } = {}) {
  if (process.env.SIGNALRTC_ISOLATED !== '1') {
    throw new Error('browser tests open WebRTC connections: run them inside ' +
      'scripts/isolated (meson test does)');
  }
  const { chromium } = loadPlaywright();
  let executablePath = CHROMIUM;
  let args = CHROMIUM_ARGS;
  let wrapperDir = null;
  if (host) {
    wrapperDir = mkdtempSync(join(tmpdir(), 'signalrtc-chromium-'));
    executablePath = join(wrapperDir, 'chromium');
    const [program, prefix] = host.command(CHROMIUM);
    writeFileSync(executablePath, '#!/bin/sh\nexec ' +
      [program, ...prefix].map((a) => `'${a}'`).join(' ') + ' "$@"\n');
    chmodSync(executablePath, 0o755);
    const hostName = origin ? new URL(origin).hostname : null;
    args = CHROMIUM_ARGS
      .filter((a) => a !== '--allow-loopback-in-peer-connection')
      .map((a) => a.startsWith('--host-resolver-rules=') && hostName
        ? `${a} , EXCLUDE ${hostName}` : a);
    if (origin) args.push(`--unsafely-treat-insecure-origin-as-secure=${origin}`);
  }
  const before = childPids();
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args,
  });
  if (wrapperDir) rmSync(wrapperDir, { recursive: true, force: true });
  const pid = [...childPids()].find((p) => !before.has(p)) ?? null;
  return {
    browser,
    // The browser's main process, for tests that kill it without warning.
    pid,
    async newPage () {
      const context = await browser.newContext({
        viewport: { width: 1280, height: 800 },
        permissions: ['camera', 'microphone'],
      });
      return context.newPage();
    },
    kill () {
      if (pid) process.kill(pid, 'SIGKILL');
    },
    async close () {
      try { await browser.close(); } catch { /* already gone */ }
    },
  };
}

// The app's URL on the hub (which serves examples/web with --web-root).
// `hub.origin` may be overridden per page (openApp's `origin`): a page on
// a netsim host reaches the hub at its link address.
export function appUrl (hub, name, params = {}, origin = hub.origin) {
  const url = new URL('/', origin);
  url.searchParams.set('name', name);
  url.searchParams.set('autojoin', '1');
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, String(v));
  return url.toString();
}

// Opens the app as `name` and waits until it has joined the hub. Returns a
// small driver over the page's DOM contract (examples/web/README.md).
// `media: false`: the page gets no camera or microphone (getUserMedia
// refuses, as on a machine without devices), so its calls carry only the
// data channel.
// `init`: a function run in the page before its scripts (Playwright's
// addInitScript), e.g. stampedMedia from ./stamp.js.
export async function openApp (browser, hub, name, params = {}, { media = true, origin = hub.origin, init = null } = {}) {
  const page = await browser.newPage();
  if (init) await page.addInitScript(init);
  if (!media) {
    await page.addInitScript(() => {
      navigator.mediaDevices.getUserMedia = () =>
        Promise.reject(new DOMException('no devices in this test', 'NotFoundError'));
    });
  }
  const logs = [];
  page.on('console', (msg) => logs.push(`[${name} ${msg.type()}] ${msg.text()}`));
  page.on('pageerror', (err) => logs.push(`[${name} pageerror] ${err.message}`));
  await page.goto(appUrl(hub, name, params, origin));
  try {
    await page.waitForSelector('body[data-joined="1"]', { timeout: 15000 });
  } catch (err) {
    throw new Error(`${name} did not join: ${err.message}\n${logs.join('\n')}`);
  }
  return new AppPage(page, name, logs);
}

export class AppPage {
  constructor (page, name, logs) {
    this.page = page;
    this.name = name;
    this.logs = logs;
  }

  user (userName) {
    return this.page.locator(`#users [data-user="${userName}"]`);
  }

  tile (userName) {
    return this.page.locator(`#calls .call[data-user="${userName}"]`);
  }

  async waitForUser (userName, timeoutMs = 15000) {
    await this.user(userName).first().waitFor({ timeout: timeoutMs });
    return this.user(userName).first().getAttribute('data-connection-id');
  }

  // Clicks the user's Call button; returns the remote connection id.
  async call (userName) {
    const id = await this.waitForUser(userName);
    await this.user(userName).first().locator('button[data-action="call"]').click();
    return id;
  }

  async waitForIncoming (callerName, timeoutMs = 15000) {
    await this.page.locator(`#incoming:not([hidden]) [data-caller]`)
      .filter({ hasText: callerName }).waitFor({ timeout: timeoutMs });
  }

  async accept (callerName) {
    await this.waitForIncoming(callerName);
    await this.page.click('#accept');
  }

  async decline (callerName) {
    await this.waitForIncoming(callerName);
    await this.page.click('#decline');
  }

  async state (userName) {
    const tile = this.tile(userName);
    if (await tile.count() === 0) return null;
    return tile.first().getAttribute('data-state');
  }

  async waitForState (userName, state, timeoutMs = 20000) {
    await waitFor(async () => (await this.state(userName)) === state,
      `${this.name}: call with ${userName} to be ${state}\n${this.logs.slice(-30).join('\n')}`,
      timeoutMs, 100);
  }

  async connectionIdOf (userName) {
    return this.tile(userName).first().getAttribute('data-connection-id');
  }

  // The connection id of a call `userName` makes to this page, once its
  // tile is there.
  async waitForCallFrom (userName, timeoutMs = 30000) {
    let id = null;
    await waitFor(async () => (id = await this.connectionIdOf(userName).catch(() => null)),
      `${this.name}: a call from ${userName}`, timeoutMs, 200);
    return id;
  }

  async inboundStats (connectionId) {
    return this.page.evaluate((id) => window.signalrtcApp.inboundStats(id), connectionId);
  }

  async outboundStats (connectionId) {
    return this.page.evaluate((id) => window.signalrtcApp.outboundStats(id), connectionId);
  }

  async marks () {
    return this.page.evaluate(() => window.signalrtcApp.marks);
  }

  async remoteVideoWidth (userName) {
    return this.tile(userName).first().locator('video.remote')
      .evaluate((v) => v.videoWidth);
  }

  // Waits until the remote video of `userName` plays and its decoded frame
  // count rises; returns the last inbound stats.
  async waitForVideo (userName, { minFrames = 20, timeoutMs = 20000 } = {}) {
    const id = await this.connectionIdOf(userName);
    let last = null;
    await waitFor(async () => {
      last = await this.inboundStats(id);
      return last.video && last.video.framesDecoded >= minFrames &&
        (await this.remoteVideoWidth(userName)) > 0;
    }, `${this.name}: ${minFrames} decoded frames from ${userName} ` +
      `(last: ${JSON.stringify(last)})\n${this.logs.slice(-30).join('\n')}`, timeoutMs, 200);
    return last;
  }

  // Waits until audio from `userName` is decoded: samples received rise.
  async waitForAudio (userName, { timeoutMs = 20000 } = {}) {
    const id = await this.connectionIdOf(userName);
    let first = null;
    let last = null;
    await waitFor(async () => {
      last = await this.inboundStats(id);
      if (!last.audio) return false;
      if (!first) first = last.audio;
      return last.audio.totalSamplesReceived > first.totalSamplesReceived + 4800 &&
        last.audio.packetsReceived > 50;
    }, `${this.name}: audio from ${userName} (last: ${JSON.stringify(last)})\n` +
      this.logs.slice(-30).join('\n'), timeoutMs, 200);
    return last;
  }

  async sendChat (userName, text) {
    const tile = this.tile(userName).first();
    await tile.locator('input.chat-input').fill(text);
    await tile.locator('button[data-action="send"]').click();
  }

  async waitForChat (userName, text, direction = 'in', timeoutMs = 10000) {
    await this.tile(userName).first().locator(`.chat-log .msg.${direction}`)
      .filter({ hasText: text }).first().waitFor({ timeout: timeoutMs });
  }

  async hangUp (userName) {
    await this.tile(userName).first().locator('button[data-action="hangup"]').click();
  }

  async notices () {
    return this.page.locator('#notice .notice').allTextContents();
  }

  async screenshot (file) {
    await this.page.screenshot({ path: join(artifactsDir(), file), fullPage: true });
  }
}
