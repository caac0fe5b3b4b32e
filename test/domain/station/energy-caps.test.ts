// The CSMS's answer to a started transaction (src/domain/station/energy-caps.ts) over the real
// serial driver and the simulator on a pty: the identifier info is learnt; a refused one ends
// the transaction (Deauthorized) with StopTransactionOnInvalidId, else suspends it (0 A) with
// no MaxEnergyOnInvalidId allowance; an Accepted answer changes nothing.
import { afterEach, describe, expect, it } from 'vitest';
import type { AuthorizationInfo } from '../../../src/domain/model/authorization.js';
import type { Transaction } from '../../../src/domain/model/transaction.js';
import { startStationRig, type StationRig } from '../../helpers/agent-harness.js';
import { card } from '../../helpers/domain-terms.js';
import { waitFor } from '../../helpers/wait.js';

let rig: StationRig | null = null;
afterEach(async () => {
  await rig?.stop();
  rig = null;
});

async function charging(stopOnInvalid: boolean) {
  const learnt: Array<[string, AuthorizationInfo]> = [];
  rig = await startStationRig({}, { learner: { learn: (t, info) => learnt.push([t.value, info]) } }, { settings: { stopTransactionOnInvalidId: () => stopOnInvalid, maxEnergyOnInvalidIdWh: () => 0 } });
  const ended: Transaction[] = [];
  rig.station.subscribe({ transactionEnded: ({ tx }) => ended.push(tx) });
  rig.sim.plugIn(1);
  rig.sim.evRequestEnergy(1);
  await waitFor(() => rig!.station.connectorState(1)?.chargingState === 'EVConnected', 5_000, 'EV connected');
  expect(await rig.station.presentIdToken(card('DRIVER'))).toBe('started');
  await waitFor(() => rig!.station.connectorState(1)?.chargingState === 'Charging', 5_000, 'Charging');
  return { rig, learnt, ended, tx: rig.station.transaction(1)! };
}

describe('the answer to a started transaction', () => {
  it('Accepted: learnt, charging goes on', async () => {
    const t = await charging(true);
    t.rig.station.startAnswered(t.tx.localId, t.tx.idToken, { status: 'Accepted' });
    expect(t.learnt).toEqual([['DRIVER', { status: 'Accepted' }]]);
    expect(t.rig.station.connectorState(1)?.chargingState).toBe('Charging');
    expect(t.ended).toEqual([]);
  });

  it('refused with StopTransactionOnInvalidId: the transaction ends, Deauthorized', async () => {
    const t = await charging(true);
    t.rig.station.startAnswered(t.tx.localId, t.tx.idToken, { status: 'Invalid' });
    expect(t.rig.station.transaction(1)).toBeNull();
    await waitFor(() => t.ended.length === 1, 5_000, 'ended');
    expect(t.ended.map((x) => x.stopReason)).toEqual(['Deauthorized']);
    expect(t.learnt).toEqual([['DRIVER', { status: 'Invalid' }]]);
  });

  it('refused without it and no allowance: suspended at once (0 A offered), not ended', async () => {
    const t = await charging(false);
    t.rig.station.startAnswered(t.tx.localId, t.tx.idToken, { status: 'Blocked' });
    expect(t.ended).toEqual([]);
    expect(t.rig.station.offeredCurrent(1)).toBe(0);
    expect(t.rig.station.connectorState(1)?.chargingState).toBe('SuspendedEVSE');
    await waitFor(() => t.rig.sim.state(1).offeredAmps === 0, 5_000, 'controller offers 0 A');
  });
});
