// GStreamer bots for the browser suite: gst-launch-1.0 lines with the
// signalrtc elements from the build tree, and the project's own programs.
//
//   const bot = startGstLaunch('cam', ['videotestsrc is-live=true ! ...']);
//   await bot.waitForLine(/signalrtc-hub-connected/);
//   bot.count(/last-message = chain/)
//   await bot.stop();
//
// The plugin comes from SIGNALRTC_PLUGIN_DIR (meson sets it); every bot gets a
// registry of its own so that a stale one from another build never loads.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../interop/lib/hub.js';

const running = new Set();
process.on('exit', () => {
  for (const proc of running) {
    try { process.kill(proc.pid, 'SIGKILL'); } catch { /* already gone */ }
  }
});

function pluginEnv () {
  const dir = process.env.SIGNALRTC_PLUGIN_DIR;
  if (!dir) {
    throw new Error('SIGNALRTC_PLUGIN_DIR is not set: run these tests with ' +
      'meson test (or set it to build/gst/signalrtc)');
  }
  const registryDir = mkdtempSync(join(tmpdir(), 'signalrtc-registry-'));
  return {
    registryDir,
    env: {
      ...process.env,
      GST_PLUGIN_PATH: dir,
      GST_REGISTRY: join(registryDir, 'registry.bin'),
      GST_DEBUG_NO_COLOR: '1',
    },
  };
}

// Calls onLine with each whole line @stream gives, as it comes.
export function forEachLine (stream, onLine) {
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop();
    for (const line of parts) onLine(line);
  });
}

// Runs `program args` as a bot; `name` labels its output in failures.
// `host`: a test host of tests/lib/netsim.js to run it on.
export function startProcess (name, program, args, { env = {}, host = null } = {}) {
  const { registryDir, env: baseEnv } = pluginEnv();
  if (host) [program, args] = host.command(program, args);
  const proc = spawn(program, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...baseEnv, ...env },
  });
  running.add(proc);
  const lines = [];
  const listeners = new Set();
  const onLine = (line) => {
    lines.push(line);
    if (process.env.SIGNALRTC_BOT_LOG) process.stderr.write(`[${name}] ${line}\n`);
    for (const l of listeners) l(line);
  };
  for (const stream of [proc.stdout, proc.stderr]) forEachLine(stream, onLine);
  const exited = new Promise((resolve) => {
    proc.on('exit', (code, signal) => {
      running.delete(proc);
      rmSync(registryDir, { recursive: true, force: true });
      resolve({ code, signal });
    });
  });

  const tail = (n = 40) => lines.slice(-n).join('\n');
  return {
    name,
    proc,
    pid: proc.pid,
    lines,
    exited,
    tail,
    alive: () => proc.exitCode === null && proc.signalCode === null,
    count (re) {
      return lines.filter((l) => re.test(l)).length;
    },
    // Resolves with the first line (already printed or to come) matching re.
    waitForLine (re, timeoutMs = 20000) {
      const seen = lines.find((l) => re.test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(listener);
          reject(new Error(`${name}: no line matching ${re} in ${timeoutMs} ms\n${tail()}`));
        }, timeoutMs);
        const listener = (line) => {
          if (!re.test(line)) return;
          clearTimeout(timer);
          listeners.delete(listener);
          resolve(line);
        };
        listeners.add(listener);
        exited.then(({ code, signal }) => {
          if (!listeners.has(listener)) return;
          clearTimeout(timer);
          listeners.delete(listener);
          reject(new Error(`${name} exited (code ${code}, signal ${signal}) ` +
            `before printing ${re}\n${tail()}`));
        });
      });
    },
    async waitForCount (re, n, what, timeoutMs = 20000) {
      await waitFor(() => lines.filter((l) => re.test(l)).length >= n,
        `${name}: ${what} (${n} lines matching ${re})\n${tail()}`, timeoutMs, 100);
    },
    // SIGINT (gst-launch -e finishes with EOS), then SIGKILL after graceMs.
    async stop ({ signal = 'SIGINT', graceMs = 5000 } = {}) {
      if (proc.exitCode !== null || proc.signalCode !== null) return exited;
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}

// gst-launch-1.0 -e -m: element messages (signalrtc-peer-connected, ...) are
// printed as "Got message #N from element "NAME" (element): STRUCTURE".
// With verbose, property notifications (fakesink's last-message per buffer)
// are printed too.
export function startGstLaunch (name, pipeline, { verbose = false, host = null } = {}) {
  const args = ['-e', '-m'];
  if (verbose) args.push('-v');
  args.push(...pipeline.split(/\s+/).filter(Boolean));
  return startProcess(name, 'gst-launch-1.0', args, { host });
}

// A line of `gst-launch -m` for element message `type` from element `element`.
export function messageLine (element, type) {
  return new RegExp(`from element "${element}" \\(element\\): ${type}[,;]`);
}
