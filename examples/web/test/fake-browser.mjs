// Runs the BUILT app (dist/ or $SIGNALRTC_WEB_OUT) in a node vm context that
// looks like a browser page and has none of node's globals: no `global`,
// `process`, `Buffer` or `require`. A bundle that needed one of them would
// throw a ReferenceError here, as it would in a browser.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import vm from 'node:vm';
import * as dom from './fake-dom.mjs';
import { makeWebSocketClass } from './fake-hub.mjs';
import { makeWebRtc } from './fake-webrtc.mjs';

export const distDir = path.resolve(
  path.dirname(new URL(import.meta.url).pathname),
  '..',
  process.env.SIGNALRTC_WEB_OUT || 'dist',
);

/** setTimeout and friends that can all be cancelled when the page closes. */
function makeTimers() {
  const live = new Set();
  const forget = (clear) => (handle) => { live.delete(handle); clear(handle); };
  return {
    setTimeout: (fn, ms, ...args) => {
      const handle = setTimeout((...a) => { live.delete(handle); fn(...a); }, ms, ...args);
      live.add(handle);
      return handle;
    },
    clearTimeout: forget(clearTimeout),
    setInterval: (fn, ms, ...args) => {
      const handle = setInterval(fn, ms, ...args);
      live.add(handle);
      return handle;
    },
    clearInterval: forget(clearInterval),
    dispose() {
      for (const h of live) { clearTimeout(h); clearInterval(h); }
      live.clear();
    },
  };
}

let streamCount = 0;

class FakeMediaStream {
  constructor(tracks = []) {
    this.id = `stream${++streamCount}`;
    this.tracks = [...tracks];
  }
  getTracks() { return [...this.tracks]; }
  getAudioTracks() { return this.tracks.filter((t) => t.kind === 'audio'); }
  getVideoTracks() { return this.tracks.filter((t) => t.kind === 'video'); }
  addTrack(t) { this.tracks.push(t); }
}

/** navigator.mediaDevices with these devices ('audio', 'video'); null: no mediaDevices at all. */
function makeMediaDevices(devices) {
  if (devices === null) return undefined;
  return {
    async getUserMedia(constraints) {
      const kinds = ['audio', 'video'].filter((k) => constraints[k]);
      if (!kinds.every((k) => devices.includes(k))) {
        throw new DOMException('Requested device not found', 'NotFoundError');
      }
      return new FakeMediaStream(
        kinds.map((kind) => ({ kind, id: `${kind}-${++streamCount}`, enabled: true, readyState: 'live', stop() {} })),
      );
    },
  };
}

/**
 * Opens the built index.html at `url` against `hub` (a FakeHub), with the
 * given local devices, and `timers` for the app's own timers when given (a
 * ManualTimers, manual-timers.mjs; else the page's real ones). Returns
 * { window, document, $, $$, consoleErrors, logs, fetched, close }.
 */
export async function openPage(url, hub, { devices = ['audio', 'video'], timers: appTimers } = {}) {
  const html = readFileSync(path.join(distDir, 'index.html'), 'utf8');
  const [root, head, body] = dom.parseHtml(html);
  const timers = makeTimers();
  const consoleErrors = [];
  const logs = [];
  const fetched = [];

  const document = {
    documentElement: root,
    head,
    body,
    title: '',
    createElement: dom.createElement,
    getElementById: (id) => root.querySelector(`#${id}`),
    querySelector: (s) => root.querySelector(s),
    querySelectorAll: (s) => root.querySelectorAll(s),
    getElementsByTagName: (t) => root.querySelectorAll(t),
    addEventListener() {},
  };

  const storage = new Map();
  const sandbox = {
    ...Object.fromEntries(Object.entries(dom).filter(([k]) => k.startsWith('HTML'))),
    ...makeWebRtc(timers),
    document,
    location: new URL(url),
    navigator: { userAgent: 'signalrtc-fake-browser', mediaDevices: makeMediaDevices(devices) },
    performance,
    console: {
      info: (...a) => logs.push(a.join(' ')),
      log: (...a) => logs.push(a.join(' ')),
      debug: () => {},
      trace: () => {},
      warn: (...a) => logs.push(`warn: ${a.join(' ')}`),
      error: (...a) => consoleErrors.push(a.map(String).join(' ')),
    },
    setTimeout: timers.setTimeout,
    clearTimeout: timers.clearTimeout,
    setInterval: timers.setInterval,
    clearInterval: timers.clearInterval,
    ...(appTimers ? { signalrtcTimers: appTimers } : {}),
    queueMicrotask,
    TextDecoder,
    TextEncoder,
    URL,
    URLSearchParams,
    DOMException,
    AbortController,
    AbortSignal,
    Headers,
    Event: class Event { constructor(type, init) { this.type = type; Object.assign(this, init); } },
    MediaStream: FakeMediaStream,
    crypto: globalThis.crypto,
    localStorage: {
      getItem: (k) => storage.get(k) ?? null,
      setItem: (k, v) => storage.set(k, String(v)),
      removeItem: (k) => storage.delete(k),
    },
    WebSocket: makeWebSocketClass(hub, timers),
    // @microsoft/signalr negotiates with fetch()...
    fetch: async (input, init) => {
      const target = String(input);
      fetched.push({ url: target, method: init?.method });
      if (!target.includes('/negotiate')) return new Response('not found', { status: 404 });
      return new Response(hub.negotiate(target), { status: 200, headers: { 'content-type': 'application/json' } });
    },
    // ...and @aspnet/signalr 1.x with XMLHttpRequest.
    XMLHttpRequest: class FakeXhr {
      open(method, target) { this.method = method; this.url = target; }
      setRequestHeader() {}
      abort() {}
      send() {
        fetched.push({ url: this.url, method: this.method });
        timers.setTimeout(() => {
          this.status = 200;
          this.statusText = 'OK';
          this.response = this.responseText = hub.negotiate(this.url);
          this.onload?.();
        }, 0);
      }
    },
  };
  const context = vm.createContext(sandbox, { name: url });
  const window = vm.runInContext('globalThis', context);
  window.window = window;
  window.self = window;
  window.addEventListener = () => {};
  window.dispatchEvent = () => true;

  const modules = new Map();
  const load = async (file) => {
    if (modules.has(file)) return modules.get(file);
    const module = new vm.SourceTextModule(readFileSync(file, 'utf8'), {
      context,
      identifier: pathToFileURL(file).href,
      initializeImportMeta: (meta) => { meta.url = new URL(path.relative(distDir, file), url).href; },
      importModuleDynamically: async (specifier) => load(path.resolve(path.dirname(file), specifier)),
    });
    modules.set(file, module);
    await module.link((specifier) => load(path.resolve(path.dirname(file), specifier)));
    await module.evaluate();
    return module;
  };

  const script = head.querySelector('script[type="module"]');
  await load(path.join(distDir, script.getAttribute('src')));

  return {
    window,
    document,
    context,
    consoleErrors,
    logs,
    fetched,
    $: (s) => root.querySelector(s),
    $$: (s) => root.querySelectorAll(s),
    close: () => timers.dispose(),
  };
}

/** Polls until fn() returns something truthy. */
export async function waitFor(fn, what = 'condition', timeoutMs = 4000) {
  const start = Date.now();
  for (;;) {
    const value = fn();
    if (value) return value;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
