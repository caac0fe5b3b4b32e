// The current the EVSE offers (the pilot's duty cycle) at an instant: the lowest of the
// composite limit, the configured maximum, the cable's rating (PP resistor), the restored
// safety envelope and, when the CSMS has been out of reach long enough, a fail-safe limit.
// Below 6 A the pilot cannot signal a current (IEC 61851-1), so the EVSE pauses (offers 0,
// the EV stays connected, EVSE-side suspension) and resumes as soon as the limit is back at
// 6 A or more. The next instant the offer changes is returned so the caller arms one timer.
import { floorTenth, limitAt, nextChangeAfter, resolveElectrical, type Electrical, type LimitContext, type ResolvedElectrical, type TransactionRef } from './composite-schedule.js';
import type { ChargingProfile } from './profile.js';

export const MIN_OFFER_A = 6;

export interface LimiterSettings {
  /** The station's configured maximum per phase. */
  configuredMaxA: number;
  /** Applied once the CSMS has been unreachable for afterMs (absent = none). */
  failSafe?: { afterMs: number; limitA: number };
}

export interface LimiterInput {
  profiles: readonly ChargingProfile[];
  nowMs: number;
  evseId: number;
  transaction?: TransactionRef;
  electrical?: Electrical;
  /** The cable's current rating read from PP (absent = fixed cable / not read). */
  cableRatingA?: number;
  /** Since when the CSMS is unreachable (absent = connected). */
  csmsUnreachableSinceMs?: number;
  /** Restored after a restart by the persistence policy (absent = none). */
  envelopeA?: number;
}

export type Binding = 'profile' | 'configured' | 'cable' | 'envelope' | 'failsafe';

export interface Offer {
  /** Per phase; 0 while paused. */
  currentA: number;
  /** The limit before the 6 A rule, rounded down to 0.1 A. */
  limitA: number;
  paused: boolean;
  binding: Binding;
  /** When to look again (a period boundary or the fail-safe onset); null = nothing pending. */
  nextCheckMs: number | null;
  electrical: ResolvedElectrical;
}

export function offeredCurrent(input: LimiterInput, settings: LimiterSettings): Offer {
  if (!(Number.isFinite(settings.configuredMaxA) && settings.configuredMaxA >= 0)) throw new RangeError('configuredMaxA must be >= 0');
  const electrical = resolveElectrical(input.electrical);
  const ctx: LimitContext = { evseId: input.evseId, electrical };
  if (input.transaction) ctx.transaction = input.transaction;
  let limitA = settings.configuredMaxA;
  let binding: Binding = 'configured';
  const lower = (value: number | undefined, why: Binding) => {
    if (value !== undefined && Number.isFinite(value) && value < limitA) {
      limitA = Math.max(0, value);
      binding = why;
    }
  };
  lower(limitAt(input.profiles, input.nowMs, ctx)?.limitA, 'profile');
  lower(input.cableRatingA, 'cable');
  lower(input.envelopeA, 'envelope');
  let failSafeAt: number | null = null;
  if (settings.failSafe && input.csmsUnreachableSinceMs !== undefined) {
    const onset = input.csmsUnreachableSinceMs + settings.failSafe.afterMs;
    if (input.nowMs >= onset) lower(settings.failSafe.limitA, 'failsafe');
    else failSafeAt = onset;
  }
  limitA = floorTenth(limitA);
  const paused = limitA < MIN_OFFER_A;
  const change = nextChangeAfter(input.profiles, input.nowMs, ctx);
  const candidates = [change, failSafeAt].filter((x): x is number => x !== null);
  return {
    currentA: paused ? 0 : limitA,
    limitA,
    paused,
    binding,
    nextCheckMs: candidates.length ? Math.min(...candidates) : null,
    electrical,
  };
}

export type OfferChange = 'none' | 'changed' | 'paused' | 'resumed';

/** Remembers the last offer of one EVSE so the caller acts on transitions only. */
export class CurrentLimiter {
  private last: Offer | null = null;

  constructor(private readonly settings: () => LimiterSettings) {}

  update(input: LimiterInput): { offer: Offer; change: OfferChange } {
    const offer = offeredCurrent(input, this.settings());
    const prev = this.last;
    this.last = offer;
    if (!prev) return { offer, change: offer.paused ? 'paused' : 'changed' };
    if (offer.paused && !prev.paused) return { offer, change: 'paused' };
    if (!offer.paused && prev.paused) return { offer, change: 'resumed' };
    return { offer, change: offer.currentA === prev.currentA ? 'none' : 'changed' };
  }

  current(): Offer | null {
    return this.last;
  }
}
