// The smart charging component on the real station, serial driver and simulated controller on a
// pty, with a real SQLite store and an injected clock: W becomes A with the voltage and phases the
// controller measures (a single-phase controller at 229 V), the cable's PP rating caps, and the
// fail-safe limit applies once the CSMS has been out of reach for the configured time.
import { afterEach, describe, expect, it } from 'vitest';
import { SmartCharging } from '../../../src/domain/smart-charging/smart-charging.js';
import type { ChargingProfile } from '../../../src/domain/smart-charging/profile.js';
import { SqliteChargingProfileRepo } from '../../../src/store/charging-profile-repo.js';
import { startStationRig, type StationRig } from '../../helpers/agent-harness.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { EnableLog } from '../../helpers/smart-charging.js';
import { TempDatabases } from '../../helpers/temp-agent-db.js';
import { waitFor } from '../../helpers/wait.js';
import type { AgentDatabase } from '../../../src/store/database.js';

const dbs = new TempDatabases();
let rig: StationRig | null = null;
let smart: SmartCharging | null = null;
afterEach(async () => {
  smart?.shutdown();
  smart = null;
  await rig?.stop();
  rig = null;
  dbs.cleanup();
});

const LIMITS = { maxStackLevel: 10, maxPeriods: 96, maxInstalled: 16, allowedUnits: ['A', 'W'] as const };

function build(station: StationRig['station'], controller: StationRig['controller'], clock: FakeClock, db: AgentDatabase, failSafe?: { afterMs: number; limitA: number }): SmartCharging {
  const s = new SmartCharging({
    clock,
    station,
    store: new SqliteChargingProfileRepo(db),
    writesPerDay: 10,
    limits: () => ({ ...LIMITS, allowedUnits: [...LIMITS.allowedUnits] }),
    limiter: () => ({ configuredMaxA: 32, ...(failSafe ? { failSafe } : {}) }),
    onError: (err) => {
      throw err;
    },
  });
  station.useOfferLimit((evseId) => s.offerAtStart(evseId));
  controller.on('cableCapacity', (n, amps) => s.cableCapacity(n, amps));
  s.start();
  s.csmsReachable(true);
  return s;
}

async function setUp(sim: Parameters<typeof startStationRig>[0], failSafe?: { afterMs: number; limitA: number }) {
  const clock = new FakeClock({ systemTime: Date.UTC(2026, 0, 5, 12) });
  rig = await startStationRig({ meterMs: 0, ...sim }, {}, { clock });
  const { db, dir } = dbs.open();
  const station = rig.station;
  smart = build(station, rig.controller, clock, db, failSafe);
  const log = new EnableLog(rig.sim);
  return { clock, station, smart, log, sim: rig.sim, db, dir };
}

async function plugAndStart(station: StationRig['station'], plug: () => void): Promise<void> {
  plug();
  await waitFor(() => station.snapshot()[0]?.pilot === 'B', 10_000, 'EV plugged in');
  expect(await station.presentIdToken({ value: 'DRIVER', type: 'ISO14443' })).toBe('started');
}

const stationMax = (id: number, unit: 'A' | 'W', limit: number, numberPhases?: number): ChargingProfile => ({
  id,
  stackLevel: 0,
  purpose: 'StationMax',
  kind: 'Absolute',
  evseId: 0,
  schedule: { startScheduleMs: Date.UTC(2026, 0, 1), unit, periods: [{ startPeriod: 0, limit, ...(numberPhases ? { numberPhases } : {}) }] },
});

describe('smart charging on the station', () => {
  it('W to A with the measured voltage and phases: 6,870 W on one phase at 229 V is 30 A (not 29.8 at 230 V, nor 10 on three phases)', async () => {
    const { station, smart, log, sim } = await setUp({ threePhase: false, random: () => 0 });
    await plugAndStart(station, () => sim.plugIn(1));
    await log.waitFor(32);
    await waitFor(() => station.lastMeter(1) !== null, 10_000, 'a meter reading');
    expect(station.lastMeter(1)!.voltageV).toEqual([229, null, null]);
    const m = log.mark();
    expect(smart.install(stationMax(1, 'W', 6870)).status).toBe('Accepted');
    await log.waitFor(30, m);
    // A period that says two phases is converted with two.
    expect(smart.install(stationMax(1, 'W', 6870, 2)).status).toBe('Accepted');
    await log.waitFor(15, m);
    expect(smart.counters().limits[0]).toMatchObject({ limitA: 15, binding: 'profile' });
  });

  it('the cable rating read from PP caps the offer, whatever the profiles allow', async () => {
    const { station, smart, log, sim } = await setUp({});
    expect(smart.install(stationMax(1, 'A', 25)).status).toBe('Accepted');
    await plugAndStart(station, () => sim.plugIn(1, { cableAmps: 20 }));
    await log.waitFor(20);
    expect(log.since(0)).toEqual([20]);
    expect(smart.counters().limits[0]).toMatchObject({ limitA: 20, binding: 'cable' });
  });

  it('the fail-safe limit applies once the CSMS has been unreachable for the configured time, and goes when it is back', async () => {
    const { clock, station, smart, log, sim } = await setUp({}, { afterMs: 60_000, limitA: 8 });
    await plugAndStart(station, () => sim.plugIn(1));
    await log.waitFor(32);
    smart.csmsReachable(false);
    let m = log.mark();
    await clock.advanceAsync(59_000);
    expect(log.since(m)).toEqual([]);
    await clock.advanceAsync(1_000);
    await log.waitFor(8, m);
    m = log.mark();
    smart.csmsReachable(true);
    await log.waitFor(32, m);
  });

  it('a TxProfile lives with its transaction and survives a restart of the agent mid-transaction: the resumed transaction is offered its limit first', async () => {
    const { clock, station, smart: first, log, sim, db, dir } = await setUp({});
    await plugAndStart(station, () => sim.plugIn(1));
    await log.waitFor(32);
    const tx = station.transaction(1)!;
    const m = log.mark();
    const txProfile: ChargingProfile = { id: 7, stackLevel: 0, purpose: 'Tx', kind: 'Relative', evseId: 1, schedule: { unit: 'A', periods: [{ startPeriod: 0, limit: 12 }] } };
    expect(first.install(txProfile).status).toBe('Accepted');
    await log.waitFor(12, m);
    expect(first.counters().profileWrites).toBe(1); // a lowering is written at once
    first.shutdown();
    // The agent restarts: a new station on the same controller (the EV still plugged in) and the same database.
    rig = await rig!.restart();
    const db2 = dbs.reopen(db, dir);
    smart = build(rig.station, rig.controller, clock, db2);
    const m2 = log.mark();
    rig.station.restoreTransactions([{ tx, reasonIfEnded: 'Reboot', endedAt: clock.now() }]);
    await waitFor(() => log.since(m2).length > 0, 10_000, 'the resumed transaction enabled');
    expect(log.since(m2)[0]).toBe(12);
    expect(smart.profiles().map((p) => p.id)).toEqual([7]);
    // It goes with its transaction.
    rig.station.stopTransaction(1, 'LocalStop');
    await waitFor(() => smart!.profiles().length === 0, 10_000, 'the TxProfile gone with its transaction');
  });

  it('a profile that starts beyond the week searched ahead still applies on time', async () => {
    const { clock, station, smart, log, sim } = await setUp({});
    await plugAndStart(station, () => sim.plugIn(1));
    await log.waitFor(32);
    const from = clock.now().getTime() + 10 * 86_400_000;
    expect(smart.install({ ...stationMax(3, 'A', 8), validFromMs: from, schedule: { startScheduleMs: from, unit: 'A', periods: [{ startPeriod: 0, limit: 8 }] } }).status).toBe('Accepted');
    const m = log.mark();
    await clock.advanceAsync(from - 1_000 - clock.now().getTime());
    expect(log.since(m)).toEqual([]);
    await clock.advanceAsync(1_000);
    await log.waitFor(8, m);
  });

  it('a step of the wall clock (the CSMS time sync of a board without RTC) re-evaluates the limits at the next meter reading', async () => {
    const { clock, station, smart, log, sim } = await setUp({});
    await plugAndStart(station, () => sim.plugIn(1));
    await log.waitFor(32);
    const from = clock.now().getTime() + 30 * 86_400_000;
    expect(smart.install({ ...stationMax(4, 'A', 9), schedule: { startScheduleMs: from, unit: 'A', periods: [{ startPeriod: 0, limit: 9 }] } }).status).toBe('Accepted');
    const m = log.mark();
    clock.setOffsetFrom(new Date(from + 60_000));
    await log.waitFor(9, m);
  });
});
