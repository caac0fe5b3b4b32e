// OCPP 1.6 §5.7 GetCompositeSchedule against the real agent: the answer for connector 1 (during a
// transaction) and for connector 0 is compared with an independent, second-by-second evaluation of
// the profiles written here from the 1.6 text (not the agent's code); W is the A schedule times the
// measured voltage and phases; unknown connectors and units not allowed are Rejected.
import { describe, expect, it } from 'vitest';
import type { ChargingProfile, ChargingSchedule } from '../../../../src/ocpp/v16/generated/types.js';
import { startCharging, useAgentFixture } from '../../../helpers/action-fixture.js';
import { profile16 } from '../../../helpers/smart-charging.js';

const fx = useAgentFixture();
const DAY = 86_400_000;
const MAX_A = 32;

interface Installed {
  connectorId: number;
  p: ChargingProfile;
}

/** The limit (A) a profile sets at instant t, or null: 1.6 §3.13.3 read literally. */
function profileLimit(p: ChargingProfile, t: number, txStart: number | null): number | null {
  if (p.validFrom && t < Date.parse(p.validFrom)) return null;
  if (p.validTo && t >= Date.parse(p.validTo)) return null;
  const s = p.chargingSchedule;
  let start: number;
  if (p.chargingProfileKind === 'Relative') {
    if (txStart === null) return null;
    start = txStart;
  } else {
    start = Date.parse(s.startSchedule!);
    if (t < start) return null;
    if (p.chargingProfileKind === 'Recurring') {
      const every = p.recurrencyKind === 'Weekly' ? 7 * DAY : DAY;
      start += Math.floor((t - start) / every) * every;
    }
  }
  const offsetS = (t - start) / 1000;
  if (offsetS < 0 || (s.duration !== undefined && offsetS >= s.duration)) return null;
  let limit: number | null = null;
  for (const per of s.chargingSchedulePeriod) if (per.startPeriod <= offsetS) limit = per.limit;
  return limit;
}

/** Highest stack level with a period now; at a tie the connector's own profile wins over connector 0's. */
function leading(list: Installed[], t: number, txStart: number | null): number | null {
  let best: { level: number; own: boolean; limit: number } | null = null;
  for (const { connectorId, p } of list) {
    const limit = profileLimit(p, t, txStart);
    if (limit === null) continue;
    const own = connectorId !== 0;
    if (!best || p.stackLevel > best.level || (p.stackLevel === best.level && own && !best.own)) best = { level: p.stackLevel, own, limit };
  }
  return best?.limit ?? null;
}

function expected(installed: Installed[], connectorId: number, startMs: number, durationS: number, txStart: number | null): { startPeriod: number; limit: number }[] {
  const of = (purpose: string) => installed.filter((i) => i.p.chargingProfilePurpose === purpose && (i.connectorId === 0 || i.connectorId === connectorId));
  const out: { startPeriod: number; limit: number }[] = [];
  for (let s = 0; s < durationS; s++) {
    const t = startMs + s * 1000;
    const max = leading(of('ChargePointMaxProfile'), t, txStart);
    const tx = connectorId === 0 ? null : (leading(of('TxProfile'), t, txStart) ?? leading(of('TxDefaultProfile'), t, txStart));
    const limit = Math.min(max ?? MAX_A, tx ?? MAX_A);
    if (out.at(-1)?.limit !== limit) out.push({ startPeriod: s, limit });
  }
  return out;
}

const periodsOf = (s: ChargingSchedule | undefined) => (s?.chargingSchedulePeriod ?? []).map(({ startPeriod, limit }) => ({ startPeriod, limit }));

describe('GetCompositeSchedule (OCPP 1.6 §5.7)', () => {
  it('connector 1 and connector 0 match an independent evaluation of the installed profiles', async () => {
    const h = await fx.start();
    const tx = await startCharging(h);
    const txStart = h.agent.station.transaction(1)!.startedAt.getTime();
    const now = Date.now();
    const installed: Installed[] = [
      { connectorId: 0, p: profile16({ id: 1, purpose: 'ChargePointMaxProfile', kind: 'Recurring', recurrencyKind: 'Daily', startSchedule: new Date(now - DAY + 600_000), periods: [[0, 24], [3600, 20], [7200, 26]] }) },
      { connectorId: 0, p: profile16({ id: 2, purpose: 'TxDefaultProfile', startSchedule: new Date(now - 60_000), periods: [[0, 18], [900, 28], [2400, 14]] }) },
      { connectorId: 1, p: profile16({ id: 3, purpose: 'TxDefaultProfile', stackLevel: 1, startSchedule: new Date(now + 1_200_000), duration: 1200, periods: [[0, 10], [600, 12]] }) },
      { connectorId: 1, p: profile16({ id: 4, purpose: 'TxProfile', kind: 'Relative', stackLevel: 0, validFrom: new Date(now + 3_000_000), periods: [[0, 16], [4000, 8.5]], transactionId: tx }) },
      { connectorId: 1, p: profile16({ id: 5, purpose: 'TxProfile', kind: 'Relative', stackLevel: 2, validTo: new Date(now + 4_000_000), periods: [[0, 30], [3700, 22]] }) },
    ];
    for (const i of installed) expect(await h.call('SetChargingProfile', { connectorId: i.connectorId, csChargingProfiles: i.p })).toEqual({ status: 'Accepted' });
    // connector 1 without a transaction would differ: the TxProfiles apply here.
    for (const connectorId of [1, 0]) {
      const r = await h.call('GetCompositeSchedule', { connectorId, duration: 7200, chargingRateUnit: 'A' });
      expect(r.status).toBe('Accepted');
      expect(r.connectorId).toBe(connectorId);
      const start = Date.parse(r.scheduleStart!);
      expect(Math.abs(start - Date.now())).toBeLessThan(60_000);
      expect(r.chargingSchedule).toMatchObject({ duration: 7200, chargingRateUnit: 'A' });
      const want = expected(installed, connectorId, start, 7200, connectorId === 0 ? null : txStart);
      expect(want.length).toBeGreaterThan(connectorId === 0 ? 2 : 3);
      expect(periodsOf(r.chargingSchedule)).toEqual(want);
    }
    expect(h.csms.strictFailures).toEqual([]);
  });

  it('in W: the same boundaries, each limit the A limit times the measured voltage and phases', async () => {
    const h = await fx.start();
    await startCharging(h);
    const now = Date.now();
    await h.call('SetChargingProfile', { connectorId: 0, csChargingProfiles: profile16({ id: 1, purpose: 'ChargePointMaxProfile', startSchedule: new Date(now), periods: [[0, 16], [600, 10]] }) });
    const a = await h.call('GetCompositeSchedule', { connectorId: 1, duration: 1800, chargingRateUnit: 'A' });
    const w = await h.call('GetCompositeSchedule', { connectorId: 1, duration: 1800, chargingRateUnit: 'W' });
    expect(w.chargingSchedule?.chargingRateUnit).toBe('W');
    const pa = periodsOf(a.chargingSchedule);
    const pw = periodsOf(w.chargingSchedule);
    expect(pw.map((p) => p.startPeriod)).toEqual(pa.map((p) => p.startPeriod));
    // The simulator is three-phase and measures 229..231 V.
    pw.forEach((p, i) => {
      expect(p.limit).toBeGreaterThanOrEqual(pa[i]!.limit * 229 * 3 - 0.1);
      expect(p.limit).toBeLessThanOrEqual(pa[i]!.limit * 231 * 3);
    });
  });

  it('Rejected for an unknown connector and a unit not allowed', async () => {
    const h = await fx.start();
    expect(await h.call('GetCompositeSchedule', { connectorId: 9, duration: 60 })).toEqual({ status: 'Rejected' });
    h.agent.config.setInternal('ChargingScheduleAllowedChargingRateUnit', 'Current');
    expect(await h.call('GetCompositeSchedule', { connectorId: 1, duration: 60, chargingRateUnit: 'W' })).toEqual({ status: 'Rejected' });
    const r = await h.call('GetCompositeSchedule', { connectorId: 0, duration: 60 });
    expect(r.status).toBe('Accepted');
    expect(periodsOf(r.chargingSchedule)).toEqual([{ startPeriod: 0, limit: MAX_A }]);
    expect(h.csms.strictFailures).toEqual([]);
  });
});
