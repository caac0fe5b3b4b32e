// OCPP 1.6 §5.5 ClearChargingProfile against the real agent and the simulated controller: by id,
// by connector and purpose, by stack level, all at once; Unknown when nothing matched; the offered
// current on the serial line follows each clear.
import { describe, expect, it } from 'vitest';
import { startCharging, useAgentFixture } from '../../../helpers/action-fixture.js';
import { enableLog, profile16 } from '../../../helpers/smart-charging.js';

const fx = useAgentFixture();

describe('ClearChargingProfile (OCPP 1.6 §5.5)', () => {
  it('clears by id, by connector and purpose, by stack level and all; Unknown when nothing matched', async () => {
    const h = await fx.start();
    const log = enableLog(h);
    await startCharging(h);
    await log.waitFor(32);
    const set = (connectorId: number, p: Parameters<typeof profile16>[0]) => h.call('SetChargingProfile', { connectorId, csChargingProfiles: profile16(p) });
    expect(await set(0, { id: 1, purpose: 'ChargePointMaxProfile', periods: [[0, 12]] })).toEqual({ status: 'Accepted' });
    expect(await set(1, { id: 2, purpose: 'TxDefaultProfile', stackLevel: 1, periods: [[0, 16]] })).toEqual({ status: 'Accepted' });
    expect(await set(0, { id: 3, purpose: 'TxDefaultProfile', stackLevel: 0, periods: [[0, 20]] })).toEqual({ status: 'Accepted' });
    expect(await set(0, { id: 4, purpose: 'TxDefaultProfile', stackLevel: 3, validFrom: new Date(Date.now() + 3_600_000), periods: [[0, 6]] })).toEqual({ status: 'Accepted' });
    await log.waitFor(12);

    let m = log.mark();
    expect(await h.call('ClearChargingProfile', { id: 1 })).toEqual({ status: 'Accepted' });
    await log.waitFor(16, m);
    expect(await h.call('ClearChargingProfile', { id: 99 })).toEqual({ status: 'Unknown' });
    expect(await h.call('ClearChargingProfile', { connectorId: 1, chargingProfilePurpose: 'ChargePointMaxProfile' })).toEqual({ status: 'Unknown' });
    m = log.mark();
    expect(await h.call('ClearChargingProfile', { connectorId: 1, chargingProfilePurpose: 'TxDefaultProfile' })).toEqual({ status: 'Accepted' });
    await log.waitFor(20, m);
    expect(await h.call('ClearChargingProfile', { stackLevel: 5 })).toEqual({ status: 'Unknown' });
    expect(await h.call('ClearChargingProfile', { stackLevel: 3 })).toEqual({ status: 'Accepted' });
    expect(h.agent.smartCharging.profiles().map((p) => p.id)).toEqual([3]);
    m = log.mark();
    expect(await h.call('ClearChargingProfile', {})).toEqual({ status: 'Accepted' });
    await log.waitFor(32, m);
    expect(await h.call('ClearChargingProfile', {})).toEqual({ status: 'Unknown' });
    expect(h.csms.strictFailures).toEqual([]);
  });
});
