// Charging profiles in protocol-neutral terms. OCPP 1.6 ChargingProfile (ChargePointMaxProfile,
// TxDefaultProfile, TxProfile on a connectorId) and OCPP 2.0.1 ChargingProfile (on an evseId)
// both map onto these; the protocol adapters do the mapping, this block does the rules.
// Times are epoch milliseconds (pure arithmetic, no Date objects to compare).

/** StationMax = 1.6 ChargePointMaxProfile / 2.0.1 ChargingStationMaxProfile. */
export type ProfilePurpose = 'StationMax' | 'TxDefault' | 'Tx';
export type ProfileKind = 'Absolute' | 'Recurring' | 'Relative';
export type Recurrency = 'Daily' | 'Weekly';
export type RateUnit = 'A' | 'W';

/** The station as a whole (1.6 connectorId 0, 2.0.1 evseId 0). */
export const STATION = 0;

export interface SchedulePeriod {
  /** Seconds from the start of the schedule; also ends the previous period. */
  startPeriod: number;
  /** In the schedule's unit: A per phase, or W in total. */
  limit: number;
  /** Phases the limit assumes; absent = the phases the controller measures. */
  numberPhases?: number;
}

export interface ChargingSchedule {
  /** Required for Absolute and Recurring (see normalizeProfile); ignored for Relative. */
  startScheduleMs?: number;
  /** Seconds; absent = the last period runs on (until validTo, or the recurrence). */
  durationS?: number;
  unit: RateUnit;
  /** startPeriod strictly increasing, the first 0. */
  periods: SchedulePeriod[];
  minChargingRate?: number;
}

export interface ChargingProfile {
  id: number;
  stackLevel: number;
  purpose: ProfilePurpose;
  kind: ProfileKind;
  recurrency?: Recurrency;
  validFromMs?: number;
  validToMs?: number;
  /** Tx only: the transaction it belongs to (absent = the one running on its EVSE). */
  transactionId?: string;
  /** STATION (0) or an EVSE id. */
  evseId: number;
  schedule: ChargingSchedule;
}

const DAY_MS = 86_400_000;
export const recurrenceMs = (r: Recurrency): number => (r === 'Daily' ? DAY_MS : 7 * DAY_MS);

const finite = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n);
const wholeNonNegative = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 0;

/**
 * Why a profile is malformed, or null. Structural checks only; the station's own limits
 * (stack level, period count, units) are ProfileStack's.
 */
export function profileProblem(p: ChargingProfile): string | null {
  if (!Number.isInteger(p.id)) return 'id must be an integer';
  if (!wholeNonNegative(p.stackLevel)) return 'stackLevel must be a whole number >= 0';
  if (!['StationMax', 'TxDefault', 'Tx'].includes(p.purpose)) return `unknown purpose ${String(p.purpose)}`;
  if (!['Absolute', 'Recurring', 'Relative'].includes(p.kind)) return `unknown kind ${String(p.kind)}`;
  if (!wholeNonNegative(p.evseId)) return 'evseId must be a whole number >= 0';
  if (p.purpose === 'StationMax' && p.evseId !== STATION) return 'a StationMax profile must target the station (EVSE 0)';
  if (p.purpose === 'Tx' && p.evseId === STATION) return 'a Tx profile must target an EVSE';
  if (p.purpose !== 'Tx' && p.transactionId !== undefined) return 'only a Tx profile names a transaction';
  if (p.kind === 'Recurring' && p.recurrency !== 'Daily' && p.recurrency !== 'Weekly') return 'a Recurring profile needs recurrency Daily or Weekly';
  if (p.kind !== 'Recurring' && p.recurrency !== undefined) return 'recurrency is only for Recurring profiles';
  if (p.validFromMs !== undefined && !finite(p.validFromMs)) return 'validFrom is not a time';
  if (p.validToMs !== undefined && !finite(p.validToMs)) return 'validTo is not a time';
  if (p.validFromMs !== undefined && p.validToMs !== undefined && p.validToMs <= p.validFromMs) return 'validTo must be after validFrom';
  const s = p.schedule as ChargingSchedule | undefined;
  if (!s || typeof s !== 'object') return 'schedule missing';
  if (s.unit !== 'A' && s.unit !== 'W') return `unknown rate unit ${String(s.unit)}`;
  if (s.startScheduleMs !== undefined && !finite(s.startScheduleMs)) return 'startSchedule is not a time';
  if (p.kind === 'Recurring' && s.startScheduleMs === undefined) return 'a Recurring profile needs startSchedule';
  if (s.durationS !== undefined && !(finite(s.durationS) && s.durationS > 0)) return 'duration must be > 0 seconds';
  if (p.kind === 'Recurring' && s.durationS !== undefined && s.durationS * 1000 > recurrenceMs(p.recurrency ?? 'Daily')) {
    return 'duration is longer than the recurrence';
  }
  if (s.minChargingRate !== undefined && !(finite(s.minChargingRate) && s.minChargingRate >= 0)) return 'minChargingRate must be >= 0';
  if (!Array.isArray(s.periods) || s.periods.length === 0) return 'a schedule needs at least one period';
  let prev = -1;
  for (const [i, per] of s.periods.entries()) {
    if (per === null || typeof per !== 'object') return `period ${i} is not an object`;
    if (!wholeNonNegative(per.startPeriod)) return `period ${i}: startPeriod must be a whole number of seconds >= 0`;
    if (i === 0 && per.startPeriod !== 0) return 'the first period must start at 0';
    if (per.startPeriod <= prev) return `period ${i}: startPeriod must increase`;
    if (!(finite(per.limit) && per.limit >= 0)) return `period ${i}: limit must be >= 0`;
    if (per.numberPhases !== undefined && !(Number.isInteger(per.numberPhases) && per.numberPhases >= 1 && per.numberPhases <= 3)) {
      return `period ${i}: numberPhases must be 1, 2 or 3`;
    }
    prev = per.startPeriod;
  }
  return null;
}

/**
 * An Absolute profile without startSchedule starts when it becomes valid, or when it was
 * received: fixed here once so a restart does not move it.
 */
export function normalizeProfile(p: ChargingProfile, receivedAtMs: number): ChargingProfile {
  if (p.kind !== 'Absolute' || p.schedule.startScheduleMs !== undefined) return p;
  return { ...p, schedule: { ...p.schedule, startScheduleMs: p.validFromMs ?? receivedAtMs } };
}

/** Stable text of a profile's content (key order independent), to tell identical profiles apart. */
export function profileKey(p: ChargingProfile): string {
  return canonical(p);
}

/** Stable text of a set of profiles, whatever their order. */
export function profileSetKey(ps: readonly ChargingProfile[]): string {
  return `[${ps.map(canonical).sort().join(',')}]`;
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
