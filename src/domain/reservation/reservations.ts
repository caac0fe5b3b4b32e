// Reservations (OCPP 1.6 §5.13 ReserveNow, §5.1 CancelReservation): who a connector (or, for
// connector 0, any one connector) is held for and until when, kept across reboots, expired on
// the injected clock. The station consults it through the StationReservations port.
import type { Clock, ReservationHold, StationReservations } from '../ports.js';
import type { ConnectorStatus } from '../connector/connector-status.js';
import { sameIdTag } from '../session/transaction.js';

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
  connectorIds(): number[];
  /** Connector 0 = the station as a whole. */
  status(connector: number): ConnectorStatus | null;
}

/** OCPP 1.6 ReservationStatus wording. */
export type ReserveResult = 'Accepted' | 'Faulted' | 'Occupied' | 'Rejected' | 'Unavailable';

/** Why a reservation ended (logs). */
export type ReservationEnd = 'used' | 'cancelled' | 'expired' | 'connector-failed';

/**
 * §5.13: a reservation may be used when the presented idTag or its parent match the
 * reservation's idTag or parentIdTag (trimmed, case-insensitive).
 */
export function reservationMatches(r: ReservationHold, idTag: string, parentIdTag?: string): boolean {
  const theirs = [r.idTag, r.parentIdTag];
  return theirs.some((t) => sameIdTag(t, idTag) || sameIdTag(t, parentIdTag));
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
  private timer: unknown = null;
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

  holds(free: readonly number[]): ReadonlyMap<number, Reservation> {
    const held = new Map<number, Reservation>();
    const live = this.active();
    for (const r of live) if (r.connector > 0) held.set(r.connector, r);
    const spare = free.filter((c) => !held.has(c));
    for (const r of live) {
      if (r.connector !== 0) continue;
      const c = spare.shift();
      if (c === undefined) break;
      held.set(c, r);
    }
    return held;
  }

  /**
   * ReserveNow. The same reservationId replaces the old reservation (§5.13); the checks then
   * look at the station as if the old one were gone. Answers Occupied when the connector (or,
   * for connector 0, every connector) is in use or held by another reservation.
   */
  reserve(r: Reservation, station: StationView): ReserveResult {
    const result = this.check(r, station);
    if (result !== 'Accepted') return result;
    const previous = this.byId.get(r.id);
    const copy: Reservation = { id: r.id, connector: r.connector, idTag: r.idTag.trim(), expiresAt: new Date(r.expiresAt.getTime()) };
    if (r.parentIdTag !== undefined) copy.parentIdTag = r.parentIdTag.trim();
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
    const ids = station.connectorIds();
    const s0 = station.status(0);
    if (s0 === 'Faulted') return 'Faulted';
    if (s0 === 'Unavailable') return 'Unavailable';
    // Connectors a new reservation could hold: idle (Available, or Reserved only by a connector-0 hold).
    const heldByConnector = new Set(others.filter((o) => o.connector > 0).map((o) => o.connector));
    const free = ids.filter((c) => !heldByConnector.has(c) && (station.status(c) === 'Available' || station.status(c) === 'Reserved'));
    const zeroCount = others.filter((o) => o.connector === 0).length;
    if (r.connector === 0) {
      if (!this.settings.reserveConnectorZeroSupported()) return 'Rejected';
      if (free.length > zeroCount) return 'Accepted';
      if (ids.length > 0 && ids.every((c) => station.status(c) === 'Faulted')) return 'Faulted';
      if (ids.length > 0 && ids.every((c) => station.status(c) === 'Unavailable')) return 'Unavailable';
      return 'Occupied';
    }
    const status = station.status(r.connector);
    if (status === null) return 'Rejected';
    if (status === 'Faulted') return 'Faulted';
    if (status === 'Unavailable') return 'Unavailable';
    if (heldByConnector.has(r.connector) || !free.includes(r.connector)) return 'Occupied';
    // Connector-0 reservations must still find a connector once this one is taken.
    return free.length - 1 >= zeroCount ? 'Accepted' : 'Occupied';
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
