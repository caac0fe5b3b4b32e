// OCPP 1.6 §5.16 SetChargingProfile against the real agent, the strict DevCsms and the simulated
// controller on a pty: where each purpose may go, the station's limits, stack-level precedence
// and the purposes' merge observed as `$ENABLE` on the serial line, an identical profile changing
// nothing, the pause below 6 A (SuspendedEVSE) and its resume, and each schedule kind's period
// boundaries on an injected clock.
import { describe, expect, it } from 'vitest';
import { startCharging, useAgentFixture } from '../../../helpers/action-fixture.js';
import { FakeClock } from '../../../helpers/fake-clock.js';
import { enableLog, profile16 } from '../../../helpers/smart-charging.js';
import { waitFor } from '../../../helpers/wait.js';

const fx = useAgentFixture();

describe('SetChargingProfile (OCPP 1.6 §5.16)', () => {
  it('places each purpose where 1.6 allows it and rejects what exceeds the station limits', async () => {
    const h = await fx.start();
    const set = (connectorId: number, p: Parameters<typeof profile16>[0]) => h.call('SetChargingProfile', { connectorId, csChargingProfiles: profile16(p) });
    // A TxProfile needs a transaction on its connector; never on connector 0.
    expect(await set(1, { id: 1, purpose: 'TxProfile', periods: [[0, 10]] })).toEqual({ status: 'Rejected' });
    expect(await set(0, { id: 1, purpose: 'TxProfile', periods: [[0, 10]] })).toEqual({ status: 'Rejected' });
    // ChargePointMaxProfile on connector 0 only.
    expect(await set(1, { id: 2, purpose: 'ChargePointMaxProfile', periods: [[0, 16]] })).toEqual({ status: 'Rejected' });
    expect(await set(0, { id: 2, purpose: 'ChargePointMaxProfile', periods: [[0, 16]] })).toEqual({ status: 'Accepted' });
    expect(await set(0, { id: 3, purpose: 'TxDefaultProfile', periods: [[0, 20]] })).toEqual({ status: 'Accepted' });
    expect(await set(1, { id: 4, purpose: 'TxDefaultProfile', stackLevel: 1, periods: [[0, 20]] })).toEqual({ status: 'Accepted' });
    expect(await set(7, { id: 5, purpose: 'TxDefaultProfile', periods: [[0, 20]] })).toEqual({ status: 'Rejected' });
    // The keys' limits: stack level, periods, units.
    const max = Number(h.agent.config.get('ChargeProfileMaxStackLevel'));
    expect(await set(0, { id: 6, purpose: 'TxDefaultProfile', stackLevel: max + 1, periods: [[0, 20]] })).toEqual({ status: 'Rejected' });
    const periods = Number(h.agent.config.get('ChargingScheduleMaxPeriods'));
    const many = Array.from({ length: periods + 1 }, (_, i): [number, number] => [i * 60, 10]);
    expect(await set(0, { id: 6, purpose: 'TxDefaultProfile', stackLevel: 2, periods: many })).toEqual({ status: 'Rejected' });
    h.agent.config.setInternal('ChargingScheduleAllowedChargingRateUnit', 'Current');
    expect(await set(0, { id: 6, purpose: 'TxDefaultProfile', stackLevel: 2, unit: 'W', periods: [[0, 7000]] })).toEqual({ status: 'Rejected' });
    h.agent.config.setInternal('MaxChargingProfilesInstalled', '3');
    expect(await set(0, { id: 7, purpose: 'TxDefaultProfile', stackLevel: 3, periods: [[0, 20]] })).toEqual({ status: 'Rejected' });
    // Replacing one of the three by id stays within the limit.
    expect(await set(0, { id: 3, purpose: 'TxDefaultProfile', periods: [[0, 18]] })).toEqual({ status: 'Accepted' });
    expect(h.csms.strictFailures).toEqual([]);
  });

  it('stack levels and purposes merge as 1.6 says, each change an $ENABLE on the serial line; an identical profile changes nothing', async () => {
    const h = await fx.start();
    const log = enableLog(h);
    const tx = await startCharging(h);
    await log.waitFor(32);
    const set = async (connectorId: number, p: Parameters<typeof profile16>[0], amps: number | null) => {
      const m = log.mark();
      expect(await h.call('SetChargingProfile', { connectorId, csChargingProfiles: profile16(p) })).toEqual({ status: 'Accepted' });
      if (amps !== null) await log.waitFor(amps, m);
    };
    await set(0, { id: 10, purpose: 'TxDefaultProfile', periods: [[0, 20]] }, 20);
    // A higher stack level within the purpose wins, on the connector or the station.
    await set(1, { id: 11, purpose: 'TxDefaultProfile', stackLevel: 1, periods: [[0, 16]] }, 16);
    await set(0, { id: 12, purpose: 'TxDefaultProfile', stackLevel: 2, periods: [[0, 24]] }, 24);
    // A TxProfile overrides the TxDefaults, even a lower stack level and a higher limit.
    await set(1, { id: 13, purpose: 'TxProfile', periods: [[0, 28]], transactionId: tx }, 28);
    // ChargePointMax caps the result.
    await set(0, { id: 14, purpose: 'ChargePointMaxProfile', periods: [[0, 12]] }, 12);
    // Same purpose and stack level replaces (here under another id).
    await set(0, { id: 15, purpose: 'ChargePointMaxProfile', periods: [[0, 22]] }, 22);
    // A TxProfile naming another transaction is Rejected.
    const other = await h.call('SetChargingProfile', { connectorId: 1, csChargingProfiles: profile16({ id: 16, purpose: 'TxProfile', periods: [[0, 8]], transactionId: tx + 100 }) });
    expect(other).toEqual({ status: 'Rejected' });

    const before = h.agent.smartCharging.counters();
    const m = log.mark();
    for (let i = 0; i < 5; i++) await set(0, { id: 15, purpose: 'ChargePointMaxProfile', periods: [[0, 22]] }, null);
    const after = h.agent.smartCharging.counters();
    expect(after.profilesIdentical - before.profilesIdentical).toBe(5);
    expect(after.profileWrites).toBe(before.profileWrites);
    // A sample of time for a stray ENABLE to show up: a StatusNotification round trip.
    await h.call('TriggerMessage', { requestedMessage: 'StatusNotification', connectorId: 1 });
    expect(log.since(m)).toEqual([]);
    expect(after.limits.find((l) => l.evseId === 1)).toMatchObject({ limitA: 22, binding: 'profile' });
    expect(h.csms.strictFailures).toEqual([]);
  });

  it('below 6 A pauses with $ENABLE at 0 A and SuspendedEVSE, the transaction going on; a higher limit resumes it', async () => {
    const h = await fx.start();
    const log = enableLog(h);
    const tx = await startCharging(h);
    let m = log.mark();
    const mark = h.mark();
    expect(await h.call('SetChargingProfile', { connectorId: 1, csChargingProfiles: profile16({ id: 1, purpose: 'TxProfile', periods: [[0, 4.5]] }) })).toEqual({ status: 'Accepted' });
    await log.waitFor(0, m);
    await h.waitStatus(1, 'SuspendedEVSE');
    expect(h.agent.station.transaction(1)).not.toBeNull();
    expect(h.callsSince(mark, 'StopTransaction')).toEqual([]);
    m = log.mark();
    expect(await h.call('SetChargingProfile', { connectorId: 1, csChargingProfiles: profile16({ id: 1, purpose: 'TxProfile', periods: [[0, 10]], transactionId: tx }) })).toEqual({ status: 'Accepted' });
    await log.waitFor(10, m);
    await h.waitStatus(1, 'Charging');
    expect(log.since(m)).toEqual([10]);
  });

  it('a W limit becomes A with the voltage and phases the controller measures', async () => {
    const h = await fx.start();
    const log = enableLog(h);
    await startCharging(h);
    await log.waitFor(32);
    const m = log.mark();
    expect(await h.call('SetChargingProfile', { connectorId: 0, csChargingProfiles: profile16({ id: 1, purpose: 'ChargePointMaxProfile', unit: 'W', periods: [[0, 11_000]] }) })).toEqual({
      status: 'Accepted',
    });
    await waitFor(() => log.since(m).length > 0, 10_000, 'an ENABLE');
    const limit = h.agent.smartCharging.counters().limits[0]!;
    // The simulator is three-phase around 230 +- 1 V: measured, not assumed.
    expect(limit).toMatchObject({ measured: true, phases: 3, binding: 'profile' });
    expect(limit.voltageV).toBeGreaterThanOrEqual(229);
    expect(limit.voltageV).toBeLessThanOrEqual(231);
    const amps = Math.floor((11_000 / (limit.voltageV * 3)) * 10 + 1e-6) / 10;
    expect(log.since(m)).toEqual([amps]);
  });

  it('each schedule kind changes the limit at its period boundaries on the agent clock, not a second early', async () => {
    const clock = new FakeClock();
    const h = await fx.start({ clock });
    const log = enableLog(h);
    await startCharging(h);
    const now = clock.now().getTime();
    const startedAt = h.agent.station.transaction(1)!.startedAt.getTime();
    const set = (connectorId: number, p: Parameters<typeof profile16>[0]) => h.call('SetChargingProfile', { connectorId, csChargingProfiles: profile16(p) });
    // Absolute on the station: 20 A, 14 A from now + 50 s.
    expect(await set(0, { id: 1, purpose: 'TxDefaultProfile', startSchedule: new Date(now - 10_000), periods: [[0, 20], [60, 14]] })).toEqual({ status: 'Accepted' });
    await log.waitFor(20);
    // Recurring daily, begun yesterday: 18 A in the first 100 s of each day's run, then 9 A.
    expect(
      await set(1, { id: 2, purpose: 'TxDefaultProfile', stackLevel: 1, kind: 'Recurring', recurrencyKind: 'Daily', startSchedule: new Date(now - 86_400_000 - 20_000), periods: [[0, 18], [100, 9]] }),
    ).toEqual({ status: 'Accepted' });
    await log.waitFor(18);
    // Relative TxProfile: from the transaction's start, 16 A then 7 A at +200 s.
    expect(await set(1, { id: 3, purpose: 'TxProfile', kind: 'Relative', periods: [[0, 16], [200, 7]] })).toEqual({ status: 'Accepted' });
    await log.waitFor(16);
    // ChargePointMax Absolute from now + 120 s: 8 A, for 60 s.
    expect(await set(0, { id: 4, purpose: 'ChargePointMaxProfile', startSchedule: new Date(now + 120_000), duration: 60, periods: [[0, 8]] })).toEqual({ status: 'Accepted' });

    const step = async (toMs: number, amps: number) => {
      const m = log.mark();
      await clock.advanceAsync(toMs - 1_000 - clock.now().getTime());
      expect(log.since(m)).toEqual([]);
      await clock.advanceAsync(1_000);
      await log.waitFor(amps, m);
    };
    await step(now + 120_000, 8); // ChargePointMax begins
    await step(now + 180_000, 16); // ... and ends after its duration
    await step(startedAt + 200_000, 7); // the relative TxProfile's second period
    expect(h.csms.strictFailures).toEqual([]);
  });
});
