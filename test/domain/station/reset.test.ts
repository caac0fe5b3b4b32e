// The reset rule (src/domain/station/reset.ts) over the real serial driver and the simulator on
// a pty and a FakeClock: running transactions end with the reset's reason at once; the restart
// comes after the answer, once the reports are delivered, or after a bounded wait.
import { afterEach, describe, expect, it } from 'vitest';
import type { Transaction } from '../../../src/domain/model/transaction.js';
import { ResetRule, RESET_DELIVERY_WAIT_MS, type ResetType } from '../../../src/domain/station/reset.js';
import { startStationRig, type StationRig } from '../../helpers/agent-harness.js';
import { card } from '../../helpers/domain-terms.js';
import { FakeClock, flushMicrotasks } from '../../helpers/fake-clock.js';
import { waitFor } from '../../helpers/wait.js';

let rig: StationRig | null = null;
afterEach(async () => {
  await rig?.stop();
  rig = null;
});

async function charging() {
  const clock = new FakeClock();
  rig = await startStationRig({}, {}, { clock });
  const ended: Transaction[] = [];
  rig.station.subscribe({ transactionEnded: ({ tx }) => ended.push(tx) });
  rig.sim.plugIn(1);
  await waitFor(() => rig!.station.connectorState(1)?.chargingState === 'EVConnected', 5_000, 'EV connected');
  expect(await rig.station.presentIdToken(card('DRIVER'))).toBe('started');
  let delivered: () => void = () => {};
  const delivery = { drain: () => new Promise<void>((resolve) => (delivered = resolve)) };
  const restarts: ResetType[] = [];
  const reset = new ResetRule({ station: rig.station, clock, delivery, controller: {}, restart: (type) => restarts.push(type) });
  return { rig, clock, ended, reset, restarts, deliver: () => delivered() };
}

describe('reset', () => {
  it('Soft: the transaction ends with SoftReset now; the restart waits for the delivery', async () => {
    const t = await charging();
    expect(t.reset.request('Soft')).toBe(true);
    expect(t.rig.station.transaction(1)).toBeNull();
    await waitFor(() => t.ended.length === 1, 5_000, 'ended');
    expect(t.ended.map((x) => x.stopReason)).toEqual(['SoftReset']);
    expect(t.restarts).toEqual([]); // the answer goes out first
    await t.clock.advanceAsync(100);
    expect(t.restarts).toEqual([]); // the StopTransaction is not delivered yet
    t.deliver();
    await flushMicrotasks();
    expect(t.restarts).toEqual(['Soft']);
  });

  it('Hard: HardReset; undelivered reports wait at most the bound, then the restart', async () => {
    const t = await charging();
    expect(t.reset.request('Hard')).toBe(true);
    await waitFor(() => t.ended.length === 1, 5_000, 'ended');
    expect(t.ended.map((x) => x.stopReason)).toEqual(['HardReset']);
    await t.clock.advanceAsync(100 + RESET_DELIVERY_WAIT_MS);
    await flushMicrotasks();
    expect(t.restarts).toEqual(['Hard']);
  });
});
