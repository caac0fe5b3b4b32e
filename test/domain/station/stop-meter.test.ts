// The register a transaction is billed with, over the real serial driver and the simulator
// on a pty reporting its meter only when asked (METER_MS 0, the longest period there is):
// a stop reads the controller's register once the contactor is open, so the energy since the
// last report is counted; with the link down it falls back to the last reading and says so;
// a stop recovered after a restart reads it too; a reading asked for after the contactor
// opened shows what flows now.
import { statusOf } from '../../../src/ocpp/v16/mappers.js';
import { describe, expect, it } from 'vitest';
import type { SerialController } from '../../../hal/controller/serial-controller.js';
import type { SimulatedController } from '../../../hal/sim/simulated-controller.js';
import { ChargingStation, type RestoredTransaction } from '../../../src/domain/station/charging-station.js';
import type { ChargeControllerPort } from '../../../src/domain/ports.js';
import type { Transaction } from '../../../src/domain/model/transaction.js';
import { card } from '../../helpers/domain-terms.js';
import { SystemClock } from '../../../src/platform/clock.js';
import { STATION_TEST_SETTINGS, useControllerOnPty } from '../../helpers/station-fixture.js';
import { waitFor } from '../../helpers/wait.js';

const pair = useControllerOnPty();

interface Rig {
  sim: SimulatedController;
  controller: SerialController;
  station: ChargingStation;
  stopped: Transaction[];
  errors: string[];
  /** Serial lines as the agent saw them, `rx ...` / `tx ...`. */
  wire: string[];
}

/** Energy 200x faster, so the register moves visibly between two instants of a test. */
async function rig(restore: RestoredTransaction[] = []): Promise<Rig> {
  const sim = await pair.simulator({ meterMs: 0, timeScale: 200, initialEnergyWh: 10_000 });
  // Reports only when asked, also while an EV is plugged in (the driver sets METER_MS from the pilots).
  const controller = pair.controller({ idleMeterMs: 0, activeMeterMs: 0 });
  const wire: string[] = [];
  controller.on('wire', (dir, line) => wire.push(`${dir} ${line}`));
  const errors: string[] = [];
  const station = new ChargingStation(
    controller as ChargeControllerPort,
    { authorize: async () => ({ status: 'Accepted' }) },
    STATION_TEST_SETTINGS,
    new SystemClock(),
    (err, context) => errors.push(`${context}: ${err instanceof Error ? err.message : String(err)}`),
  );
  const stopped: Transaction[] = [];
  station.subscribe({ transactionEnded: ({ tx }) => stopped.push({ ...tx }) });
  station.restoreTransactions(restore);
  station.start();
  await controller.start();
  await waitFor(() => controller.isLinkUp && statusOf(station, 1) !== null, 8_000, 'controller link');
  return { sim, controller, station, stopped, errors, wire };
}

/** Plugged in, card accepted, the EV drawing current and the register past the last report. */
async function charging(r: Rig): Promise<Transaction> {
  r.sim.plugIn(1);
  await waitFor(() => r.station.snapshot()[0]?.pilot === 'B', 8_000, 'plugged in');
  expect(await r.station.presentIdToken(card('04A2B3C4'))).toBe('started');
  r.sim.evRequestEnergy(1);
  await waitFor(() => r.sim.state(1).contactor, 8_000, 'contactor closed');
  const tx = r.station.transaction(1)!;
  await waitFor(() => r.sim.state(1).energyWh > tx.meterStartWh + 50, 8_000, 'energy flowing');
  return tx;
}

const index = (lines: string[], re: RegExp): number => lines.findIndex((l) => re.test(l));

describe('the register a stop is billed with', () => {
  it('EV unplugged while charging: meterStop is the register after the contactor opened, not the last report', async () => {
    const r = await rig();
    const tx = await charging(r);
    const lastReported = r.station.lastMeter(1)!.energyWh!;
    r.sim.unplug(1); // the contactor opens at once: the register stops here
    const register = r.sim.state(1).energyWh;
    await waitFor(() => r.stopped.length === 1, 8_000, 'stopped');

    expect(register).toBeGreaterThan(lastReported);
    expect(r.stopped[0]).toMatchObject({ localId: tx.localId, stopReason: 'EVDisconnected', meterStopWh: register });
    expect(r.station.lastMeter(1)).toMatchObject({ energyWh: register, powerW: 0, currentA: [0, 0, 0] });
    expect(r.errors).toEqual([]);
  });

  it('stopped while charging: the register is read after `$RELAY,1,0`, and no energy flows after it', async () => {
    const r = await rig();
    await charging(r);
    const from = r.wire.length;
    r.station.stopTransaction(1, 'LocalStop');
    await waitFor(() => r.stopped.length === 1, 8_000, 'stopped');

    const wire = r.wire.slice(from);
    const opened = index(wire, /^rx \$RELAY,1,0\*/);
    const read = index(wire, /^tx \$READ,\d+,1\*/);
    expect(index(wire, /^tx \$DISABLE,\d+,1\*/)).toBeGreaterThanOrEqual(0);
    expect(opened).toBeGreaterThanOrEqual(0);
    expect(read).toBeGreaterThan(opened);
    const register = r.sim.state(1).energyWh;
    expect(r.sim.state(1).contactor).toBe(false);
    expect(r.stopped[0]).toMatchObject({ stopReason: 'LocalStop', meterStopWh: register });
  });

  it('no transaction starts on the connector before the last one has its register and is reported stopped', async () => {
    const r = await rig();
    await charging(r);
    const events: string[] = [];
    r.station.subscribe({ transactionStarted: () => events.push('started'), transactionEnded: () => events.push('stopped') });
    r.sim.dropAnswers(1); // the DISABLE is resent: the register is read a while later
    r.station.stopTransaction(1, 'LocalStop');
    const outcome = await r.station.presentIdToken(card('0A0B0C0D'));
    await waitFor(() => events.includes('stopped'), 8_000, 'stopped');

    expect(outcome).toBe('rejected');
    expect(events).toEqual(['stopped']);
  });

  it('controller link down: the last reading stands in, and the log says so', async () => {
    const r = await rig();
    const tx = await charging(r);
    await r.controller.readMeter(1);
    const last = r.station.lastMeter(1)!.energyWh!;
    expect(last).toBeGreaterThan(tx.meterStartWh);
    r.sim.setMute(true);
    await waitFor(() => !r.controller.isLinkUp, 8_000, 'link down');
    r.station.stopTransaction(1, 'LocalStop');
    await waitFor(() => r.stopped.length === 1, 8_000, 'stopped');

    expect(r.stopped[0]!.meterStopWh).toBe(last);
    expect(r.errors.some((e) => /^stop meter reading: controller link down: connector 1 uses the last reported meter reading \(\d+ Wh\)$/.test(e))).toBe(true);
    r.sim.setMute(false);
  });

  it('a stop recovered after a restart reads the register from the controller', async () => {
    const startedAt = new Date(Date.now() - 600_000);
    const endedAt = new Date(Date.now() - 1_000);
    const r = await rig([{ tx: { localId: 'r1', evseId: 1, idToken: card('TAG'), startedAt, meterStartWh: 9_000 }, reasonIfEnded: 'Reboot', endedAt }]);
    await waitFor(() => r.stopped.length === 1, 8_000, 'stopped');

    const disable = index(r.wire, /^tx \$DISABLE,\d+,1\*/);
    const read = index(r.wire, /^tx \$READ,\d+,1\*/);
    expect(disable).toBeGreaterThanOrEqual(0);
    expect(read).toBeGreaterThan(disable);
    expect(index(r.wire.slice(read), /^rx \$METER,1,10000,/)).toBeGreaterThan(0);
    expect(r.stopped[0]).toMatchObject({ localId: 'r1', stopReason: 'Reboot', meterStopWh: 10_000, stoppedAt: endedAt });
  });

  it('a reading asked for after the contactor opened shows what flows now (0 W, 0 A), not the last report', async () => {
    const r = await rig();
    await charging(r);
    await r.controller.readMeter(1);
    expect(r.station.lastMeter(1)!.powerW).toBeGreaterThan(1_000);
    r.sim.evPause(1); // the EV stops drawing: the contactor opens, the transaction goes on
    const reading = await r.station.readMeter(1);
    expect(reading).toMatchObject({ powerW: 0, currentA: [0, 0, 0], energyWh: r.sim.state(1).energyWh });
    expect(r.station.transaction(1)).not.toBeNull();
  });
});
