// Starts the real signalrtc-hub binary for a test and stops it afterwards.
//
//   const hub = await startHub(['--handshake-timeout', '1']);
//   hub.url   // http://127.0.0.1:PORT/signalrtc
//   await hub.stop();
//
// The binary is $SIGNALRTC_HUB (meson sets it). The hub listens on a free
// loopback port (--port 0) and announces it on stdout; we wait for that line.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

// Any address: a netsim test may have it listen on 0.0.0.0.
const READY = /^signalrtc-hub listening on (http:\/\/[^/\s]+:(\d+)(\/\S*))$/;
const running = new Set();

// A hub left behind by a test that threw must not outlive the test process.
process.on('exit', () => {
  for (const proc of running) {
    try { process.kill(proc.pid, 'SIGKILL'); } catch { /* already gone */ }
  }
});

export function hubBinary () {
  const exe = process.env.SIGNALRTC_HUB;
  if (!exe) {
    throw new Error('SIGNALRTC_HUB is not set: run these tests with meson test ' +
      '(or set it to build/src/hub/signalrtc-hub)');
  }
  return exe;
}

export async function startHub (extraArgs = [], { readyTimeoutMs = 10000 } = {}) {
  const args = ['--address', '127.0.0.1', '--port', '0', ...extraArgs];
  const proc = spawn(hubBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(proc);

  let stderr = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (chunk) => {
    stderr += chunk;
    if (process.env.SIGNALRTC_HUB_LOG) process.stderr.write(chunk);
  });

  const exited = new Promise((resolve) => {
    proc.on('exit', (code, signal) => {
      running.delete(proc);
      resolve({ code, signal });
    });
  });

  const ready = await new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => {
      reject(new Error(`signalrtc-hub printed no "listening" line in ${readyTimeoutMs} ms; ` +
        `stdout: ${JSON.stringify(buffered)} stderr: ${JSON.stringify(stderr)}`));
    }, readyTimeoutMs);
    proc.on('error', (err) => { clearTimeout(timer); reject(err); });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`signalrtc-hub exited (code ${code}, signal ${signal}) before listening; ` +
        `stderr: ${stderr}`));
    });
    proc.stdout.setEncoding('utf8');
    const onData = (chunk) => {
      buffered += chunk;
      for (const line of buffered.split('\n').slice(0, -1)) {
        const m = READY.exec(line.trim());
        if (m) {
          clearTimeout(timer);
          proc.stdout.off('data', onData);
          proc.stdout.resume(); // keep draining anything printed later
          // Listening on every address: this host reaches it on loopback.
          resolve({ url: m[1].replace('//0.0.0.0:', '//127.0.0.1:'), port: Number(m[2]), path: m[3] });
          return;
        }
      }
    };
    proc.stdout.on('data', onData);
  }).catch((err) => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    throw err;
  });

  const origin = `http://127.0.0.1:${ready.port}`;
  return {
    ...ready,
    origin,
    proc,
    pid: proc.pid,
    exited,
    stderr: () => stderr,
    alive: () => proc.exitCode === null && proc.signalCode === null,
    // Resident set size of the hub process in KiB (from /proc/PID/status).
    rssKiB () {
      const status = readFileSync(`/proc/${proc.pid}/status`, 'utf8');
      const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
      if (!m) throw new Error('no VmRSS in /proc/PID/status');
      return Number(m[1]);
    },
    // SIGTERM (the hub closes every client and exits 0); SIGKILL after a
    // grace period. Resolves to {code, signal}.
    async stop ({ graceMs = 5000 } = {}) {
      if (proc.exitCode !== null || proc.signalCode !== null) return exited;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}

// Small helpers shared by the tests.

export function sleep (ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Polls `predicate` until it returns a truthy value; rejects after timeoutMs
// with `what` in the message.
export async function waitFor (predicate, what, timeoutMs = 5000, stepMs = 10) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(stepMs);
  }
}
