// `npm run bench` (idle cost): the built agent as its own process (`cli.js run`), its controller
// simulated in another process on a pty, connected to the bundled dev CSMS and idle. Figures:
// CPU share of one core and wakeups over the idle window (schedstat run time of all threads plus
// reaped children such as systemd-notify; context switches of all threads), RSS against a bare
// `node` process read the same way, and process start -> BootNotification at the CSMS, with a
// whole machine and under a 25 % CPU quota (a stand-in for a Cortex-A7-class board), started
// directly and as the systemd unit starts it (through the launcher). Under systemd
// the agent also runs systemd-notify every WatchdogSec/2: its cost per run is measured here and
// added to the idle CPU at the unit's rate (the idle window is shorter than one period).
// Prints `figure  target  ok/MISS`; asserts nothing. Runs against dist/ (build first).
// Env: BENCH_IDLE_SECONDS (default 30), BENCH_SETTLE_SECONDS (default 25), BENCH_STARTS (start-ups
// per setting, default 3).
import { bareNodeRssKiB, makeCpuQuota, median, procSample, sleep, startRig, unitStart, verdict, watchdogFeedCost } from './agent-rig.mjs';

const IDLE_S = Number(process.env.BENCH_IDLE_SECONDS ?? 30);
const STARTS = Number(process.env.BENCH_STARTS ?? 3);
// After connecting: start-up's GCs done, V8's memory reducer included. It compacts the heap once,
// 8 s after start-up's last full GC or 16 s when start-up was still allocating then (about 40 ms
// of CPU, and what brings RSS down to the idle figure); measured from 5 s it put a one-off into
// an idle rate (0.13 % of a 30 s window).
const SETTLE_MS = Number(process.env.BENCH_SETTLE_SECONDS ?? 25) * 1000;
const mib = (kib) => `${(kib / 1024).toFixed(1)} MiB`;

const bareKiB = await bareNodeRssKiB();
const feed = await watchdogFeedCost();
const rig = await startRig({ id: 'CP-BENCH-IDLE' });
try {
  const first = await rig.startAgent();
  await sleep(SETTLE_MS);
  const a = procSample(first.pid);
  await sleep(IDLE_S * 1000);
  const b = procSample(first.pid);
  const idleMeterMs = rig.sim.config.meterMs;
  await rig.stopAgent();
  const seconds = (b.at - a.at) / 1000;
  const cpuPct = (100 * (b.cpuS - a.cpuS)) / seconds;

  const normal = [];
  for (let i = 0; i < STARTS; i++) {
    normal.push((await rig.startAgent()).bootMs);
    await rig.stopAgent();
  }

  const quota = makeCpuQuota(25);
  const slow = [];
  const slowUnit = [];
  let slowRssKiB = null;
  if (quota !== null) {
    const unit = unitStart();
    try {
      // As the systemd unit starts it: the launcher, which runs the agent in its own process.
      for (let i = 0; i < STARTS; i++) {
        slowUnit.push((await rig.startAgent((argv) => quota.wrap(unit.wrap(argv)))).bootMs);
        await rig.stopAgent();
      }
      for (let i = 0; i < STARTS; i++) {
        const started = await rig.startAgent(quota.wrap);
        slow.push(started.bootMs);
        if (i === STARTS - 1) {
          // Read like the whole-core figure: at the end of the same settle + idle time.
          await sleep(SETTLE_MS + IDLE_S * 1000);
          slowRssKiB = procSample(started.pid).rssKiB;
        }
        await rig.stopAgent();
      }
    } finally {
      quota.remove();
      unit.remove();
    }
  }

  console.log(`agent process connected, idle for ${seconds.toFixed(0)} s from ${SETTLE_MS / 1000} s after connecting (controller simulated in another process on a pty)`);
  console.log(`  cpu ${(b.cpuS - a.cpuS).toFixed(3)} s; first start (empty database) to BootNotification ${first.bootMs.toFixed(0)} ms`);
  if (feed === null) {
    verdict('idle CPU, % of one core (no systemd watchdog measured)', `${cpuPct.toFixed(3)} %`, '<= 0.2 %', cpuPct <= 0.2);
  } else {
    const feedPct = (100 * feed.cpuS) / feed.periodS;
    console.log(`  systemd watchdog: one systemd-notify run ${(feed.cpuS * 1000).toFixed(1)} ms CPU every ${feed.periodS} s = ${feedPct.toFixed(3)} % of a core`);
    const total = cpuPct + feedPct;
    verdict('idle CPU incl. watchdog feeds, % of one core', `${total.toFixed(3)} %`, '<= 0.2 %', total <= 0.2);
  }
  verdict('wakeups (voluntary ctxt switches, all threads)', `${((b.voluntary - a.voluntary) / seconds).toFixed(1)} /s`, 'report', null);
  verdict('  of which the main thread', `${((b.mainVoluntary - a.mainVoluntary) / seconds).toFixed(1)} /s`, 'report', null);
  verdict('controller meter report period while idle (METER_MS)', `${idleMeterMs} ms`, 'report', null);
  const ratio = b.rssKiB / bareKiB;
  verdict(`idle RSS vs bare node (${mib(bareKiB)})`, `${mib(b.rssKiB)} = ${ratio.toFixed(2)}x`, '<= 1.5x', ratio <= 1.5);
  const normalMs = median(normal);
  verdict(`start -> BootNotification, whole core (median of ${STARTS})`, `${(normalMs / 1000).toFixed(2)} s`, 'report', null);
  if (quota === null) {
    verdict('start -> BootNotification, 25 % of a core', 'not measurable here', '<= 2 s', null);
    verdict('RSS under the 25 % quota vs bare node', 'not measurable here', '<= 1.5x', null);
  } else {
    const slowMs = median(slow);
    verdict(`start -> BootNotification, 25 % quota (median of ${STARTS})`, `${(slowMs / 1000).toFixed(2)} s`, '<= 2 s', slowMs <= 2000);
    const slowRatio = slowRssKiB / bareKiB;
    verdict('RSS under the 25 % quota vs bare node', `${mib(slowRssKiB)} = ${slowRatio.toFixed(2)}x`, '<= 1.5x', slowRatio <= 1.5);
    console.log(`  (quota: ${quota.describe}; start-ups ${slow.map((ms) => (ms / 1000).toFixed(2)).join(', ')} s)`);
    const unitMs = median(slowUnit);
    verdict(`start -> BootNotification via the launcher, 25 % quota`, `${(unitMs / 1000).toFixed(2)} s`, '<= 2 s', unitMs <= 2000);
    console.log(`  (start-ups through the launcher ${slowUnit.map((ms) => (ms / 1000).toFixed(2)).join(', ')} s)`);
  }
} finally {
  await rig.close();
}
