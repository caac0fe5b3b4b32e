// `npm run bench` (part 1): serial event -> driver callback latency over a real pty,
// and the agent's RSS after 60 s idle. Prints figures; asserts nothing.
// Runs against the compiled code in dist/ (npm run bench builds first).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const { openPtyPair } = await import(join(root, 'dist/hal/sim/pty-pair.js'));
const { SimulatedController } = await import(join(root, 'dist/hal/sim/simulated-controller.js'));
const { SerialController } = await import(join(root, 'dist/hal/controller/serial-controller.js'));
const { DevCsms } = await import(join(root, 'dist/src/devtools/dev-csms.js'));

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 500);
const IDLE_S = Number(process.env.BENCH_IDLE_SECONDS ?? 60);

function pct(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function latency() {
  const pty = await openPtyPair({ dir: mkdtempSync(join(tmpdir(), 'bench-pty-')) });
  const sim = new SimulatedController({ path: pty.controllerPath, meterMs: 0 });
  await sim.start();
  const driver = new SerialController({ path: pty.agentPath });
  await new Promise((resolve) => {
    driver.on('linkUp', resolve);
    void driver.start();
  });
  const lat = [];
  let sentAt = 0;
  let resolveOne = () => {};
  driver.on('pilot', () => {
    lat.push(performance.now() - sentAt);
    resolveOne();
  });
  for (let i = 0; i < SAMPLES; i++) {
    const got = new Promise((r) => (resolveOne = r));
    sentAt = performance.now();
    // The simulator writes `$CP,1,B` / `$CP,1,A` on the controller end of the pty.
    if (i % 2 === 0) sim.plugIn(1, { cableAmps: 32 });
    else sim.unplug(1);
    await got;
    await new Promise((r) => setTimeout(r, 2));
  }
  await driver.stop();
  await sim.stop();
  await pty.close();
  lat.sort((a, b) => a - b);
  return { median: pct(lat, 50), p99: pct(lat, 99), max: lat[lat.length - 1], n: lat.length };
}

function rssKiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

async function idleRss() {
  const csms = new DevCsms();
  await csms.start();
  const dir = mkdtempSync(join(tmpdir(), 'bench-agent-'));
  const cfg = join(dir, 'config.json');
  writeFileSync(
    cfg,
    JSON.stringify({
      chargePointId: 'CP-BENCH',
      csms: { url: csms.url, securityProfile: 0, basicAuthPassword: null },
      controller: { simulated: true },
      dataDir: dir,
      diagnosticsSocket: join(dir, 'diag.sock'),
      identity: { vendor: 'Acme', model: 'AC22', serialNumber: 'SN0042' },
      logLevel: 'warn',
    }),
  );
  const child = spawn(process.execPath, [join(root, 'dist/src/cli.js'), 'run', '--config', cfg], { stdio: 'ignore' });
  const t0 = Date.now();
  while (csms.callsOf('BootNotification').length === 0 && Date.now() - t0 < 15_000) await new Promise((r) => setTimeout(r, 50));
  const afterBoot = rssKiB(child.pid);
  await new Promise((r) => setTimeout(r, IDLE_S * 1000));
  const afterIdle = rssKiB(child.pid);
  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', r));
  await csms.stop();
  return { afterBoot, afterIdle };
}

const l = await latency();
console.log(`serial event -> driver callback over a pty (${l.n} samples): median ${l.median.toFixed(3)} ms, p99 ${l.p99.toFixed(3)} ms, max ${l.max.toFixed(3)} ms`);
const r = await idleRss();
console.log(`agent RSS (simulated controller + OCPP connected): ${(r.afterBoot / 1024).toFixed(1)} MiB after boot, ${(r.afterIdle / 1024).toFixed(1)} MiB after ${IDLE_S} s idle`);
