// signalrtc-record for the browser suite, and checks that a recording
// plays: gst-discoverer-1.0 for its streams and duration, a full decode to
// the end with gst-launch-1.0.

import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { startProcess } from './bot.js';

const run = promisify(execFile);

export function startRecorder (hub, name, extraArgs = [], { env = {} } = {}) {
  const exe = process.env.SIGNALRTC_RECORD;
  if (!exe) throw new Error('SIGNALRTC_RECORD is not set: run these tests with meson test');
  const dir = mkdtempSync(join(tmpdir(), 'signalrtc-rec-'));
  const proc = startProcess(name, exe,
    ['--hub', hub.url, '--username', name, '--output-dir', dir, ...extraArgs], { env });
  return {
    ...proc,
    dir,
    files: () => readdirSync(dir).sort(),
    async waitOnHub () {
      await proc.waitForLine(/^signalrtc-record: on the hub as/);
    },
    // Resolves with the path of the next file reported finished.
    async waitFinished (count = 1, timeoutMs = 20000) {
      const re = /^signalrtc-record: finished (\S+) \(/;
      await proc.waitForCount(re, count, `${count} finished recordings`, timeoutMs);
      return proc.lines.filter((l) => re.test(l)).map((l) => re.exec(l)[1]);
    },
    cleanup () {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// What gst-discoverer-1.0 says of `file`: {durationS, video, audio, container}.
export async function discover (file) {
  const { stdout } = await run('gst-discoverer-1.0', [file], { timeout: 30000 });
  const m = /Duration: (\d+):(\d+):(\d+\.\d+)/.exec(stdout);
  const streams = (kind) => {
    const s = new RegExp(`^\\s*${kind} #\\d+: (.+)$`, 'm').exec(stdout);
    return s ? s[1].trim() : null;
  };
  return {
    durationS: m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : null,
    video: streams('video'),
    audio: streams('audio'),
    container: streams('container'),
    text: stdout,
  };
}

// Decodes the whole file; resolves with the number of video frames decoded,
// rejects when GStreamer reports an error.
export async function decodeFrames (file) {
  const { stdout } = await run('gst-launch-1.0', [
    '-v', 'filesrc', `location=${file}`, '!', 'decodebin', 'name=d',
    'd.', '!', 'video/x-raw', '!', 'fakesink', 'name=v', 'silent=false',
    'd.', '!', 'audio/x-raw', '!', 'fakesink', 'name=a', 'sync=false',
  ], { timeout: 60000, maxBuffer: 64 * 1024 * 1024 });
  return stdout.split('\n').filter((l) => /v: last-message = chain/.test(l)).length;
}

// The demuxer of a recording: qtdemux for MP4, matroskademux for the rest.
const demuxerFor = (file) => file.endsWith('.mp4') ? 'qtdemux' : 'matroskademux';

// `field` (pts, duration) of a fakesink's last-message line, in seconds,
// or null.
function timeField (line, field) {
  const m = new RegExp(`${field}: (\\d+):(\\d+):(\\d+\\.\\d+)`).exec(line);
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : null;
}

// The first `count` video buffers of `file` as stored (demuxed, not
// decoded): [{ptsS, key}], key false for a delta frame.
export async function firstVideoBuffers (file, count = 3) {
  const demux = demuxerFor(file);
  const { stdout } = await run('gst-launch-1.0', [
    '-v', 'filesrc', `location=${file}`, '!', demux, 'name=d',
    'd.video_0', '!', 'fakesink', 'name=v', 'silent=false', `num-buffers=${count}`,
  ], { timeout: 30000, maxBuffer: 16 * 1024 * 1024 });
  const out = [];
  for (const line of stdout.split('\n')) {
    if (!/v: last-message = chain/.test(line)) continue;
    out.push({
      ptsS: timeField(line, 'pts'),
      key: !/delta-unit/.test(line),
      line: line.trim(),
    });
  }
  return out;
}

// Each of the `kinds` of track of `file` as stored (demuxed, not decoded):
// {video, audio}, each {buffers, firstS, endS, maxGapS} (endS: the last
// buffer's pts plus its duration; maxGapS: the longest step between two
// pts), or null when nothing of it was read. What a failed duration check
// prints, so that a file longer or shorter than its call says which track
// made it so. Name only kinds the file has: a link to a pad the demuxer
// never adds holds the whole pipeline until the timeout.
export async function trackTimeline (file, kinds = ['video', 'audio']) {
  const args = ['-v', 'filesrc', `location=${file}`, '!', demuxerFor(file), 'name=d'];
  for (const kind of kinds) {
    args.push(`d.${kind}_0`, '!', 'queue', '!', 'fakesink', `name=${kind}`, 'silent=false', 'sync=false');
  }
  // A run that fails or times out still gives what it printed.
  const { stdout } = await run('gst-launch-1.0', args,
    { timeout: 30000, maxBuffer: 64 * 1024 * 1024 }).catch((err) => err);
  const out = { video: null, audio: null };
  for (const line of (stdout ?? '').split('\n')) {
    const kind = /(video|audio): last-message = chain/.exec(line)?.[1];
    if (!kind) continue;
    const pts = timeField(line, 'pts');
    if (pts === null) continue;
    const duration = timeField(line, 'duration') ?? 0;
    const t = out[kind] ??= { buffers: 0, firstS: pts, endS: pts, maxGapS: 0, lastPts: pts };
    t.buffers++;
    t.maxGapS = Math.max(t.maxGapS, pts - t.lastPts);
    t.lastPts = pts;
    t.endS = Math.max(t.endS, pts + duration);
  }
  for (const t of Object.values(out)) if (t) delete t.lastPts;
  return out;
}

// Asserts that `info` (discover's) gives `file` a duration from minS to
// maxS; when it does not, the message has each track's timeline.
export async function assertDuration (file, info, minS, maxS, what = '') {
  if (info.durationS !== null && info.durationS >= minS && info.durationS <= maxS) return;
  const tracks = await trackTimeline(file, ['video', 'audio'].filter((k) => info[k]));
  assert.fail(`${what}${file}: ${info.durationS} s, expected ${minS.toFixed(3)}..${maxS.toFixed(3)}; ` +
    `tracks as stored: ${JSON.stringify(tracks)}`);
}
