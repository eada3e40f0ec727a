// The original app's flow, with the stock SignalR JavaScript clients against a
// real signalrtc-hub: three users announce themselves, greet each other, trade
// simple-peer signals and leave. Run once per client kind, and once with
// the kinds mixed in one call.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub, sleep, waitFor } from './lib/hub.js';
import { connect } from './lib/clients.js';

// Time given to a message that must NOT arrive before we say it did not.
const SETTLE_MS = 250;

const RUNS = {
  '@microsoft/signalr, negotiate v1': ['microsoft', 'microsoft', 'microsoft'],
  '@microsoft/signalr, skipNegotiation + WebSockets': ['microsoft-direct', 'microsoft-direct', 'microsoft-direct'],
  '@aspnet/signalr 1.1.4, negotiate v0': ['aspnet', 'aspnet', 'aspnet'],
  'mixed: @aspnet 1.x, @microsoft negotiated, @microsoft direct': ['aspnet', 'microsoft', 'microsoft-direct'],
};

const NAMES = ['alice', 'bob', 'carol'];

// The exact userInfoJson string the original ASP.NET hub sends.
function userInfo (name, id) {
  return `{"userName":"${name}","connectionId":"${id}"}`;
}

// A simple-peer signal as the browser sends it: JSON text holding JSON, with
// quotes, backslashes, CRLF, control characters and non-ASCII text.
function offerSignal (from, to) {
  return JSON.stringify({
    type: 'offer',
    sdp: `v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n` +
      `a=group:BUNDLE 0 1\r\na=msid-semantic: WMS ${from}\r\n` +
      `m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n`,
    note: `from ${from} to ${to}: "quoted" 'single' back\\slash / slash`,
    unicode: 'héllo wörld ✓ 日本語 🎥📞',
    control: 'tab\there\u0001\u001f\u001e end',
    nested: JSON.stringify({ candidate: { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 54400 typ host', sdpMLineIndex: 0, sdpMid: '0' } }),
  });
}

for (const [runName, kinds] of Object.entries(RUNS)) {
  describe(runName, () => {
    let hub;
    const users = [];
    const byName = {};

    before(async () => {
      hub = await startHub();
      for (let i = 0; i < NAMES.length; i++) {
        const c = await connect(kinds[i], NAMES[i], hub.url);
        users.push(c);
        byName[c.name] = c;
      }
    });

    after(async () => {
      for (const c of users) {
        if (!c.closed) await c.stop().catch(() => {});
      }
      if (hub) {
        const { code, signal } = await hub.stop();
        assert.equal(signal, null, 'hub must exit by itself on SIGTERM');
        assert.equal(code, 0, 'hub exit code after SIGTERM');
      }
    });

    test('the clients that negotiated know distinct connection ids', () => {
      for (const c of users) {
        if (c.kind === 'microsoft-direct') {
          assert.equal(c.id, null);
        } else {
          assert.equal(typeof c.id, 'string');
          assert.ok(c.id.length > 0);
        }
      }
      const known = users.filter((c) => c.id).map((c) => c.id);
      assert.equal(new Set(known).size, known.length, 'ids must be distinct');
    });

    test('NewUser reaches the two others as an exact userInfoJson string, not the caller', async () => {
      for (let i = 0; i < users.length; i++) {
        const caller = users[i];
        const others = users.filter((c) => c !== caller);
        const before = others.map((c) => c.received('NewUserArrived').length);
        const result = await caller.invoke('NewUser', caller.name);
        assert.ok(result === null || result === undefined, `NewUser result ${result}`);
        // The caller's Completion came after anything the hub sent it before.
        assert.equal(caller.received('NewUserArrived').length, i,
          `${caller.name} must not hear its own NewUserArrived`);
        const got = [];
        for (let k = 0; k < others.length; k++) {
          const events = await others[k].waitForEvents('NewUserArrived', before[k] + 1);
          assert.equal(events.length, before[k] + 1, `${others[k].name}: one NewUserArrived per NewUser`);
          const args = events[before[k]].args;
          assert.equal(args.length, 1);
          assert.equal(typeof args[0], 'string', 'userInfoJson is a JSON string argument');
          got.push(args[0]);
        }
        if (caller.id === null) {
          // A direct connection learns nothing of its id; take it from the
          // event, check its shape, then hold the hub to it from now on.
          const info = JSON.parse(got[0]);
          assert.deepEqual(Object.keys(info), ['userName', 'connectionId']);
          assert.equal(typeof info.connectionId, 'string');
          assert.ok(info.connectionId.length > 0);
          assert.ok(!users.some((c) => c.id === info.connectionId), 'a new, distinct id');
          caller.id = info.connectionId;
        }
        for (const s of got) assert.equal(s, userInfo(caller.name, caller.id));
      }
      await sleep(SETTLE_MS);
      for (const c of users) {
        const names = c.received('NewUserArrived').map((e) => JSON.parse(e.args[0]).userName);
        assert.deepEqual(names, NAMES.filter((n) => n !== c.name),
          `${c.name} hears every other user once, in order`);
      }
    });

    test('HelloUser reaches only its target, with the caller\'s info', async () => {
      // As the app does: each user answers a later arrival with HelloUser.
      for (let i = 0; i < users.length; i++) {
        for (let j = i + 1; j < users.length; j++) {
          const result = await users[i].invoke('HelloUser', users[i].name, users[j].id);
          assert.ok(result === null || result === undefined);
          const got = await users[j].waitForEvents('UserSaidHello', i + 1);
          assert.deepEqual(got[i].args, [userInfo(users[i].name, users[i].id)]);
        }
      }
      await sleep(SETTLE_MS);
      assert.deepEqual(byName.alice.received('UserSaidHello'), []);
      assert.deepEqual(byName.bob.received('UserSaidHello').map((e) => e.args),
        [[userInfo('alice', byName.alice.id)]]);
      assert.deepEqual(byName.carol.received('UserSaidHello').map((e) => e.args),
        [[userInfo('alice', byName.alice.id)], [userInfo('bob', byName.bob.id)]]);
    });

    test('SendSignal reaches only its target as (fromId, signal), signal byte-identical', async () => {
      const expected = new Map(users.map((c) => [c, []]));
      for (const from of users) {
        for (const to of users) {
          if (from === to) continue;
          const signal = offerSignal(from.name, to.name);
          const result = await from.invoke('SendSignal', signal, to.id);
          assert.ok(result === null || result === undefined);
          expected.get(to).push([from.id, signal]);
          const got = await to.waitForEvents('SendSignal', expected.get(to).length);
          const last = got[got.length - 1].args;
          assert.equal(last.length, 2);
          assert.equal(last[0], from.id, 'first argument: the sender\'s bare connection id');
          assert.equal(last[1], signal, 'second argument: the signal, unchanged');
        }
      }
      await sleep(SETTLE_MS);
      for (const c of users) {
        assert.deepEqual(c.received('SendSignal').map((e) => e.args), expected.get(c),
          `${c.name} gets exactly the signals sent to it`);
      }
    });

    test('50 SendSignal invokes in a row all resolve and arrive in order', async () => {
      const from = byName.carol;
      const to = byName.alice;
      const start = to.received('SendSignal').length;
      const signals = Array.from({ length: 50 }, (_, i) => JSON.stringify({
        type: 'candidate',
        candidate: { candidate: `candidate:${i} 1 udp 2122260223 127.0.0.1 ${50000 + i} typ host`, sdpMLineIndex: 0, sdpMid: '0' },
      }));
      const results = await Promise.all(signals.map((s) => from.invoke('SendSignal', s, to.id)));
      assert.equal(results.length, 50);
      const got = (await to.waitForEvents('SendSignal', start + 50)).slice(start);
      assert.deepEqual(got.map((e) => e.args), signals.map((s) => [from.id, s]));
      await sleep(SETTLE_MS);
      assert.equal(to.received('SendSignal').length, start + 50);
      assert.equal(byName.bob.received('SendSignal').length, 2, 'bob got none of them');
    });

    test('stop() makes the hub send UserDisconnect(bare id) to the others', async () => {
      for (const c of users) assert.equal(c.closed, null, `${c.name} is still connected`);
      const { alice, bob, carol } = byName;
      await bob.stop();
      for (const c of [alice, carol]) {
        const got = await c.waitForEvents('UserDisconnect', 1);
        assert.deepEqual(got.map((e) => e.args), [[bob.id]]);
      }
      await carol.stop();
      const got = await alice.waitForEvents('UserDisconnect', 2);
      assert.deepEqual(got.map((e) => e.args), [[bob.id], [carol.id]]);
      await sleep(SETTLE_MS);
      assert.equal(alice.received('UserDisconnect').length, 2);
      assert.equal(carol.received('UserDisconnect').length, 1);
      assert.equal(alice.closed, null, 'alice stays connected');
      // alice is alone and can still call the hub.
      await assert.rejects(alice.invoke('SendSignal', '{}', bob.id),
        'a signal to a user who left gets an error Completion');
      await alice.invoke('NewUser', 'alice');
    });
  });
}

describe('hub shutdown', () => {
  test('SIGTERM closes every client and the hub exits 0', async () => {
    const hub = await startHub();
    const clients = [
      await connect('microsoft', 'dave', hub.url),
      await connect('aspnet', 'erin', hub.url),
      await connect('microsoft-direct', 'frank', hub.url),
    ];
    await clients[0].invoke('NewUser', 'dave');
    const { code, signal } = await hub.stop();
    assert.equal(signal, null, 'the hub handles SIGTERM and exits by itself');
    assert.equal(code, 0);
    for (const c of clients) {
      await waitFor(() => c.closed, `${c.name} (${c.kind}) to see its connection closed`);
    }
  });
});
