// Builders for smart-charging tests: a Monday at 00:00 UTC and compact profile literals.
import type { ChargingProfile, SchedulePeriod } from '../../../src/domain/smart-charging/profile.js';

/** Monday 2026-01-05 00:00:00 UTC. */
export const MONDAY = Date.UTC(2026, 0, 5);
export const H = 3_600_000;
export const S = 1_000;

export function periods(...pairs: [number, number][]): SchedulePeriod[] {
  return pairs.map(([startPeriod, limit]) => ({ startPeriod, limit }));
}

export function profile(over: Partial<ChargingProfile> & { limits?: [number, number][] } = {}): ChargingProfile {
  const { limits, ...rest } = over;
  return {
    id: 1,
    stackLevel: 0,
    purpose: 'TxDefault',
    kind: 'Absolute',
    evseId: 1,
    schedule: { startScheduleMs: MONDAY, unit: 'A', periods: periods(...(limits ?? [[0, 16]])) },
    ...rest,
  };
}
