// `npm run bench` (status part, issue 3): a pilot state change written on the serial line by the
// simulator -> its StatusNotification frame leaving the agent's socket (median, p99), then the
// agent alone as a child process: RSS and CPU while connected and idle. Prints figures; asserts
// nothing. Runs against the compiled code in dist/ (build first).
// Env: BENCH_STATUS_CHANGES (default 200), BENCH_IDLE_SECONDS (default 30).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';

const root = new URL('../..', import.meta.url).pathname;
const { startAgent } = await import(join(root, 'dist/src/main.js'));
const { parseAgentConfig } = await import(join(root, 'dist/src/config/agent-config.js'));
const { DevCsms } = await import(join(root, 'dist/src/devtools/dev-csms.js'));
const { statusOf } = await import(join(root, 'dist/src/ocpp/v16/mappers.js'));
const { pino } = await import('pino');

const CHANGES = Number(process.env.BENCH_STATUS_CHANGES ?? 200);
const IDLE_S = Number(process.env.BENCH_IDLE_SECONDS ?? 30);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const fmt = (ms) => `${ms.toFixed(2)} ms`;

async function until(cond, what, timeoutMs = 15_000) {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`bench: timed out waiting for ${what}`);
    await sleep(5);
  }
}

function agentConfig(csms, dataDir, id) {
  return {
    chargePointId: id,
    csms: { url: csms.url, securityProfile: 0, basicAuthPassword: null },
    controller: { port: 'simulated', baudRate: 115200, simulated: true },
    dataDir,
    diagnosticsSocket: join(dataDir, 'diag.sock'),
    identity: { vendor: 'Acme', model: 'AC22', serialNumber: 'SN0042' },
    leds: {},
    logLevel: 'warn',
  };
}

/** In-process: simulator, agent and CSMS share one event loop (a pessimistic figure for the agent). */
async function statusLatency() {
  const csms = new DevCsms();
  await csms.start();
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-status-'));
  let changedAt = 0;
  let pendingStatus = null;
  const lat = [];
  const answered = { count: 0 };
  const agent = await startAgent(parseAgentConfig(agentConfig(csms, dataDir, 'CP-BENCH-LAT')), {
    logger: pino({ level: 'warn' }, new Writable({ write: (_c, _e, done) => done() })),
    onOcppFrame: (direction, text) => {
      if (direction !== 'out' || pendingStatus === null || !text.includes('"StatusNotification"') || !text.includes(`"status":"${pendingStatus}"`)) return;
      lat.push(performance.now() - changedAt);
      pendingStatus = null;
    },
  });
  csms.on('call', (c) => c.action === 'StatusNotification' && answered.count++);
  const sim = agent.simulator;
  // t0: the moment the simulator writes the `$CP` line on its end of the pty.
  sim.on('line', (dir, text) => {
    if (dir === 'out' && text.startsWith('$CP,1,')) changedAt = performance.now();
  });
  await until(() => agent.session.registrationStatus === 'Accepted' && agent.controller.isLinkUp && statusOf(agent.station, 1) === 'Available', 'boot');
  await sleep(200);
  for (let i = 0; i < CHANGES; i++) {
    const before = answered.count;
    const plug = statusOf(agent.station, 1) === 'Available';
    pendingStatus = plug ? 'Preparing' : 'Available';
    if (plug) sim.plugIn(1, { cableAmps: 32 });
    else sim.unplug(1);
    await until(() => pendingStatus === null && answered.count > before, `status ${i}`);
  }
  await agent.stop();
  await csms.stop();
  rmSync(dataDir, { recursive: true, force: true });
  lat.sort((a, b) => a - b);
  return { n: lat.length, median: pct(lat, 50), p99: pct(lat, 99), max: lat[lat.length - 1] };
}

function procStatus(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  // /proc/<pid>/stat fields 14 and 15: utime, stime in clock ticks (after the ")" of comm).
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { rssKiB: rss, cpuTicks: Number(fields[11]) + Number(fields[12]) };
}

/** The agent alone in its own process (CLI `run`, simulated controller), connected and idle. */
async function idleFootprint() {
  const csms = new DevCsms({ heartbeatIntervalS: 300 });
  await csms.start();
  const dir = mkdtempSync(join(tmpdir(), 'bench-idle-'));
  const cfgFile = join(dir, 'config.json');
  writeFileSync(cfgFile, JSON.stringify(agentConfig(csms, dir, 'CP-BENCH-IDLE')));
  const child = spawn(process.execPath, [join(root, 'dist/src/cli.js'), 'run', '--config', cfgFile], { stdio: 'ignore' });
  try {
    await until(() => csms.callsOf('StatusNotification').length >= 2, 'child boot');
    await sleep(2_000); // let start-up settle (JIT, first GC)
    const a = procStatus(child.pid);
    const t0 = performance.now();
    await sleep(IDLE_S * 1000);
    const b = procStatus(child.pid);
    const seconds = (performance.now() - t0) / 1000;
    const ticksPerS = 100; // USER_HZ on Linux
    const cpuS = (b.cpuTicks - a.cpuTicks) / ticksPerS;
    return { rssStartKiB: a.rssKiB, rssEndKiB: b.rssKiB, seconds, cpuS, cpuPct: (100 * cpuS) / seconds };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await csms.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const lat = await statusLatency();
console.log(`pilot change on the serial line -> StatusNotification on the socket (${lat.n} changes, in-process)`);
console.log(`  median ${fmt(lat.median)}   p99 ${fmt(lat.p99)}   max ${fmt(lat.max)}`);
const idle = await idleFootprint();
console.log(`agent process connected and idle for ${idle.seconds.toFixed(0)} s (simulated controller in-process)`);
console.log(`  RSS ${(idle.rssStartKiB / 1024).toFixed(1)} MiB -> ${(idle.rssEndKiB / 1024).toFixed(1)} MiB`);
console.log(`  CPU ${idle.cpuS.toFixed(2)} s = ${idle.cpuPct.toFixed(2)} % of one core`);
