// Cable unlock (src/domain/station/cable-lock.ts) over the real serial driver and the simulator
// on a pty: a transaction on the EVSE ends first (UnlockCommand), then the controller's `$LOCK`
// outcome answers; no such EVSE or no lock: NotSupported; the link down: UnlockFailed.
import { afterEach, describe, expect, it } from 'vitest';
import type { Transaction } from '../../../src/domain/model/transaction.js';
import { startStationRig, type StationRig } from '../../helpers/agent-harness.js';
import { card } from '../../helpers/domain-terms.js';
import { waitFor } from '../../helpers/wait.js';

let rig: StationRig | null = null;
afterEach(async () => {
  await rig?.stop();
  rig = null;
});

describe('cable unlock', () => {
  it('ends the transaction first (UnlockCommand), then the lock is released', async () => {
    rig = await startStationRig();
    const ended: Transaction[] = [];
    rig.station.subscribe({ transactionEnded: ({ tx }) => ended.push(tx) });
    rig.sim.plugIn(1);
    await waitFor(() => rig!.station.connectorState(1)?.chargingState === 'EVConnected', 5_000, 'EV connected');
    expect(await rig.station.presentIdToken(card('DRIVER'))).toBe('started');
    expect(await rig.station.unlockConnector(1)).toBe('Unlocked');
    await waitFor(() => ended.length === 1, 5_000, 'ended');
    expect(ended.map((t) => t.stopReason)).toEqual(['UnlockCommand']);
  });

  it('no such EVSE: NotSupported; the controller link down: UnlockFailed', async () => {
    rig = await startStationRig();
    expect(await rig.station.unlockConnector(5)).toBe('NotSupported');
    await rig.controller.stop();
    expect(await rig.station.unlockConnector(1)).toBe('UnlockFailed');
  });
});
