// Reservations (1.6 §5.13 ReserveNow, §5.1 CancelReservation): who an EVSE (or any one EVSE)
// is held for and until when, kept across reboots, expired on the injected clock. The station
// consults it through the StationReservations port.
import type { ReservationHold, StationReservations } from '../ports.js';
import type { Clock, TimerHandle } from '../../platform/clock.js';
import { isIdle, type ConnectorState, type StationState } from '../model/connector-state.js';
import type { EvseId } from '../model/evse.js';
import { sameIdToken, type IdToken } from '../model/id-token.js';

export interface Reservation extends ReservationHold {
  expiresAt: Date;
}

/** Storage of reservations; every write is durable (a reservation answered Accepted must survive a power cut). */
export interface ReservationStore {
  load(): Reservation[];
  save(r: Reservation): void;
  delete(id: number): void;
}

export interface ReservationSettings {
  /** ReserveConnectorZeroSupported. */
  reserveConnectorZeroSupported(): boolean;
}

/** What ReserveNow needs to know about the station (ChargingStation fits it). */
export interface StationView {
  evseIds(): EvseId[];
  connectorState(evseId: EvseId): ConnectorState | null;
  stationState(): StationState | null;
}

/** 1.6 ReservationStatus wording (2.0.1 ReserveNowStatusEnumType has the same five). */
export type ReserveResult = 'Accepted' | 'Faulted' | 'Occupied' | 'Rejected' | 'Unavailable';

/** Why a reservation ended (logs). */
export type ReservationEnd = 'used' | 'cancelled' | 'expired' | 'connector-failed';

/**
 * §5.13: a reservation may be used when the presented identifier or its group match the
 * reservation's identifier or group (trimmed, case-insensitive).
 */
export function reservationMatches(r: ReservationHold, idToken: IdToken, groupId?: IdToken): boolean {
  const theirs = [r.idToken, r.groupId];
  return theirs.some((t) => sameIdToken(t, idToken) || sameIdToken(t, groupId));
}

/**
 * Expiry is re-checked at least this often: Node turns delays over 2^31 ms into 1 ms, and
 * the clock may be corrected by the CSMS meanwhile (a board without an RTC boots behind).
 */
const MAX_TIMER_MS = 60_000;

export interface ReservationBookOptions {
  /** A reservation ended (logs). */
  onEnded?: (r: Reservation, why: ReservationEnd) => void;
  /** Storage failed while removing a reservation (it is gone from memory anyway). */
  onError?: (err: unknown, context: string) => void;
}

export class ReservationBook implements StationReservations {
  private readonly byId = new Map<number, Reservation>();
  private listeners: Array<() => void> = [];
  private timer: TimerHandle | null = null;
  private notifyPending: ReturnType<typeof setImmediate> | null = null;

  constructor(
    private readonly store: ReservationStore | null,
    private readonly clock: Clock,
    private readonly settings: ReservationSettings,
    private readonly opts: ReservationBookOptions = {},
  ) {
    const now = clock.now().getTime();
    for (const r of store?.load() ?? []) {
      // Expired while the agent was down: gone.
      if (r.expiresAt.getTime() <= now) this.remove(r, 'expired');
      else this.byId.set(r.id, r);
    }
    this.arm();
  }

  active(): Reservation[] {
    const now = this.clock.now().getTime();
    return [...this.byId.values()].filter((r) => r.expiresAt.getTime() > now).sort((a, b) => a.id - b.id);
  }

  find(id: number): Reservation | null {
    return this.active().find((r) => r.id === id) ?? null;
  }

  holds(free: readonly EvseId[]): ReadonlyMap<EvseId, Reservation> {
    const held = new Map<EvseId, Reservation>();
    const live = this.active();
    for (const r of live) if (r.evseId !== undefined) held.set(r.evseId, r);
    const spare = free.filter((c) => !held.has(c));
    for (const r of live) {
      if (r.evseId !== undefined) continue;
      const c = spare.shift();
      if (c === undefined) break;
      held.set(c, r);
    }
    return held;
  }

  /**
   * ReserveNow. The same reservationId replaces the old reservation (§5.13); the checks then
   * look at the station as if the old one were gone. Answers Occupied when the EVSE (or, for
   * an any-EVSE reservation, every EVSE) is in use or held by another reservation.
   */
  reserve(r: Reservation, station: StationView): ReserveResult {
    const result = this.check(r, station);
    if (result !== 'Accepted') return result;
    const previous = this.byId.get(r.id);
    const copy: Reservation = { id: r.id, idToken: { ...r.idToken, value: r.idToken.value.trim() }, expiresAt: new Date(r.expiresAt.getTime()) };
    if (r.evseId !== undefined) copy.evseId = r.evseId;
    if (r.groupId !== undefined) copy.groupId = { ...r.groupId, value: r.groupId.value.trim() };
    this.store?.save(copy);
    this.byId.set(copy.id, copy);
    if (previous) this.opts.onEnded?.(previous, 'cancelled');
    this.changed();
    return 'Accepted';
  }

  /** CancelReservation: true when it existed (Accepted), false otherwise (Rejected). */
  cancel(id: number): boolean {
    const r = this.find(id);
    if (!r) return false;
    this.remove(r, 'cancelled');
    this.changed();
    return true;
  }

  end(id: number, reason: 'used' | 'connector-failed'): void {
    const r = this.byId.get(id);
    if (r) this.remove(r, reason);
    this.arm();
  }

  onChange(listener: () => void): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  stop(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    if (this.notifyPending !== null) clearImmediate(this.notifyPending);
    this.notifyPending = null;
  }

  private check(r: Reservation, station: StationView): ReserveResult {
    if (r.expiresAt.getTime() <= this.clock.now().getTime()) return 'Rejected';
    const others = this.active().filter((o) => o.id !== r.id);
    const ids = station.evseIds();
    const whole = station.stationState()?.availability;
    if (whole === 'Faulted') return 'Faulted';
    if (whole === 'Unavailable') return 'Unavailable';
    const availabilityOf = (c: EvseId) => station.connectorState(c)?.availability;
    // EVSEs a new reservation could hold: idle (available, or reserved only by an any-EVSE hold).
    const heldByEvse = new Set(others.filter((o) => o.evseId !== undefined).map((o) => o.evseId));
    const idle = (c: EvseId): boolean => {
      const s = station.connectorState(c);
      return !!s && isIdle(s);
    };
    const free = ids.filter((c) => !heldByEvse.has(c) && idle(c));
    const anyCount = others.filter((o) => o.evseId === undefined).length;
    if (r.evseId === undefined) {
      if (!this.settings.reserveConnectorZeroSupported()) return 'Rejected';
      if (free.length > anyCount) return 'Accepted';
      if (ids.length > 0 && ids.every((c) => availabilityOf(c) === 'Faulted')) return 'Faulted';
      if (ids.length > 0 && ids.every((c) => availabilityOf(c) === 'Unavailable')) return 'Unavailable';
      return 'Occupied';
    }
    const state = station.connectorState(r.evseId);
    if (state === null) return 'Rejected';
    if (state.availability === 'Faulted') return 'Faulted';
    if (state.availability === 'Unavailable') return 'Unavailable';
    if (heldByEvse.has(r.evseId) || !free.includes(r.evseId)) return 'Occupied';
    // Any-EVSE reservations must still find an EVSE once this one is taken.
    return free.length - 1 >= anyCount ? 'Accepted' : 'Occupied';
  }

  private remove(r: Reservation, why: ReservationEnd): void {
    this.byId.delete(r.id);
    try {
      this.store?.delete(r.id);
    } catch (err) {
      this.opts.onError?.(err, 'reservation delete');
    }
    this.opts.onEnded?.(r, why);
  }

  private changed(): void {
    this.arm();
    // After the current message is handled: the CSMS gets the ReserveNow/CancelReservation answer
    // before the StatusNotification the change causes.
    if (this.notifyPending !== null) return;
    this.notifyPending = setImmediate(() => {
      this.notifyPending = null;
      for (const l of this.listeners) l();
    });
  }

  /** One timer, for the earliest expiry. */
  private arm(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    let next = Infinity;
    for (const r of this.byId.values()) next = Math.min(next, r.expiresAt.getTime());
    if (next === Infinity) return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(1, next - this.clock.now().getTime()));
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      this.expire();
    }, delay);
  }

  private expire(): void {
    const now = this.clock.now().getTime();
    const expired = [...this.byId.values()].filter((r) => r.expiresAt.getTime() <= now);
    for (const r of expired) this.remove(r, 'expired');
    if (expired.length > 0) this.changed();
    else this.arm();
  }
}
