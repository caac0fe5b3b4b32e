// Reservation holds: which EVSE each live reservation keeps for its driver, who may start
// there, which reservation a starting transaction uses up, and reservations ending when their
// EVSE (any-EVSE reservation: every EVSE) goes Faulted or Unavailable (1.6 §5.13).
import type { EvseId } from '../model/evse.js';
import type { IdToken } from '../model/id-token.js';
import { isPlugged } from '../model/connector-state.js';
import type { ReservationHold, StationReservations } from '../ports.js';
import { reservationMatches } from '../reservation/reservations.js';
import type { EvseRecord, Evses } from './evses.js';

const NO_HOLDS: ReadonlyMap<EvseId, ReservationHold> = new Map();

export class ReservationHolds {
  constructor(
    private readonly evses: Evses,
    private readonly book: StationReservations | undefined,
  ) {}

  /** An any-EVSE reservation is live: its hold moves with every change. */
  floating(): boolean {
    return !!this.book?.active().some((r) => r.evseId === undefined);
  }

  /** EVSE -> the reservation holding it. */
  holds(): ReadonlyMap<EvseId, ReservationHold> {
    if (!this.book) return NO_HOLDS;
    // An any-EVSE reservation holds an empty EVSE rather than one with an EV plugged in, and the
    // highest-numbered one, leaving the first ones to walk-up drivers.
    const free = this.evses
      .all()
      .filter((e) => this.evses.holdable(e))
      .sort((a, b) => Number(isPlugged(a.pilot)) - Number(isPlugged(b.pilot)) || b.id - a.id)
      .map((e) => e.id);
    return this.book.holds(free);
  }

  isHeld(e: EvseRecord): boolean {
    return this.holds().has(e.id);
  }

  /** Free for a transaction of this identifier: a reserved EVSE only for the reservation's own identifier or group. */
  usableBy(e: EvseRecord, token: IdToken, groupId?: IdToken): boolean {
    if (!this.evses.canStart(e)) return false;
    const hold = this.holds().get(e.id);
    return !hold || reservationMatches(hold, token, groupId);
  }

  /** The reservation a transaction of this identifier on this EVSE uses up, if any. */
  reservationFor(e: EvseRecord, token: IdToken, groupId?: IdToken): ReservationHold | null {
    if (!this.book) return null;
    const hold = this.holds().get(e.id);
    if (hold && reservationMatches(hold, token, groupId)) return hold;
    return this.book.active().find((r) => r.evseId === undefined && reservationMatches(r, token, groupId)) ?? null;
  }

  /** A transaction started on it: it ends. */
  used(r: ReservationHold): void {
    this.book?.end(r.id, 'used');
  }

  /** After each refresh of an EVSE. */
  endFailed(e: EvseRecord): void {
    const book = this.book;
    const a = e.state?.availability;
    if (!book || (a !== 'Faulted' && a !== 'Unavailable')) return;
    const down = (r: EvseRecord): boolean => r.state?.availability === 'Faulted' || r.state?.availability === 'Unavailable';
    const allDown = this.evses.all().every(down);
    for (const r of book.active()) {
      if (r.evseId === e.id || (r.evseId === undefined && allDown)) book.end(r.id, 'connector-failed');
    }
  }
}
