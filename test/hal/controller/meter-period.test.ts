// The controller's meter report period follows the pilots ("idle costs nothing"): the real
// driver over a real pty with the simulator, whose live METER_MS the tests read. No timing
// asserts: each step waits for the simulator to hold the period with a generous bound.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialController, type SerialControllerOptions } from '../../../hal/controller/serial-controller.js';
import { openPtyPair, type PtyPair } from '../../../hal/sim/pty-pair.js';
import { SimulatedController } from '../../../hal/sim/simulated-controller.js';
import { waitFor, waitForEvent } from '../../helpers/wait.js';

const IDLE_MS = 60_000;
const ACTIVE_MS = 1000;

let pty: PtyPair;
let sim: SimulatedController;
let driver: SerialController | null = null;
/** Lines the driver sent, without their checksums. */
const sent: string[] = [];

beforeEach(async () => {
  pty = await openPtyPair({ dir: mkdtempSync(join(tmpdir(), 'ca-meterms-')) });
  // The protocol default at boot: every second.
  sim = new SimulatedController({ path: pty.controllerPath, connectors: 2 });
  await sim.start();
  sent.length = 0;
});

afterEach(async () => {
  await driver?.stop();
  driver = null;
  await sim?.stop();
  await pty?.close();
});

async function up(opts: Partial<SerialControllerOptions> = {}): Promise<SerialController> {
  const d = new SerialController({ path: pty.agentPath, ...opts });
  driver = d;
  d.on('wire', (dir, line) => {
    if (dir === 'tx') sent.push(line.replace(/\*[0-9A-F]{2}$/i, ''));
  });
  const linkUp = waitForEvent(d, 'linkUp');
  await d.start();
  await linkUp;
  return d;
}

const meterMs = (ms: number, what: string): Promise<void> => waitFor(() => sim.config.meterMs === ms, 8_000, `METER_MS ${ms} (${what})`);
const readsOf = (connector: number): number => sent.filter((l) => new RegExp(`^\\$READ,\\d+,${connector}$`).test(l)).length;

describe('METER_MS follows the pilots', () => {
  it('idle period with no EV; active period and a READ on plug-in; idle again after unplug; re-applied after a reboot', async () => {
    await up();
    await meterMs(IDLE_MS, 'no EV on either connector');

    sim.plugIn(1);
    await meterMs(ACTIVE_MS, 'EV on connector 1');
    await waitFor(() => readsOf(1) === 1, 8_000, 'READ of connector 1');
    expect(readsOf(2)).toBe(0);

    // One EV left is enough to keep the active period.
    sim.plugIn(2);
    await waitFor(() => readsOf(2) === 1, 8_000, 'READ of connector 2');
    sim.unplug(1);
    await waitForEvent(driver!, 'pilot', (c, s) => c === 1 && s === 'A');
    expect(sim.config.meterMs).toBe(ACTIVE_MS);
    sim.unplug(2);
    await meterMs(IDLE_MS, 'both unplugged');

    // A rebooted controller is back at its default; the resync sets the idle period again.
    const reset = waitForEvent(driver!, 'controllerReset');
    sim.reboot();
    expect(sim.config.meterMs).toBe(ACTIVE_MS);
    await reset;
    await meterMs(IDLE_MS, 'after the reboot');
  });

  it('a controller power-cycled with an EV plugged in gets the active period back', async () => {
    // Not the simulator's boot default, so only the resync can have set it.
    await up({ activeMeterMs: 500 });
    sim.plugIn(1);
    await meterMs(500, 'EV on connector 1');
    const configs = (): number => sent.filter((l) => /^\$CONFIG,\d+,METER_MS,500$/.test(l)).length;
    const before = configs();
    await sim.stop();
    // Powered off and on with the EV still there (back at its default): the link goes and comes back.
    const back = waitForEvent(driver!, 'linkUp');
    await sim.start();
    await back;
    await meterMs(500, 'after the link came back');
    expect(configs()).toBe(before + 1);
  });

  it('takes the configured periods, and an explicit METER_MS from outside is kept through plug-in and reboot', async () => {
    const d = await up({ idleMeterMs: 30_000, activeMeterMs: 500 });
    await meterMs(30_000, 'configured idle period');
    sim.plugIn(1);
    await meterMs(500, 'configured active period');

    await d.configure('METER_MS', '0');
    sim.unplug(1);
    await waitForEvent(d, 'pilot', (c, s) => c === 1 && s === 'A');
    sim.plugIn(1);
    await waitFor(() => readsOf(1) === 2, 8_000, 'READ on the second plug-in');
    expect(sim.config.meterMs).toBe(0);
    const reset = waitForEvent(d, 'controllerReset');
    sim.reboot();
    await reset;
    await meterMs(0, 'explicit value re-applied after the reboot');
  });

  it('idleMeterMs null leaves METER_MS to the controller', async () => {
    await up({ idleMeterMs: null });
    sim.plugIn(1);
    await waitForEvent(driver!, 'pilot', (c, s) => c === 1 && s === 'B');
    sim.unplug(1);
    await waitForEvent(driver!, 'pilot', (c, s) => c === 1 && s === 'A');
    await driver!.readMeter(2); // a command after the pilot changes: anything queued before it went out
    expect(sent.some((l) => l.startsWith('$CONFIG'))).toBe(false);
    expect(sim.config.meterMs).toBe(ACTIVE_MS);
  });

  it('refuses periods the protocol cannot carry', () => {
    expect(() => new SerialController({ path: pty.agentPath, idleMeterMs: -1 })).toThrow(RangeError);
    expect(() => new SerialController({ path: pty.agentPath, activeMeterMs: 1.5 })).toThrow(/activeMeterMs/);
  });
});
