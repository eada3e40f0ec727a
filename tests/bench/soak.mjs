// Soak: calls come and go for many minutes against one signalrtcsink and
// one signalrtc-record, and every 30 s a row of what each long-lived
// process holds (resident memory, threads, open fds, child processes).
//
//   tests/bench/run-soak [--minutes 10] [--callers 3] [--hub-restart 180]
//                        [--seed 1]
//
// The long-lived processes: the hub, `cam` (gst-launch: a 640x480 test
// pattern and a tone into signalrtcsink) and `rec` (signalrtc-record).
// Around them, up to --callers calls at once, each 5-20 s long, of four
// kinds picked at random (seeded): a gst-launch viewer calling cam, a
// gst-launch sender calling rec, a Chromium page calling cam, a Chromium
// page calling rec (and chatting). A bot ends with SIGINT or SIGKILL, a
// page by hanging up or by closing. Every --hub-restart seconds the hub is
// SIGKILLed and started again on its port. The first row is taken with no
// call up (after one warm-up call of each kind), the last once every caller
// is gone and 20 s have passed: a leak shows as a last row above the
// first. The elements column counts the GstElements alive in cam and rec:
// both run under the leaks tracer (filtered to GstElement), which lists
// them on SIGUSR1 (GST_LEAKS_TRACER_SIG). At the end every finished recording is checked with
// gst-discoverer-1.0. With gdb on the machine, each quiet row is taken
// again after cam and rec were made to call malloc_trim(0): glibc keeps
// what threads freed in per-thread arenas, and the trimmed rows tell memory
// in use from memory kept. A caller that fails has the stacks of the
// process it called written to $TMPDIR (once per process). Runs inside
// scripts/isolated (the wrapper sees to it).

import { execFile } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sleep, startHub, waitFor } from '../interop/lib/hub.js';
import { startGstLaunch, startProcess } from '../browser/lib/bot.js';
import { launchChromium, openApp } from '../browser/lib/browser.js';
import { discover, startRecorder } from '../browser/lib/recording.js';
import { webRoot } from '../browser/lib/scenario.js';

function option (name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

const minutes = Number(option('minutes', '10'));
const maxCallers = Number(option('callers', '3'));
const hubRestartS = Number(option('hub-restart', '180'));
let seed = Number(option('seed', '1')) >>> 0;

// mulberry32: the same seed gives the same run of callers.
function random () {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (items) => items[Math.floor(random() * items.length)];
const between = (lo, hi) => lo + random() * (hi - lo);

const execFileP = promisify(execFile);
async function trimmable () {
  try { await execFileP('gdb', ['--version']); return true; } catch { return false; }
}
async function mallocTrim (pid) {
  try {
    await execFileP('gdb', ['-p', String(pid), '-batch', '-nx', '-ex', 'call (int) malloc_trim(0)'],
      { timeout: 60000 });
  } catch (err) {
    log(`malloc_trim in ${pid} failed: ${err.message.split('\n')[0]}`);
  }
}

function log (text) {
  process.stderr.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${text}\n`);
}

// What a process holds, from /proc.
function holds (pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
    return {
      rssMiB: field('VmRSS') / 1024,
      threads: field('Threads'),
      fds: readdirSync(`/proc/${pid}/fd`).length,
    };
  } catch {
    return null;
  }
}

const hubArgs = () => ['--web-root', webRoot()];
let hub = await startHub(hubArgs());
const port = hub.port;
const TRACED = {
  GST_TRACERS: 'leaks(filters="GstElement")',
  GST_LEAKS_TRACER_SIG: '1',
  GST_DEBUG: 'GST_TRACER:7',
  GST_DEBUG_NO_COLOR: '1',
};
const cam = startProcess('cam', 'gst-launch-1.0', ['-e', '-m', ...(
  'videotestsrc is-live=true pattern=ball ! video/x-raw,width=640,height=480,framerate=30/1 ' +
  `! signalrtcsink name=cam hub-url=${hub.url} username=cam ` +
  'audiotestsrc is-live=true wave=sine freq=440 ! cam.').split(' ')], { env: TRACED });
const rec = startRecorder(hub, 'rec', [], { env: TRACED });

// The GstElements alive in `proc` (one of the two traced processes).
async function elements (proc) {
  const from = proc.lines.length;
  try { process.kill(proc.pid, 'SIGUSR1'); } catch { return NaN; }
  await sleep(500);
  return proc.lines.slice(from).filter((l) => /object-alive, type-name=\(string\)\w/.test(l)).length;
}
await cam.waitForLine(/signalrtc-hub-connected/);
await rec.waitOnHub();
const browser = await launchChromium();
log(`hub on ${hub.url}; cam pid ${cam.pid}, rec pid ${rec.pid}`);

const stats = { started: 0, ended: 0, failed: 0, killed: 0, byKind: {} };
const live = new Set();
const chatted = new Set(); // page callers of rec that sent a chat line
let serial = 0;

// One caller of `kind`: resolves when it is gone. A caller that never
// connects counts as failed (noted with its reason), the run goes on.
async function caller (kind, lifeS) {
  const name = `${kind}-${++serial}`;
  stats.started++;
  stats.byKind[kind] = (stats.byKind[kind] ?? 0) + 1;
  const target = kind.endsWith('cam') ? 'cam' : 'rec';
  try {
    if (kind.startsWith('bot')) {
      const line = kind === 'bot-cam'
        ? `signalrtcbin name=${name} hub-url=${hub.url} username=${name} call=cam ` +
          `${name}. ! queue ! fakesink async=false ${name}. ! queue ! fakesink async=false`
        : 'videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 ' +
          `! signalrtcsink name=${name} hub-url=${hub.url} username=${name} call=rec ` +
          `audiotestsrc is-live=true ! ${name}.`;
      const bot = startGstLaunch(name, line);
      try {
        await bot.waitForLine(/signalrtc-peer-connected/, 30000);
        await sleep(lifeS * 1000);
      } finally {
        const hard = random() < 0.5;
        if (hard) stats.killed++;
        await bot.stop({ signal: hard ? 'SIGKILL' : 'SIGINT', graceMs: 5000 });
      }
    } else {
      const page = await openApp(browser, hub, name);
      try {
        await page.call(target);
        await page.waitForState(target, 'connected', 30000);
        if (target === 'rec') {
          await page.sendChat(target, `hello from ${name}`);
          chatted.add(name);
        }
        await sleep(lifeS * 1000);
        if (random() < 0.5) await page.hangUp(target);
        else stats.killed++;
      } finally {
        await page.page.context().close();
      }
    }
    stats.ended++;
  } catch (err) {
    stats.failed++;
    log(`${name} failed: ${err.message.split('\n')[0]}`);
    await dumpStacks(target, target === 'cam' ? cam.pid : rec.pid);
  }
}

// A caller failed: what was the process it called doing? Every thread's
// stack, once per process and run, into a file beside the log.
const dumped = new Set();
async function dumpStacks (who, pid) {
  if (dumped.has(who) || !(await trimmable())) return;
  dumped.add(who);
  const file = join(tmpdir(), `signalrtc-soak-stacks-${who}-${pid}.txt`);
  try {
    const { stdout } = await execFileP('gdb', ['-p', String(pid), '-batch', '-nx',
      '-ex', 'thread apply all bt'], { timeout: 60000, maxBuffer: 64 << 20 });
    writeFileSync(file, stdout);
    log(`the stacks of ${who} (pid ${pid}) are in ${file}`);
  } catch (err) {
    log(`could not take the stacks of ${who}: ${err.message.split('\n')[0]}`);
  }
}

const KINDS = ['bot-cam', 'bot-rec', 'page-cam', 'page-rec'];

function spawnCaller (kind, lifeS) {
  const p = caller(kind, lifeS).finally(() => live.delete(p));
  live.add(p);
  return p;
}

const rows = [];
async function sample (label) {
  const row = { label, calls: live.size };
  for (const [who, pid] of [['cam', cam.pid], ['rec', rec.pid], ['hub', hub.pid]]) {
    row[who] = holds(pid);
  }
  if (row.cam) row.cam.elements = await elements(cam);
  if (row.rec) row.rec.elements = await elements(rec);
  rows.push(row);
  const cell = (h) => h ? `${h.rssMiB.toFixed(1)} MiB ${h.threads}t ${h.fds}fd${h.elements === undefined ? '' : ` ${h.elements}e`}` : 'gone';
  log(`${label}: ${row.calls} calls | cam ${cell(row.cam)} | rec ${cell(row.rec)} | hub ${cell(row.hub)}`);
}

// Warm-up: one call of each kind, one after the other, so that the first
// row counts what the first call of each kind loads once (codecs, plugin
// registry, GL in Chromium) as the baseline.
for (const kind of KINDS) await spawnCaller(kind, 3);
await sleep(10000);
await sample('start (quiet)');
// The same with what malloc keeps given back, to set beside the end's.
const canTrim = await trimmable();
if (canTrim) {
  for (const proc of [cam, rec]) await mallocTrim(proc.pid);
  await sample('start, after malloc_trim');
}

const startedAt = Date.now();
const endAt = startedAt + minutes * 60000;
let nextSample = startedAt + 30000;
let nextRestart = startedAt + hubRestartS * 1000;
let restarts = 0;
while (Date.now() < endAt) {
  if (live.size < maxCallers) spawnCaller(pick(KINDS), between(5, 20));
  if (Date.now() >= nextRestart) {
    nextRestart += hubRestartS * 1000;
    restarts++;
    log(`hub restart ${restarts}: SIGKILL`);
    hub.proc.kill('SIGKILL');
    await hub.exited;
    hub = await startHub([...hubArgs(), '--port', String(port)]);
    log(`hub back on ${hub.url}`);
  }
  if (Date.now() >= nextSample) {
    nextSample += 30000;
    await sample(`${Math.round((Date.now() - startedAt) / 1000)} s`);
  }
  await sleep(between(1000, 4000));
}
log(`stopping: waiting for ${live.size} callers`);
await Promise.allSettled([...live]);
await sleep(20000);
await sample('end (quiet)');

// How much of what cam and rec hold at the end is free memory that malloc
// keeps (glibc's arenas do not shrink by themselves): ask each to give it
// back (gdb calls malloc_trim(0) in the process) and sample again.
if (canTrim) {
  for (const proc of [cam, rec]) await mallocTrim(proc.pid);
  await sample('end, after malloc_trim');
}

// Every recording must have finished and must play.
await rec.stop({ signal: 'SIGINT', graceMs: 15000 });
const finished = rec.lines.filter((l) => /^signalrtc-record: finished /.test(l)).length;
const webms = readdirSync(rec.dir).filter((f) => f.endsWith('.webm'));
const chats = readdirSync(rec.dir).filter((f) => f.endsWith('.jsonl'));
// Each chat line sent is in its caller's .jsonl.
const chatMissing = [];
for (const name of chatted) {
  const log = chats.find((f) => f.startsWith(`${name}-`));
  const lines = log ? readFileSync(`${rec.dir}/${log}`, 'utf8').trim().split('\n') : [];
  if (!lines.some((l) => { try { return JSON.parse(l).text === `hello from ${name}`; } catch { return false; } })) {
    chatMissing.push(name);
  }
}
let plays = 0;
const broken = [];
for (const f of webms) {
  try {
    const info = await discover(`${rec.dir}/${f}`);
    if (info.durationS > 0 && (info.video || info.audio)) plays++;
    else broken.push(f);
  } catch (err) {
    broken.push(`${f} (${err.message.split('\n')[0]})`);
  }
}
const camAlive = cam.alive();
await cam.stop();
await browser.close();
await hub.stop();
rec.cleanup();

// The table.
const signed = (n) => (n >= 0 ? `+${n}` : String(n));
const first = rows[0];
const last = rows.find((r) => r.label === 'end (quiet)');
const trimmed = rows.find((r) => r.label === 'end, after malloc_trim');
const trimmedStart = rows.find((r) => r.label === 'start, after malloc_trim');
const fmt = (h) => h ? `${h.rssMiB.toFixed(1)} / ${h.threads} / ${h.fds}${h.elements === undefined ? '' : ` / ${h.elements}`}` : 'gone';
console.log(`Soak, ${minutes} min, seed ${option('seed', '1')}: ${stats.started} calls (${KINDS.map((k) => `${k} ${stats.byKind[k] ?? 0}`).join(', ')}), ` +
  `${stats.killed} ended by SIGKILL or a closed page, ${stats.failed} never connected or failed; ` +
  `${restarts} hub restarts; cam ${camAlive ? 'alive' : 'DEAD'} at the end.`);
console.log(`Recordings: ${finished} finished, ${webms.length} .webm files, ${plays} play, ${chats.length} chat logs${broken.length ? `; not playing: ${broken.join(', ')}` : ''}; ` +
  `${chatted.size - chatMissing.length} of ${chatted.size} chat lines sent are in their caller's .jsonl${chatMissing.length ? ` (missing: ${chatMissing.join(', ')})` : ''}.`);
console.log('');
console.log('| when | calls up | cam: RSS MiB / threads / fds / elements | rec: the same | hub: RSS MiB / threads / fds |');
console.log('|---|---:|---|---|---|');
for (const r of rows) console.log(`| ${r.label} | ${r.calls} | ${fmt(r.cam)} | ${fmt(r.rec)} | ${fmt(r.hub)} |`);
console.log('');
const ratio = (who) => first[who] && last[who]
  ? `${who} RSS ${(last[who].rssMiB / first[who].rssMiB).toFixed(2)}x, ` +
    ['threads', 'fds', 'elements'].map((k) => `${k} ${signed(last[who][k] - first[who][k])}`).join(', ')
  : `${who}: gone`;
const busy = rows.filter((r) => /^\d+ s$/.test(r.label));
const fromTwo = busy.find((r) => parseInt(r.label, 10) >= 120);
const lastBusy = busy[busy.length - 1];
if (fromTwo && lastBusy && fromTwo !== lastBusy) {
  console.log(`RSS from the first row after minute 2 (${fromTwo.label}) to the last busy row (${lastBusy.label}): ` +
    ['cam', 'rec'].map((w) => `${w} ${(lastBusy[w].rssMiB / fromTwo[w].rssMiB).toFixed(3)}x`).join(', ') + '.');
}
console.log(`Quiet end against quiet start: ${['cam', 'rec'].map(ratio).join('; ')} (the hub restarted, so its rows are a new process each time).`);
if (trimmed && trimmedStart) {
  // What is left once malloc has given back what it keeps: memory in use.
  console.log('In use (after malloc_trim(0)), quiet end against quiet start: ' +
    ['cam', 'rec'].map((w) => trimmed[w] && trimmedStart[w]
      ? `${w} ${trimmedStart[w].rssMiB.toFixed(1)} -> ${trimmed[w].rssMiB.toFixed(1)} MiB ` +
        `(${(trimmed[w].rssMiB / trimmedStart[w].rssMiB).toFixed(3)}x; at the end malloc gave back ` +
        `${(last[w].rssMiB - trimmed[w].rssMiB).toFixed(1)} MiB)`
      : `${w}: gone`).join(', ') + '.');
}
if (!camAlive || broken.length || finished !== webms.length || chatMissing.length) process.exitCode = 1;
