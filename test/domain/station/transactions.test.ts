// The transaction lifecycle block (src/domain/station/transactions.ts) over the real serial
// driver and the simulator on a pty: made durable before it starts (a journal failure starts
// nothing), the current offered and its suspension, the end with reason and register.
import { afterEach, describe, expect, it } from 'vitest';
import type { Transaction } from '../../../src/domain/model/transaction.js';
import type { StationOptions } from '../../../src/domain/station/charging-station.js';
import { startStationRig, type RigParts, type StationRig } from '../../helpers/agent-harness.js';
import { transactionPoints16 } from '../../../src/ocpp/v16/mappers.js';
import { card } from '../../helpers/domain-terms.js';
import { waitFor } from '../../helpers/wait.js';

let rig: StationRig | null = null;
afterEach(async () => {
  await rig?.stop();
  rig = null;
});

async function charging(opts: StationOptions = {}, parts: RigParts = {}) {
  rig = await startStationRig({}, opts, parts);
  const events: string[] = [];
  const ended: Transaction[] = [];
  rig.station.subscribe({
    transactionStarted: ({ tx }) => events.push(`started ${tx.idToken.value}`),
    transactionEnded: ({ tx }) => {
      events.push(`ended ${tx.stopReason}`);
      ended.push(tx);
    },
    authorizationDecided: ({ idToken, accepted }) => events.push(`${idToken.value} ${accepted ? 'accepted' : 'refused'}`),
  });
  rig.sim.plugIn(1);
  rig.sim.evRequestEnergy(1);
  await waitFor(() => rig!.station.connectorState(1)?.chargingState === 'EVConnected', 5_000, 'EV connected');
  return { rig, events, ended };
}

describe('transaction lifecycle', () => {
  it('journalled before it starts; offered current; ends with its reason and the register', async () => {
    const journal: string[] = [];
    const t = await charging({ journal: { started: (tx) => journal.push(tx.localId) } });
    expect(await t.rig.station.presentIdToken(card('DRIVER'))).toBe('started');
    const tx = t.rig.station.transaction(1)!;
    expect(journal).toEqual([tx.localId]);
    await waitFor(() => t.rig.sim.state(1).offeredAmps === 32, 5_000, 'current offered');
    await waitFor(() => t.rig.station.connectorState(1)?.chargingState === 'Charging', 5_000, 'Charging');

    t.rig.station.setOffered(1, 0);
    expect(t.rig.station.connectorState(1)?.chargingState).toBe('SuspendedEVSE');
    t.rig.station.setOffered(1, 16);
    await waitFor(() => t.rig.sim.state(1).offeredAmps === 16, 5_000, 'current offered again');

    const stopped = t.rig.station.stopTransaction(1, 'RemoteStop');
    expect(stopped).toMatchObject({ localId: tx.localId, stopReason: 'RemoteStop' });
    // Announced once the register is read after the contactor opened.
    await waitFor(() => t.ended.length === 1, 5_000, 'ended');
    expect(t.ended[0]).toMatchObject({ localId: tx.localId, meterStopWh: t.rig.station.lastMeter(1)?.energyWh ?? tx.meterStartWh });
    await waitFor(() => t.rig.sim.state(1).offeredAmps === 0, 5_000, 'disabled');
    expect(t.rig.station.connectorState(1)?.sessionPhase).toBe('after-transaction');
    expect(t.events).toEqual(['DRIVER accepted', 'started DRIVER', 'ended RemoteStop']);
  });

  it('a transaction the journal cannot record never starts', async () => {
    const t = await charging({
      journal: {
        started: () => {
          throw new Error('disk full');
        },
      },
    });
    expect(await t.rig.station.presentIdToken(card('DRIVER'))).toBe('rejected');
    expect(t.rig.station.transaction(1)).toBeNull();
    expect(t.events).toEqual(['DRIVER accepted', 'DRIVER refused']);
    expect(t.rig.sim.state(1).offeredAmps).toBe(0);
  });

  it('the EV leaves: ended (EVDisconnected) when that is a stop point, else it goes on, cable released', async () => {
    const t = await charging();
    expect(await t.rig.station.presentIdToken(card('DRIVER'))).toBe('started');
    t.rig.sim.unplug(1);
    await waitFor(() => t.ended.length === 1, 5_000, 'ended');
    expect(t.ended[0]?.stopReason).toBe('EVDisconnected');
    expect(t.rig.station.connectorState(1)?.sessionPhase).toBe('none');
    await t.rig.stop();

    const u = await charging({}, { settings: { transactionPoints: () => transactionPoints16(false) } });
    const sent: string[] = [];
    u.rig.controller.on('wire', (direction, line) => direction === 'tx' && sent.push(line));
    expect(await u.rig.station.presentIdToken(card('DRIVER'))).toBe('started');
    u.rig.sim.unplug(1);
    await waitFor(() => u.rig.station.connectorState(1)?.chargingState === 'Idle', 5_000, 'EV gone');
    await waitFor(() => sent.some((l) => l.includes('UNLOCK')), 5_000, 'cable released');
    expect(u.ended).toEqual([]);
    expect(u.rig.station.connectorState(1)?.sessionPhase).toBe('in-transaction');
  });

  it('nothing to stop: null, no event', async () => {
    const t = await charging();
    expect(t.rig.station.stopTransaction(1, 'LocalStop')).toBeNull();
    expect(t.rig.station.stopTransaction(9, 'LocalStop')).toBeNull();
    expect(t.ended).toEqual([]);
  });
});
