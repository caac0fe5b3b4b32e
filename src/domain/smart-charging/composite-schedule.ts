// The composite schedule (OCPP 1.6 §3.13 Smart Charging, §5.7 GetCompositeSchedule; 2.0.1 K08):
// pure functions of the installed profiles, the instant, the EVSE, its transaction and the
// electrical values the controller measures.
//
// Rules, as the 1.6 text gives them:
//  - Within one purpose, the profile with the highest stack level that is valid at the instant
//    (validFrom <= t < validTo) AND has a period defined then (its schedule started, not past
//    its duration) leads; a higher stack level that has ended does not shadow a lower one.
//    At equal stack level a profile on the EVSE beats one on the whole station (2.0.1 states
//    this; 1.6 lets a connector's TxDefault refine the connector-0 default).
//  - TxProfile overrides TxDefaultProfile for its transaction; the result is the minimum of
//    the leading StationMax and the leading Tx (else TxDefault).
//  - Absolute starts at startSchedule; Relative at the transaction start (no transaction: the
//    start of the requested window); Recurring restarts every day/week from startSchedule
//    (not before it); duration ends each run.
//  - Limits are compared as A per phase: W / (V x phases), phases = the period's numberPhases,
//    else the measured ones. Without a measured voltage 230 V is assumed and reported.
import { STATION, recurrenceMs, type ChargingProfile, type ProfilePurpose, type RateUnit, type SchedulePeriod } from './profile.js';

/** What the controller measures; absent or non-positive = not measured. */
export interface Electrical {
  voltageV?: number;
  phases?: number;
}

export interface ResolvedElectrical {
  voltageV: number;
  phases: number;
  /** No voltage measured: NOMINAL_VOLTAGE_V was used for W <-> A. */
  assumedVoltage: boolean;
  /** No phase count measured: 3 (the OCPP default for numberPhases) was used. */
  assumedPhases: boolean;
}

export const NOMINAL_VOLTAGE_V = 230;

export function resolveElectrical(e: Electrical = {}): ResolvedElectrical {
  const v = e.voltageV !== undefined && Number.isFinite(e.voltageV) && e.voltageV > 0 ? e.voltageV : undefined;
  const ph = e.phases !== undefined && Number.isInteger(e.phases) && e.phases >= 1 && e.phases <= 3 ? e.phases : undefined;
  return { voltageV: v ?? NOMINAL_VOLTAGE_V, phases: ph ?? 3, assumedVoltage: v === undefined, assumedPhases: ph === undefined };
}

export interface TransactionRef {
  id: string;
  startMs: number;
}

export interface LimitContext {
  /** STATION (0) = the station as a whole: only StationMax profiles apply. */
  evseId: number;
  /** The transaction running on that EVSE, if any (Tx profiles need one). */
  transaction?: TransactionRef;
  /** Where Relative schedules start when there is no transaction (absent = they do not apply). */
  relativeStartMs?: number;
  electrical: ResolvedElectrical;
}

export interface InstantLimit {
  /** Per phase. */
  limitA: number;
  /** The binding period's numberPhases, if it set one. */
  numberPhases?: number;
  purpose: ProfilePurpose;
  profileId: number;
}

/** Profiles that concern this EVSE (and its transaction). */
export function applicableProfiles(profiles: readonly ChargingProfile[], ctx: Omit<LimitContext, 'electrical'>): ChargingProfile[] {
  return profiles.filter((p) => {
    if (p.purpose === 'StationMax') return p.evseId === STATION;
    if (ctx.evseId === STATION) return false;
    if (p.purpose === 'TxDefault') return p.evseId === STATION || p.evseId === ctx.evseId;
    return p.evseId === ctx.evseId && ctx.transaction !== undefined && (p.transactionId === undefined || p.transactionId === ctx.transaction.id);
  });
}

const relativeStart = (ctx: Omit<LimitContext, 'electrical'>): number | undefined => ctx.transaction?.startMs ?? ctx.relativeStartMs;

/** Start of the schedule run in force at t (null: none has begun). */
function runStart(p: ChargingProfile, t: number, relStart: number | undefined): number | null {
  if (p.kind === 'Relative') return relStart ?? null;
  const base = p.schedule.startScheduleMs ?? p.validFromMs ?? 0;
  if (p.kind === 'Absolute' || t < base) return t < base ? null : base;
  const every = recurrenceMs(p.recurrency ?? 'Daily');
  return base + Math.floor((t - base) / every) * every;
}

/** The period of p in force at t, or null (not valid, not started, past its duration). */
export function periodAt(p: ChargingProfile, t: number, relStart: number | undefined): SchedulePeriod | null {
  if (p.validFromMs !== undefined && t < p.validFromMs) return null;
  if (p.validToMs !== undefined && t >= p.validToMs) return null;
  const start = runStart(p, t, relStart);
  if (start === null || t < start) return null;
  const offset = t - start;
  if (p.schedule.durationS !== undefined && offset >= p.schedule.durationS * 1000) return null;
  const i = firstPeriodAfter(p.schedule.periods, offset) - 1;
  return i >= 0 ? (p.schedule.periods[i] as SchedulePeriod) : null;
}

/** Index of the first period starting after offsetMs (periods are sorted): binary search. */
function firstPeriodAfter(periods: readonly SchedulePeriod[], offsetMs: number): number {
  let lo = 0;
  let hi = periods.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((periods[mid] as SchedulePeriod).startPeriod * 1000 <= offsetMs) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First instant after t at which p may change (Infinity: never). */
function profileBoundaryAfter(p: ChargingProfile, t: number, relStart: number | undefined): number {
  let next = Infinity;
  const consider = (x: number | undefined) => {
    if (x !== undefined && x > t && x < next) next = x;
  };
  consider(p.validFromMs);
  consider(p.validToMs);
  const runs: number[] = [];
  if (p.kind === 'Relative') {
    if (relStart !== undefined) runs.push(relStart);
  } else {
    const base = p.schedule.startScheduleMs ?? p.validFromMs ?? 0;
    if (p.kind === 'Absolute' || t < base) runs.push(base);
    else {
      const every = recurrenceMs(p.recurrency ?? 'Daily');
      const k = Math.floor((t - base) / every);
      runs.push(base + k * every, base + (k + 1) * every);
    }
  }
  for (const s of runs) {
    consider(s);
    const next = p.schedule.periods[firstPeriodAfter(p.schedule.periods, t - s)];
    if (next) consider(s + next.startPeriod * 1000);
    if (p.schedule.durationS !== undefined) consider(s + p.schedule.durationS * 1000);
  }
  return next;
}

function toAmps(p: ChargingProfile, per: SchedulePeriod, e: ResolvedElectrical): number {
  if (p.schedule.unit === 'A') return per.limit;
  return per.limit / (e.voltageV * (per.numberPhases ?? e.phases));
}

/** The leading profile of a purpose at t, with its period. */
function leading(candidates: readonly ChargingProfile[], purpose: ProfilePurpose, t: number, relStart: number | undefined) {
  let best: { p: ChargingProfile; per: SchedulePeriod } | null = null;
  for (const p of candidates) {
    if (p.purpose !== purpose) continue;
    const per = periodAt(p, t, relStart);
    if (!per) continue;
    const better = !best || p.stackLevel > best.p.stackLevel || (p.stackLevel === best.p.stackLevel && best.p.evseId === STATION && p.evseId !== STATION);
    if (better) best = { p, per };
  }
  return best;
}

/** The limit at instant t for ctx.evseId, or null when no profile limits it. */
export function limitAt(profiles: readonly ChargingProfile[], t: number, ctx: LimitContext): InstantLimit | null {
  return limitAmong(applicableProfiles(profiles, ctx), t, ctx);
}

function limitAmong(candidates: readonly ChargingProfile[], t: number, ctx: LimitContext): InstantLimit | null {
  const rel = relativeStart(ctx);
  const stationMax = leading(candidates, 'StationMax', t, rel);
  const tx = leading(candidates, 'Tx', t, rel) ?? leading(candidates, 'TxDefault', t, rel);
  let out: InstantLimit | null = null;
  for (const lead of [stationMax, tx]) {
    if (!lead) continue;
    const limitA = toAmps(lead.p, lead.per, ctx.electrical);
    if (!out || limitA < out.limitA) {
      out = { limitA, purpose: lead.p.purpose, profileId: lead.p.id };
      if (lead.per.numberPhases !== undefined) out.numberPhases = lead.per.numberPhases;
    }
  }
  return out;
}

const sameLimit = (a: InstantLimit | null, b: InstantLimit | null) =>
  a === b || (a !== null && b !== null && a.limitA === b.limitA && a.numberPhases === b.numberPhases);

/** A recurring profile repeats within a week; look no further by default (re-check then). */
export const LOOKAHEAD_MS = 8 * 86_400_000;

/**
 * The first instant after t (up to untilMs, default t + LOOKAHEAD_MS) at which the limit
 * changes, or null. The caller arms one timer for it instead of polling.
 */
export function nextChangeAfter(profiles: readonly ChargingProfile[], t: number, ctx: LimitContext, untilMs = t + LOOKAHEAD_MS): number | null {
  // A recurring profile has boundaries forever: never search without an end.
  if (!Number.isFinite(untilMs)) untilMs = t + LOOKAHEAD_MS;
  const candidates = applicableProfiles(profiles, ctx);
  const rel = relativeStart(ctx);
  const current = limitAmong(candidates, t, ctx);
  let at = t;
  for (;;) {
    let next = Infinity;
    for (const p of candidates) next = Math.min(next, profileBoundaryAfter(p, at, rel));
    if (next === Infinity || next > untilMs) return null;
    if (!sameLimit(current, limitAmong(candidates, next, ctx))) return next;
    at = next;
  }
}

export interface CompositeRequest {
  profiles: readonly ChargingProfile[];
  evseId: number;
  startMs: number;
  durationS: number;
  unit: RateUnit;
  transaction?: TransactionRef;
  electrical?: Electrical;
  /** Offered where no profile limits (the station's own maximum), per phase. */
  unlimitedA: number;
}

export interface CompositePeriod {
  /** Whole seconds from startMs. */
  startPeriod: number;
  /** In the requested unit, rounded down to 0.1. */
  limit: number;
  numberPhases?: number;
}

export interface CompositeSchedule {
  startMs: number;
  durationS: number;
  unit: RateUnit;
  periods: CompositePeriod[];
  /** False when no profile limited any part of the window. */
  limited: boolean;
  electrical: ResolvedElectrical;
}

/** Rounded down: never report (or offer) more than a profile allows. */
export const floorTenth = (x: number): number => Math.floor(x * 10 + 1e-6) / 10;

export function fromAmps(limitA: number, unit: RateUnit, phases: number, e: ResolvedElectrical): number {
  return floorTenth(unit === 'A' ? limitA : limitA * e.voltageV * phases);
}

/** GetCompositeSchedule: the limits over [startMs, startMs + durationS) with their real boundaries. */
export function compositeSchedule(req: CompositeRequest): CompositeSchedule {
  if (!(Number.isInteger(req.durationS) && req.durationS > 0)) throw new RangeError('duration must be a whole number of seconds > 0');
  if (!Number.isFinite(req.startMs)) throw new RangeError('start is not a time');
  if (!(Number.isFinite(req.unlimitedA) && req.unlimitedA >= 0)) throw new RangeError('unlimitedA must be >= 0');
  const electrical = resolveElectrical(req.electrical);
  const ctx: LimitContext = { evseId: req.evseId, relativeStartMs: req.startMs, electrical };
  if (req.transaction) ctx.transaction = req.transaction;
  const candidates = applicableProfiles(req.profiles, ctx);
  const endMs = req.startMs + req.durationS * 1000;
  const periods: CompositePeriod[] = [];
  let limited = false;
  const emit = (at: number, lim: InstantLimit | null) => {
    if (lim) limited = true;
    const phases = lim?.numberPhases ?? electrical.phases;
    const period: CompositePeriod = { startPeriod: Math.max(0, Math.ceil((at - req.startMs) / 1000 - 1e-9)), limit: fromAmps(lim?.limitA ?? req.unlimitedA, req.unit, phases, electrical) };
    if (lim?.numberPhases !== undefined) period.numberPhases = lim.numberPhases;
    const last = periods[periods.length - 1];
    // Sub-second boundaries round up to the next second; the later value wins there.
    if (last && last.startPeriod === period.startPeriod) periods.pop();
    const prev = periods[periods.length - 1];
    if (prev && prev.limit === period.limit && prev.numberPhases === period.numberPhases) return;
    if (period.startPeriod < req.durationS) periods.push(period);
  };
  let at = req.startMs;
  emit(at, limitAmong(candidates, at, ctx));
  for (;;) {
    const next = nextChangeAfter(candidates, at, ctx, endMs - 1);
    if (next === null) break;
    emit(next, limitAmong(candidates, next, ctx));
    at = next;
  }
  return { startMs: req.startMs, durationS: req.durationS, unit: req.unit, periods, limited, electrical };
}
