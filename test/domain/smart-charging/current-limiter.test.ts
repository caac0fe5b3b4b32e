// The offered current: lowest of composite, configured maximum and cable rating; the 6 A
// pause and resume; one next-check instant per boundary (no polling); the fail-safe limit
// once the CSMS has been unreachable long enough; the restored envelope.
import { describe, expect, it } from 'vitest';
import { CurrentLimiter, offeredCurrent, type LimiterInput, type LimiterSettings } from '../../../src/domain/smart-charging/current-limiter.js';
import { MONDAY, S, profile } from './profiles.js';

const settings: LimiterSettings = { configuredMaxA: 16 };
const at = (nowMs: number, over: Partial<LimiterInput> = {}): LimiterInput => ({ profiles: [], nowMs, evseId: 1, electrical: { voltageV: 230, phases: 3 }, ...over });

describe('offeredCurrent', () => {
  it('is the lowest of the composite limit, the configured maximum and the cable rating', () => {
    const p = profile({ limits: [[0, 20], [60, 12]] });
    expect(offeredCurrent(at(MONDAY, { profiles: [p] }), settings)).toMatchObject({ currentA: 16, binding: 'configured', paused: false });
    expect(offeredCurrent(at(MONDAY + 60 * S, { profiles: [p] }), settings)).toMatchObject({ currentA: 12, binding: 'profile' });
    expect(offeredCurrent(at(MONDAY + 60 * S, { profiles: [p], cableRatingA: 10 }), settings)).toMatchObject({ currentA: 10, binding: 'cable' });
    expect(offeredCurrent(at(MONDAY), settings)).toMatchObject({ currentA: 16, nextCheckMs: null });
  });

  it('converts a W profile with the measured voltage and phases', () => {
    const w = profile({ schedule: { startScheduleMs: MONDAY, unit: 'W', periods: [{ startPeriod: 0, limit: 6_900 }] } });
    // 6900 / (230 x 3) = 10 A; on one measured phase at 240 V: 28.75 -> configured 16.
    expect(offeredCurrent(at(MONDAY, { profiles: [w] }), settings).currentA).toBe(10);
    expect(offeredCurrent(at(MONDAY, { profiles: [w], electrical: { voltageV: 240, phases: 1 } }), settings)).toMatchObject({ currentA: 16, binding: 'configured' });
    const guess = offeredCurrent(at(MONDAY, { profiles: [w], electrical: {} }), settings);
    expect(guess.electrical.assumedVoltage).toBe(true);
    expect(guess.currentA).toBe(10);
  });

  it('below 6 A pauses (offers 0) and resumes when the limit is back, each at the exact boundary', () => {
    const p = profile({ limits: [[0, 16], [60, 5.9], [120, 6], [180, 8]] });
    const limiter = new CurrentLimiter(() => settings);
    const seen: string[] = [];
    // Follow nextCheckMs as the caller's single timer would, from start to the end.
    let now: number | null = MONDAY;
    for (let guard = 0; now !== null && guard < 10; guard++) {
      const { offer, change } = limiter.update(at(now, { profiles: [p] }));
      seen.push(`${(now - MONDAY) / 1000}s ${offer.currentA}A ${change}${offer.paused ? ' (paused)' : ''}`);
      now = offer.nextCheckMs;
    }
    expect(seen).toEqual(['0s 16A changed', '60s 0A paused (paused)', '120s 6A resumed', '180s 8A changed']);
    expect(limiter.current()?.limitA).toBe(8);
  });

  it('a composite limit of 0 pauses; nothing above the offer is ever reported', () => {
    const p = profile({ limits: [[0, 0]] });
    expect(offeredCurrent(at(MONDAY, { profiles: [p] }), settings)).toMatchObject({ currentA: 0, limitA: 0, paused: true, binding: 'profile' });
    const odd = profile({ limits: [[0, 10.06]] });
    expect(offeredCurrent(at(MONDAY, { profiles: [odd] }), settings).currentA).toBe(10);
  });

  it('applies the fail-safe limit once the CSMS has been unreachable for the configured time', () => {
    const safe: LimiterSettings = { configuredMaxA: 16, failSafe: { afterMs: 600 * S, limitA: 8 } };
    const before = offeredCurrent(at(MONDAY + 100 * S, { csmsUnreachableSinceMs: MONDAY }), safe);
    expect(before).toMatchObject({ currentA: 16, binding: 'configured', nextCheckMs: MONDAY + 600 * S });
    expect(offeredCurrent(at(MONDAY + 600 * S, { csmsUnreachableSinceMs: MONDAY }), safe)).toMatchObject({ currentA: 8, binding: 'failsafe' });
    expect(offeredCurrent(at(MONDAY + 600 * S), safe)).toMatchObject({ currentA: 16 });
    const pauseSafe: LimiterSettings = { configuredMaxA: 16, failSafe: { afterMs: 0, limitA: 0 } };
    expect(offeredCurrent(at(MONDAY, { csmsUnreachableSinceMs: MONDAY }), pauseSafe)).toMatchObject({ paused: true, binding: 'failsafe' });
  });

  it('the restored envelope caps the offer', () => {
    expect(offeredCurrent(at(MONDAY, { envelopeA: 6.5 }), settings)).toMatchObject({ currentA: 6.5, binding: 'envelope' });
    expect(offeredCurrent(at(MONDAY, { envelopeA: 0 }), settings)).toMatchObject({ currentA: 0, paused: true });
  });

  it('a bad configured maximum is a clear error', () => {
    expect(() => offeredCurrent(at(MONDAY), { configuredMaxA: Number.NaN })).toThrow(/configuredMaxA/);
  });
});
