// Shared rig for the process-level benches (idle-cost, status-latency): the built agent
// (`node dist/src/cli.js run --config ...`) as a child process, its controller simulated in
// THIS process on a real pty pair (so the agent's serial driver, not controller.simulated, is
// measured, and the simulator shares a clock with the bundled CSMS), the dev CSMS here too.
// Also: /proc readings, and a CPU quota (cgroup) for the slow-board start-up figure.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, rmdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const root = new URL('../..', import.meta.url).pathname;
const CLI = join(root, 'dist/src/cli.js');
const { openPtyPair } = await import(join(root, 'dist/hal/sim/pty-pair.js'));
const { SimulatedController } = await import(join(root, 'dist/hal/sim/simulated-controller.js'));
const { DevCsms } = await import(join(root, 'dist/src/devtools/dev-csms.js'));

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
export const median = (xs) => pct([...xs].sort((a, b) => a - b), 50);

export async function until(cond, what, timeoutMs = 20_000) {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`bench: timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** `figure  target  ok/MISS` on one line. */
export function verdict(label, figure, target, ok) {
  const cell = (s, n) => String(s).padEnd(n);
  console.log(`  ${cell(label, 58)} ${cell(figure, 22)} ${cell(target, 12)} ${ok === null ? 'n/a' : ok ? 'ok' : 'MISS'}`);
}

const USER_HZ = 100; // clock ticks per second of /proc/<pid>/stat on Linux

/** CPU seconds of the live threads from schedstat (nanoseconds, where /proc/<pid>/stat counts 10 ms ticks), or null. */
function threadsCpuS(pid) {
  let ns = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // thread ended meanwhile
      }
    }
  } catch {
    return null;
  }
  return Number.isFinite(ns) && ns > 0 ? ns / 1e9 : null;
}

/** CPU seconds (own threads + reaped children, e.g. systemd-notify), RSS, and context switches of all threads. */
export function procSample(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ownS = threadsCpuS(pid) ?? (Number(f[11]) + Number(f[12])) / USER_HZ;
  const cpuS = ownS + (Number(f[13]) + Number(f[14])) / USER_HZ;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKiB = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  let voluntary = 0;
  let involuntary = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const s = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      voluntary += Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(s)?.[1] ?? 0);
      involuntary += Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(s)?.[1] ?? 0);
    } catch {
      // thread ended meanwhile
    }
  }
  const mainVoluntary = Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { at: performance.now(), cpuS, rssKiB, voluntary, involuntary, mainVoluntary };
}

/** RSS (KiB) of a bare node process that only keeps its event loop alive, read like the agent's. */
export async function bareNodeRssKiB(settleMs = 3_000) {
  const child = spawn(process.execPath, ['-e', 'setInterval(()=>{},1e9)'], { stdio: 'ignore' });
  try {
    await sleep(settleMs);
    return procSample(child.pid).rssKiB;
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

/**
 * A cgroup limiting its members to `percent` of one core, or null when none can be made here
 * (needs root and a cpu controller: cgroup v2 cpu.max, or v1 cpu.cfs_quota_us).
 */
export function makeCpuQuota(percent) {
  const period = 100_000;
  const quota = Math.round((period * percent) / 100);
  const name = `charger-agent-bench-${process.pid}`;
  const tries = [
    // cgroup v2 with the cpu controller at the root.
    () => {
      const base = '/sys/fs/cgroup';
      if (!readFileSync(join(base, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('cpu')) throw new Error('no cpu controller');
      try {
        writeFileSync(join(base, 'cgroup.subtree_control'), '+cpu');
      } catch {
        // already enabled, or not allowed: the write of cpu.max below tells
      }
      const dir = join(base, name);
      mkdirSync(dir);
      writeFileSync(join(dir, 'cpu.max'), `${quota} ${period}`);
      return dir;
    },
    // cgroup v1 cpu hierarchy.
    () => {
      const dir = join('/sys/fs/cgroup/cpu', name);
      mkdirSync(dir);
      writeFileSync(join(dir, 'cpu.cfs_period_us'), String(period));
      writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(quota));
      return dir;
    },
  ];
  for (const t of tries) {
    let dir;
    try {
      dir = t();
    } catch {
      continue;
    }
    return {
      describe: `cgroup ${dir.startsWith('/sys/fs/cgroup/cpu/') ? 'v1 cfs_quota' : 'v2 cpu.max'} ${quota}/${period} us`,
      /** argv prefix that enters the cgroup before exec'ing the command, so all of start-up runs limited. */
      wrap: (argv) => ['/bin/sh', '-c', `echo $$ > '${dir}/cgroup.procs' && exec "$@"`, 'sh', ...argv],
      remove: () => {
        try {
          rmdirSync(dir);
        } catch {
          // a member still exiting; the empty cgroup is harmless
        }
      },
    };
  }
  return null;
}

/**
 * An install root whose current release is this checkout's build (links to dist/,
 * node_modules/ and hal/), and an argv wrapper that starts the agent as the systemd unit does:
 * the launcher, with systemd's INVOCATION_ID in its environment. `remove()` deletes the root.
 */
export function unitStart() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-root-'));
  const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
  const release = join(dir, 'releases', version);
  mkdirSync(release, { recursive: true });
  for (const item of ['dist', 'node_modules', 'hal']) symlinkSync(join(root, item), join(release, item));
  copyFileSync(join(root, 'package.json'), join(release, 'package.json'));
  symlinkSync(`releases/${version}`, join(dir, 'current'));
  const launcher = join(root, 'dist/src/launcher/launcher.js');
  return {
    // `env` execs the launcher: the pid the rig sees stays the launcher's (the agent's, in-process).
    wrap: (argv) => ['env', '-u', 'NOTIFY_SOCKET', 'INVOCATION_ID=bench', argv[0], launcher, '--root', dir, ...argv.slice(2)],
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Simulator (this process, real pty), dev CSMS (this process) and a config file for the agent. */
export async function startRig({ id, heartbeatIntervalS = 300 }) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-agent-'));
  const csms = new DevCsms({ heartbeatIntervalS });
  await csms.start();
  mkdirSync(join(dir, 'pty'));
  const pty = await openPtyPair({ dir: join(dir, 'pty') });
  const sim = new SimulatedController({ path: pty.controllerPath });
  await sim.start();
  const configFile = join(dir, 'config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      chargePointId: id,
      csms: { url: csms.url, securityProfile: 0, basicAuthPassword: null },
      controller: { port: pty.agentPath, baudRate: 115200 },
      dataDir: join(dir, 'data'),
      diagnosticsSocket: join(dir, 'diag.sock'),
      identity: { vendor: 'Acme', model: 'AC22', serialNumber: 'SN0042' },
      logLevel: 'info',
    }),
  );
  /** Inbound frames at the CSMS: { at, text }. */
  const frames = [];
  csms.on('frame', (identity, outbound, text) => {
    if (identity === id && !outbound) frames.push({ at: performance.now(), text });
  });
  let agent = null;

  const rig = {
    csms,
    sim,
    frames,
    get agent() {
      return agent;
    },
    /**
     * Spawns the agent (wrapped, e.g. into a cgroup) and resolves once it is connected and has
     * reported connector 1 Available; `bootMs` is process spawn -> BootNotification at the CSMS.
     */
    async startAgent(wrap = (argv) => argv) {
      const from = frames.length;
      const argv = wrap([process.execPath, CLI, 'run', '--config', configFile]);
      const t0 = performance.now();
      const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
      agent = child;
      let stderr = '';
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (s) => (stderr = (stderr + s).slice(-4000)));
      const since = () => frames.slice(from);
      const alive = () => {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`agent exited: ${stderr}`);
        return true;
      };
      await until(() => alive() && since().some((f) => f.text.includes('"BootNotification"')), 'BootNotification', 60_000);
      const bootMs = since().find((f) => f.text.includes('"BootNotification"')).at - t0;
      await until(
        () => alive() && since().some((f) => /"StatusNotification",\{[^}]*"connectorId":1[,}]/.test(f.text) && f.text.includes('"Available"')),
        'connector 1 Available',
        60_000,
      );
      // The agent's pid, not the wrapping shell's (it exec'd, so they are the same process).
      return { pid: child.pid, bootMs };
    },
    async stopAgent() {
      if (agent === null) return;
      const child = agent;
      agent = null;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await new Promise((r) => child.once('exit', r));
        clearTimeout(force);
      }
    },
    async close() {
      await rig.stopAgent();
      await sim.stop();
      await pty.close();
      await csms.stop();
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    },
  };
  return rig;
}

/**
 * CPU seconds one WATCHDOG=1 costs (the agent's SystemdNotifier running systemd-notify, child
 * included), measured in this process against the test stand-in for PID 1's socket; and the
 * feed period the unit's WatchdogSec gives. Null when python3 or systemd-notify is missing.
 */
export async function watchdogFeedCost(runs = 20) {
  const unit = readFileSync(join(root, 'systemd/charger-agent.service'), 'utf8');
  const watchdogSec = Number(/^WatchdogSec=(\d+)$/m.exec(unit)?.[1] ?? NaN);
  const { SystemdNotifier } = await import(join(root, 'dist/src/diagnostics/sd-notify.js'));
  const dir = mkdtempSync(join(tmpdir(), 'bench-notify-'));
  const sock = join(dir, 'notify.sock');
  const receiver = spawn('python3', [join(root, 'test/diagnostics/notify-receiver.py'), sock], { stdio: ['ignore', 'pipe', 'ignore'] });
  receiver.on('error', () => {});
  try {
    let out = '';
    receiver.stdout.on('data', (d) => (out += d));
    await until(() => out.includes('listening') || receiver.exitCode !== null, 'notify receiver', 10_000).catch(() => {});
    if (!out.includes('listening')) return null;
    let failed = false;
    const log = { info() {}, warn() {}, error: () => (failed = true) };
    const n = new SystemdNotifier({ logger: log, env: { ...process.env, NOTIFY_SOCKET: sock } });
    const before = procSample(process.pid).cpuS;
    for (let i = 0; i < runs && !failed; i++) await n.notify('WATCHDOG=1');
    if (failed) return null;
    return { cpuS: (procSample(process.pid).cpuS - before) / runs, periodS: watchdogSec / 2 };
  } finally {
    receiver.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}
