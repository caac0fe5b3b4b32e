// Reservations (OCPP 1.6 §5.13 ReserveNow, §5.1 CancelReservation) over the real SQLite store
// with a FakeClock: the ReserveNow answers, replacement by id, connector-0 holds, who may use
// a reservation, expiry on the injected clock, persistence across a restart.
import { afterEach, describe, expect, it } from 'vitest';
import type { ChargePointStatus as ConnectorStatus } from '../../../src/ocpp/v16/generated/types.js';
import { ReservationBook, reservationMatches, type Reservation, type StationView } from '../../../src/domain/reservation/reservations.js';
import { card, reservationOf, stateFor, stationStateFor, type Reservation16 } from '../../helpers/domain-terms.js';
import { SqliteReservationRepo } from '../../../src/store/reservation-repo.js';
import type { AgentDatabase } from '../../../src/store/database.js';
import { FakeClock, flushMicrotasks } from '../../helpers/fake-clock.js';
import { TempDatabases } from '../../helpers/temp-agent-db.js';

const dbs = new TempDatabases();
afterEach(() => dbs.cleanup());

/** The station's statuses, as ReserveNow sees them (connector 0 = station). */
function station(statuses: Record<number, ConnectorStatus>): StationView & { set(c: number, s: ConnectorStatus): void } {
  const map = new Map(Object.entries(statuses).map(([k, v]) => [Number(k), v]));
  if (!map.has(0)) map.set(0, 'Available');
  const station0 = (): 'Available' | 'Unavailable' | 'Faulted' => {
    const s = map.get(0);
    return s === 'Faulted' || s === 'Unavailable' ? s : 'Available';
  };
  return {
    evseIds: () => [...map.keys()].filter((c) => c > 0).sort((a, b) => a - b),
    connectorState: (c) => {
      const s = map.get(c);
      return s === undefined ? null : stateFor(s);
    },
    stationState: () => stationStateFor(station0()),
    set: (c, s) => void map.set(c, s),
  };
}

const matches = (r: Omit<Reservation16, 'expiresAt'>, idTag: string, parentIdTag?: string): boolean =>
  reservationMatches(reservationOf({ ...r, expiresAt: new Date(0) }), card(idTag), parentIdTag === undefined ? undefined : { value: parentIdTag, type: 'Central' });
const as16 = (r: Reservation): [number, number, string] => [r.id, r.evseId ?? 0, r.idToken.value];

function setup(zeroSupported = true): { book: ReservationBook; clock: FakeClock; db: AgentDatabase; dir: string; changes: () => number; ended: string[] } {
  const { db, dir } = dbs.open();
  const clock = new FakeClock();
  const ended: string[] = [];
  const book = new ReservationBook(new SqliteReservationRepo(db), clock, { reserveConnectorZeroSupported: () => zeroSupported }, { onEnded: (r, why) => ended.push(`${r.id}:${why}`) });
  let n = 0;
  book.onChange(() => n++);
  return { book, clock, db, dir, changes: () => n, ended };
}

const res = (clock: FakeClock, over: Partial<Reservation16> = {}): Reservation =>
  reservationOf({
    id: 1,
    connector: 1,
    idTag: 'DRIVER',
    expiresAt: new Date(clock.now().getTime() + 600_000),
    ...over,
  });

describe('ReserveNow answers', () => {
  it('an Available connector: Accepted; it is then held, listeners told after the answer', async () => {
    const t = setup();
    expect(t.book.reserve(res(t.clock), station({ 1: 'Available', 2: 'Available' }))).toBe('Accepted');
    expect(t.changes()).toBe(0); // the ReserveNow answer goes out before the status it causes
    await flushMicrotasks();
    expect(t.changes()).toBe(1);
    expect([...t.book.holds([1, 2]).entries()].map(([c, r]) => [c, r.id])).toEqual([[1, 1]]);
  });

  it.each<[ConnectorStatus, string]>([
    ['Preparing', 'Occupied'],
    ['Charging', 'Occupied'],
    ['SuspendedEV', 'Occupied'],
    ['Finishing', 'Occupied'],
    ['Faulted', 'Faulted'],
    ['Unavailable', 'Unavailable'],
  ])('a connector that is %s: %s', (status, answer) => {
    const t = setup();
    expect(t.book.reserve(res(t.clock), station({ 1: status }))).toBe(answer);
    expect(t.book.active()).toEqual([]);
    expect(t.changes()).toBe(0);
  });

  it('the station Faulted or Unavailable answers so for any connector', () => {
    const t = setup();
    expect(t.book.reserve(res(t.clock), station({ 0: 'Faulted', 1: 'Available' }))).toBe('Faulted');
    expect(t.book.reserve(res(t.clock), station({ 0: 'Unavailable', 1: 'Unavailable' }))).toBe('Unavailable');
    expect(t.book.reserve(res(t.clock, { connector: 0 }), station({ 0: 'Faulted', 1: 'Available' }))).toBe('Faulted');
  });

  it('an unknown connector, or an expiry already past: Rejected', () => {
    const t = setup();
    expect(t.book.reserve(res(t.clock, { connector: 3 }), station({ 1: 'Available' }))).toBe('Rejected');
    expect(t.book.reserve(res(t.clock, { expiresAt: t.clock.now() }), station({ 1: 'Available' }))).toBe('Rejected');
  });

  it('a connector already reserved (for another or the same idTag) under another id: Occupied', () => {
    const t = setup();
    const st = station({ 1: 'Available' });
    t.book.reserve(res(t.clock), st);
    st.set(1, 'Reserved');
    expect(t.book.reserve(res(t.clock, { id: 2, idTag: 'OTHER' }), st)).toBe('Occupied');
    expect(t.book.reserve(res(t.clock, { id: 3 }), st)).toBe('Occupied');
  });

  it('the same reservationId replaces the reservation (another connector, another tag)', () => {
    const t = setup();
    const st = station({ 1: 'Available', 2: 'Available' });
    t.book.reserve(res(t.clock), st);
    st.set(1, 'Reserved');
    expect(t.book.reserve(res(t.clock, { connector: 2, idTag: 'NEW' }), st)).toBe('Accepted');
    expect(t.book.active().map(as16)).toEqual([[1, 2, 'NEW']]);
    // Same id on its own (Reserved) connector again: Accepted too.
    st.set(1, 'Available');
    st.set(2, 'Reserved');
    expect(t.book.reserve(res(t.clock, { connector: 2, idTag: 'NEWER' }), st)).toBe('Accepted');
  });
});

describe('connector 0 (ReserveConnectorZeroSupported)', () => {
  it('not supported: Rejected', () => {
    const t = setup(false);
    expect(t.book.reserve(res(t.clock, { connector: 0 }), station({ 1: 'Available' }))).toBe('Rejected');
  });

  it('holds one free connector (the first of the preference order) and no more', () => {
    const t = setup();
    const st = station({ 1: 'Available', 2: 'Available' });
    expect(t.book.reserve(res(t.clock, { connector: 0 }), st)).toBe('Accepted');
    expect([...t.book.holds([2, 1]).keys()]).toEqual([2]);
    // A connector reservation elsewhere moves the hold; both free connectors are then taken.
    expect(t.book.reserve(res(t.clock, { id: 2, connector: 2, idTag: 'B' }), st)).toBe('Accepted');
    expect([...t.book.holds([2, 1]).entries()].map(([c, r]) => [c, r.id]).sort()).toEqual([[1, 1], [2, 2]]);
    // No free connector left for another connector-0 reservation, nor for one on connector 1.
    st.set(1, 'Reserved');
    st.set(2, 'Reserved');
    expect(t.book.reserve(res(t.clock, { id: 3, connector: 0, idTag: 'C' }), st)).toBe('Occupied');
    expect(t.book.reserve(res(t.clock, { id: 4, connector: 1, idTag: 'D' }), st)).toBe('Occupied');
  });

  it('every connector busy: Occupied; every connector Faulted: Faulted', () => {
    const t = setup();
    expect(t.book.reserve(res(t.clock, { connector: 0 }), station({ 1: 'Charging', 2: 'Preparing' }))).toBe('Occupied');
    expect(t.book.reserve(res(t.clock, { connector: 0 }), station({ 1: 'Faulted', 2: 'Faulted' }))).toBe('Faulted');
    expect(t.book.reserve(res(t.clock, { connector: 0 }), station({ 1: 'Unavailable' }))).toBe('Unavailable');
  });
});

describe('who may use a reservation', () => {
  it('the idTag or parentIdTag, either way round, trimmed and case-insensitive', () => {
    const r = { id: 1, connector: 1, idTag: 'DRIVER', parentIdTag: 'FLEET' };
    expect(matches(r, ' driver ')).toBe(true);
    expect(matches(r, 'COLLEAGUE', 'fleet')).toBe(true); // same group
    expect(matches(r, 'FLEET')).toBe(true); // the group's own card
    expect(matches({ id: 1, connector: 1, idTag: 'DRIVER' }, 'CHILD', 'DRIVER')).toBe(true);
    expect(matches(r, 'STRANGER')).toBe(false);
    expect(matches(r, 'STRANGER', 'OTHERFLEET')).toBe(false);
    expect(matches({ id: 1, connector: 1, idTag: 'DRIVER' }, 'STRANGER')).toBe(false);
  });
});

describe('ending', () => {
  it('expires on the injected clock: removed, listeners told, storage cleaned', async () => {
    const t = setup();
    t.book.reserve(res(t.clock, { expiresAt: new Date(t.clock.now().getTime() + 60_000) }), station({ 1: 'Available' }));
    await t.clock.advanceAsync(59_999);
    expect(t.book.active()).toHaveLength(1);
    await t.clock.advanceAsync(1);
    expect(t.book.active()).toEqual([]);
    expect(t.changes()).toBe(2);
    expect(t.ended).toEqual(['1:expired']);
    expect(new SqliteReservationRepo(t.db).load()).toEqual([]);
  });

  it('a reservation weeks ahead (beyond a Node timer) expires at its time, not at once', () => {
    const t = setup();
    const days = 40;
    t.book.reserve(res(t.clock, { expiresAt: new Date(t.clock.now().getTime() + days * 86_400_000) }), station({ 1: 'Available' }));
    t.clock.advance((days - 1) * 86_400_000);
    expect(t.book.active()).toHaveLength(1);
    t.clock.advance(86_400_000);
    expect(t.book.active()).toEqual([]);
  });

  it('CancelReservation: true for a live reservation (and it is gone), false otherwise', () => {
    const t = setup();
    t.book.reserve(res(t.clock), station({ 1: 'Available' }));
    expect(t.book.cancel(99)).toBe(false);
    expect(t.book.cancel(1)).toBe(true);
    expect(t.book.cancel(1)).toBe(false);
    expect(t.book.active()).toEqual([]);
    expect(t.ended).toEqual(['1:cancelled']);
  });

  it('end() (used by a transaction) removes it without telling listeners', async () => {
    const t = setup();
    t.book.reserve(res(t.clock), station({ 1: 'Available' }));
    await flushMicrotasks();
    t.book.end(1, 'used');
    await flushMicrotasks();
    expect(t.book.active()).toEqual([]);
    expect(t.changes()).toBe(1); // only the ReserveNow
    expect(t.ended).toEqual(['1:used']);
  });

  it('survives a restart; one that expired meanwhile is dropped on load', () => {
    const t = setup();
    const st = station({ 1: 'Available', 2: 'Available' });
    t.book.reserve(res(t.clock, { id: 1, connector: 1, parentIdTag: 'GRP', expiresAt: new Date(t.clock.now().getTime() + 600_000) }), st);
    t.book.reserve(res(t.clock, { id: 2, connector: 2, idTag: 'SHORT', expiresAt: new Date(t.clock.now().getTime() + 60_000) }), st);
    t.book.stop();
    const db = dbs.reopen(t.db, t.dir);
    t.clock.advance(120_000); // the agent was down for two minutes
    const again = new ReservationBook(new SqliteReservationRepo(db), t.clock, { reserveConnectorZeroSupported: () => true });
    expect(again.active().map((r) => [...as16(r), r.groupId?.value])).toEqual([[1, 1, 'DRIVER', 'GRP']]);
    expect(new SqliteReservationRepo(db).load().map((r) => r.id)).toEqual([1]);
    again.stop();
  });
});

describe('expiry after a clock correction', () => {
  it('the CSMS moves the clock past the expiry: the reservation ends within a minute, not an hour', async () => {
    const t = setup();
    t.book.reserve(res(t.clock, { expiresAt: new Date(t.clock.now().getTime() + 30 * 60_000) }), station({ 1: 'Available' }));
    await flushMicrotasks();
    // A board without an RTC booted behind: the first BootNotification answer moves it two hours on.
    t.clock.setOffsetFrom(new Date(t.clock.now().getTime() + 2 * 3_600_000));
    t.clock.advance(60_000);
    await flushMicrotasks();
    expect(t.ended).toEqual(['1:expired']);
  });
});
