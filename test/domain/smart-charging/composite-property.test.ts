// GetCompositeSchedule against an independent computation written differently: every second
// of the window is evaluated on its own (runs of a recurring profile found by stepping, the
// leader by sorting), then equal runs are compressed into periods. Random profile stacks
// (fast-check) around a week boundary, so daily/weekly recurrences, validity windows,
// durations, Relative starts and W/A conversions all meet.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compositeSchedule, nextChangeAfter, resolveElectrical } from '../../../src/domain/smart-charging/composite-schedule.js';
import type { ChargingProfile, ProfilePurpose, RateUnit } from '../../../src/domain/smart-charging/profile.js';
import { H, MONDAY, S } from './profiles.js';

interface Req {
  evseId: number;
  startMs: number;
  durationS: number;
  unit: RateUnit;
  tx?: { id: string; startMs: number };
  voltageV?: number;
  phases?: number;
}

const UNLIMITED_A = 32;

/** The limit of one profile at t, in its own terms: [limit, numberPhases] or null. */
function bruteProfileAt(p: ChargingProfile, t: number, relStart: number | undefined): { limit: number; phases?: number } | null {
  if (p.validFromMs !== undefined && t < p.validFromMs) return null;
  if (p.validToMs !== undefined && !(t < p.validToMs)) return null;
  let start: number | undefined;
  if (p.kind === 'Relative') start = relStart;
  else if (p.kind === 'Absolute') start = p.schedule.startScheduleMs;
  else {
    const step = (p.recurrency === 'Weekly' ? 7 : 1) * 24 * H;
    let s = p.schedule.startScheduleMs as number;
    if (s <= t) {
      while (s + step <= t) s += step;
      start = s;
    }
  }
  if (start === undefined || t < start) return null;
  const sinceS = (t - start) / 1000;
  if (p.schedule.durationS !== undefined && sinceS >= p.schedule.durationS) return null;
  const per = [...p.schedule.periods].reverse().find((x) => x.startPeriod <= sinceS);
  if (!per) return null;
  return per.numberPhases === undefined ? { limit: per.limit } : { limit: per.limit, phases: per.numberPhases };
}

function bruteComposite(profiles: ChargingProfile[], r: Req) {
  const volts = r.voltageV ?? 230;
  const measuredPhases = r.phases ?? 3;
  const relStart = r.tx ? r.tx.startMs : r.startMs;
  const concerns = (p: ChargingProfile): boolean => {
    if (p.purpose === 'StationMax') return true;
    if (r.evseId === 0) return false;
    if (p.purpose === 'TxDefault') return p.evseId === 0 || p.evseId === r.evseId;
    return r.tx !== undefined && p.evseId === r.evseId && (p.transactionId === undefined || p.transactionId === r.tx.id);
  };
  const mine = profiles.filter(concerns);
  const leader = (purpose: ProfilePurpose, t: number) => {
    const live = mine
      .filter((p) => p.purpose === purpose)
      .map((p) => ({ p, v: bruteProfileAt(p, t, relStart) }))
      .filter((x) => x.v !== null)
      .sort((a, b) => b.p.stackLevel - a.p.stackLevel || (a.p.evseId === 0 ? 1 : 0) - (b.p.evseId === 0 ? 1 : 0));
    const top = live[0];
    if (!top || !top.v) return null;
    const amps = top.p.schedule.unit === 'A' ? top.v.limit : top.v.limit / (volts * (top.v.phases ?? measuredPhases));
    return { amps, phases: top.v.phases };
  };
  const seconds: { limit: number; phases?: number }[] = [];
  for (let s = 0; s < r.durationS; s++) {
    const t = r.startMs + s * 1000;
    const max = leader('StationMax', t);
    const tx = leader('Tx', t) ?? leader('TxDefault', t);
    let win = max;
    if (tx && (!win || tx.amps < win.amps)) win = tx;
    const amps = win ? win.amps : UNLIMITED_A;
    const phases = win?.phases;
    const shown = r.unit === 'A' ? amps : amps * volts * (phases ?? measuredPhases);
    seconds.push({ limit: Math.floor(shown * 10 + 1e-6) / 10, ...(phases === undefined ? {} : { phases }) });
  }
  const out: { startPeriod: number; limit: number; numberPhases?: number }[] = [];
  seconds.forEach((v, s) => {
    const last = out[out.length - 1];
    if (last && last.limit === v.limit && last.numberPhases === v.phases) return;
    out.push({ startPeriod: s, limit: v.limit, ...(v.phases === undefined ? {} : { numberPhases: v.phases }) });
  });
  return out;
}

// The window opens three hours before a week boundary (Sunday 21:00 UTC).
const WINDOW_START = MONDAY + 7 * 24 * H - 3 * H;
const sec = (lo: number, hi: number) => fc.integer({ min: lo, max: hi }).map((n) => n * S);

const periodsArb = (unit: RateUnit) =>
  fc
    .array(
      fc.record(
        { gap: fc.integer({ min: 1, max: 3600 }), limit: unit === 'A' ? fc.integer({ min: 0, max: 400 }).map((x) => x / 10) : fc.integer({ min: 0, max: 30_000 }), numberPhases: fc.integer({ min: 1, max: 3 }) },
        { requiredKeys: ['gap', 'limit'] },
      ),
      { minLength: 1, maxLength: 4 },
    )
    .map((ps) => {
      let at = 0;
      return ps.map((p, i) => {
        if (i > 0) at += p.gap;
        return p.numberPhases === undefined ? { startPeriod: at, limit: p.limit } : { startPeriod: at, limit: p.limit, numberPhases: p.numberPhases };
      });
    });

const profileArb = fc
  .record({
    purpose: fc.constantFrom<ProfilePurpose>('StationMax', 'TxDefault', 'Tx'),
    evse: fc.constantFrom(0, 1, 1, 2),
    stackLevel: fc.integer({ min: 0, max: 2 }),
    kind: fc.constantFrom('Absolute', 'Relative', 'Recurring') as fc.Arbitrary<ChargingProfile['kind']>,
    recurrency: fc.constantFrom('Daily', 'Weekly') as fc.Arbitrary<'Daily' | 'Weekly'>,
    startOffset: sec(-3 * 3600, 4 * 3600),
    daysBack: fc.integer({ min: 0, max: 14 }),
    validFrom: fc.option(sec(-2 * 3600, 4 * 3600), { nil: undefined }),
    validFor: fc.option(sec(1, 6 * 3600), { nil: undefined }),
    durationS: fc.option(fc.integer({ min: 1, max: 3 * 3600 }), { nil: undefined }),
    txId: fc.constantFrom(undefined, 'T1', 'T2'),
    unit: fc.constantFrom<RateUnit>('A', 'W'),
  })
  .chain((x) => periodsArb(x.unit).map((periods) => ({ ...x, periods })))
  .map((x): ChargingProfile => {
    const evseId = x.purpose === 'StationMax' ? 0 : x.purpose === 'Tx' ? Math.max(1, x.evse) : x.evse;
    const validFromMs = x.validFrom === undefined ? undefined : WINDOW_START + x.validFrom;
    const startScheduleMs = x.kind === 'Recurring' ? WINDOW_START - x.daysBack * 24 * H + x.startOffset : WINDOW_START + x.startOffset;
    return {
      id: 0,
      stackLevel: x.stackLevel,
      purpose: x.purpose,
      kind: x.kind,
      ...(x.kind === 'Recurring' ? { recurrency: x.recurrency } : {}),
      ...(validFromMs === undefined ? {} : { validFromMs }),
      ...(x.validFor === undefined ? {} : { validToMs: (validFromMs ?? WINDOW_START - 3600 * S) + x.validFor }),
      ...(x.purpose === 'Tx' && x.txId !== undefined ? { transactionId: x.txId } : {}),
      evseId,
      schedule: {
        ...(x.kind === 'Relative' ? {} : { startScheduleMs }),
        ...(x.durationS === undefined ? {} : { durationS: x.durationS }),
        unit: x.unit,
        periods: x.periods,
      },
    };
  });

// One profile per purpose, stack level and target: the install rules allow no more.
const stackArb = fc
  .uniqueArray(profileArb, { maxLength: 6, selector: (p) => `${p.purpose}/${p.stackLevel}/${p.evseId}` })
  .map((ps) => ps.map((p, i) => ({ ...p, id: i + 1 })));

const reqArb: fc.Arbitrary<Req> = fc.record(
  {
    evseId: fc.constantFrom(0, 1, 2),
    startMs: sec(0, 3600).map((x) => WINDOW_START + x),
    durationS: fc.integer({ min: 1, max: 4 * 3600 }),
    unit: fc.constantFrom<RateUnit>('A', 'W'),
    tx: fc.record({ id: fc.constantFrom('T1', 'T2'), startMs: sec(-2 * 3600, 3600).map((x) => WINDOW_START + x) }),
    voltageV: fc.integer({ min: 200, max: 250 }),
    phases: fc.integer({ min: 1, max: 3 }),
  },
  { requiredKeys: ['evseId', 'startMs', 'durationS', 'unit'] },
);

function ours(profiles: ChargingProfile[], r: Req) {
  const electrical: { voltageV?: number; phases?: number } = {};
  if (r.voltageV !== undefined) electrical.voltageV = r.voltageV;
  if (r.phases !== undefined) electrical.phases = r.phases;
  return compositeSchedule({ profiles, evseId: r.evseId, startMs: r.startMs, durationS: r.durationS, unit: r.unit, electrical, unlimitedA: UNLIMITED_A, ...(r.tx ? { transaction: r.tx } : {}) });
}

describe('composite schedule = per-second evaluation (property)', () => {
  it('equals the brute-force composite for random stacks and requests', () => {
    fc.assert(
      fc.property(stackArb, reqArb, (profiles, r) => {
        expect(ours(profiles, r).periods).toEqual(bruteComposite(profiles, r));
      }),
      { numRuns: 300 },
    );
  });

  it('nextChangeAfter lands on the first second whose limit differs', () => {
    fc.assert(
      fc.property(stackArb, reqArb, (profiles, r) => {
        const brute = bruteComposite(profiles, { ...r, unit: 'A' });
        const electrical = resolveElectrical({ ...(r.voltageV === undefined ? {} : { voltageV: r.voltageV }), ...(r.phases === undefined ? {} : { phases: r.phases }) });
        const ctx = { evseId: r.evseId, electrical, relativeStartMs: r.startMs, ...(r.tx ? { transaction: r.tx } : {}) };
        const next = nextChangeAfter(profiles, r.startMs, ctx, r.startMs + r.durationS * 1000 - 1);
        // Changes below 0.1 A are invisible once rounded; the brute force sees only the rounded ones.
        if (brute.length > 1) expect(next).not.toBeNull();
        if (next !== null) expect(next).toBeLessThanOrEqual(r.startMs + (brute[1]?.startPeriod ?? r.durationS) * 1000);
      }),
      { numRuns: 100 },
    );
  });

  it('a hand-picked stack across the week boundary matches too', () => {
    const p: ChargingProfile[] = [
      { id: 1, stackLevel: 0, purpose: 'StationMax', kind: 'Recurring', recurrency: 'Weekly', evseId: 0, schedule: { startScheduleMs: MONDAY - H, unit: 'W', periods: [{ startPeriod: 0, limit: 4_000 }, { startPeriod: 7200, limit: 22_000 }] } },
      { id: 2, stackLevel: 1, purpose: 'TxDefault', kind: 'Recurring', recurrency: 'Daily', evseId: 1, schedule: { startScheduleMs: MONDAY - 2 * H, durationS: 5400, unit: 'A', periods: [{ startPeriod: 0, limit: 10, numberPhases: 1 }] } },
      { id: 3, stackLevel: 0, purpose: 'TxDefault', kind: 'Relative', evseId: 0, schedule: { unit: 'A', periods: [{ startPeriod: 0, limit: 12 }, { startPeriod: 1800, limit: 20 }] } },
    ];
    const r: Req = { evseId: 1, startMs: WINDOW_START, durationS: 6 * 3600, unit: 'A', tx: { id: 'T1', startMs: WINDOW_START + 3 * H - 600 * S }, voltageV: 228, phases: 3 };
    const got = ours(p, r).periods;
    expect(got).toEqual(bruteComposite(p, r));
    expect(got.length).toBeGreaterThan(3);
  });
});
