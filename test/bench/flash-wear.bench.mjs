// `npm run bench` (flash wear, issue 4): bytes this process causes to be written to storage
// (/proc/self/io write_bytes) per idle hour and per one-hour charging session at 60 s and 10 s
// sampling, online and offline, with the whole agent in this process on a scaled clock.
// Prints figures; asserts nothing. Runs against dist/ (npm run bench builds first).
//   BENCH_SCALE (default 120): agent seconds per real second; one agent hour = 3600/BENCH_SCALE s.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';

const root = new URL('../..', import.meta.url).pathname;
const { startAgent } = await import(join(root, 'dist/src/main.js'));
const { parseAgentConfig } = await import(join(root, 'dist/src/config/agent-config.js'));
const { DevCsms } = await import(join(root, 'dist/src/devtools/dev-csms.js'));
const { pino } = await import('pino');

const SCALE = Number(process.env.BENCH_SCALE ?? 120);
const HOUR_MS = 3_600_000;
const realMs = (agentMs) => agentMs / SCALE;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * The Clock port (src/domain/ports.ts, src/platform/clock.ts) running SCALE times faster than
 * real time: timers fire after ms/SCALE real ms, now() and monotonicMs() advance SCALE ms per ms.
 * setOffsetFrom() is honoured only as "synced": the CSMS's real time would pull the fast clock back.
 */
class ScaledClock {
  #scale;
  #originReal = performance.now();
  #originWall = Date.now();
  #synced = false;
  constructor(scale) {
    this.#scale = scale;
  }
  monotonicMs() {
    return (performance.now() - this.#originReal) * this.#scale;
  }
  now() {
    return new Date(this.#originWall + this.monotonicMs());
  }
  get offsetMs() {
    return this.now().getTime() - Date.now();
  }
  get synced() {
    return this.#synced;
  }
  /** Constant: the scaled clock is never pulled to the CSMS time, so nothing is corrected at the sync. */
  get wallMinusMonotonicMs() {
    return this.#originWall;
  }
  setOffsetFrom(csmsTime) {
    if (!Number.isFinite(csmsTime.getTime())) throw new RangeError('setOffsetFrom: invalid Date');
    this.#synced = true;
  }
  setTimeout(fn, ms) {
    return setTimeout(fn, Math.max(0, ms) / this.#scale);
  }
  clearTimeout(h) {
    if (h !== undefined) clearTimeout(h);
  }
  setInterval(fn, ms) {
    return setInterval(fn, Math.max(1, ms / this.#scale));
  }
  clearInterval(h) {
    if (h !== undefined) clearInterval(h);
  }
}

/** A directory on real storage: os.tmpdir() unless it is a RAM file system, else the repo's .bench-tmp/. */
function benchDir() {
  const RAM_FS = new Map([
    [0x01021994, 'tmpfs'],
    [0x858458f6, 'ramfs'],
  ]);
  const fsName = (p) => {
    const t = statfsSync(p).type;
    return RAM_FS.get(t) ?? ({ [0xef53]: 'ext2/3/4', [0x9123683e]: 'btrfs', [0x58465342]: 'xfs', [0x794c7630]: 'overlayfs', [0xf15f]: 'ecryptfs' }[t] ?? `0x${t.toString(16)}`);
  };
  let base = tmpdir();
  if (RAM_FS.has(statfsSync(base).type)) {
    base = join(root, '.bench-tmp');
    mkdirSync(base, { recursive: true });
  }
  const dir = mkdtempSync(join(base, 'flash-wear-'));
  return { dir, fs: fsName(dir) };
}

function ioCounters() {
  const text = readFileSync('/proc/self/io', 'utf8');
  const get = (k) => Number(new RegExp(`${k}:\\s*(\\d+)`).exec(text)?.[1] ?? NaN);
  return { writeBytes: get('write_bytes'), cancelled: get('cancelled_write_bytes'), syscw: get('syscw') };
}

function fileSize(p) {
  try {
    return statSync(p).size;
  } catch {
    return 0;
  }
}

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;

async function waitFor(cond, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

// ---------------------------------------------------------------------------------------------

const { dir, fs } = benchDir();
const dataDir = join(dir, 'data');
const dbPath = join(dataDir, 'charger-agent.db');
const clock = new ScaledClock(SCALE);
const csms = new DevCsms({ heartbeatIntervalS: 60 });
await csms.start();
const cpId = 'CP-BENCH-FLASH';
const cfg = parseAgentConfig({
  chargePointId: cpId,
  csms: { url: csms.url, securityProfile: 0, basicAuthPassword: null },
  controller: { simulated: true },
  dataDir,
  diagnosticsSocket: join(dir, 'diag.sock'),
  identity: { vendor: 'Acme', model: 'AC22', serialNumber: 'SN0042' },
  leds: {},
  logLevel: 'warn',
});
// Logs go nowhere: the agent logs to stdout/journald, never to the data partition.
const logger = pino({ level: 'warn' }, new Writable({ write: (_c, _e, done) => done() }));

let agent = null;
async function boot() {
  agent = await startAgent(cfg, { logger, clock, simTimeScale: SCALE });
  await waitFor(() => agent.controller.isLinkUp, 20_000, 'controller link');
}
async function online() {
  await waitFor(() => agent.session.registrationStatus === 'Accepted' && csms.isConnected(cpId), 60_000, 'BootNotification accepted');
}

const rows = [];
let last = null;
const NO_COMMITS = { durableCommits: 0, lazyCommits: 0 };
function mark() {
  last = { io: ioCounters(), agent, stats: agent?.database.stats() ?? NO_COMMITS };
}
/** Ends a measured phase: write_bytes and commits since the last mark(). */
function measure(name) {
  const io = ioCounters();
  const stats = agent.database.stats();
  // A restarted agent counts its commits from zero.
  if (last.agent !== agent) last.stats = NO_COMMITS;
  const row = {
    name,
    writeBytes: io.writeBytes - last.io.writeBytes,
    syscw: io.syscw - last.io.syscw,
    durable: stats.durableCommits - last.stats.durableCommits,
    lazy: stats.lazyCommits - last.stats.lazyCommits,
    db: fileSize(dbPath),
    wal: fileSize(`${dbPath}-wal`),
  };
  rows.push(row);
  console.log(
    `  ${name.padEnd(44)} ${kib(row.writeBytes).padStart(11)}   commits ${String(row.durable).padStart(3)} durable ${String(row.lazy).padStart(4)} lazy   db ${kib(row.db)} wal ${kib(row.wal)}`,
  );
  mark();
  return row;
}

/** One charging session of one agent hour; the EV draws 32 A three-phase throughout. */
async function session(tag) {
  const sim = agent.simulator;
  sim.plugIn(1, { cableAmps: 32 });
  sim.swipeCard(tag);
  sim.evRequestEnergy(1);
  await waitFor(() => agent.station.transaction(1) !== null, 20_000, 'transaction start');
  await sleep(realMs(HOUR_MS));
  sim.unplug(1);
  await waitFor(() => agent.station.transaction(1) === null, 20_000, 'transaction stop');
}

async function drained() {
  await waitFor(() => agent.messenger.statistics().queued === 0, 120_000, 'outbox drained');
  await sleep(200);
}

console.log(`flash wear: whole agent in-process (simulated controller on a pty, DevCsms on loopback)`);
console.log(`  method: /proc/self/io write_bytes deltas (page-cache bytes dirtied for storage; the file system's`);
console.log(`  own journal and metadata writes caused by fsync are not included); scaled clock x${SCALE}:`);
console.log(`  one agent hour = ${(realMs(HOUR_MS) / 1000).toFixed(1)} s real; data dir ${dataDir} (${fs})`);

mark();
await boot();
await online();
// Settings for the sessions below are written now, outside the measured phases.
for (const [k, v] of [
  ['AllowOfflineTxForUnknownId', 'true'],
  ['MeterValueSampleInterval', '60'],
]) {
  const r = agent.config.change(k, v).result;
  if (r !== 'Accepted') throw new Error(`${k}=${v}: ${r}`);
}
await sleep(500);
measure('first start (migrations, boot, settings)');

await sleep(realMs(HOUR_MS));
measure('idle hour, online (targets 0)');

await session('B0000001');
await drained();
measure('session 1 h online, 60 s sampling (<= 64 KiB)');

agent.config.change('MeterValueSampleInterval', '10');
mark();
await session('B0000002');
await drained();
measure('session 1 h online, 10 s sampling');

for (const interval of ['60', '10']) {
  agent.config.change('MeterValueSampleInterval', interval);
  await csms.stop();
  await waitFor(() => !csms.isConnected(cpId), 20_000, 'CSMS down');
  await sleep(200);
  mark();
  await session(`C00000${interval}`);
  const offline = measure(`session 1 h offline, ${interval} s sampling: queued`);
  // The reconnect backoff is real time, not agent time: restart the agent instead of waiting it out.
  await agent.stop();
  const shutdown = measure(`  agent stop (checkpoint)`);
  await boot();
  const restart = measure(`  agent start, still offline`);
  await csms.start();
  await online();
  await drained();
  const replay = measure(`  reconnect and replay`);
  console.log(
    `  = offline session, ${interval} s sampling, queued + replayed: ${kib(offline.writeBytes + replay.writeBytes)} (<= 1 MiB); with the restart: ${kib(offline.writeBytes + shutdown.writeBytes + restart.writeBytes + replay.writeBytes)}`,
  );
}

const q = agent.messenger.statistics();
console.log(`  outbox: delivered ${q.delivered}, dropped ${q.droppedMeterValues}; CSMS got ${csms.callsOf('MeterValues').length} MeterValues, ${csms.callsOf('StopTransaction').length} StopTransaction`);
await agent.stop();
await csms.stop();
rmSync(dir, { recursive: true, force: true });
