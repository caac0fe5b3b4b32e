// `npm run bench` (status latency): a pilot state change -> its StatusNotification, measured from the
// moment the simulated controller writes the `$CP` line on its end of the pty to the moment the
// bundled CSMS receives the frame over loopback. The agent is the built CLI in its own process
// (`cli.js run`, real serial driver); simulator and CSMS share this process, hence one clock.
// Prints `figure  target  ok/MISS`; asserts nothing. Runs against dist/ (build first).
// Env: BENCH_STATUS_CHANGES (default 200).
import { pct, sleep, startRig, until, verdict } from './agent-rig.mjs';

const CHANGES = Number(process.env.BENCH_STATUS_CHANGES ?? 200);
const fmt = (ms) => `${ms.toFixed(2)} ms`;

const rig = await startRig({ id: 'CP-BENCH-LAT' });
try {
  await rig.startAgent();
  await sleep(1_000);
  let changedAt = 0;
  rig.sim.on('line', (dir, text) => {
    if (dir === 'out' && text.startsWith('$CP,1,')) changedAt = performance.now();
  });
  const lat = [];
  let available = true;
  for (let i = 0; i < CHANGES; i++) {
    const from = rig.frames.length;
    const want = available ? '"Preparing"' : '"Available"';
    if (available) rig.sim.plugIn(1, { cableAmps: 32 });
    else rig.sim.unplug(1);
    available = !available;
    const isIt = (f) => f.text.includes('"StatusNotification"') && f.text.includes(want);
    await until(() => rig.frames.slice(from).some(isIt), `status ${i}`);
    lat.push(rig.frames.slice(from).find(isIt).at - changedAt);
    await sleep(20); // the CSMS's answer goes back before the next change
  }
  lat.sort((a, b) => a - b);
  const [median, p99] = [pct(lat, 50), pct(lat, 99)];
  console.log(`pilot change on the serial line -> StatusNotification at the CSMS (${lat.length} changes, agent in its own process)`);
  console.log(`  max ${fmt(lat[lat.length - 1])}`);
  verdict('status latency, median', fmt(median), '<= 2 ms', median <= 2);
  verdict('status latency, p99', fmt(p99), '<= 10 ms', p99 <= 10);
} finally {
  await rig.close();
}
