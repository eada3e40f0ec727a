// Debian's Firefox ESR, driven over WebDriver BiDi by puppeteer-core (which
// never downloads a browser of its own), with a fake camera and microphone:
// the second browser of the network tests.
//
//   const firefox = await launchFirefox();
//   const viewer = await openApp(firefox, hub, 'viewer');   // lib/browser.js
//   ...
//   await firefox.close();
//
// launchFirefox() returns what launchChromium() returns, and its pages
// answer the part of Playwright's Page that AppPage (lib/browser.js) uses,
// so openApp and every AppPage method work on both browsers unchanged.
//
// Firefox runs in the test's own network namespace (scripts/isolated):
// puppeteer reaches its BiDi socket on that namespace's loopback, which a
// browser in another namespace could not offer. Its WebRTC therefore sees
// what this namespace has: `lo` and the links of tests/lib/netsim.js to the
// test hosts, where the senders run.

import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../interop/lib/hub.js';

const require = createRequire(import.meta.url);

export const FIREFOX = process.env.SIGNALRTC_FIREFOX || '/usr/bin/firefox-esr';

// Preferences for a headless, offline, test-driven Firefox.
export const FIREFOX_PREFS = {
  // Fake devices, no prompt (as Chromium's --use-fake-device-for-media-stream
  // and --use-fake-ui-for-media-stream).
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  // A page that holds no camera permission gathers only the "default
  // address", found by routing toward a public address; a test namespace
  // has no route, so it would gather nothing at all. Camera and microphone
  // allowed by default gives every page its real host candidates.
  'permissions.default.camera': 1,
  'permissions.default.microphone': 1,
  'media.peerconnection.ice.default_address_only': false,
  // Host candidates as addresses, not mDNS names libnice cannot resolve.
  'media.peerconnection.ice.obfuscate_host_addresses': false,
  // Nothing in the background toward the (absent) network.
  'app.update.enabled': false,
  'browser.safebrowsing.malware.enabled': false,
  'browser.safebrowsing.phishing.enabled': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'toolkit.telemetry.enabled': false,
};

function loadPuppeteer () {
  try {
    return require('puppeteer-core');
  } catch (err) {
    if (err.code === 'MODULE_NOT_FOUND') {
      throw new Error('puppeteer-core is not installed: run scripts/deps ' +
        '(npm ci in tests/browser)');
    }
    throw err;
  }
}

export async function launchFirefox () {
  if (process.env.SIGNALRTC_ISOLATED !== '1') {
    throw new Error('browser tests open WebRTC connections: run them inside ' +
      'scripts/isolated (meson test does)');
  }
  const puppeteer = loadPuppeteer();
  const profile = mkdtempSync(join(tmpdir(), 'signalrtc-firefox-'));
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    userDataDir: profile,
    extraPrefsFirefox: FIREFOX_PREFS,
  });
  const pid = browser.process()?.pid ?? null;
  return {
    browser,
    pid,
    // Each page in a user context of its own, as launchChromium's pages are
    // in contexts of their own.
    async newPage () {
      const context = await browser.createBrowserContext();
      const page = await context.newPage();
      await page.setViewport({ width: 1280, height: 800 });
      return new PageAdapter(page, context);
    },
    kill () {
      if (pid) process.kill(pid, 'SIGKILL');
    },
    async close () {
      try { await browser.close(); } catch { /* already gone */ }
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

// Playwright's Page, as far as AppPage uses it, over a puppeteer Page.
class PageAdapter {
  constructor (page, context) {
    this.raw = page;
    this.ctx = context;
  }

  addInitScript (fn) { return this.raw.evaluateOnNewDocument(fn); }
  on (event, listener) { this.raw.on(event, listener); }
  goto (url) { return this.raw.goto(url); }
  waitForSelector (selector, options) { return this.raw.waitForSelector(selector, options); }
  evaluate (fn, arg) { return this.raw.evaluate(fn, arg); }
  click (selector) { return this.locator(selector).click(); }
  screenshot (options) { return this.raw.screenshot(options); }
  close () { return this.raw.close(); }
  context () { return { close: () => this.ctx.close() }; }
  locator (selector) { return new LocatorAdapter(this.raw, [{ css: selector }]); }
}

// Playwright's Locator, as far as AppPage uses it: a chain of steps (a CSS
// selector below the elements so far, the first of them, those holding a
// text) resolved in the page each time it is used, as Playwright does.
class LocatorAdapter {
  constructor (page, steps) {
    this.page = page;
    this.steps = steps;
  }

  locator (selector) { return this.with({ css: selector }); }
  first () { return this.with({ first: true }); }
  filter ({ hasText }) { return this.with({ hasText }); }
  with (step) { return new LocatorAdapter(this.page, [...this.steps, step]); }

  // Runs fn(elements, arg) in the page on the elements the steps give.
  run (fn, arg) {
    return this.page.evaluate((steps, source, a) => {
      let els = [document];
      for (const s of steps) {
        if (s.css) els = els.flatMap((e) => [...e.querySelectorAll(s.css)]);
        if (s.first) els = els.slice(0, 1);
        if (s.hasText) els = els.filter((e) => e.textContent.includes(s.hasText));
      }
      // eslint-disable-next-line no-new-func
      return new Function('els', 'arg', `return (${source})(els, arg);`)(els, a);
    }, this.steps, fn.toString(), arg);
  }

  count () { return this.run((els) => els.length); }
  allTextContents () { return this.run((els) => els.map((e) => e.textContent)); }
  getAttribute (name) { return this.run((els, n) => els[0]?.getAttribute(n) ?? null, name); }
  evaluate (fn) { return this.run((els, source) => new Function(`return (${source})`)()(els[0]), fn.toString()); }

  // Visible: laid out (Playwright's default state for waitFor and click).
  async waitFor ({ timeout = 30000 } = {}) {
    await waitFor(() => this.run((els) => els.some((e) => e.getClientRects().length > 0)),
      `an element for ${JSON.stringify(this.steps)}`, timeout, 50);
  }

  async click () {
    await this.waitFor();
    await this.run((els) => els.find((e) => e.getClientRects().length > 0).click());
  }

  async fill (text) {
    await this.waitFor();
    await this.run((els, t) => {
      const input = els[0];
      input.value = t;
      input.dispatchEvent(new Event('input', { bubbles: true }));
    }, text);
  }
}
