// The restart rule of smart charging, against the real agent restarted over the same SQLite file,
// the strict DevCsms and the simulated
// controller: a lowering is written at once, a raise is coalesced; after a restart the station
// never offers more than the most restrictive limit the CSMS set in the window the last write
// covers (the envelope), until the CSMS next changes a profile or that window ends.
import { describe, expect, it } from 'vitest';
import { startCharging, useAgentFixture } from '../helpers/action-fixture.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { enableLog, profile16 } from '../helpers/smart-charging.js';
import { ENVELOPE_SPAN_MS } from '../../src/domain/smart-charging/smart-charging.js';

const fx = useAgentFixture();
const maxProfile = (limit: number) => ({ connectorId: 0, csChargingProfiles: profile16({ id: 1, purpose: 'ChargePointMaxProfile', periods: [[0, limit]] }) });

describe('smart charging across a restart', () => {
  it('a lowering is written at once, a raise coalesced; after the restart the envelope caps the offer until the CSMS changes a profile', async () => {
    const h = await fx.start();
    expect(await h.call('SetChargingProfile', maxProfile(10))).toEqual({ status: 'Accepted' });
    expect(h.agent.smartCharging.counters().profileWrites).toBe(1);
    expect(await h.call('SetChargingProfile', maxProfile(24))).toEqual({ status: 'Accepted' });
    // The raise is live at once, but costs no write yet.
    expect(h.agent.smartCharging.counters()).toMatchObject({ profileWrites: 1, profilesCoalesced: 1, limits: [{ evseId: 1, limitA: 24 }] });

    await h.restart(); // the pending set is written at shutdown, with the envelope at 10 A
    const log = enableLog(h);
    expect(h.agent.smartCharging.profiles()).toMatchObject([{ id: 1, schedule: { periods: [{ limit: 24 }] } }]);
    await startCharging(h);
    await log.waitFor(10);
    expect(log.since(0)).toEqual([10]);
    expect(h.agent.smartCharging.counters().limits[0]).toMatchObject({ limitA: 10, binding: 'envelope' });

    // The CSMS speaks for itself again: the envelope goes, the profiles rule.
    const m = log.mark();
    expect(await h.call('SetChargingProfile', { connectorId: 1, csChargingProfiles: profile16({ id: 2, purpose: 'TxDefaultProfile', periods: [[0, 30]] }) })).toEqual({ status: 'Accepted' });
    await log.waitFor(24, m);
  });

  it('the envelope ends with the window it covers (a day after its write) even if the CSMS says nothing', async () => {
    const clock = new FakeClock();
    // No heartbeat (and no clock sync with it) within the day the test moves through.
    const h = await fx.start({ clock, csms: { heartbeatIntervalS: 3 * 86_400 }, ocppConfig: { MeterValueSampleInterval: '0' } });
    expect(await h.call('SetChargingProfile', maxProfile(8))).toEqual({ status: 'Accepted' });
    expect(await h.call('SetChargingProfile', maxProfile(20))).toEqual({ status: 'Accepted' });
    await h.restart();
    const log = enableLog(h);
    await startCharging(h);
    await log.waitFor(8);
    const m = log.mark();
    await clock.advanceAsync(ENVELOPE_SPAN_MS - 60_000);
    expect(log.since(m)).toEqual([]);
    await clock.advanceAsync(120_000);
    await log.waitFor(20, m);
  });
});
