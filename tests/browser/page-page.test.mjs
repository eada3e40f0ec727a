// (a) Two pages of the browser client call each other through our hub:
// video and audio both ways, chat both ways, hang-up, and a declined call
// that ends on the caller's side as "no answer" without breaking anything.
// Also the reference for call-setup times (click to first remote frame).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from '../interop/lib/hub.js';
import { launchChromium, openApp } from './lib/browser.js';
import { reportSetupTime, webRoot } from './lib/scenario.js';

let hub;
let browser;

before(async () => {
  hub = await startHub(['--web-root', webRoot()]);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await hub?.stop();
});

test('two pages call each other: video, audio and chat both ways', async () => {
  const alice = await openApp(browser, hub, 'alice');
  const bob = await openApp(browser, hub, 'bob');

  const bobId = await alice.call('bob');
  await bob.accept('alice');
  await alice.waitForState('bob', 'connected');
  await bob.waitForState('alice', 'connected');

  const aliceSees = await alice.waitForVideo('bob');
  const bobSees = await bob.waitForVideo('alice');
  assert.ok(aliceSees.video.frameWidth > 0 && bobSees.video.frameWidth > 0);
  // Decoding goes on: the counts rise.
  const later = await alice.waitForVideo('bob', { minFrames: aliceSees.video.framesDecoded + 10 });
  assert.ok(later.video.framesDecoded > aliceSees.video.framesDecoded);
  await alice.waitForAudio('bob');
  await bob.waitForAudio('alice');

  await alice.sendChat('bob', 'hello bob');
  await bob.waitForChat('alice', 'hello bob', 'in');
  await bob.sendChat('alice', 'hi alice');
  await alice.waitForChat('bob', 'hi alice', 'in');
  await alice.waitForChat('bob', 'hello bob', 'out');

  await reportSetupTime('page→page', alice, bobId);
  await alice.screenshot('page-page-alice.png');
  await bob.screenshot('page-page-bob.png');

  await alice.hangUp('bob');
  await bob.waitForState('alice', 'ended', 10000);
  await alice.page.close();
  await bob.page.close();
});

test('a declined call is "no answer" for the caller, and the next call works', async () => {
  const carol = await openApp(browser, hub, 'carol', { answerTimeout: 3 });
  const dave = await openApp(browser, hub, 'dave');

  await carol.call('dave');
  await dave.decline('carol');
  await carol.waitForState('dave', 'ended', 10000).catch(async () => {
    // The tile may already be gone; the notice is what counts.
  });
  const deadline = Date.now() + 10000;
  let notices = [];
  while (Date.now() < deadline) {
    notices = await carol.notices();
    if (notices.some((n) => /no answer from dave/i.test(n))) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.ok(notices.some((n) => /no answer from dave/i.test(n)),
    `carol was told: ${JSON.stringify(notices)}`);
  assert.equal(await dave.state('carol'), null, 'dave has no call with carol');

  // The protocol is intact: carol calls again, dave accepts, video flows.
  await carol.call('dave');
  await dave.accept('carol');
  await carol.waitForVideo('dave');
  await dave.waitForVideo('carol');
  await carol.page.close();
  await dave.page.close();
});

test('the user list follows people joining and leaving', async () => {
  const erin = await openApp(browser, hub, 'erin');
  const frank = await openApp(browser, hub, 'frank');
  const gina = await openApp(browser, hub, 'gina');
  await erin.waitForUser('frank');
  await erin.waitForUser('gina');
  await gina.waitForUser('erin');

  await frank.page.close();
  await erin.user('frank').waitFor({ state: 'detached', timeout: 10000 });
  await gina.user('frank').waitFor({ state: 'detached', timeout: 10000 });
  assert.equal(await erin.user('gina').count(), 1, 'erin still lists gina');
  assert.equal(await gina.user('erin').count(), 1, 'gina still lists erin');
  await erin.page.close();
  await gina.page.close();
});
