// Raw SignalR-over-WebSocket and raw HTTP, for tests that must send what no
// stock client would.

import http from 'node:http';
import WebSocket from 'ws';
import { waitFor } from './hub.js';

export const RS = '\x1e';
export const HANDSHAKE = `{"protocol":"json","version":1}${RS}`;

// hub: a startHub() result. query: extra query string ("id=..."), optional.
export function wsUrl (hub, query = '') {
  const url = hub.url.replace(/^http:/, 'ws:');
  return query ? `${url}?${query}` : url;
}

export class RawSocket {
  constructor (url, options = {}) {
    this.url = url;
    this.records = []; // parsed records, in order (unparsable ones as {unparsed: text})
    this.taken = 0; // how many records next() has handed out
    this.partial = '';
    this.closeInfo = null;
    this.ws = new WebSocket(url, options);
    this.ws.on('error', (err) => { this.error = err; });
    this.closed = new Promise((resolve) => {
      this.ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        resolve(this.closeInfo);
      });
    });
    this.ws.on('message', (data) => {
      this.partial += data.toString('utf8');
      const parts = this.partial.split(RS);
      this.partial = parts.pop();
      for (const text of parts) {
        try {
          this.records.push(JSON.parse(text));
        } catch {
          this.records.push({ unparsed: text });
        }
      }
    });
  }

  // Resolves once the socket is open; rejects with err.status set when the
  // hub answered the upgrade with an HTTP status instead.
  static open (url, options = {}) {
    const s = new RawSocket(url, options);
    return new Promise((resolve, reject) => {
      s.ws.once('open', () => resolve(s));
      s.ws.once('unexpected-response', (req, res) => {
        const err = new Error(`WebSocket upgrade answered ${res.statusCode}`);
        err.status = res.statusCode;
        res.resume();
        req.destroy();
        reject(err);
      });
      s.ws.once('error', reject);
    });
  }

  // The WebSocket upgrade's HTTP status: 101 when it opened.
  static async upgradeStatus (url) {
    try {
      const s = await RawSocket.open(url);
      s.terminate();
      return 101;
    } catch (err) {
      if (err.status) return err.status;
      throw err;
    }
  }

  get isOpen () {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send (data) {
    return new Promise((resolve, reject) => {
      this.ws.send(data, (err) => (err ? reject(err) : resolve()));
    });
  }

  // Sends one record (an object or a JSON text) with its separator.
  sendRecord (record) {
    return this.send((typeof record === 'string' ? record : JSON.stringify(record)) + RS);
  }

  // The next record not yet taken, skipping Pings unless keepPings, and
  // skipping the hub's Invocations (events) when skipEvents.
  async next (timeoutMs = 5000, { keepPings = false, skipEvents = false } = {}) {
    const ready = () => {
      while (this.taken < this.records.length) {
        const r = this.records[this.taken];
        if ((keepPings || r.type !== 6) && (!skipEvents || r.type !== 1)) return true;
        this.taken++;
      }
      return false;
    };
    await waitFor(() => ready() || this.closeInfo,
      `a record from the hub on ${this.url}`, timeoutMs);
    if (!ready()) {
      throw new Error(`socket closed (${JSON.stringify(this.closeInfo)}) with no further record; ` +
        `records: ${JSON.stringify(this.records)}`);
    }
    return this.records[this.taken++];
  }

  async handshake () {
    await this.send(HANDSHAKE);
    const reply = await this.next();
    if (JSON.stringify(reply) !== '{}') {
      throw new Error(`handshake answered ${JSON.stringify(reply)}`);
    }
    return this;
  }

  async waitClosed (timeoutMs = 5000) {
    await waitFor(() => this.closeInfo, `the hub to close ${this.url}`, timeoutMs);
    return this.closeInfo;
  }

  terminate () {
    this.ws.terminate();
  }
}

// A WebSocket to the hub that has completed the SignalR handshake.
export async function handshaken (url) {
  const s = await RawSocket.open(url);
  return s.handshake();
}

// Plain HTTP on loopback. Resolves to {status, headers, body}. Each request
// has its own connection unless an `agent` (e.g. a keep-alive http.Agent) is
// given.
export function request (url, { method = 'GET', headers = {}, body, agent = false } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => resolve({
        status: res.statusCode, headers: res.headers, body: text, socket: res.socket,
      }));
    });
    req.on('error', reject);
    req.setTimeout(10000, () => req.destroy(new Error(`${method} ${url}: no answer in 10 s`)));
    req.end(body);
  });
}

export async function negotiate (hub, version, headers = {}) {
  const query = version === undefined ? '' : `?negotiateVersion=${version}`;
  const res = await request(`${hub.url}/negotiate${query}`, { method: 'POST', headers });
  if (res.status !== 200) throw new Error(`negotiate: HTTP ${res.status} ${res.body}`);
  return JSON.parse(res.body);
}
