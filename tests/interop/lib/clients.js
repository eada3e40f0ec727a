// The stock SignalR JavaScript clients, wrapped so a test can treat them alike.
//
// Kinds:
//   'microsoft'        current @microsoft/signalr, negotiate (version 1)
//   'microsoft-direct' @microsoft/signalr with skipNegotiation + WebSockets
//                      (the hub makes the connection when the socket opens)
//   'aspnet'           @aspnet/signalr 1.1.4, the original app's client
//                      (negotiate version 0)
//
// Every client records the SignalRtc events it receives, in order, in
// `events` as {name, args}. `id` is the connection id the hub gave it when the
// client can know it (after negotiate); null for 'microsoft-direct'.

import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { waitFor } from './hub.js';

const require = createRequire(import.meta.url);

function load (name) {
  try {
    return require(name);
  } catch (err) {
    if (err.code === 'MODULE_NOT_FOUND') {
      throw new Error(`${name} is not installed: run scripts/deps (npm ci in tests/interop)`);
    }
    throw err;
  }
}

const microsoft = load('@microsoft/signalr');
const aspnet = load('@aspnet/signalr');
// In Node, @aspnet/signalr 1.x brings its own `ws` (6.x) and, for negotiate,
// its own HTTP client (the `request` package); no polyfill is needed. We pass
// it that same `ws` class, subclassed only to see the URL it connects to,
// because the 1.x client does not expose its connection id.
const aspnetWs = require(require.resolve('ws', {
  paths: [dirname(require.resolve('@aspnet/signalr/package.json'))],
}));

export const KINDS = ['microsoft', 'microsoft-direct', 'aspnet'];
export const EVENTS = ['NewUserArrived', 'UserSaidHello', 'SendSignal', 'UserDisconnect'];

export class Client {
  constructor (kind, name, hubUrl) {
    if (!KINDS.includes(kind)) throw new Error(`unknown client kind ${kind}`);
    this.kind = kind;
    this.name = name;
    this.events = [];
    this.logs = [];
    this.id = null;
    this.closed = null; // {error} once the connection is closed
    this.socketUrl = null;

    const logger = {
      log: (level, message) => {
        this.logs.push({ level, message });
        // Warning (3) and above, in both clients' LogLevel enums.
        if (level >= 3 && process.env.SIGNALRTC_CLIENT_LOG !== '0') {
          console.error(`[${this.name} ${this.kind}] ${message}`);
        }
      },
    };

    if (kind === 'aspnet') {
      const client = this;
      class CapturingWebSocket extends aspnetWs {
        constructor (url, ...rest) {
          super(url, ...rest);
          client.socketUrl = url;
        }
      }
      this.connection = new aspnet.HubConnectionBuilder()
        .withUrl(hubUrl, { WebSocket: CapturingWebSocket, logger })
        .configureLogging(logger)
        .build();
    } else {
      const options = kind === 'microsoft-direct'
        ? { skipNegotiation: true, transport: microsoft.HttpTransportType.WebSockets }
        : {};
      this.connection = new microsoft.HubConnectionBuilder()
        .withUrl(hubUrl, options)
        .configureLogging(logger)
        .build();
    }

    for (const name of EVENTS) {
      // Return nothing: the current client warns when a handler returns a value.
      this.connection.on(name, (...args) => { this.events.push({ name, args }); });
    }
    this.connection.onclose((error) => { this.closed = { error }; });
  }

  async start () {
    await this.connection.start();
    if (this.kind === 'microsoft') {
      this.id = this.connection.connectionId;
    } else if (this.kind === 'aspnet') {
      // Negotiate version 0: the transport URL's id= is the connection id.
      const id = new URL(this.socketUrl).searchParams.get('id');
      if (!id) throw new Error(`no id= in the 1.x client's socket URL ${this.socketUrl}`);
      this.id = id;
    }
    return this;
  }

  invoke (method, ...args) {
    return this.connection.invoke(method, ...args);
  }

  send (method, ...args) {
    return this.connection.send(method, ...args);
  }

  stop () {
    return this.connection.stop();
  }

  received (name) {
    return this.events.filter((e) => e.name === name);
  }

  // Waits until `count` events called `name` have arrived; returns them all.
  async waitForEvents (name, count, timeoutMs = 5000) {
    await waitFor(() => this.received(name).length >= count,
      `${this.name} (${this.kind}) to receive ${count} x ${name}; has ${JSON.stringify(this.events)}`,
      timeoutMs);
    return this.received(name);
  }
}

export async function connect (kind, name, hubUrl) {
  return new Client(kind, name, hubUrl).start();
}
