// OCPP 1.6 §4.1 Authorize (outgoing/Authorize.ts) from the real agent to the DevCsms: a card
// read asks the CSMS; the answer's idTagInfo becomes the domain's AuthorizationInfo (seen in
// the authorization cache and in whether a transaction starts); not registered: 'offline'.
import { describe, expect, it } from 'vitest';
import { useAgentFixture } from '../../../helpers/action-fixture.js';
import { waitFor } from '../../../helpers/wait.js';
import { authorizationFromAnswer, authorize } from '../../../../src/ocpp/v16/outgoing/Authorize.js';

const fx = useAgentFixture();

describe('Authorize (OCPP 1.6 §4.1)', () => {
  it('a card read sends Authorize with its idTag; Accepted with a group starts, the answer is learnt', async () => {
    const h = await fx.start({ csms: { parentIdTags: { '04A2B3C4': 'FLEET-7' } } });
    const m = h.mark();
    h.sim.plugIn(1);
    h.sim.swipeCard('04A2B3C4');
    const [auth] = await h.waitCalls(m, 'Authorize');
    expect(auth!.params).toEqual({ idTag: '04A2B3C4' });
    await h.waitCalls(m, 'StartTransaction');
    expect(h.agent.authorization.cache.get('04A2B3C4')).toMatchObject({ status: 'Accepted', groupId: { value: 'FLEET-7', type: 'Central' } });
  });

  it('Invalid: no transaction, and the refusal is learnt', async () => {
    const h = await fx.start({ csms: { rejectedTags: ['DEADBEEF'] } });
    const m = h.mark();
    h.sim.plugIn(1);
    h.sim.swipeCard('DEADBEEF');
    await h.waitCalls(m, 'Authorize');
    await waitFor(() => h.agent.authorization.cache.get('DEADBEEF')?.status === 'Invalid', 8_000, 'refusal cached');
    await h.agent.session.heartbeat(); // everything queued before it has reached the CSMS once it is answered
    await h.waitCalls(m, 'Heartbeat');
    expect(h.callsSince(m, 'StartTransaction')).toEqual([]);
    expect(h.agent.station.transaction(1)).toBeNull();
  });

  it('not Accepted by the CSMS: decided offline, nothing sent', async () => {
    const h = await fx.start({ waitReady: false, csms: { bootStatus: 'Pending', heartbeatIntervalS: 300 } });
    await waitFor(() => h.agent.session.registrationStatus === 'Pending', 10_000, 'Pending');
    expect(await authorize(h.agent.session.outgoing, '04A2B3C4')).toBe('offline');
    expect(h.csms.callsOf('Authorize')).toEqual([]);
  });

  it('idTagInfo -> AuthorizationInfo: expiryDate as a Date, an unreadable one dropped', () => {
    expect(authorizationFromAnswer({ idTagInfo: { status: 'Blocked', parentIdTag: 'G', expiryDate: '2030-01-01T00:00:00Z' } })).toEqual({
      status: 'Blocked',
      groupId: { value: 'G', type: 'Central' },
      expiresAt: new Date('2030-01-01T00:00:00Z'),
    });
    expect(authorizationFromAnswer({ idTagInfo: { status: 'Accepted', expiryDate: 'soon' } })).toEqual({ status: 'Accepted' });
  });
});
