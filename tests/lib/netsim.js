// Test hosts joined by shaped links, for the tests and benchmarks that need
// a network worse than loopback (docs/netsim.md).
//
//   const net = await createNetwork(['viewer']);    // host "a" is this process
//   net.host('viewer').address                      // 198.18.1.2
//   net.host('viewer').gateway                      // 198.18.1.1, host a's end
//   await net.shape('viewer', 'down', { rate: '1mbit', loss: 0.03 });
//   spawn(...net.host('viewer').command('gst-launch-1.0', [...]));
//   await net.close();
//
// Host "a" is the network namespace the test already runs in (scripts/
// isolated made it: only `lo`). Every other host is a namespace of its own,
// held open by a `sleep` child of ours, and joined to host a by a veth pair:
// host i (1, 2, ...) has 198.18.i.2/24 on its `eth0`, host a has 198.18.i.1/24
// on `v<i>`. 198.18.0.0/15 is RFC 2544's benchmark range; these addresses
// exist only inside these namespaces, and a host has no route but its own
// subnet, so nothing can leave. IPv6 is off on the links (an IPv6 link-local
// pair would bypass the IPv4 loss rules).
//
// Each direction of a link has its own shaping:
//   'down' (host a -> host i): tbf on v<i> in host a, loss rule in host i;
//   'up'   (host i -> host a): tbf on eth0 in host i, loss rule in host a.
// `rate` ('1mbit', '500kbit'; null: no limit) is `tc qdisc ... tbf rate R
// burst 20kb latency L`, where L (default 300 ms) is the most a packet may
// wait in the queue (the queueing delay); `loss` (0..1) drops that share of
// the UDP packets arriving over the link, at random (iptables' statistic
// match). netem is not in every kernel, so nothing here uses it. shape() may
// be called again mid-call: it replaces that direction's settings.
//
// Needs root in the namespace (scripts/isolated gives it), `ip`, `tc`,
// `nsenter`, `unshare` and `iptables` (scripts/deps). `available()` says
// whether this machine can do it, for a test's skip.

import { execFile, spawn } from 'node:child_process';
import { existsSync, readlinkSync } from 'node:fs';
import { promisify } from 'node:util';
import { sleep } from '../interop/lib/hub.js';

const run = promisify(execFile);
const PATH = `${process.env.PATH}:/usr/sbin:/sbin`;
const ENV = { ...process.env, PATH };

async function sh (argv, what) {
  try {
    const { stdout } = await run(argv[0], argv.slice(1), { env: ENV });
    return stdout;
  } catch (err) {
    throw new Error(`netsim: ${what ?? argv.join(' ')} failed: ${(err.stderr || err.message).trim()}`);
  }
}

// Why this machine cannot run netsim tests, or null when it can.
export async function unavailable () {
  if (process.env.SIGNALRTC_ISOLATED !== '1') {
    return 'not inside scripts/isolated (netsim adds interfaces to the current network namespace)';
  }
  for (const tool of ['ip', 'tc', 'iptables', 'nsenter', 'unshare']) {
    if (!PATH.split(':').some((dir) => existsSync(`${dir}/${tool}`))) {
      return `'${tool}' not found (run scripts/deps)`;
    }
  }
  try {
    const net = await createNetwork(['probe']);
    try {
      await net.shape('probe', 'down', { rate: '1mbit', loss: 0.01 });
    } finally {
      await net.close();
    }
  } catch (err) {
    return err.message;
  }
  return null;
}

const holders = new Set();
process.on('exit', () => {
  for (const proc of holders) {
    try { process.kill(proc.pid, 'SIGKILL'); } catch { /* gone */ }
  }
});

// Link numbers in use by the networks of this process.
const inUse = new Set();
function freeIndex () {
  for (let i = 1; i < 256; i++) if (!inUse.has(i)) { inUse.add(i); return i; }
  throw new Error('netsim: too many hosts');
}

class Host {
  constructor (name, index, holder) {
    this.name = name;
    this.index = index;
    this.holder = holder;
    this.address = `198.18.${index}.2`;
    this.gateway = `198.18.${index}.1`;
    this.link = `v${index}`; // host a's end of the veth pair
  }

  get netns () {
    return `/proc/${this.holder.pid}/ns/net`;
  }

  // [program, args] that run `program args` on this host (nsenter execs it,
  // so the PID spawn() returns is the program's own).
  command (program, args = []) {
    return ['nsenter', [`--net=${this.netns}`, '--', program, ...args]];
  }

  exec (argv, what) {
    return sh(['nsenter', `--net=${this.netns}`, '--', ...argv], what);
  }
}

export async function createNetwork (names) {
  const hosts = new Map();
  const net = {
    host (name) {
      const h = hosts.get(name);
      if (!h) throw new Error(`netsim: no host ${name}`);
      return h;
    },
    hosts: () => [...hosts.values()],
    shape: (name, direction, settings) => shape(net.host(name), direction, settings),
    async close () {
      for (const h of hosts.values()) {
        try { await sh(['iptables', '-D', 'INPUT', '-i', h.link, '-j', chain(h)]); } catch { /* not there */ }
        try { await sh(['iptables', '-F', chain(h)]); await sh(['iptables', '-X', chain(h)]); } catch { /* not there */ }
        h.holder.kill('SIGKILL'); // its namespace and the veth pair go with it
        await h.holder.exited;
        holders.delete(h.holder);
        inUse.delete(h.index);
      }
      hosts.clear();
    },
  };
  try {
    for (const name of names) {
      const index = freeIndex();
      try {
        hosts.set(name, await addHost(name, index));
      } catch (err) {
        inUse.delete(index);
        throw err;
      }
    }
  } catch (err) {
    await net.close();
    throw err;
  }
  return net;
}

const chain = (h) => `NETSIM_UP_${h.index}`;

async function addHost (name, index) {
  const holder = spawn('unshare', ['--net', '--', 'sleep', 'infinity'], { stdio: 'ignore', env: ENV });
  holder.exited = new Promise((resolve) => holder.on('exit', resolve));
  holders.add(holder);
  const ours = readlinkSync('/proc/self/ns/net');
  for (let i = 0; ; i++) {
    let theirs = null;
    try { theirs = readlinkSync(`/proc/${holder.pid}/ns/net`); } catch { /* not yet */ }
    if (theirs && theirs !== ours) break;
    if (holder.exitCode !== null || i > 200) {
      holders.delete(holder);
      throw new Error('netsim: unshare --net did not give a namespace');
    }
    await sleep(10);
  }
  const h = new Host(name, index, holder);
  const v6off = (dev) => `echo 1 > /proc/sys/net/ipv6/conf/${dev}/disable_ipv6 2>/dev/null || true`;
  await sh(['ip', 'link', 'add', h.link, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', String(holder.pid)]);
  await sh(['sh', '-c', v6off(h.link)]);
  await sh(['ip', 'addr', 'add', `${h.gateway}/24`, 'dev', h.link]);
  await sh(['ip', 'link', 'set', h.link, 'up']);
  await h.exec(['sh', '-c', `ip link set lo up && ${v6off('eth0')} && ` +
    `ip addr add ${h.address}/24 dev eth0 && ip link set eth0 up`]);
  // Packets arriving from host i pass through its chain (loss 'up').
  await sh(['iptables', '-N', chain(h)]);
  await sh(['iptables', '-A', 'INPUT', '-i', h.link, '-j', chain(h)]);
  await h.exec(['iptables', '-N', 'NETSIM_DOWN']);
  await h.exec(['iptables', '-A', 'INPUT', '-i', 'eth0', '-j', 'NETSIM_DOWN']);
  // veth carriers come up within milliseconds; wait for both ends.
  for (let i = 0; ; i++) {
    const a = await sh(['ip', '-o', 'link', 'show', 'dev', h.link]);
    const b = await h.exec(['ip', '-o', 'link', 'show', 'dev', 'eth0']);
    if (/state UP/.test(a) && /state UP/.test(b)) break;
    if (i >= 100) throw new Error(`netsim: link to ${name} did not come up`);
    await sleep(20);
  }
  return h;
}

// Replaces one direction's rate limit and loss. settings: { rate, loss,
// latencyMs, burst }.
async function shape (h, direction, { rate = null, loss = 0, latencyMs = 300, burst = '20kb' } = {}) {
  if (direction !== 'down' && direction !== 'up') {
    throw new Error(`netsim: direction is 'down' or 'up', not ${direction}`);
  }
  const onA = (argv) => sh(argv);
  const onHost = (argv) => h.exec(argv);
  const [tcOn, dev, lossOn, lossChain] = direction === 'down'
    ? [onA, h.link, onHost, 'NETSIM_DOWN']
    : [onHost, 'eth0', onA, chain(h)];
  if (rate) {
    await tcOn(['tc', 'qdisc', 'replace', 'dev', dev, 'root', 'tbf', 'rate', rate,
      'burst', burst, 'latency', `${latencyMs}ms`]);
  } else {
    try { await tcOn(['tc', 'qdisc', 'del', 'dev', dev, 'root']); } catch { /* none */ }
  }
  await lossOn(['iptables', '-F', lossChain]);
  if (loss > 0) {
    await lossOn(['iptables', '-A', lossChain, '-p', 'udp', '-m', 'statistic',
      '--mode', 'random', '--probability', String(loss), '-j', 'DROP']);
  }
}

// Counters of one direction, for a test's report: what tbf dropped and what
// the loss rule dropped.
export async function linkCounters (net, name, direction) {
  const h = net.host(name);
  const tcOut = direction === 'down'
    ? await sh(['tc', '-s', 'qdisc', 'show', 'dev', h.link])
    : await h.exec(['tc', '-s', 'qdisc', 'show', 'dev', 'eth0']);
  const iptOut = direction === 'down'
    ? await h.exec(['iptables', '-L', 'NETSIM_DOWN', '-n', '-v', '-x'])
    : await sh(['iptables', '-L', chain(h), '-n', '-v', '-x']);
  const sent = /Sent (\d+) bytes (\d+) pkt \(dropped (\d+)/.exec(tcOut);
  const lossRow = iptOut.split('\n').find((l) => /DROP/.test(l));
  return {
    bytes: sent ? Number(sent[1]) : 0,
    packets: sent ? Number(sent[2]) : 0,
    shaperDropped: sent ? Number(sent[3]) : 0,
    lossDropped: lossRow ? Number(lossRow.trim().split(/\s+/)[0]) : 0,
  };
}
