// Hostile and broken input against a real signalrtc-hub: raw WebSockets and
// raw HTTP sending what no stock client would. Each bad connection must be
// dealt with alone (a handshake error, a Close message or an error
// Completion), while a well-behaved @microsoft/signalr client connected all
// along notices nothing and still gets its messages at the end.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync, readdirSync } from 'node:fs';
import { startHub, sleep, waitFor } from './lib/hub.js';
import { connect } from './lib/clients.js';
import {
  RS, HANDSHAKE, RawSocket, wsUrl, handshaken, request, negotiate,
} from './lib/raw.js';

const MAX_MESSAGE = 32768;
const ALLOWED_ORIGIN = 'http://app.signalrtc.test:8080';

// The hub answers a bad handshake with {"error": "..."} and closes.
async function expectHandshakeError (s) {
  const reply = await s.next();
  assert.equal(typeof reply.error, 'string', `handshake error reply, got ${JSON.stringify(reply)}`);
  assert.ok(reply.error.length > 0);
  await s.waitClosed();
  return reply.error;
}

// The hub sends a Close message carrying an error, then closes the socket.
async function expectCloseWithError (s) {
  const msg = await s.next();
  assert.equal(msg.type, 7, `a Close message, got ${JSON.stringify(msg)}`);
  assert.equal(typeof msg.error, 'string', `Close carries an error, got ${JSON.stringify(msg)}`);
  assert.ok(msg.error.length > 0);
  await s.waitClosed();
  return msg.error;
}

// The next record is the Completion of invocation `id`, with an error.
async function expectCompletionError (s, id) {
  const msg = await s.next();
  assert.equal(msg.type, 3, `a Completion, got ${JSON.stringify(msg)}`);
  assert.equal(msg.invocationId, id);
  assert.equal(typeof msg.error, 'string', `Completion with an error, got ${JSON.stringify(msg)}`);
  assert.ok(msg.error.length > 0);
  assert.ok(!('result' in msg), 'no result beside the error');
  return msg.error;
}

// The next record is the Completion of invocation `id`, without an error.
// skipEvents: let the hub's invocations (NewUserArrived, ...) come first.
async function expectCompletionOk (s, id, { skipEvents = false } = {}) {
  const msg = await s.next(5000, { skipEvents });
  assert.equal(msg.type, 3, `a Completion, got ${JSON.stringify(msg)}`);
  assert.equal(msg.invocationId, id);
  assert.ok(!('error' in msg), `no error, got ${JSON.stringify(msg)}`);
  return msg;
}

function invocation (id, target, args) {
  const msg = { type: 1, target, arguments: args };
  if (id !== null) msg.invocationId = id;
  return msg;
}

function parseMetrics (text) {
  const values = {};
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)(\s+\d+)?$/.exec(line);
    assert.ok(m, `a Prometheus sample line: ${JSON.stringify(line)}`);
    const v = Number(m[3]);
    assert.ok(!Number.isNaN(v), `numeric value in ${JSON.stringify(line)}`);
    if (!m[2]) values[m[1]] = v;
  }
  return values;
}

describe('hostile input', () => {
  let hub;
  let good; // connected before the first bad socket, checked at the end
  let rssBeforeKiB;

  before(async () => {
    hub = await startHub(['--max-message-size', String(MAX_MESSAGE),
      '--allowed-origin', ALLOWED_ORIGIN]);
    good = await connect('microsoft', 'good', hub.url);
    await good.invoke('NewUser', 'good');
    rssBeforeKiB = hub.rssKiB();
  });

  after(async () => {
    if (good && !good.closed) await good.stop().catch(() => {});
    if (hub) {
      const { code, signal } = await hub.stop();
      assert.equal(signal, null, 'the hub exits by itself on SIGTERM');
      assert.equal(code, 0);
    }
  });

  describe('before the handshake', () => {
    test('non-JSON first record: handshake error, then closed', async () => {
      const s = await RawSocket.open(wsUrl(hub));
      await s.send(`hello, hub${RS}`);
      await expectHandshakeError(s);
    });

    test('a JSON record that is no handshake: handshake error, then closed', async () => {
      const s = await RawSocket.open(wsUrl(hub));
      await s.sendRecord(invocation('1', 'NewUser', ['early']));
      await expectHandshakeError(s);
    });

    for (const protocol of ['messagepack', 'xml']) {
      test(`protocol "${protocol}": handshake error, then closed`, async () => {
        const s = await RawSocket.open(wsUrl(hub));
        await s.sendRecord({ protocol, version: 1 });
        await expectHandshakeError(s);
      });
    }
  });

  describe('after the handshake: the socket is closed with an error', () => {
    test('binary frame of junk bytes', async () => {
      const s = await handshaken(wsUrl(hub));
      await s.send(Buffer.from([0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28, 0x7b, 0x1e, 0x9f, 0x1e]));
      await expectCloseWithError(s);
    });

    const badRecords = {
      'invalid JSON': '{"type":1,"target":"NewUser","arguments":[',
      'a JSON array': '[1,2,3]',
      'no type': '{"target":"NewUser","arguments":["x"]}',
      'unknown message type 42': '{"type":42}',
    };
    for (const [what, text] of Object.entries(badRecords)) {
      test(what, async () => {
        const s = await handshaken(wsUrl(hub));
        await s.send(text + RS);
        await expectCloseWithError(s);
      });
    }

    test('a 40 KiB record (largest allowed: 32 KiB)', async () => {
      const s = await handshaken(wsUrl(hub));
      const filler = 'x'.repeat(40 * 1024);
      await s.sendRecord(invocation('1', 'SendSignal', [filler, good.id]));
      await expectCloseWithError(s);
      await sleep(100);
      assert.equal(good.received('SendSignal').length, 0, 'the oversized signal was not relayed');
    });

    test('a record that never ends (no separator), sent in 16 KiB frames', async () => {
      const s = await handshaken(wsUrl(hub));
      const chunk = 'y'.repeat(16 * 1024);
      const limit = 32 * 1024 * 1024; // far past the 1 MiB a hub must never buffer
      let sent = 0;
      const answered = s.records.length;
      const sending = (async () => {
        await s.send(`{"type":1,"target":"SendSignal","arguments":["`);
        while (sent < limit && s.isOpen && s.records.length === answered) {
          await s.send(chunk).catch(() => {});
          sent += chunk.length;
        }
      })();
      await expectCloseWithError(s);
      await sending;
      assert.ok(sent < limit, `the hub closed the socket before ${limit} bytes (sent ${sent})`);
      const grownKiB = hub.rssKiB() - rssBeforeKiB;
      assert.ok(grownKiB < 20 * 1024, `hub RSS grew by ${grownKiB} KiB`);
    });
  });

  describe('bad hub calls get an error Completion and the connection stays', () => {
    let s;
    let next = 1;
    const name = 'raw-caller';

    before(async () => {
      s = await handshaken(wsUrl(hub));
    });
    after(() => s && s.terminate());

    // After each bad call, a valid blocking call still works.
    async function stillWorks () {
      const before = good.received('UserSaidHello').length;
      const id = String(next++);
      await s.sendRecord(invocation(id, 'HelloUser', [name, good.id]));
      await expectCompletionOk(s, id);
      const got = await good.waitForEvents('UserSaidHello', before + 1);
      const info = JSON.parse(got[before].args[0]);
      assert.equal(info.userName, name);
    }

    const badCalls = {
      'SendSignal with 1 argument': ['SendSignal', ['{"type":"offer"}']],
      'SendSignal with 3 arguments': ['SendSignal', ['{}', 'x', 'y']],
      'SendSignal with numbers': ['SendSignal', [1, 2]],
      'NewUser with no argument': ['NewUser', []],
      'NewUser with an object': ['NewUser', [{ userName: 'x' }]],
      'HelloUser with numbers': ['HelloUser', [3, 4]],
      'SendSignal to an unknown connection id': ['SendSignal', ['{"type":"offer","sdp":""}', 'no-such-connection']],
      'HelloUser to an unknown connection id': ['HelloUser', [name, 'no-such-connection']],
    };
    for (const [what, [target, args]] of Object.entries(badCalls)) {
      test(what, async () => {
        const id = String(next++);
        await s.sendRecord(invocation(id, target, args));
        await expectCompletionError(s, id);
        assert.ok(s.isOpen);
        await stillWorks();
      });
    }

    test('unknown hub method', async () => {
      const id = String(next++);
      await s.sendRecord(invocation(id, 'NoSuchMethod', ['a']));
      const error = await expectCompletionError(s, id);
      assert.match(error, /unknown hub method/i);
      assert.match(error, /'NoSuchMethod'/);
      await stillWorks();
    });

    test('a bad non-blocking call (no invocationId) gets no answer at all', async () => {
      await s.sendRecord(invocation(null, 'SendSignal', ['only one']));
      await s.sendRecord(invocation(null, 'NoSuchMethod', []));
      // The next record is the Completion of the next valid call.
      await stillWorks();
    });

    test('method names match case-insensitively; Ping is accepted', async () => {
      await s.sendRecord({ type: 6 });
      const before = good.received('UserSaidHello').length;
      const id = String(next++);
      await s.sendRecord(invocation(id, 'hellouser', [name, good.id]));
      await expectCompletionOk(s, id);
      await good.waitForEvents('UserSaidHello', before + 1);
    });
  });

  describe('framing', () => {
    test('handshake and invocations in one frame; a record split across frames', async () => {
      const s = await RawSocket.open(wsUrl(hub));
      const before = good.received('SendSignal').length;
      const one = JSON.stringify(invocation('1', 'SendSignal', ['{"n":1}', good.id])) + RS;
      const two = JSON.stringify(invocation('2', 'SendSignal', ['{"n":2}', good.id])) + RS;
      const three = JSON.stringify(invocation('3', 'SendSignal', ['{"n":3}', good.id])) + RS;
      await s.send(HANDSHAKE + one + two + three.slice(0, 10));
      await sleep(50);
      await s.send(three.slice(10, 30));
      await sleep(50);
      await s.send(three.slice(30));
      assert.deepEqual(await s.next(), {});
      await expectCompletionOk(s, '1');
      await expectCompletionOk(s, '2');
      await expectCompletionOk(s, '3');
      const got = await good.waitForEvents('SendSignal', before + 3);
      assert.deepEqual(got.slice(before).map((e) => e.args[1]), ['{"n":1}', '{"n":2}', '{"n":3}']);
      s.terminate();
    });
  });

  describe('connection ids', () => {
    test('negotiate v1 and v0 replies', async () => {
      const v1 = await negotiate(hub, 1);
      assert.equal(v1.negotiateVersion, 1);
      assert.equal(typeof v1.connectionId, 'string');
      assert.equal(typeof v1.connectionToken, 'string');
      assert.notEqual(v1.connectionId, v1.connectionToken, 'the token is not the public id');
      assert.ok(v1.availableTransports.some((t) => t.transport === 'WebSockets' &&
        t.transferFormats.includes('Text')));
      const v0 = await negotiate(hub);
      assert.equal(typeof v0.connectionId, 'string');
      assert.ok(!('connectionToken' in v0), 'no token in a version 0 reply');
      assert.ok(v0.availableTransports.some((t) => t.transport === 'WebSockets'));
      assert.notEqual(v0.connectionId, v1.connectionId);
    });

    test('a WebSocket for an unknown id is refused with 404', async () => {
      assert.equal(await RawSocket.upgradeStatus(wsUrl(hub, 'id=unknown')), 404);
    });

    test('a second WebSocket for one negotiated id is refused with 409', async () => {
      const { connectionId, connectionToken } = await negotiate(hub, 1);
      const first = await handshaken(wsUrl(hub, `id=${encodeURIComponent(connectionToken)}`));
      assert.equal(await RawSocket.upgradeStatus(wsUrl(hub, `id=${encodeURIComponent(connectionToken)}`)), 409);
      // The first one still works, and others see it by its public id only.
      const before = good.received('NewUserArrived').length;
      await first.sendRecord(invocation('1', 'NewUser', ['negotiated']));
      await expectCompletionOk(first, '1');
      const got = await good.waitForEvents('NewUserArrived', before + 1);
      assert.equal(got[before].args[0], `{"userName":"negotiated","connectionId":"${connectionId}"}`);
      assert.ok(!got[before].args[0].includes(connectionToken));
      first.terminate();
      await waitFor(() => good.received('UserDisconnect').some((e) => e.args[0] === connectionId),
        'UserDisconnect for the negotiated connection');
    });

    test('a negotiate v0 id works as the WebSocket id', async () => {
      const { connectionId } = await negotiate(hub);
      const s = await handshaken(wsUrl(hub, `id=${encodeURIComponent(connectionId)}`));
      const before = good.received('NewUserArrived').length;
      await s.sendRecord(invocation('1', 'NewUser', ['v0']));
      await expectCompletionOk(s, '1');
      const got = await good.waitForEvents('NewUserArrived', before + 1);
      assert.equal(got[before].args[0], `{"userName":"v0","connectionId":"${connectionId}"}`);
      s.terminate();
    });
  });

  describe('many clients dropping at once', () => {
    test('200 sockets, half of them past the handshake, all terminated at once', async () => {
      await sleep(300); // let earlier disconnects reach `good` first
      const N = 200;
      const plans = [];
      const sockets = [];
      for (let i = 0; i < N; i++) {
        // 0: handshake; 1: handshake + NewUser; 2: nothing; 3: half a handshake
        const plan = i % 4;
        const { connectionId, connectionToken } = await negotiate(hub, 1);
        plans.push({ plan, connectionId });
        sockets.push(RawSocket.open(wsUrl(hub, `id=${encodeURIComponent(connectionToken)}`)));
      }
      const opened = await Promise.all(sockets);
      await Promise.all(opened.map(async (s, i) => {
        const { plan } = plans[i];
        if (plan === 0 || plan === 1) await s.handshake();
        if (plan === 1) {
          await s.sendRecord(invocation('1', 'NewUser', [`crowd-${i}`]));
          await expectCompletionOk(s, '1', { skipEvents: true });
        }
        if (plan === 3) await s.send(HANDSHAKE.slice(0, 12));
      }));
      const handshakenIds = new Set(plans.filter((p) => p.plan <= 1).map((p) => p.connectionId));
      const allIds = new Set(plans.map((p) => p.connectionId));
      assert.equal(handshakenIds.size, N / 2);

      for (const s of opened) s.terminate();

      const fromCrowd = () => good.received('UserDisconnect').filter((e) => allIds.has(e.args[0]));
      await waitFor(() => fromCrowd().length >= handshakenIds.size,
        `${handshakenIds.size} UserDisconnect (have ${fromCrowd().length})`, 20000);
      await sleep(500);
      const ids = fromCrowd().map((e) => e.args[0]);
      assert.equal(ids.length, handshakenIds.size, 'exactly one UserDisconnect per handshaken client');
      assert.deepEqual(new Set(ids), handshakenIds);

      assert.ok(hub.alive());
      const health = await request(`${hub.origin}/healthz`);
      assert.equal(health.status, 200);
      assert.equal(health.body.trim(), 'ok');
    });
  });

  describe('HTTP', () => {
    test('GET /healthz answers 200 ok', async () => {
      const res = await request(`${hub.origin}/healthz`);
      assert.equal(res.status, 200);
      assert.equal(res.body.trim(), 'ok');
    });

    test('GET /metrics gives Prometheus text with connection, message and error counters', async () => {
      const res = await request(`${hub.origin}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers['content-type'] || '', /^text\/plain/);
      const m = parseMetrics(res.body);
      for (const name of ['signalrtc_hub_connections', 'signalrtc_hub_connections_total',
        'signalrtc_hub_messages_received_total', 'signalrtc_hub_messages_sent_total',
        'signalrtc_hub_errors_total']) {
        assert.ok(name in m, `${name} in /metrics:\n${res.body}`);
      }
      assert.ok(m.signalrtc_hub_connections >= 1, 'the good client is connected');
      assert.ok(m.signalrtc_hub_connections < 10, `the dropped ones are gone (${m.signalrtc_hub_connections})`);
      assert.ok(m.signalrtc_hub_connections_total >= 100, 'handshakes completed');
      assert.ok(m.signalrtc_hub_messages_received_total >= 100);
      assert.ok(m.signalrtc_hub_messages_sent_total >= 100);
      assert.ok(m.signalrtc_hub_errors_total >= 5, 'the hostile input above counted as errors');
    });

    test('CORS: a listed origin is echoed with credentials; preflight answered', async () => {
      const res = await request(`${hub.url}/negotiate?negotiateVersion=1`, {
        method: 'POST', headers: { Origin: ALLOWED_ORIGIN },
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers['access-control-allow-origin'], ALLOWED_ORIGIN);
      assert.equal(res.headers['access-control-allow-credentials'], 'true');

      const pre = await request(`${hub.url}/negotiate?negotiateVersion=1`, {
        method: 'OPTIONS',
        headers: {
          Origin: ALLOWED_ORIGIN,
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'x-requested-with,x-signalr-user-agent',
        },
      });
      assert.ok(pre.status === 200 || pre.status === 204, `preflight status ${pre.status}`);
      assert.equal(pre.headers['access-control-allow-origin'], ALLOWED_ORIGIN);
      assert.equal(pre.headers['access-control-allow-credentials'], 'true');
      assert.match(pre.headers['access-control-allow-methods'] || '', /POST/);
      const allowed = (pre.headers['access-control-allow-headers'] || '').toLowerCase();
      for (const h of ['x-requested-with', 'x-signalr-user-agent']) {
        assert.ok(allowed.includes(h), `preflight allows ${h} (got "${allowed}")`);
      }
    });

    test('CORS: the connection of a preflight stays usable (HTTP keep-alive)', async () => {
      // Browsers send the POST right after its preflight, on the same
      // connection; the hub must not drop that connection unannounced.
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const url = `${hub.url}/negotiate?negotiateVersion=1`;
        const pre = await request(url, {
          method: 'OPTIONS',
          agent,
          headers: { Origin: ALLOWED_ORIGIN, 'Access-Control-Request-Method': 'POST' },
        });
        assert.ok(pre.status === 200 || pre.status === 204, `preflight status ${pre.status}`);
        const closesAfter = /close/i.test(pre.headers.connection || '');
        const res = await request(url, { method: 'POST', agent, headers: { Origin: ALLOWED_ORIGIN } })
          .catch((err) => assert.fail(`POST after the preflight (response had ` +
            `"Connection: ${pre.headers.connection}"): ${err.message}`));
        assert.equal(res.status, 200);
        if (!closesAfter) assert.equal(res.socket, pre.socket, 'the same connection was reused');
      } finally {
        agent.destroy();
      }
    });

    test('CORS: an unlisted origin is refused with 403 and no Access-Control-Allow-Origin', async () => {
      // README: "requests from origins not in the list are refused with 403":
      // negotiate (its POST, the preflight, any other method) and the hub's
      // WebSocket, with and without a negotiated id.
      const evil = 'http://evil.signalrtc.test';
      const upgrade = {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
      };
      const negotiated = JSON.parse((await request(`${hub.url}/negotiate?negotiateVersion=1`,
        { method: 'POST' })).body).connectionToken;
      const cases = [
        ['POST', `${hub.url}/negotiate?negotiateVersion=1`, {}],
        ['OPTIONS', `${hub.url}/negotiate?negotiateVersion=1`, { 'Access-Control-Request-Method': 'POST' }],
        ['GET', `${hub.url}/negotiate?negotiateVersion=1`, {}],
        ['GET', hub.url, upgrade],
        ['GET', `${hub.url}?id=${negotiated}`, upgrade],
      ];
      for (const [method, url, headers] of cases) {
        const what = `${method} ${new URL(url).pathname}${headers.Upgrade ? ' (WebSocket)' : ''}`;
        const res = await request(url, { method, headers: { Origin: evil, ...headers } });
        assert.equal(res.status, 403, `${what}: status`);
        assert.equal(res.headers['access-control-allow-origin'], undefined, `${what}: no ACAO`);
        assert.equal(res.headers['access-control-allow-credentials'], undefined, `${what}: no ACAC`);
      }
    });
  });

  describe('the well-behaved client noticed nothing', () => {
    test('still connected, still gets NewUserArrived and SendSignal', async () => {
      assert.equal(good.closed, null, 'the good client was never disconnected');
      const other = await connect('microsoft', 'good2', hub.url);
      const arrived = good.received('NewUserArrived').length;
      const signals = good.received('SendSignal').length;
      await other.invoke('NewUser', 'good2');
      const got = await good.waitForEvents('NewUserArrived', arrived + 1);
      assert.equal(got[arrived].args[0], `{"userName":"good2","connectionId":"${other.id}"}`);
      const signal = JSON.stringify({ type: 'answer', sdp: 'v=0\r\n' });
      await other.invoke('SendSignal', signal, good.id);
      const sig = await good.waitForEvents('SendSignal', signals + 1);
      assert.deepEqual(sig[signals].args, [other.id, signal]);
      await other.stop();
      assert.equal(good.closed, null);
    });
  });
});

describe('handshake timeout (--handshake-timeout 1)', () => {
  let hub;
  before(async () => { hub = await startHub(['--handshake-timeout', '1']); });
  after(async () => { if (hub) await hub.stop(); });

  test('a handshake without its separator, then silence: closed after the timeout', async () => {
    const s = await RawSocket.open(wsUrl(hub));
    const t0 = Date.now();
    await s.send('{"protocol":"json","version":1}');
    await s.waitClosed(6000);
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 700, `closed after ${elapsed} ms, not before the timeout`);
  });

  test('silence from the start: closed after the timeout', async () => {
    const s = await RawSocket.open(wsUrl(hub));
    const t0 = Date.now();
    await s.waitClosed(6000);
    assert.ok(Date.now() - t0 >= 700);
  });

  test('a client that completes the handshake in time stays', async () => {
    const s = await handshaken(wsUrl(hub));
    await sleep(1800);
    assert.ok(s.isOpen);
    s.terminate();
  });
});

describe('keep-alive and client timeout (--keep-alive 0.3 --client-timeout 1)', () => {
  let hub;
  before(async () => {
    hub = await startHub(['--keep-alive', '0.3', '--client-timeout', '1']);
  });
  after(async () => { if (hub) await hub.stop(); });

  test('the hub pings a client it has nothing else to send', async () => {
    const s = await handshaken(wsUrl(hub));
    const ping = await s.next(3000, { keepPings: true });
    assert.deepEqual(ping, { type: 6 });
    s.terminate();
  });

  test('a client that pinged once and then went silent is dropped', async () => {
    const s = await handshaken(wsUrl(hub));
    await s.sendRecord({ type: 6 });
    await s.waitClosed(5000);
  });

  test('a client that never pings (as @aspnet/signalr 1.x) is never timed out', async () => {
    const s = await handshaken(wsUrl(hub));
    await sleep(2500);
    assert.ok(s.isOpen, 'still open after 2.5 client timeouts');
    s.terminate();
  });

  test('a client that keeps pinging stays', async () => {
    const s = await handshaken(wsUrl(hub));
    for (let i = 0; i < 10; i++) {
      await sleep(250);
      await s.sendRecord({ type: 6 });
    }
    assert.ok(s.isOpen);
    s.terminate();
  });
});

// Found by tests/bench/run-soak: every client that came and went left a
// socket in CLOSE_WAIT and an open fd in the hub (libsoup 3.2's server
// never notices a keep-alive connection closed between two requests).
describe('clients that come and go leave nothing open in the hub', () => {
  let hub;
  before(async () => { hub = await startHub(); });
  after(async () => { if (hub) await hub.stop(); });

  const fds = () => readdirSync(`/proc/${hub.pid}/fd`).length;
  // The hub's own end of its connections that the client closed and it
  // did not: state 08 in /proc/PID/net/tcp, the hub's port as local port.
  const closeWait = () => {
    const port = `:${hub.port.toString(16).toUpperCase().padStart(4, '0')}`;
    return readFileSync(`/proc/${hub.pid}/net/tcp`, 'utf8').split('\n').slice(1)
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f.length > 3 && f[1].endsWith(port) && f[3] === '08').length;
  };

  test('20 keep-alive HTTP clients and 20 WebSockets, all gone: fds back where they were', async () => {
    assert.equal((await request(`${hub.origin}/healthz`)).status, 200);
    await sleep(200);
    const before = fds();
    for (let i = 0; i < 20; i++) {
      // A browser tab: keep-alive requests, then the tab goes away.
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      assert.equal((await request(`${hub.origin}/healthz`, { agent })).status, 200);
      await negotiate(hub, 1);
      agent.destroy();
      const s = await handshaken(wsUrl(hub));
      s.terminate();
    }
    await waitFor(() => fds() <= before && closeWait() === 0,
      `the hub's fds back to ${before} (now ${fds()}, ${closeWait()} in CLOSE_WAIT)`,
      5000, 50);
  });
});
