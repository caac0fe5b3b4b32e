// Reservation holds (src/domain/station/reservation-holds.ts): reservations seen by the domain
// station (OCPP 1.6 §5.13) over the real serial driver and the simulator on a pty: the Reserved status, a reserved connector refusing another card, the
// reserved tag starting with reservationId, connector-0 holds, expiry, cancel, a fault ending it.
import { statusOf } from '../../../src/ocpp/v16/mappers.js';
import { afterEach, describe, expect, it } from 'vitest';
import { ReservationBook } from '../../../src/domain/reservation/reservations.js';
import { card, reservationOf, type Reservation16 } from '../../helpers/domain-terms.js';
import type { Transaction } from '../../../src/domain/model/transaction.js';
import { startStationRig, type StationRig } from '../../helpers/agent-harness.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { waitFor } from '../../helpers/wait.js';

let rig: StationRig | null = null;
let book: ReservationBook | null = null;
afterEach(async () => {
  book?.stop();
  await rig?.stop();
  rig = null;
  book = null;
});

interface Setup {
  rig: StationRig;
  book: ReservationBook;
  clock: FakeClock;
  cards: Array<[string, boolean]>;
  started: Transaction[];
  reserve(over?: Partial<Reservation16>): string;
}

async function setup(connectors = 1): Promise<Setup> {
  const clock = new FakeClock();
  book = new ReservationBook(null, clock, { reserveConnectorZeroSupported: () => true });
  rig = await startStationRig({ connectors }, { reservations: book });
  const cards: Array<[string, boolean]> = [];
  const started: Transaction[] = [];
  rig.station.subscribe({ authorizationDecided: ({ idToken: { value: tag }, accepted: ok }) => cards.push([tag, ok]), transactionStarted: ({ tx }) => started.push(tx) });
  const b = book;
  const r = rig;
  return {
    rig: r,
    book: b,
    clock,
    cards,
    started,
    reserve: (over = {}) => b.reserve(reservationOf({ id: 7, connector: 1, idTag: 'DRIVER', expiresAt: new Date(clock.now().getTime() + 600_000), ...over }), r.station),
  };
}

describe('a reserved connector', () => {
  it('shows Reserved, refuses another card (plugged in or not), starts for the reserved tag with reservationId', async () => {
    const t = await setup();
    expect(t.reserve()).toBe('Accepted');
    await waitFor(() => statusOf(t.rig.station, 1) === 'Reserved', 5_000, 'Reserved');

    expect(await t.rig.station.presentIdToken(card('STRANGER'))).toBe('rejected');
    t.rig.sim.plugIn(1);
    await waitFor(() => statusOf(t.rig.station, 1) === 'Preparing', 5_000, 'Preparing');
    expect(await t.rig.station.presentIdToken(card('STRANGER'))).toBe('rejected');
    expect(t.cards).toEqual([
      ['STRANGER', false],
      ['STRANGER', false],
    ]);
    expect(t.rig.station.transaction(1)).toBeNull();

    expect(await t.rig.station.presentIdToken(card(' driver '))).toBe('started');
    expect(t.started).toHaveLength(1);
    expect(t.started[0]?.reservationId).toBe(7);
    expect(t.book.active()).toEqual([]);
  });

  it('card first: the reserved tag waits for the plug and starts on the reservation', async () => {
    const t = await setup();
    t.reserve();
    await waitFor(() => statusOf(t.rig.station, 1) === 'Reserved', 5_000, 'Reserved');
    expect(await t.rig.station.presentIdToken(card('DRIVER'))).toBe('waiting');
    await waitFor(() => statusOf(t.rig.station, 1) === 'Preparing', 5_000, 'Preparing (authorized, waiting)');
    t.rig.sim.plugIn(1);
    await waitFor(() => t.started.length === 1, 5_000, 'transaction');
    expect(t.started[0]?.reservationId).toBe(7);
  });

  it('a card of the reservation group (parentIdTag) may use it', async () => {
    const t = await setup();
    t.reserve({ parentIdTag: 'FLEET' });
    t.rig.sim.plugIn(1);
    await waitFor(() => statusOf(t.rig.station, 1) === 'Preparing', 5_000, 'Preparing');
    // The rig's authorizer gives no parent: the card that is the group tag itself.
    expect(await t.rig.station.presentIdToken(card('fleet'))).toBe('started');
    expect(t.started[0]?.reservationId).toBe(7);
  });

  it('expires on the clock: Available again, and any card may start', async () => {
    const t = await setup();
    t.reserve({ expiresAt: new Date(t.clock.now().getTime() + 30_000) });
    await waitFor(() => statusOf(t.rig.station, 1) === 'Reserved', 5_000, 'Reserved');
    t.clock.advance(30_000);
    await waitFor(() => statusOf(t.rig.station, 1) === 'Available', 5_000, 'Available after expiry');
    t.rig.sim.plugIn(1);
    await waitFor(() => statusOf(t.rig.station, 1) === 'Preparing', 5_000, 'Preparing');
    expect(await t.rig.station.presentIdToken(card('STRANGER'))).toBe('started');
    expect(t.started[0]?.reservationId).toBeUndefined();
  });

  it('cancelled: Available again', async () => {
    const t = await setup();
    t.reserve();
    await waitFor(() => statusOf(t.rig.station, 1) === 'Reserved', 5_000, 'Reserved');
    expect(t.book.cancel(7)).toBe(true);
    await waitFor(() => statusOf(t.rig.station, 1) === 'Available', 5_000, 'Available after cancel');
  });

  it('a fault on the connector ends the reservation (Available, not Reserved, once cleared)', async () => {
    const t = await setup();
    t.reserve();
    await waitFor(() => statusOf(t.rig.station, 1) === 'Reserved', 5_000, 'Reserved');
    t.rig.sim.raiseFault(1, 'GROUND_FAULT');
    await waitFor(() => statusOf(t.rig.station, 1) === 'Faulted', 5_000, 'Faulted');
    expect(t.book.active()).toEqual([]);
    t.rig.sim.clearFault(1, 'GROUND_FAULT');
    await waitFor(() => statusOf(t.rig.station, 1) === 'Available', 5_000, 'Available');
  });
});

describe('a connector-0 reservation', () => {
  it('single connector: held for the reserved tag, refused to others', async () => {
    const t = await setup();
    expect(t.reserve({ connector: 0 })).toBe('Accepted');
    await waitFor(() => statusOf(t.rig.station, 1) === 'Reserved', 5_000, 'Reserved');
    t.rig.sim.plugIn(1);
    await waitFor(() => statusOf(t.rig.station, 1) === 'Preparing', 5_000, 'Preparing');
    expect(await t.rig.station.presentIdToken(card('STRANGER'))).toBe('rejected');
    expect(await t.rig.station.presentIdToken(card('DRIVER'))).toBe('started');
    expect(t.started[0]?.reservationId).toBe(7);
  });

  it('two connectors: one stays held while another driver charges on the other', async () => {
    const t = await setup(2);
    await waitFor(() => statusOf(t.rig.station, 2) === 'Available', 5_000, 'connector 2');
    expect(t.reserve({ connector: 0 })).toBe('Accepted');
    // The highest-numbered empty connector is held.
    await waitFor(() => statusOf(t.rig.station, 2) === 'Reserved', 5_000, 'connector 2 Reserved');
    expect(statusOf(t.rig.station, 1)).toBe('Available');

    // A driver plugs into the held connector: the hold moves to the empty one.
    t.rig.sim.plugIn(2);
    await waitFor(() => statusOf(t.rig.station, 1) === 'Reserved' && statusOf(t.rig.station, 2) === 'Preparing', 5_000, 'hold moved to 1');
    expect(await t.rig.station.presentIdToken(card('STRANGER'))).toBe('started');
    expect(t.started[0]?.evseId).toBe(2);
    expect(t.started[0]?.reservationId).toBeUndefined();
    // The last free connector stays held: another stranger is refused.
    t.rig.sim.plugIn(1);
    await waitFor(() => statusOf(t.rig.station, 1) === 'Preparing', 5_000, 'connector 1 Preparing');
    expect(await t.rig.station.presentIdToken(card('OTHER'))).toBe('rejected');
    expect(await t.rig.station.presentIdToken(card('DRIVER'))).toBe('started');
    expect(t.started[1]?.evseId).toBe(1);
    expect(t.started[1]?.reservationId).toBe(7);
    expect(t.book.active()).toEqual([]);
  });
});
