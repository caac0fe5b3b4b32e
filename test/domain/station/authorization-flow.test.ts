// The authorization flow block (src/domain/station/authorization-flow.ts) over the real serial
// driver and the simulator on a pty: card first then plug, plug first then card,
// ConnectionTimeOut, the same card stopping its own transaction, remote starts.
import { afterEach, describe, expect, it } from 'vitest';
import type { AuthorizationResult } from '../../../src/domain/model/authorization.js';
import type { IdToken } from '../../../src/domain/model/id-token.js';
import type { Transaction } from '../../../src/domain/model/transaction.js';
import { startStationRig, type RigParts, type StationRig } from '../../helpers/agent-harness.js';
import { card } from '../../helpers/domain-terms.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { waitFor } from '../../helpers/wait.js';

let rig: StationRig | null = null;
afterEach(async () => {
  await rig?.stop();
  rig = null;
});

async function setup(parts: RigParts = {}) {
  const asked: IdToken[] = [];
  const authorizer = {
    authorize: async (t: IdToken): Promise<AuthorizationResult> => {
      asked.push(t);
      return { status: t.value === 'STRANGER' ? 'Invalid' : 'Accepted' };
    },
  };
  rig = await startStationRig({}, {}, { authorizer, ...parts });
  const started: Transaction[] = [];
  const ended: Transaction[] = [];
  rig.station.subscribe({ transactionStarted: ({ tx }) => started.push(tx), transactionEnded: ({ tx }) => ended.push(tx) });
  return { rig, asked, started, ended, phase: () => rig!.station.connectorState(1)?.sessionPhase };
}

describe('authorization flow', () => {
  it('card first: waits authorized, the plug-in starts the transaction', async () => {
    const t = await setup();
    expect(await t.rig.station.presentIdToken(card('DRIVER'))).toBe('waiting');
    expect(t.phase()).toBe('authorized-waiting');
    t.rig.sim.plugIn(1);
    await waitFor(() => t.started.length === 1, 5_000, 'started on plug-in');
    expect(t.started[0]).toMatchObject({ evseId: 1, idToken: { value: 'DRIVER', type: 'ISO14443' } });
    expect(t.phase()).toBe('in-transaction');
  });

  it('plug first: the card starts at once; a refused card starts nothing', async () => {
    const t = await setup();
    t.rig.sim.plugIn(1);
    await waitFor(() => t.rig.station.connectorState(1)?.chargingState === 'EVConnected', 5_000, 'EV connected');
    expect(await t.rig.station.presentIdToken(card('STRANGER'))).toBe('rejected');
    expect(await t.rig.station.presentIdToken(card('DRIVER'))).toBe('started');
    expect(t.started.map((x) => x.idToken.value)).toEqual(['DRIVER']);
  });

  it('ConnectionTimeOut: the authorization lapses, a later plug-in starts nothing', async () => {
    const clock = new FakeClock();
    const t = await setup({ clock, settings: { connectionTimeoutS: () => 30 } });
    expect(await t.rig.station.presentIdToken(card('DRIVER'))).toBe('waiting');
    clock.advance(30_000);
    expect(t.phase()).toBe('none');
    t.rig.sim.plugIn(1);
    await waitFor(() => t.rig.station.connectorState(1)?.chargingState === 'EVConnected', 5_000, 'EV connected');
    expect(t.started).toEqual([]);
  });

  it('the same card again stops its own transaction (LocalStop, stopped by that card)', async () => {
    const t = await setup();
    t.rig.sim.plugIn(1);
    await waitFor(() => t.rig.station.connectorState(1)?.chargingState === 'EVConnected', 5_000, 'EV connected');
    expect(await t.rig.station.presentIdToken(card('DRIVER'))).toBe('started');
    expect(await t.rig.station.presentIdToken(card(' driver '))).toBe('stopped');
    await waitFor(() => t.ended.length === 1, 5_000, 'ended');
    expect(t.ended[0]).toMatchObject({ stopReason: 'LocalStop', stopIdToken: { value: 'driver' } });
    expect(t.phase()).toBe('after-transaction');
  });

  it('a remote start is not authorized again unless AuthorizeRemoteTxRequests', async () => {
    const t = await setup();
    expect(await t.rig.station.presentIdToken({ value: 'REMOTE', type: 'Central' }, { remote: true, evseId: 1 })).toBe('waiting');
    expect(t.asked).toEqual([]);
  });
});
