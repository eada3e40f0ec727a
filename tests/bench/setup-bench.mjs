// Call-setup time: from the caller's first offer to the first video frame
// the caller decodes from the callee, for bots and browser pages.
//
//   tests/bench/run-setup-bench [--calls 20] [--size 640x480] [--timeout 20]
//                               [--latency MS] [--bot-gap 0] [--warmup 1]
//                               [--json FILE]
//
// --latency sets the bots' jitterbuffer latency (signalrtcbin's `latency`,
// 200 ms by default); --json writes every call's times to FILE. --warmup
// rounds (one call of each path) come first and are shown but not counted:
// the first call of a process loads webrtcbin, libnice, the DTLS and codec
// plugins (the waiting bot's first answer takes about a second more).
//
// Four paths, all measured in one run, their calls interleaved (one call of
// each path per round) so that whatever else loads the machine weighs on
// all of them alike:
//   bot→bot    a bench-call bot calls another (both signalrtcbin, sending a
//              moving 30 fps videotestsrc pattern, VP8, and a tone; decoding
//              what they receive);
//   bot→page   the bot calls the browser client (examples/web), which
//              answers by itself (?autoaccept=1, no prompt);
//   page→bot   the page clicks Call on the waiting bot;
//   page→page  one page calls another through our hub (the reference).
// Chromium's fake camera sends 640x480 at 30 fps, hence the bots' default
// size.
//
// Start: the caller sends its first offer through the hub. A bot stamps its
// signalrtc-sdp-sent "offer" message in a bus sync handler; a page marks
// offerSent just before it invokes SendSignal.
// End: the caller has its first decoded video frame from the callee. A bot
// stamps the first buffer out of its video src pad (after the decoder); a
// page marks firstFrame when requestVideoFrameCallback fires on the remote
// <video> (the frame is decoded and handed to the compositor).
// Both ends of a measurement are on the caller's clock. Every time is
// wall-clock epoch ms: g_get_real_time () / 1000 in the bots,
// performance.timeOrigin + performance.now () in the pages, so the
// breakdown may compare events of the two sides.
//
// Every call is a new call: a bot caller makes a new pipeline (new hub
// connection, new webrtcbin) for each; a page makes a new RTCPeerConnection
// and hangs up after its first frame. The waiting bot keeps one pipeline and
// makes a new webrtcbin per call. Calls come back to back; --bot-gap MS
// spaces calls to the waiting bot that far after its previous call
// connected. (Its shared encoder once made at most one key frame a second,
// so a caller coming right after another waited up to a second for its
// first picture; a new peer now waits at most 200 ms, see
// gst/signalrtc/key-frame-policy.h, and the gap is no longer needed.)
//
// Nothing here is asserted: the table is the output. A failed call is
// counted and listed, and the run goes on. Runs inside scripts/isolated
// (the wrapper sees to it).

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep, startHub, waitFor } from '../interop/lib/hub.js';
import { launchChromium, openApp } from '../browser/lib/browser.js';
import { forEachLine } from '../browser/lib/bot.js';

function option (name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

const calls = Number(option('calls', '20'));
const size = option('size', '640x480');
const timeoutS = Number(option('timeout', '20'));
const jsonOut = option('json', null);
const latency = option('latency', null);
const botGapMs = Number(option('bot-gap', '0'));
const warmup = Number(option('warmup', '1'));

function required (name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run tests/bench/run-setup-bench`);
  return value;
}

const benchCall = required('SIGNALRTC_BENCH_CALL');
const webRoot = required('SIGNALRTC_WEB_ROOT');
const pluginDir = required('SIGNALRTC_PLUGIN_DIR');

// ---------------------------------------------------------------- bots

const running = new Set();
process.on('exit', () => {
  for (const proc of running) {
    try { process.kill(proc.pid, 'SIGKILL'); } catch { /* already gone */ }
  }
});

// A bench-call process; its stdout is JSON lines, its stderr a log kept for
// failures. A registry of its own, so that no stale one is used.
function startBot (name, args) {
  const registryDir = mkdtempSync(join(tmpdir(), 'signalrtc-setup-bench-'));
  const proc = spawn(benchCall, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: {
      ...process.env,
      GST_PLUGIN_PATH: pluginDir,
      GST_REGISTRY: join(registryDir, 'registry.bin'),
      GST_DEBUG_NO_COLOR: '1',
    },
  });
  running.add(proc);
  const events = [];
  const log = [];
  forEachLine(proc.stdout, (line) => {
    try {
      events.push(JSON.parse(line));
    } catch {
      log.push(line);
    }
  });
  forEachLine(proc.stderr, (line) => {
    log.push(line);
    if (process.env.SIGNALRTC_BOT_LOG) process.stderr.write(`[${name}] ${line}\n`);
  });
  const exited = new Promise((resolve) => {
    proc.on('exit', (code, signal) => {
      running.delete(proc);
      rmSync(registryDir, { recursive: true, force: true });
      resolve({ code, signal });
    });
  });
  const bot = {
    name,
    pid: proc.pid,
    events,
    tail: (n = 20) => log.slice(-n).join('\n'),
    alive: () => proc.exitCode === null && proc.signalCode === null,
    find: (pred, from = 0) => events.slice(from).find(pred),
    async waitEvent (pred, what, timeoutMs, from = 0) {
      await waitFor(() => !bot.alive() || bot.find(pred, from),
        `${name}: ${what}`, timeoutMs, 20);
      const found = bot.find(pred, from);
      if (!found) throw new Error(`${name} exited before ${what}\n${bot.tail()}`);
      return found;
    },
    send (line) {
      proc.stdin.write(`${line}\n`);
    },
    async stop () {
      if (!bot.alive()) return exited;
      proc.stdin.end();
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
  return bot;
}

// ---------------------------------------------------------------- pages

// The page's marks for one remote connection id, as epoch ms.
async function pageMarks (app, id) {
  return app.page.evaluate((remote) => {
    const marks = window.signalrtcApp.marks;
    const out = {};
    for (const [kind, byId] of Object.entries(marks)) {
      if (byId[remote] !== undefined) out[kind] = performance.timeOrigin + byId[remote];
    }
    return out;
  }, id);
}

// Forgets the marks of that connection id (firstFrame is set only once per
// id, and a bot keeps its id from call to call).
async function clearMarks (app, id) {
  await app.page.evaluate((remote) => {
    for (const byId of Object.values(window.signalrtcApp.marks)) delete byId[remote];
  }, id);
}

// Until the page has no live call with `id` (ended tiles do not count).
async function waitNoCall (app, id, timeoutMs = 10000) {
  await waitFor(() => app.page.evaluate((remote) =>
    !window.signalrtcApp.calls().some((c) => c.connectionId === remote && c.state !== 'ended'), id),
  `${app.name}: the call with ${id} to end`, timeoutMs, 50);
}

// ---------------------------------------------------------------- calls

let hub;
let browser;
let calleeBot;
let callerBot;
let callerPage;
let calleePage;

// Waits until the waiting bot's last call connected --bot-gap ms ago.
async function spaceBotCalls () {
  const last = calleeBot.events.filter((e) => e.event === 'connected').pop();
  const wait = last ? last.t + botGapMs - Date.now() : 0;
  if (wait > 0) await sleep(wait);
}

// The bot calls `target`; returns the record of the call.
async function botCalls (target) {
  const from = callerBot.events.length;
  callerBot.send(`call ${target}`);
  const r = await callerBot.waitEvent((e) => e.event === 'call', `the call to ${target}`,
    (timeoutS + 15) * 1000, from);
  const record = {
    ok: r.ok,
    error: r.error,
    ms: r.ms,
    offer: r.offer,
    connected: r.connected,
    firstFrame: r.first_frame,
  };
  if (target === calleeBot.name) {
    const answer = calleeBot.find((e) => e.event === 'sdp-sent' && e.type === 'answer' &&
      e.remote_id === r.connection_id);
    record.calleeAnswered = answer?.t;
    // The bot's call is over when the waiting bot has dropped it too.
    await calleeBot.waitEvent((e) => e.event === 'disconnected' && e.remote_id === r.connection_id,
      `the end of the call from ${r.connection_id}`, 10000).catch((err) => {
      record.cleanup = err.message.split('\n')[0];
    });
  } else {
    const marks = await pageMarks(calleePage, r.connection_id);
    record.calleeAnswered = marks.accepted;
    await waitNoCall(calleePage, r.connection_id).catch((err) => {
      record.cleanup = err.message.split('\n')[0];
    });
  }
  return record;
}

// The caller page calls `target` (a bot or the other page) and hangs up
// after its first frame.
async function pageCalls (target) {
  const id = await callerPage.waitForUser(target);
  const myId = await callerPage.page.evaluate(() => window.signalrtcApp.myConnectionId());
  await clearMarks(callerPage, id);
  if (target === calleePage.name) await clearMarks(calleePage, myId);
  await callerPage.call(target);
  const record = { ok: false };
  try {
    await callerPage.page.waitForFunction((remote) => {
      const app = window.signalrtcApp;
      return app.marks.firstFrame[remote] !== undefined ||
        !app.calls().some((c) => c.connectionId === remote && c.state !== 'ended');
    }, id, { timeout: timeoutS * 1000, polling: 20 });
  } catch {
    record.error = `no first frame in ${timeoutS} s (call ${await callerPage.state(target)})`;
  }
  const marks = await pageMarks(callerPage, id);
  Object.assign(record, {
    offer: marks.offerSent,
    connected: marks.connected,
    firstFrame: marks.firstFrame,
  });
  if (marks.offerSent !== undefined && marks.firstFrame !== undefined) {
    record.ok = true;
    record.ms = marks.firstFrame - marks.offerSent;
  } else if (!record.error) {
    record.error = `the call ended before a frame (${(await callerPage.notices()).slice(-1)[0] ?? '?'})`;
  }
  if (target === calleePage.name) {
    record.calleeAnswered = (await pageMarks(calleePage, myId)).accepted;
  } else {
    const answer = calleeBot.find((e) => e.event === 'sdp-sent' && e.type === 'answer' &&
      e.remote_id === myId && e.t >= (record.offer ?? 0) - 1);
    record.calleeAnswered = answer?.t;
  }
  if (await callerPage.state(target) !== null) {
    await callerPage.hangUp(target).catch(() => {});
  }
  try {
    await waitNoCall(callerPage, id);
    if (target === calleePage.name) {
      await waitNoCall(calleePage, myId);
    } else {
      await calleeBot.waitEvent((e) => e.event === 'disconnected' && e.remote_id === myId &&
        e.t >= (record.offer ?? 0), 'the end of the page\'s call', 10000);
    }
  } catch (err) {
    record.cleanup = err.message.split('\n')[0];
  }
  return record;
}

const PATHS = [
  { name: 'bot→bot', run: () => spaceBotCalls().then(() => botCalls('callee-bot')) },
  { name: 'bot→page', run: () => botCalls('callee-page') },
  { name: 'page→bot', run: () => spaceBotCalls().then(() => pageCalls('callee-bot')) },
  { name: 'page→page', run: () => pageCalls('callee-page') },
];

// ---------------------------------------------------------------- figures

function quantile (sorted, q) {
  if (sorted.length === 0) return NaN;
  // Nearest rank.
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

function median (values) {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const fmt = (v) => (Number.isFinite(v) ? Math.round(v).toString() : '–');

function summarize (results) {
  const rows = [];
  for (const path of PATHS) {
    const all = results.filter((r) => r.path === path.name);
    const ok = all.filter((r) => r.ok);
    const ms = ok.map((r) => r.ms).sort((a, b) => a - b);
    rows.push({
      path: path.name,
      calls: all.length,
      failed: all.length - ok.length,
      median: median(ms),
      p90: quantile(ms, 0.9),
      min: ms[0],
      max: ms[ms.length - 1],
      answered: median(ok.filter((r) => r.calleeAnswered !== undefined).map((r) => r.calleeAnswered - r.offer)),
      connected: median(ok.filter((r) => r.connected !== undefined).map((r) => r.connected - r.offer)),
      frame: median(ok.filter((r) => r.connected !== undefined).map((r) => r.firstFrame - r.connected)),
    });
  }
  return rows;
}

// ---------------------------------------------------------------- run

const results = [];
const warmups = [];
const started = Date.now();
try {
  hub = await startHub(['--web-root', webRoot]);
  const botArgs = ['--size', size, '--timeout', String(timeoutS)];
  if (latency !== null) botArgs.push('--latency', latency);
  calleeBot = startBot('callee-bot', ['--hub', hub.url, '--username', 'callee-bot', '--wait', ...botArgs]);
  callerBot = startBot('caller-bot', ['--hub', hub.url, '--username', 'caller-bot', '--commands', ...botArgs]);
  await calleeBot.waitEvent((e) => e.event === 'joined', 'joining the hub', 20000);
  await callerBot.waitEvent((e) => e.event === 'ready', 'starting', 20000);
  browser = await launchChromium();
  callerPage = await openApp(browser, hub, 'caller-page');
  calleePage = await openApp(browser, hub, 'callee-page', { autoaccept: 1 });
  await callerPage.waitForUser('callee-bot');
  await callerPage.waitForUser('callee-page');
  console.error(`# ${calls} calls per path, bots at ${size}; hub, bots and pages up ` +
    `in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  for (let i = -warmup; i < calls; i++) {
    for (const path of PATHS) {
      let record;
      try {
        record = await path.run();
      } catch (err) {
        record = { ok: false, error: err.message.split('\n')[0] };
      }
      record = { path: path.name, index: i, warmup: i < 0, ...record };
      (i < 0 ? warmups : results).push(record);
      const label = i < 0 ? 'warm-up' : `${String(i + 1).padStart(2)}/${calls}`;
      console.error(`# ${label.padStart(7)} ${path.name.padEnd(9)} ` +
        (record.ok ? `${Math.round(record.ms)} ms` : `FAILED: ${record.error}`) +
        (record.cleanup ? ` (clean-up: ${record.cleanup})` : ''));
      if (!calleeBot.alive() || !callerBot.alive()) {
        throw new Error(`a bot exited\n${calleeBot.tail()}\n${callerBot.tail()}`);
      }
    }
  }
} catch (err) {
  console.error(`# the run stopped early: ${err.message}`);
  process.exitCode = 1;
} finally {
  await callerBot?.stop();
  await calleeBot?.stop();
  await browser?.close();
  await hub?.stop();
}

if (jsonOut) writeFileSync(jsonOut, JSON.stringify([...warmups, ...results], null, 1) + '\n');

const rows = summarize(results);
const reference = rows.find((r) => r.path === 'page→page');
console.log(`\nCall setup: the caller's first offer to its first decoded video frame ` +
  `from the callee, ms (${calls} calls per path, interleaved; bots send a moving ` +
  `${size} 30 fps pattern, VP8, jitterbuffer latency ${latency ?? 'default (200)'} ms; ` +
  `pages Chromium's fake 640x480 camera; ${botGapMs} ms between a bot callee's calls; loopback only)\n`);
console.log('| path | calls | failed | median ms | p90 ms | min | max | median / page→page |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const ratio = r.path !== 'page→page' && reference && Number.isFinite(reference.median)
    ? (r.median / reference.median).toFixed(2)
    : '';
  console.log(`| ${r.path} | ${r.calls} | ${r.failed} | ${fmt(r.median)} | ${fmt(r.p90)} | ` +
    `${fmt(r.min)} | ${fmt(r.max)} | ${ratio} |`);
}
console.log('\nWhere the time goes (medians, ms from the offer; the callee\'s event is on its own clock):\n');
console.log('| path | callee answers | caller connected | connected → first frame |');
console.log('|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.path} | ${fmt(r.answered)} | ${fmt(r.connected)} | ${fmt(r.frame)} |`);
}
console.log('\n"callee answers": a bot callee sends its answer (signalrtc-sdp-sent); a page ' +
  'callee accepts the offer (marks.accepted, automatic with ?autoaccept=1), before it ' +
  'makes its answer. "caller connected": signalrtc-peer-connected (bot) or ' +
  'simple-peer\'s connect (page): ICE and DTLS done, data channel open.');
const failed = results.filter((r) => !r.ok);
console.log(`\n${failed.length} of ${results.length} calls failed` +
  (results.length < calls * PATHS.length ? ` (${calls * PATHS.length - results.length} not made: the run stopped early)` : '') +
  (failed.length ? ':' : '.'));
for (const r of failed) console.log(`- ${r.path} #${r.index + 1}: ${r.error}`);
if (warmups.length) {
  console.log(`\nWarm-up (${warmup} round${warmup === 1 ? '' : 's'}, not counted): ` +
    warmups.map((r) => `${r.path} ${r.ok ? `${Math.round(r.ms)} ms` : `failed: ${r.error}`}`).join(', '));
}
console.log(`\nrun time ${((Date.now() - started) / 1000).toFixed(0)} s`);
