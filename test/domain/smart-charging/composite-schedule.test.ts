// The composite schedule (OCPP 1.6 §3.13, §5.7) on hand-worked cases: each schedule kind,
// stack-level precedence, validity windows, Relative from the transaction start, Recurring
// across midnight and the week boundary, real period boundaries, W <-> A with the measured
// voltage and phases, and the next change instant.
import { describe, expect, it } from 'vitest';
import { compositeSchedule, limitAt, nextChangeAfter, resolveElectrical, type CompositeRequest } from '../../../src/domain/smart-charging/composite-schedule.js';
import type { ChargingProfile } from '../../../src/domain/smart-charging/profile.js';
import { H, MONDAY, S, profile } from './profiles.js';

const compose = (profiles: ChargingProfile[], over: Partial<CompositeRequest> = {}) =>
  compositeSchedule({ profiles, evseId: 1, startMs: MONDAY, durationS: 3600, unit: 'A', unlimitedA: 32, electrical: { voltageV: 230, phases: 3 }, ...over });

const pairs = (r: ReturnType<typeof compose>) => r.periods.map((p) => [p.startPeriod, p.limit]);

describe('composite schedule', () => {
  it('Absolute: periods at their offsets from startSchedule, duration ends the schedule', () => {
    const p = profile({ schedule: { startScheduleMs: MONDAY, durationS: 300, unit: 'A', periods: [{ startPeriod: 0, limit: 10 }, { startPeriod: 100, limit: 8 }, { startPeriod: 200, limit: 12 }] } });
    const r = compose([p]);
    expect(pairs(r)).toEqual([[0, 10], [100, 8], [200, 12], [300, 32]]);
    expect(r.limited).toBe(true);
  });

  it('starts mid-period with the limit in force, then the real boundaries', () => {
    const p = profile({ limits: [[0, 10], [100, 8], [200, 12]] });
    expect(pairs(compose([p], { startMs: MONDAY + 150 * S, durationS: 600 }))).toEqual([[0, 8], [50, 12]]);
  });

  it('no profile: the station maximum over the whole window, not limited', () => {
    const r = compose([]);
    expect(pairs(r)).toEqual([[0, 32]]);
    expect(r.limited).toBe(false);
  });

  it('within a purpose the highest stack level with a period defined leads; when it ends the lower one shows', () => {
    const low = profile({ id: 1, stackLevel: 0, schedule: { startScheduleMs: MONDAY, durationS: 400, unit: 'A', periods: [{ startPeriod: 0, limit: 6 }, { startPeriod: 100, limit: 8 }, { startPeriod: 200, limit: 10 }] } });
    const high = profile({ id: 2, stackLevel: 1, schedule: { startScheduleMs: MONDAY, durationS: 150, unit: 'A', periods: [{ startPeriod: 0, limit: 7 }, { startPeriod: 50, limit: 9 }] } });
    expect(pairs(compose([low, high]))).toEqual([[0, 7], [50, 9], [150, 8], [200, 10], [400, 32]]);
  });

  it('a higher stack level counts only inside validFrom..validTo', () => {
    const low = profile({ id: 1, stackLevel: 0, limits: [[0, 16]] });
    const high = profile({ id: 2, stackLevel: 3, validFromMs: MONDAY + 60 * S, validToMs: MONDAY + 120 * S, limits: [[0, 20]] });
    expect(pairs(compose([low, high]))).toEqual([[0, 16], [60, 20], [120, 16]]);
  });

  it('validTo cuts a period short', () => {
    const p = profile({ validToMs: MONDAY + 90 * S, limits: [[0, 10], [60, 12]] });
    expect(pairs(compose([p]))).toEqual([[0, 10], [60, 12], [90, 32]]);
  });

  it('Relative starts at the transaction start (or, without one, at the start of the window)', () => {
    const rel = profile({ kind: 'Relative', schedule: { unit: 'A', periods: [{ startPeriod: 0, limit: 10 }, { startPeriod: 600, limit: 16 }] } });
    expect(pairs(compose([rel], { transaction: { id: 'T1', startMs: MONDAY - 300 * S } }))).toEqual([[0, 10], [300, 16]]);
    expect(pairs(compose([rel]))).toEqual([[0, 10], [600, 16]]);
  });

  it('Recurring Daily repeats from its startSchedule across midnight', () => {
    // 22:00-06:00 8 A, 06:00-22:00 16 A, from Sunday 22:00.
    const night = profile({ kind: 'Recurring', recurrency: 'Daily', schedule: { startScheduleMs: MONDAY - 2 * H, unit: 'A', periods: [{ startPeriod: 0, limit: 8 }, { startPeriod: 8 * 3600, limit: 16 }] } });
    const r = compose([night], { startMs: MONDAY + 2 * 24 * H + 21 * H, durationS: 12 * 3600 });
    expect(pairs(r)).toEqual([[0, 16], [3600, 8], [9 * 3600, 16]]);
  });

  it('Recurring Daily with a duration: only that long each day; nothing before its first start', () => {
    const p = profile({ kind: 'Recurring', recurrency: 'Daily', schedule: { startScheduleMs: MONDAY + 23 * H, durationS: 2 * 3600, unit: 'A', periods: [{ startPeriod: 0, limit: 6 }] } });
    expect(pairs(compose([p], { startMs: MONDAY, durationS: 2 * 86_400 }))).toEqual([[0, 32], [23 * 3600, 6], [25 * 3600, 32], [47 * 3600, 6]]);
  });

  it('Recurring Weekly repeats across the week boundary', () => {
    // Sunday 23:00 - Monday 01:00 6 A, 20 A for the rest of the week.
    const p = profile({ kind: 'Recurring', recurrency: 'Weekly', schedule: { startScheduleMs: MONDAY - H, unit: 'A', periods: [{ startPeriod: 0, limit: 6 }, { startPeriod: 7200, limit: 20 }] } });
    const r = compose([p], { startMs: MONDAY + 6 * 24 * H + 22 * H, durationS: 4 * 3600 });
    expect(pairs(r)).toEqual([[0, 20], [3600, 6], [3 * 3600, 20]]);
  });

  it('a Tx profile overrides TxDefault (even a lower one) for its transaction only', () => {
    const def = profile({ id: 1, stackLevel: 5, limits: [[0, 8]] });
    const tx = profile({ id: 2, purpose: 'Tx', transactionId: 'T1', limits: [[0, 20]] });
    const transaction = { id: 'T1', startMs: MONDAY };
    expect(pairs(compose([def, tx], { transaction }))).toEqual([[0, 20]]);
    expect(pairs(compose([def, tx], { transaction: { id: 'T2', startMs: MONDAY } }))).toEqual([[0, 8]]);
    expect(pairs(compose([def, tx]))).toEqual([[0, 8]]);
  });

  it('the result is the minimum of StationMax and the Tx/TxDefault limit', () => {
    const max = profile({ id: 1, purpose: 'StationMax', evseId: 0, limits: [[0, 10], [600, 25]] });
    const def = profile({ id: 2, limits: [[0, 16]] });
    expect(pairs(compose([max, def]))).toEqual([[0, 10], [600, 16]]);
    // The station itself: StationMax only.
    expect(pairs(compose([max, def], { evseId: 0 }))).toEqual([[0, 10], [600, 25]]);
  });

  it('an EVSE TxDefault beats the station-wide one at the same stack level, not a higher one', () => {
    const wide = profile({ id: 1, evseId: 0, stackLevel: 1, limits: [[0, 10]] });
    const mine = profile({ id: 2, evseId: 1, stackLevel: 1, limits: [[0, 14]] });
    expect(pairs(compose([wide, mine]))).toEqual([[0, 14]]);
    expect(pairs(compose([wide, mine], { evseId: 2 }))).toEqual([[0, 10]]);
    expect(pairs(compose([{ ...wide, stackLevel: 2 }, mine]))).toEqual([[0, 10]]);
  });

  it('W limits become A with the measured voltage and phases, honouring numberPhases', () => {
    const w = profile({ purpose: 'StationMax', evseId: 0, schedule: { startScheduleMs: MONDAY, unit: 'W', periods: [{ startPeriod: 0, limit: 11_000 }, { startPeriod: 60, limit: 3_680, numberPhases: 1 }] } });
    const measured = compose([w], { electrical: { voltageV: 240, phases: 3 } });
    // 11000 / (240 x 3) = 15.27..; 3680 / (240 x 1) = 15.33..
    expect(measured.periods).toEqual([{ startPeriod: 0, limit: 15.2 }, { startPeriod: 60, limit: 15.3, numberPhases: 1 }]);
    expect(measured.electrical.assumedVoltage).toBe(false);
    // Two phases measured: 11000 / 480.
    expect(pairs(compose([w], { electrical: { voltageV: 240, phases: 2 } }))[0]).toEqual([0, 22.9]);
    // Asked in W: back with the same voltage and phases.
    expect(pairs(compose([w], { unit: 'W', electrical: { voltageV: 240, phases: 3 } }))).toEqual([[0, 11_000], [60, 3_680]]);
    const guessed = compose([w], { electrical: {} });
    expect(guessed.electrical).toMatchObject({ voltageV: 230, phases: 3, assumedVoltage: true, assumedPhases: true });
    expect(guessed.periods[0]?.limit).toBe(15.9);
  });

  it('A limits are reported in W as A x V x phases', () => {
    const a = profile({ limits: [[0, 16]] });
    expect(pairs(compose([a], { unit: 'W', electrical: { voltageV: 231, phases: 1 } }))).toEqual([[0, 3_696]]);
  });

  it('rejects a bad request with a clear error', () => {
    expect(() => compose([], { durationS: 0 })).toThrow(/duration/);
    expect(() => compose([], { durationS: 1.5 })).toThrow(/duration/);
    expect(() => compose([], { startMs: Number.NaN })).toThrow(/start/);
  });
});

describe('limitAt / nextChangeAfter', () => {
  const ctx = { evseId: 1, electrical: resolveElectrical({ voltageV: 230, phases: 3 }) };

  it('gives the exact next boundary where the limit changes, skipping ones where it does not', () => {
    const p = profile({ limits: [[0, 10], [100, 10], [200, 12]] });
    expect(limitAt([p], MONDAY + 5 * S, ctx)).toMatchObject({ limitA: 10, profileId: 1, purpose: 'TxDefault' });
    expect(nextChangeAfter([p], MONDAY + 5 * S, ctx)).toBe(MONDAY + 200 * S);
    expect(nextChangeAfter([p], MONDAY + 200 * S, ctx)).toBeNull();
    expect(limitAt([p], MONDAY - 1, ctx)).toBeNull();
    expect(nextChangeAfter([p], MONDAY - 1, ctx)).toBe(MONDAY);
  });

  it('a recurring profile that never changes the limit yields no boundary within the lookahead', () => {
    const p = profile({ kind: 'Recurring', recurrency: 'Daily', limits: [[0, 10]] });
    expect(nextChangeAfter([p], MONDAY + 5 * S, ctx)).toBeNull();
    expect(nextChangeAfter([p], MONDAY + 5 * S, ctx, Infinity)).toBeNull();
  });
});
