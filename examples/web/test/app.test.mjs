// Runs the built app in node against an in-process fake hub and fake WebRTC
// (see fake-browser.mjs). It checks that the bundle loads without node's
// globals and that the client speaks the SignalRtc protocol as specified;
// real media and real browsers are the job of the project's Chromium tests.
//
//   npm run build && npm test

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, before, describe, test } from 'node:test';
import vm from 'node:vm';
import { distDir, openPage, sleep, waitFor } from './fake-browser.mjs';
import { FakeHub } from './fake-hub.mjs';
import { ManualTimers } from './manual-timers.mjs';

const BASE = 'http://example.test/app/';

let hub;
let pages = [];

before(() => {
  assert.ok(existsSync(path.join(distDir, 'index.html')), `no build in ${distDir}: run npm run build first`);
});

afterEach(async () => {
  hub?.closeAll();
  await sleep(20);
  for (const page of pages) page.close();
  pages = [];
});


async function open(query, options) {
  const page = await openPage(`${BASE}?${query}`, hub, options);
  pages.push(page);
  return page;
}

async function join(name, extra = '', options = undefined) {
  const page = await open(`name=${name}&autojoin=1${extra}`, options);
  await waitFor(() => page.document.body.getAttribute('data-joined') === '1', `${name} joined`);
  return page;
}

/** Objects from the page's realm have other prototypes: compare plain copies. */
const plain = (value) => JSON.parse(JSON.stringify(value));
const userEntry = (page, name) => page.$(`#users [data-user="${name}"]`);
const tile = (page, name) => page.$(`#calls .call[data-user="${name}"]`);
const notices = (page) => page.$$('#notice .notice').map((n) => n.textContent);
const signalsFrom = (name) =>
  hub.invocations.filter((i) => i.from === hub.idOf(name) && i.target === 'SendSignal');

async function call(from, to, toName) {
  userEntry(from, toName).querySelector('button[data-action="call"]').click();
  await waitFor(() => !to.$('#incoming').hidden, `${toName} is rung`);
}

async function connected(a, aName, b, bName) {
  await waitFor(() => tile(a, bName)?.dataset.state === 'connected', `${aName}'s call with ${bName} connected`);
  await waitFor(() => tile(b, aName)?.dataset.state === 'connected', `${bName}'s call with ${aName} connected`);
}

function chat(page, name, text) {
  const t = tile(page, name);
  t.querySelector('input.chat-input').value = text;
  t.querySelector('button[data-action="send"]').click();
}

describe('signalrtc web client (built bundle, fake browser)', () => {
  test('the bundle loads with no node globals and installs the test hook', async () => {
    hub = new FakeHub();
    const page = await open('');
    for (const name of ['process', 'global', 'Buffer', 'require', 'module']) {
      assert.equal(vm.runInContext(`typeof ${name}`, page.context), 'undefined', name);
    }
    const app = page.window.signalrtcApp;
    assert.equal(typeof app.calls, 'function');
    assert.equal(typeof app.peerConnection, 'function');
    assert.equal(typeof app.inboundStats, 'function');
    assert.equal(typeof app.outboundStats, 'function');
    assert.equal(app.peer('nobody'), null);
    assert.equal(app.myConnectionId(), null);
    assert.deepEqual(Object.keys(app.marks).sort(), ['accepted', 'callClicked', 'connected', 'firstFrame', 'offerSent']);
    assert.ok(Array.isArray(app.log));
    assert.deepEqual(plain(app.calls()), []);
    assert.equal(page.$('#incoming').hidden, true);
    assert.equal(page.document.body.getAttribute('data-joined'), null);
    assert.deepEqual(page.consoleErrors, []);
  });

  test('joins with either client library; hub URL next to the page', async () => {
    hub = new FakeHub();
    const alice = await join('alice');
    assert.equal(alice.$('#me').textContent, 'alice');
    assert.equal(alice.window.signalrtcApp.myConnectionId(), hub.idOf('alice'));
    assert.equal(alice.fetched[0].url, `${BASE}signalrtc/negotiate?negotiateVersion=1`);
    const bob = await join('bob', '&client=aspnet');
    assert.equal(bob.fetched[0].url, `${BASE}signalrtc/negotiate`);
    assert.equal(bob.$('#name').value, 'bob');
    await waitFor(() => userEntry(alice, 'bob'), 'alice lists bob');
    await waitFor(() => userEntry(bob, 'alice'), 'bob lists alice');
    assert.equal(userEntry(alice, 'bob').dataset.connectionId, hub.idOf('bob'));
    assert.equal(userEntry(bob, 'alice').dataset.connectionId, hub.idOf('alice'));
    // NewUser, then HelloUser(name, newcomer) in answer to NewUserArrived.
    const hello = hub.invocations.find((i) => i.target === 'HelloUser');
    assert.deepEqual(hello.args, ['alice', hub.idOf('bob')]);
    assert.deepEqual(notices(alice), []);
  });

  test('media falls back to camera only, then to receive-only, with a notice', async () => {
    hub = new FakeHub();
    const cam = await join('cam', '', { devices: ['video'] });
    assert.match(notices(cam).join('\n'), /joining with camera only/);
    assert.equal(cam.$('#mute-audio').disabled, true);
    assert.equal(cam.$('#mute-video').disabled, false);
    const none = await join('none', '', { devices: [] });
    assert.match(notices(none).join('\n'), /joining with no camera or microphone/);
    const old = await join('old', '', { devices: null });
    assert.match(notices(old).join('\n'), /joining with no camera or microphone/);
    // The receive-only side still asks for audio and video in its offer.
    await waitFor(() => userEntry(none, 'cam'), 'none lists cam');
    await call(none, cam, 'cam');
    cam.$('#accept').click();
    await connected(none, 'none', cam, 'cam');
    const pc = none.window.signalrtcApp.peerConnection(hub.idOf('cam'));
    assert.deepEqual(plain(pc.offerOptions), { offerToReceiveAudio: true, offerToReceiveVideo: true });
    await waitFor(() => tile(none, 'cam').querySelector('video.remote').srcObject, 'cam video shown');
  });

  test('call, accept, chat both ways, hang up', async () => {
    hub = new FakeHub();
    const timers = new ManualTimers();
    const alice = await join('alice', '', { timers });
    const bob = await join('bob', '&client=aspnet');
    await waitFor(() => userEntry(alice, 'bob'), 'alice lists bob');
    const aliceId = hub.idOf('alice');
    const bobId = hub.idOf('bob');

    await call(alice, bob, 'bob');
    assert.equal(tile(alice, 'bob').dataset.state, 'calling');
    assert.equal(tile(alice, 'bob').dataset.connectionId, bobId);
    assert.equal(bob.$('#incoming [data-caller]').textContent, 'alice');
    // Every SendSignal is (JSON of one simple-peer signal, target id).
    const [first] = signalsFrom('alice');
    assert.equal(first.args[1], bobId);
    assert.equal(JSON.parse(first.args[0]).type, 'offer');
    // The candidates trickled before the answer are kept for the callee.
    await waitFor(() => signalsFrom('alice').some((s) => JSON.parse(s.args[0]).type === 'candidate'), 'a candidate');
    await sleep(20);

    bob.$('#accept').click();
    assert.equal(bob.$('#incoming').hidden, true);
    await connected(alice, 'alice', bob, 'bob');
    assert.equal(bob.window.signalrtcApp.peer(aliceId).connected, true);
    const bobPc = bob.window.signalrtcApp.peerConnection(aliceId);
    assert.ok(bobPc.candidatesAdded.length >= 1, 'buffered candidate reached the callee');

    const marksA = alice.window.signalrtcApp.marks;
    const marksB = bob.window.signalrtcApp.marks;
    assert.ok(marksA.callClicked[bobId] <= marksA.offerSent[bobId]);
    assert.ok(marksA.offerSent[bobId] <= marksA.connected[bobId]);
    assert.ok(marksB.accepted[aliceId] <= marksB.connected[aliceId]);
    assert.deepEqual(plain(alice.window.signalrtcApp.calls()), [
      { userName: 'bob', connectionId: bobId, state: 'connected' },
    ]);
    // Remote media attached, first frame marked.
    const remoteVideo = tile(alice, 'bob').querySelector('video.remote');
    await waitFor(() => marksA.firstFrame[bobId], 'first frame');
    assert.deepEqual(
      remoteVideo.srcObject.getTracks().map((t) => t.kind).sort(),
      ['audio', 'video'],
    );
    assert.equal(remoteVideo.autoplay, true);
    assert.equal(remoteVideo.playsInline, true);
    const stats = await alice.window.signalrtcApp.inboundStats(bobId);
    assert.deepEqual(plain(stats), { video: null, audio: null });

    chat(alice, 'bob', 'hello bob');
    await waitFor(() => tile(bob, 'alice').querySelector('.chat-log .msg.in'), 'bob gets the message');
    assert.equal(tile(bob, 'alice').querySelector('.msg.in').textContent, 'hello bob');
    assert.equal(tile(alice, 'bob').querySelector('.msg.out').textContent, 'hello bob');
    // Enter in the input submits the form too.
    const input = tile(bob, 'alice').querySelector('input.chat-input');
    input.value = 'hi alice';
    input.closest('form').requestSubmit();
    await waitFor(() => tile(alice, 'bob').querySelector('.msg.in'), 'alice gets the reply');
    assert.equal(tile(alice, 'bob').querySelector('.msg.in').textContent, 'hi alice');
    assert.equal(input.value, '');

    tile(bob, 'alice').querySelector('button[data-action="hangup"]').click();
    assert.equal(tile(bob, 'alice').dataset.state, 'ended');
    await waitFor(() => tile(alice, 'bob').dataset.state === 'ended', 'alice sees the hang-up');
    assert.ok(notices(alice).includes('bob hung up'), notices(alice).join('|'));
    assert.ok(notices(bob).includes('Call with alice ended'));
    timers.advance(2999);
    assert.equal(tile(alice, 'bob')?.dataset.state, 'ended', 'the ended tile stays 3 s');
    timers.advance(1);
    assert.equal(tile(alice, 'bob'), null, 'ended tile removed after 3 s');
    assert.deepEqual(plain(alice.window.signalrtcApp.calls()), []);
    // Nothing but simple-peer signals went through SendSignal.
    for (const s of hub.invocations.filter((i) => i.target === 'SendSignal')) {
      const signal = JSON.parse(s.args[0]);
      assert.ok(['offer', 'answer', 'candidate'].includes(signal.type), s.args[0]);
    }
    assert.deepEqual([...alice.consoleErrors, ...bob.consoleErrors], []);
  });

  test('decline, no answer, then a new offer rings again', async () => {
    hub = new FakeHub();
    const timers = new ManualTimers();
    const alice = await join('alice', '&answerTimeout=0.3', { timers });
    const bob = await join('bob');
    await waitFor(() => userEntry(alice, 'bob'), 'alice lists bob');

    await call(alice, bob, 'bob');
    bob.$('#decline').click();
    assert.equal(bob.$('#incoming').hidden, true);
    timers.advance(299);
    assert.equal(tile(alice, 'bob').dataset.state, 'calling');
    timers.advance(1);
    assert.equal(tile(alice, 'bob').dataset.state, 'ended', 'the call times out after 0.3 s');
    assert.ok(notices(alice).includes('No answer from bob'));
    assert.equal(tile(bob, 'alice'), null);

    await call(alice, bob, 'bob');
    bob.$('#accept').click();
    await connected(alice, 'alice', bob, 'bob');
  });

  test('an unanswered prompt goes away: missed call, or the caller leaves', async () => {
    hub = new FakeHub();
    const timers = new ManualTimers();
    const alice = await join('alice');
    const bob = await join('bob', '&answerTimeout=0.2', { timers });
    await waitFor(() => userEntry(alice, 'bob'), 'alice lists bob');
    await call(alice, bob, 'bob');
    timers.advance(199);
    assert.equal(bob.$('#incoming').hidden, false);
    timers.advance(1);
    assert.equal(bob.$('#incoming').hidden, true, 'the prompt expires after 0.2 s');
    assert.ok(notices(bob).includes('Missed call from alice'));

    tile(alice, 'bob').querySelector('button[data-action="hangup"]').click();
    await call(alice, bob, 'bob');
    hub.disconnect(hub.idOf('alice'));
    await waitFor(() => bob.$('#incoming').hidden, 'the prompt goes with the caller');
    assert.equal(userEntry(bob, 'alice'), null);
  });

  test('several callers are prompted one at a time', async () => {
    hub = new FakeHub();
    const bob = await join('bob');
    const carol = await join('carol');
    const dave = await join('dave');
    await waitFor(() => userEntry(carol, 'bob') && userEntry(dave, 'bob'), 'bob listed');

    await call(carol, bob, 'bob');
    userEntry(dave, 'bob').querySelector('button[data-action="call"]').click();
    await waitFor(() => signalsFrom('dave').length > 0, 'dave offers');
    await sleep(20);
    assert.equal(bob.$('#incoming [data-caller]').textContent, 'carol');
    bob.$('#decline').click();
    assert.equal(bob.$('#incoming').hidden, false);
    assert.equal(bob.$('#incoming [data-caller]').textContent, 'dave');
    bob.$('#accept').click();
    assert.equal(bob.$('#incoming').hidden, true);
    await connected(bob, 'bob', dave, 'dave');
    assert.equal(tile(bob, 'carol'), null);
  });

  test('autoaccept=1 answers every caller at once, with no prompt', async () => {
    hub = new FakeHub();
    const bob = await join('bob', '&autoaccept=1');
    const carol = await join('carol');
    const dave = await join('dave');
    await waitFor(() => userEntry(carol, 'bob') && userEntry(dave, 'bob'), 'bob listed');

    userEntry(carol, 'bob').querySelector('button[data-action="call"]').click();
    userEntry(dave, 'bob').querySelector('button[data-action="call"]').click();
    await connected(carol, 'carol', bob, 'bob');
    await connected(dave, 'dave', bob, 'bob');
    assert.equal(bob.$('#incoming').hidden, true);
    const marks = bob.window.signalrtcApp.marks;
    for (const name of ['carol', 'dave']) {
      const id = hub.idOf(name);
      assert.ok(marks.accepted[id] <= marks.connected[id], name);
    }
    // Hung up and called again: answered again.
    tile(carol, 'bob').querySelector('button[data-action="hangup"]').click();
    await waitFor(() => tile(bob, 'carol')?.dataset.state === 'ended', 'bob sees the hang-up');
    userEntry(carol, 'bob').querySelector('button[data-action="call"]').click();
    await connected(carol, 'carol', bob, 'bob');
    assert.equal(bob.$('#incoming').hidden, true);
    assert.deepEqual([...bob.consoleErrors, ...carol.consoleErrors, ...dave.consoleErrors], []);
  });

  test('several calls at once, one tile each', async () => {
    hub = new FakeHub();
    const alice = await join('alice');
    const bob = await join('bob');
    const carol = await join('carol');
    await waitFor(() => userEntry(alice, 'bob') && userEntry(alice, 'carol'), 'alice lists both');
    await call(alice, bob, 'bob');
    bob.$('#accept').click();
    await call(alice, carol, 'carol');
    carol.$('#accept').click();
    await connected(alice, 'alice', bob, 'bob');
    await connected(alice, 'alice', carol, 'carol');
    assert.equal(alice.$$('#calls .call').length, 2);
    chat(alice, 'carol', 'only for carol');
    await waitFor(() => tile(carol, 'alice').querySelector('.msg.in'), 'carol gets it');
    assert.equal(tile(bob, 'alice').querySelector('.msg.in'), null);
  });

  test('UserDisconnect drops only that connection (names may repeat) and ends its call', async () => {
    hub = new FakeHub();
    const alice = await join('alice');
    const bob1 = await join('bob');
    const bob2 = await join('bob');
    await waitFor(() => alice.$$('#users [data-user="bob"]').length === 2, 'two bobs');
    const [id1, id2] = alice.$$('#users [data-user="bob"]').map((e) => e.dataset.connectionId);
    const first = id1 === hub.idOf('bob') ? bob1 : bob2;
    alice.$(`#users [data-connection-id="${id1}"] button[data-action="call"]`).click();
    await waitFor(() => !first.$('#incoming').hidden, 'bob rung');
    first.$('#accept').click();
    await waitFor(() => alice.$(`#calls .call[data-connection-id="${id1}"]`)?.dataset.state === 'connected', 'connected');

    hub.disconnect(id1);
    await waitFor(() => alice.$$('#users [data-user="bob"]').length === 1, 'one bob left');
    assert.equal(alice.$('#users [data-user="bob"]').dataset.connectionId, id2);
    await waitFor(() => alice.$(`#calls .call[data-connection-id="${id1}"]`)?.dataset.state === 'ended', 'call ended');
    assert.ok(notices(alice).includes('bob left'));
  });

  test('bad signals and unknown ids are logged and ignored', async () => {
    hub = new FakeHub();
    const alice = await join('alice');
    const id = hub.idOf('alice');
    hub.send(id, 'SendSignal', ['nobody', 'not json']);
    hub.send(id, 'SendSignal', ['nobody', '{"foo":1}']);
    hub.send(id, 'SendSignal', ['nobody', JSON.stringify({ type: 'candidate', candidate: { candidate: 'x' } })]);
    hub.send(id, 'UserDisconnect', ['nobody']);
    hub.send(id, 'NewUserArrived', ['{broken']);
    await sleep(30);
    assert.equal(alice.$$('#calls .call').length, 0);
    assert.equal(alice.$('#incoming').hidden, true);
    assert.equal(alice.window.signalrtcApp.log.filter((l) => l.startsWith('error signal')).length, 3);
    // An offer from an id not in the list still rings (named by its id).
    hub.send(id, 'SendSignal', ['stranger', JSON.stringify({ type: 'offer', sdp: 'v=0 garbage' })]);
    await waitFor(() => !alice.$('#incoming').hidden, 'rung');
    assert.equal(alice.$('#incoming [data-caller]').textContent, 'stranger');
    // Accepting an unusable offer fails that call only.
    alice.$('#accept').click();
    await waitFor(() => tile(alice, 'stranger')?.dataset.state === 'ended', 'the call fails');
    assert.match(notices(alice).at(-1), /^Call with stranger failed/);
  });

  test('crossed calls end up as one call', async () => {
    hub = new FakeHub();
    const alice = await join('alice');
    const bob = await join('bob');
    await waitFor(() => userEntry(alice, 'bob') && userEntry(bob, 'alice'), 'both listed');
    userEntry(alice, 'bob').querySelector('button[data-action="call"]').click();
    userEntry(bob, 'alice').querySelector('button[data-action="call"]').click();
    await connected(alice, 'alice', bob, 'bob');
    assert.equal(alice.$$('#calls .call').length, 1);
    assert.equal(bob.$$('#calls .call').length, 1);
    assert.equal(bob.$('#incoming').hidden, true);
    assert.equal(alice.$('#incoming').hidden, true);
  });

  test('mute toggles set aria-pressed and track.enabled', async () => {
    hub = new FakeHub();
    const alice = await join('alice');
    const local = alice.$('video#local');
    assert.equal(local.muted, true);
    const stream = local.srcObject;
    for (const kind of ['audio', 'video']) {
      const button = alice.$(`#mute-${kind}`);
      const track = stream.getTracks().find((t) => t.kind === kind);
      assert.equal(button.getAttribute('aria-pressed'), 'false');
      button.click();
      assert.equal(button.getAttribute('aria-pressed'), 'true');
      assert.equal(track.enabled, false);
      button.click();
      assert.equal(button.getAttribute('aria-pressed'), 'false');
      assert.equal(track.enabled, true);
    }
  });

  test('ICE servers: none by default, from ?ice=, saved from the settings panel', async () => {
    hub = new FakeHub();
    const ice = [{ urls: 'stun:stun.invalid:3478' }];
    const alice = await join('alice', `&ice=${encodeURIComponent(JSON.stringify(ice))}`);
    const bob = await join('bob');
    await waitFor(() => userEntry(alice, 'bob') && userEntry(bob, 'alice'), 'both listed');
    await call(alice, bob, 'bob');
    bob.$('#accept').click();
    await connected(alice, 'alice', bob, 'bob');
    const pcA = alice.window.signalrtcApp.peerConnection(hub.idOf('bob'));
    const pcB = bob.window.signalrtcApp.peerConnection(hub.idOf('alice'));
    assert.deepEqual(plain(pcA.config.iceServers), ice);
    assert.deepEqual(plain(pcB.config.iceServers), []);

    const field = bob.$('#ice-servers');
    field.value = 'not json';
    bob.$('#save-settings').click();
    assert.ok(field.classList.contains('is-invalid'));
    const turn = [{ urls: ['turn:turn.invalid'], username: 'u', credential: 'c' }];
    field.value = JSON.stringify(turn);
    bob.$('#save-settings').click();
    assert.equal(field.classList.contains('is-invalid'), false);
    assert.equal(bob.window.localStorage.getItem('signalrtc.iceServers'), JSON.stringify(turn));
    // Hang up and call back at once: bob's new offer may reach alice before
    // she sees the hang-up, and must ring all the same.
    tile(bob, 'alice').querySelector('button[data-action="hangup"]').click();
    await call(bob, alice, 'alice');
    const pcB2 = bob.window.signalrtcApp.peerConnection(hub.idOf('alice'));
    assert.deepEqual(plain(pcB2.config.iceServers), turn);
  });
});
