// `npm run bench` (serial driver idle cost): a linked, idle SerialController alone in a
// child process, the simulated controller (protocol defaults: METER_MS 1000, 2 connectors)
// in this one, over a real pty. Prints the child's CPU time and wakeups; asserts nothing.
// CPU time is the child's own clock, but on a loaded machine it still varies by 2-3x between
// runs (caches, frequency): compare with the bare-Node reference line printed beside it.
// Runs against the compiled code in dist/ (npm run bench builds first).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = new URL('../..', import.meta.url).pathname;
const IDLE_S = Number(process.env.BENCH_SERIAL_IDLE_SECONDS ?? 30);
const SETTLE_MS = 5000;
/** The whole agent may use 0.2 % of a core while idle; the driver must be a small part of it. */
const AGENT_IDLE_CPU_PCT = 0.2;
/** One PING a second plus a silence check every 2-3 s. */
const TARGET_TIMER_WAKEUPS_PER_S = 1.5;

/** Voluntary context switches of the main thread: each is one sleep in the event loop, so one wakeup. */
function voluntarySwitches() {
  const m = /voluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync('/proc/thread-self/status', 'utf8'));
  return m ? Number(m[1]) : NaN;
}

async function driverChild(path, seconds) {
  const { SerialController } = await import(join(root, 'dist/hal/controller/serial-controller.js'));
  const { REAL_TIMERS } = await import(join(root, 'dist/hal/timers.js'));
  let firings = 0;
  let shortFirings = 0;
  const wrap = (fn, ms) => () => {
    firings++;
    if (ms < 500) shortFirings++;
    fn();
  };
  const timers = {
    ...REAL_TIMERS,
    setTimeout: (fn, ms) => REAL_TIMERS.setTimeout(wrap(fn, ms), ms),
    setInterval: (fn, ms) => REAL_TIMERS.setInterval(wrap(fn, ms), ms),
  };
  let rx = 0;
  let tx = 0;
  const driver = new SerialController({ path, timers });
  driver.on('wire', (dir) => (dir === 'rx' ? rx++ : tx++));
  await new Promise((resolve) => {
    driver.once('linkUp', resolve);
    void driver.start();
  });
  // Let the resync traffic and start-up garbage collection settle before measuring.
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const f0 = firings;
  const s0 = shortFirings;
  const rx0 = rx;
  const tx0 = tx;
  const sw0 = voluntarySwitches();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpu = process.cpuUsage(cpu0);
  const elapsedS = (performance.now() - t0) / 1000;
  const result = {
    elapsedS,
    cpuS: (cpu.user + cpu.system) / 1e6,
    userS: cpu.user / 1e6,
    systemS: cpu.system / 1e6,
    // Minus the one wakeup of the measuring timer itself.
    wakeups: voluntarySwitches() - sw0 - 1,
    timerFirings: firings - f0,
    shortFirings: shortFirings - s0,
    rxLines: rx - rx0,
    txLines: tx - tx0,
    linkUp: driver.isLinkUp,
  };
  await driver.stop();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** Reference: a bare Node process whose only work is a 1 s timer (what one wakeup costs here). */
async function baselineChild(seconds) {
  const timer = setInterval(() => {}, 1000);
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const sw0 = voluntarySwitches();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpu = process.cpuUsage(cpu0);
  clearInterval(timer);
  const elapsedS = (performance.now() - t0) / 1000;
  const cpuS = (cpu.user + cpu.system) / 1e6;
  process.stdout.write(`${JSON.stringify({ elapsedS, cpuS, userS: cpu.user / 1e6, systemS: cpu.system / 1e6, wakeups: voluntarySwitches() - sw0 - 1 })}\n`);
}

async function runChild(args) {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const code = await new Promise((r) => child.on('exit', r));
  if (code !== 0) throw new Error(`bench child ${args[0]} exited with ${code}`);
  return JSON.parse(out.trim().split('\n').pop());
}

async function driverScenario(meterMs) {
  const { openPtyPair } = await import(join(root, 'dist/hal/sim/pty-pair.js'));
  const { SimulatedController } = await import(join(root, 'dist/hal/sim/simulated-controller.js'));
  const pty = await openPtyPair({ dir: mkdtempSync(join(tmpdir(), 'bench-serial-idle-')) });
  const sim = new SimulatedController({ path: pty.controllerPath, connectors: 2, meterMs });
  await sim.start();
  try {
    return await runChild(['--driver', pty.agentPath, String(IDLE_S)]);
  } finally {
    await sim.stop();
    await pty.close();
  }
}

function cpuLine(r) {
  const pct = (100 * r.cpuS) / r.elapsedS;
  return `CPU ${r.cpuS.toFixed(3)} s (user ${r.userS.toFixed(3)}, system ${r.systemS.toFixed(3)}) = ${pct.toFixed(3)} % of a core, event-loop wakeups ${(r.wakeups / r.elapsedS).toFixed(2)}/s`;
}

async function main() {
  // Each scenario in its own process, measured with that process's own CPU clock, so they can run side by side.
  const [meter, quiet, base] = await Promise.all([driverScenario(1000), driverScenario(0), runChild(['--baseline', String(IDLE_S)])]);
  console.log(`serial driver idle and linked, own process, ${IDLE_S} s each (agent idle budget, whole agent: <= ${AGENT_IDLE_CPU_PCT} % of a core):`);
  for (const [label, r] of [
    ['controller METER_MS 1000 (protocol default)', meter],
    ['controller METER_MS 0 (PING/ACK only)', quiet],
  ]) {
    const per = (n) => (n / r.elapsedS).toFixed(2);
    console.log(`  ${label}: link ${r.linkUp ? 'up' : 'DOWN'}, ${cpuLine(r)}`);
    console.log(
      `    driver timer firings ${per(r.timerFirings)}/s (target <= ${TARGET_TIMER_WAKEUPS_PER_S}/s), ` +
        `sub-500 ms timers fired ${r.shortFirings} (target 0 unless an ACK was late), serial lines rx ${per(r.rxLines)}/s, tx ${per(r.txLines)}/s`,
    );
  }
  console.log(`  reference, bare Node process with one 1 s timer: ${cpuLine(base)}`);
}

if (process.argv[2] === '--driver') await driverChild(process.argv[3], Number(process.argv[4]));
else if (process.argv[2] === '--baseline') await baselineChild(Number(process.argv[3]));
else await main();
