// OCPP 1.6 §5.11 RemoteStartTransaction against the real agent and the DevCsms: plugged or not
// (ConnectionTimeOut), AuthorizeRemoteTxRequests on/off, refused for an unknown, busy or
// unavailable connector, the identifier trimmed; a chargingProfile becomes the TxProfile of the
// transaction that starts (its first $ENABLE already at the profile's limit), anything but a
// TxProfile Rejected.
import { statusOf } from '../../../../src/ocpp/v16/mappers.js';
import { describe, expect, it } from 'vitest';
import { useAgentFixture } from '../../../helpers/action-fixture.js';
import { waitFor } from '../../../helpers/wait.js';
import { enableLog, profile16 } from '../../../helpers/smart-charging.js';

const fx = useAgentFixture();

describe('RemoteStartTransaction (OCPP 1.6 §5.11)', () => {
  it('EV plugged in: Accepted, Authorize (AuthorizeRemoteTxRequests=true), then StartTransaction', async () => {
    const h = await fx.start();
    h.sim.plugIn(1);
    await h.waitStatus(1, 'Preparing');
    const m = h.mark();
    expect(await h.call('RemoteStartTransaction', { idTag: 'REMOTE1', connectorId: 1 })).toEqual({ status: 'Accepted' });
    const [start] = await h.waitCalls(m, 'StartTransaction');
    expect(start!.params).toMatchObject({ connectorId: 1, idTag: 'REMOTE1' });
    expect(h.callsSince(m, 'Authorize').map((c) => c.params.idTag)).toEqual(['REMOTE1']);
    h.sim.evRequestEnergy(1);
    await h.waitStatus(1, 'Charging');
  });

  it('no EV yet: Preparing until it plugs in, then StartTransaction', async () => {
    const h = await fx.start();
    const m = h.mark();
    expect(await h.call('RemoteStartTransaction', { idTag: 'REMOTE2' })).toEqual({ status: 'Accepted' });
    await h.waitStatus(1, 'Preparing');
    expect(h.callsSince(m, 'StartTransaction')).toEqual([]);
    h.sim.plugIn(1);
    const [start] = await h.waitCalls(m, 'StartTransaction');
    expect(start!.params).toMatchObject({ connectorId: 1, idTag: 'REMOTE2' });
  });

  it('AuthorizeRemoteTxRequests=false: no Authorize, the identifier is trimmed', async () => {
    const h = await fx.start({ ocppConfig: { AuthorizeRemoteTxRequests: 'false' } });
    h.sim.plugIn(1);
    await h.waitStatus(1, 'Preparing');
    const m = h.mark();
    expect(await h.call('RemoteStartTransaction', { idTag: '  remote3 ', connectorId: 1 })).toEqual({ status: 'Accepted' });
    const [start] = await h.waitCalls(m, 'StartTransaction');
    expect(start!.params.idTag).toBe('remote3');
    expect(h.callsSince(m, 'Authorize')).toEqual([]);
  });

  it('an identifier the CSMS refuses (Authorize Invalid) starts nothing', async () => {
    const h = await fx.start({ csms: { rejectedTags: ['BADTAG'] } });
    h.sim.plugIn(1);
    await h.waitStatus(1, 'Preparing');
    const m = h.mark();
    expect(await h.call('RemoteStartTransaction', { idTag: 'badtag', connectorId: 1 })).toEqual({ status: 'Accepted' });
    await h.waitCalls(m, 'Authorize');
    await waitFor(() => statusOf(h.agent.station, 1) === 'Preparing', 8_000, 'still Preparing');
    expect(h.agent.station.transaction(1)).toBeNull();
    expect(h.callsSince(m, 'StartTransaction')).toEqual([]);
  });

  it('Rejected: unknown connector, connector busy with a transaction, connector Unavailable', async () => {
    const h = await fx.start();
    expect(await h.call('RemoteStartTransaction', { idTag: 'X', connectorId: 3 })).toEqual({ status: 'Rejected' });

    const m = h.mark();
    h.sim.plugIn(1);
    expect(await h.call('RemoteStartTransaction', { idTag: 'FIRST', connectorId: 1 })).toEqual({ status: 'Accepted' });
    await h.waitCalls(m, 'StartTransaction');
    expect(await h.call('RemoteStartTransaction', { idTag: 'SECOND', connectorId: 1 })).toEqual({ status: 'Rejected' });
    expect(await h.call('RemoteStartTransaction', { idTag: 'SECOND' })).toEqual({ status: 'Rejected' });
    h.sim.unplug(1);
    await h.waitCalls(m, 'StopTransaction');

    expect(await h.call('ChangeAvailability', { connectorId: 1, type: 'Inoperative' })).toEqual({ status: 'Accepted' });
    expect(await h.call('RemoteStartTransaction', { idTag: 'THIRD', connectorId: 1 })).toEqual({ status: 'Rejected' });
    expect(h.callsSince(m, 'StartTransaction')).toHaveLength(1);
  });

  it('a connector Reserved for another idTag is Rejected; the reserved idTag is Accepted', async () => {
    const h = await fx.start();
    const expiryDate = new Date(Date.now() + 30 * 60_000).toISOString();
    await h.call('ReserveNow', { connectorId: 1, expiryDate, idTag: 'HOLDER01', reservationId: 3 });
    await h.waitStatus(1, 'Reserved');
    expect(await h.call('RemoteStartTransaction', { idTag: 'STRANGER', connectorId: 1 })).toEqual({ status: 'Rejected' });
    expect(await h.call('RemoteStartTransaction', { idTag: 'STRANGER' })).toEqual({ status: 'Rejected' });
    expect(await h.call('RemoteStartTransaction', { idTag: 'holder01', connectorId: 1 })).toEqual({ status: 'Accepted' });
  });

  it('a member of the reserving group (parent from the local list) is Accepted on the Reserved connector', async () => {
    const h = await fx.start();
    await h.call('SendLocalList', {
      listVersion: 1,
      updateType: 'Full',
      localAuthorizationList: [{ idTag: 'MEMBER01', idTagInfo: { status: 'Accepted', parentIdTag: 'GROUP01' } }],
    });
    const expiryDate = new Date(Date.now() + 30 * 60_000).toISOString();
    await h.call('ReserveNow', { connectorId: 1, expiryDate, idTag: 'GROUP01', reservationId: 4 });
    await h.waitStatus(1, 'Reserved');
    expect(await h.call('RemoteStartTransaction', { idTag: 'OUTSIDER', connectorId: 1 })).toEqual({ status: 'Rejected' });
    expect(await h.call('RemoteStartTransaction', { idTag: 'MEMBER01', connectorId: 1 })).toEqual({ status: 'Accepted' });
  });

  it('with a chargingProfile: the TxProfile of the transaction that starts, its first $ENABLE at the limit; not a TxProfile: Rejected', async () => {
    const h = await fx.start();
    const log = enableLog(h);
    h.sim.plugIn(1);
    await h.waitStatus(1, 'Preparing');
    const notTx = profile16({ id: 5, purpose: 'TxDefaultProfile', periods: [[0, 10]] });
    expect(await h.call('RemoteStartTransaction', { idTag: 'REMOTE5', connectorId: 1, chargingProfile: notTx })).toEqual({ status: 'Rejected' });
    const tooHigh = profile16({ id: 5, purpose: 'TxProfile', stackLevel: 99, periods: [[0, 10]] });
    expect(await h.call('RemoteStartTransaction', { idTag: 'REMOTE5', connectorId: 1, chargingProfile: tooHigh })).toEqual({ status: 'Rejected' });
    const m = h.mark();
    const txProfile = profile16({ id: 6, purpose: 'TxProfile', kind: 'Relative', periods: [[0, 11], [3600, 20]] });
    expect(await h.call('RemoteStartTransaction', { idTag: 'REMOTE6', connectorId: 1, chargingProfile: txProfile })).toEqual({ status: 'Accepted' });
    await h.waitCalls(m, 'StartTransaction');
    await log.waitFor(11);
    expect(log.since(0)).toEqual([11]);
    const tx = h.agent.station.transaction(1)!;
    expect(h.agent.smartCharging.profiles()).toMatchObject([{ id: 6, purpose: 'Tx', evseId: 1, transactionId: tx.localId }]);
    // It goes with its transaction.
    h.agent.station.stopTransaction(1, 'LocalStop');
    await waitFor(() => h.agent.smartCharging.profiles().length === 0, 8_000, 'the TxProfile gone with its transaction');
  });
});
