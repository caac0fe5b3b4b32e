// OCPP 1.6 §4.8/§9.1: a StartTransaction answered with a non-Accepted idTagInfo. With
// StopTransactionOnInvalidId=false the transaction goes on, allowed MaxEnergyOnInvalidId
// Wh more, then the EVSE suspends it (0 A offered, SuspendedEVSE) until the driver ends it.
import { describe, expect, it } from 'vitest';
import { useAgentFixture } from '../helpers/action-fixture.js';
import { waitFor } from '../helpers/wait.js';

const fx = useAgentFixture();

describe('StartTransaction refused by the CSMS', () => {
  it('MaxEnergyOnInvalidId: charges that much more, then suspends', async () => {
    const h = await fx.start({
      csms: { rejectedTags: ['BADTAG01'] },
      ocppConfig: { AuthorizeRemoteTxRequests: 'false', StopTransactionOnInvalidId: 'false', MaxEnergyOnInvalidId: '5' },
    });
    const m = h.mark();
    h.sim.plugIn(1);
    h.sim.evRequestEnergy(1);
    expect(await h.call('RemoteStartTransaction', { connectorId: 1, idTag: 'BADTAG01' })).toEqual({ status: 'Accepted' });
    const [start] = await h.waitCalls(m, 'StartTransaction');
    const meterStart = start!.params['meterStart'] as number;
    await h.waitStatus(1, 'Charging');
    await h.waitStatus(1, 'SuspendedEVSE', 'suspended once the allowance is used');
    const energy = h.agent.station.lastMeter(1)?.energyWh ?? 0;
    expect(energy - meterStart).toBeGreaterThanOrEqual(5);
    expect(h.agent.station.offeredCurrent(1)).toBe(0);
    // Suspended, not stopped: the driver ends it by unplugging.
    expect(h.callsSince(m, 'StopTransaction')).toEqual([]);
    h.sim.unplug(1);
    const [stop] = await h.waitCalls(m, 'StopTransaction');
    expect(stop!.params).toMatchObject({ reason: 'EVDisconnected' });
  });

  it('MaxEnergyOnInvalidId 0: suspended at once', async () => {
    const h = await fx.start({
      csms: { rejectedTags: ['BADTAG01'] },
      ocppConfig: { AuthorizeRemoteTxRequests: 'false', StopTransactionOnInvalidId: 'false', MaxEnergyOnInvalidId: '0' },
    });
    const m = h.mark();
    h.sim.plugIn(1);
    h.sim.evRequestEnergy(1);
    await h.call('RemoteStartTransaction', { connectorId: 1, idTag: 'BADTAG01' });
    await h.waitCalls(m, 'StartTransaction');
    await h.waitStatus(1, 'SuspendedEVSE');
    await waitFor(() => h.sim.state(1).contactor === false, 8_000, 'contactor open');
    expect(h.agent.station.transaction(1)).not.toBeNull();
  });
});
