// CPU cost of signalrtc-record per recording, passthrough and transcoded.
//
//   tests/bench/run-record-bench [--counts 1,5,10,20] [--seconds 10]
//                                [--size 1280x720] [--modes webm,mp4]
//                                [--pattern 'smpte horizontal-speed=8']
//
// One gst-launch process sends: a moving 30 fps test pattern and a tone,
// encoded once (VP8, Opus) and teed to N signalrtcsink users that each call
// the recorder, so the senders cost little beside the one encoder. For each
// mode and N, the recorder (a process of its own) records N calls at once;
// its CPU time over a steady window (utime + stime from /proc) gives its
// load in cores, and the cost per recording is (load(N) - load idle) / N.
// Also checked: every file finished and plays, and its frame count.
// Runs inside scripts/isolated (the wrapper sees to it).

import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep, startHub } from '../interop/lib/hub.js';
import { startGstLaunch, startProcess } from '../browser/lib/bot.js';
import { discover } from '../browser/lib/recording.js';


function option (name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

const counts = option('counts', '1,5,10,20').split(',').map(Number);
const seconds = Number(option('seconds', '10'));
const [width, height] = option('size', '1280x720').split('x').map(Number);
const modes = option('modes', 'webm,mp4').split(',');
// Moving SMPTE bars with their noise patch come out of vp8enc near the
// 2 Mbit/s target at 720p; a bouncing ball only near 0.2 Mbit/s, snow
// near 24 Mbit/s.
const pattern = option('pattern', 'smpte horizontal-speed=8');
const TICKS = 100; // USER_HZ on Linux

function cpuSeconds (pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS; // utime, stime
}

function rssMiB (pid) {
  const m = /^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

// Load in cores of `pid` over `s` seconds.
async function load (pid, s) {
  const c0 = cpuSeconds(pid);
  const t0 = process.hrtime.bigint();
  await sleep(s * 1000);
  const c1 = cpuSeconds(pid);
  const t1 = process.hrtime.bigint();
  return (c1 - c0) / (Number(t1 - t0) / 1e9);
}

function senderLine (hub, n, recName) {
  let line = `videotestsrc is-live=true pattern=${pattern} ! video/x-raw,width=${width},height=${height},framerate=30/1 ` +
    '! vp8enc deadline=1 cpu-used=8 lag-in-frames=0 end-usage=cbr target-bitrate=2000000 keyframe-max-dist=300 ' +
    '! tee name=vt audiotestsrc is-live=true ! opusenc ! tee name=at ';
  for (let i = 0; i < n; i++) {
    line += `signalrtcsink name=s${i} hub-url=${hub.url} username=cam${i} call=${recName} ` +
      `vt. ! queue ! s${i}. at. ! queue ! s${i}. `;
  }
  return line;
}

async function measure (mode, n) {
  const hub = await startHub();
  const dir = mkdtempSync(join(tmpdir(), 'signalrtc-rec-bench-'));
  const args = ['--hub', hub.url, '--username', 'rec', '--output-dir', dir, '--quiet'];
  if (mode === 'mp4') args.push('--format', 'mp4');
  const rec = startProcess('rec', process.env.SIGNALRTC_RECORD, args);
  await sleep(1500);
  const idle = await load(rec.pid, 3);
  const sender = startGstLaunch('senders', senderLine(hub, n, 'rec'));
  // All calls up and recording (each makes its file), then settle.
  const deadline = Date.now() + 60000;
  while (readdirSync(dir).filter((f) => !f.endsWith('.jsonl')).length < n) {
    if (Date.now() > deadline) throw new Error(`only ${readdirSync(dir).length}/${n} recordings started\n${rec.tail()}\n${sender.tail()}`);
    await sleep(200);
  }
  await sleep(3000);
  const busy = await load(rec.pid, seconds);
  const senderLoad = await load(sender.pid, 2);
  const rss = rssMiB(rec.pid);
  await rec.stop({ graceMs: 20000 });
  await sender.stop();
  await hub.stop();
  let playable = 0;
  let bits = 0;
  let mediaS = 0;
  for (const f of readdirSync(dir).filter((f) => !f.endsWith('.jsonl'))) {
    const info = await discover(join(dir, f)).catch(() => null);
    if (info && info.video && info.audio && info.durationS > seconds) playable++;
    if (info?.durationS) {
      bits += statSync(join(dir, f)).size * 8;
      mediaS += info.durationS;
    }
  }
  rmSync(dir, { recursive: true, force: true });
  return { mode, n, idle, busy, perRecording: (busy - idle) / n, senderLoad, rss, playable, mbps: mediaS ? bits / mediaS / 1e6 : 0 };
}

const rows = [];
for (const mode of modes) {
  for (const n of counts) {
    if (mode === 'mp4' && n > 2) continue; // a 720p H.264 encode each: a core or more
    try {
      rows.push(await measure(mode, n));
    } catch (err) {
      rows.push({ mode, n, error: err.message.split('\n')[0] });
    }
    const r = rows[rows.length - 1];
    console.error(`# ${mode} N=${n}: ${r.error ?? `${r.busy.toFixed(3)} cores`}`);
  }
}

console.log(`\nsignalrtc-record, ${width}x${height} 30 fps test pattern (${pattern}), VP8 (CBR target 2 Mbit/s) + Opus per caller; ` +
  `CPU in cores (1.00 = one core busy), over ${seconds} s\n`);
console.log('| mode | recordings | recorder CPU | idle CPU | CPU per recording | recorder RSS | sender CPU | files that play | file bitrate |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  if (r.error) {
    console.log(`| ${r.mode} | ${r.n} | failed: ${r.error} | | | | | | |`);
    continue;
  }
  console.log(`| ${r.mode === 'mp4' ? 'mp4 (transcode H.264/AAC)' : 'webm (passthrough)'} | ${r.n} | ` +
    `${r.busy.toFixed(3)} | ${r.idle.toFixed(3)} | ${r.perRecording.toFixed(3)} | ` +
    `${r.rss.toFixed(0)} MiB | ${r.senderLoad.toFixed(2)} | ${r.playable}/${r.n} | ${r.mbps.toFixed(2)} Mbit/s |`);
}
const pass = rows.find((r) => r.mode === 'webm' && r.n === 1 && !r.error);
const enc = rows.find((r) => r.mode === 'mp4' && r.n === 1 && !r.error);
if (pass && enc) {
  console.log(`\ntranscoded / passthrough CPU per recording: ${(enc.perRecording / pass.perRecording).toFixed(1)}`);
}
