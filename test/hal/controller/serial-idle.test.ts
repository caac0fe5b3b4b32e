// "Idle costs nothing": an idle linked driver wakes for the PING each second and for an
// occasional silence check, never for a polling tick. Real driver, real pty, simulator;
// the timer port is the real one, wrapped to count firings (no fake time, no timing asserts).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialController } from '../../../hal/controller/serial-controller.js';
import { openPtyPair, type PtyPair } from '../../../hal/sim/pty-pair.js';
import { SimulatedController } from '../../../hal/sim/simulated-controller.js';
import { REAL_TIMERS, type HalTimers } from '../../../hal/timers.js';
import { waitFor, waitForEvent } from '../../helpers/wait.js';

interface Firing {
  delayMs: number;
  /** Lines the driver wrote while the callback ran. */
  sent: number;
}

let pty: PtyPair;
let sim: SimulatedController;
let driver: SerialController | null = null;

beforeEach(async () => {
  pty = await openPtyPair({ dir: mkdtempSync(join(tmpdir(), 'ca-idle-')) });
  sim = new SimulatedController({ path: pty.controllerPath, connectors: 2 });
  await sim.start();
});

afterEach(async () => {
  await driver?.stop();
  driver = null;
  await sim?.stop();
  await pty?.close();
});

/** The real timers, recording each firing (timeouts and intervals alike) with what it sent. */
function countingTimers(firings: Firing[], txCount: () => number): HalTimers {
  const wrap = (fn: () => void, delayMs: number) => () => {
    const before = txCount();
    fn();
    firings.push({ delayMs, sent: txCount() - before });
  };
  return {
    now: REAL_TIMERS.now,
    setTimeout: (fn, ms) => REAL_TIMERS.setTimeout(wrap(fn, ms), ms),
    clearTimeout: REAL_TIMERS.clearTimeout,
    setInterval: (fn, ms) => REAL_TIMERS.setInterval(wrap(fn, ms), ms),
    clearInterval: REAL_TIMERS.clearInterval,
  };
}

describe('SerialController while idle', () => {
  it('wakes only to PING and for silence checks: no sub-second polling', async () => {
    const firings: Firing[] = [];
    let tx = 0;
    let pings = 0;
    const d = new SerialController({ path: pty.agentPath, timers: countingTimers(firings, () => tx) });
    driver = d;
    d.on('wire', (dir, line) => {
      if (dir !== 'tx') return;
      tx++;
      if (line.startsWith('$PING')) pings++;
    });
    const linkUp = waitForEvent(d, 'linkUp');
    await d.start();
    await linkUp;
    // Idle from the first PING after the resync traffic (which postpones the keep-alive once).
    const settled = pings;
    await waitFor(() => pings > settled, 5_000, 'first idle PING');

    firings.length = 0;
    const pingsBefore = pings;
    const resendsBefore = d.counters().resends;
    // Six keep-alive periods: long enough for a 3 s silence window to come round twice.
    await waitFor(() => pings - pingsBefore >= 6, 15_000, 'six PINGs');
    const resends = d.counters().resends - resendsBefore;
    const idlePings = pings - pingsBefore;

    // A short timer (ACK timeout) fires only when an ACK is really late, and then it resends.
    const short = firings.filter((f) => f.delayMs < 500);
    expect(short.length).toBe(resends);
    // Every other wakeup either sent the PING or was a silence check (at most one per
    // two PINGs: frames keep arriving, so each check re-arms about 2 s or more ahead).
    const idleWakeups = firings.filter((f) => f.sent === 0);
    expect(idleWakeups.length).toBeLessThanOrEqual(Math.ceil(idlePings / 2) + 1);
    expect(firings.filter((f) => f.sent > 0).length).toBeLessThanOrEqual(idlePings + resends);
    expect(d.isLinkUp).toBe(true);
  });

  it('the silence deadline still takes the link down when no frame comes at all', async () => {
    const d = new SerialController({ path: pty.agentPath, reopenDelayMs: 200 });
    driver = d;
    const linkUp = waitForEvent(d, 'linkUp');
    await d.start();
    await linkUp;
    // No keep-alive, so no command goes unanswered: only the silence timer can notice.
    (d as unknown as { tick(): void }).tick = () => {};
    const down = waitForEvent(d, 'linkDown');
    sim.setMute(true);
    expect(await down).toBe('silence');
    Reflect.deleteProperty(d, 'tick');
    const back = waitForEvent(d, 'linkUp');
    sim.setMute(false);
    await back;
  });
});
