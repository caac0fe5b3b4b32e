// OCPP 1.6 §5.13 ReserveNow against the real agent and the DevCsms: Accepted with the Reserved
// status, a reserved connector refusing another card, the reserved card starting with
// reservationId in StartTransaction, Occupied / Faulted / Unavailable / Rejected, connector 0,
// replacement by id, and expiry on a controlled clock (Available reported again).
import { statusOf } from '../../../../src/ocpp/v16/mappers.js';
import { describe, expect, it } from 'vitest';
import type { Harness } from '../../../helpers/agent-harness.js';
import { useAgentFixture } from '../../../helpers/action-fixture.js';
import { FakeClock } from '../../../helpers/fake-clock.js';
import { waitFor } from '../../../helpers/wait.js';

const fx = useAgentFixture();

/** Card UIDs as the reader sends them (8, 14 or 20 hex digits). */
const DRIVER = 'D1A2B3C4';
const STRANGER = '5A5A5A5A';
const COLLEAGUE = 'C0C0C0C0';
/** The agent's clock follows the DevCsms's (BootNotification currentTime), which is this process's. */
const inMinutes = (minutes: number): string => new Date(Date.now() + minutes * 60_000).toISOString();

async function cardResult(x: Harness, tag: string): Promise<boolean> {
  const results: boolean[] = [];
  const off = x.agent.station.subscribe({ authorizationDecided: ({ idToken: { value: t }, accepted: accepted }) => t === tag && results.push(accepted) });
  x.sim.swipeCard(tag);
  await waitFor(() => results.length > 0, 10_000, `card result for ${tag}`);
  off();
  return results[0]!;
}

describe('ReserveNow (OCPP 1.6 §5.13)', () => {
  it('Accepted: Reserved reported; another card is refused; the reserved card charges with reservationId', async () => {
    const h = await fx.start({ csms: { parentIdTags: { [COLLEAGUE]: 'FLEET' } } });
    const m = h.mark();
    expect(await h.call('ReserveNow', { connectorId: 1, expiryDate: inMinutes(30), idTag: DRIVER, parentIdTag: 'FLEET', reservationId: 42 })).toEqual({
      status: 'Accepted',
    });
    await h.waitStatus(1, 'Reserved');
    h.sim.plugIn(1);
    await h.waitStatus(1, 'Preparing');

    expect(await cardResult(h, STRANGER)).toBe(false);
    expect(h.callsSince(m, 'StartTransaction')).toEqual([]);

    // Same group (parentIdTag learnt from Authorize.conf): allowed (TC_053).
    expect(await cardResult(h, COLLEAGUE)).toBe(true);
    const [start] = await h.waitCalls(m, 'StartTransaction');
    expect(start!.params).toMatchObject({ connectorId: 1, idTag: COLLEAGUE, reservationId: 42 });
    expect(h.agent.reservations.active()).toEqual([]);
  });

  it('the ReserveNow answer goes out before the StatusNotification(Reserved) it causes', async () => {
    const h = await fx.start();
    const n = h.frames.length;
    await h.call('ReserveNow', { connectorId: 1, expiryDate: inMinutes(30), idTag: DRIVER, reservationId: 8 });
    await h.waitStatus(1, 'Reserved');
    const out = h.frames.slice(n).filter((f) => f.direction === 'out').map((f) => f.text);
    const answer = out.findIndex((t) => t.startsWith('[3,') && t.includes('{"status":"Accepted"}'));
    const status = out.findIndex((t) => t.includes('"StatusNotification"') && t.includes('"Reserved"'));
    expect(answer).toBeGreaterThanOrEqual(0);
    expect(answer).toBeLessThan(status);
  });

  it('the reserved idTag itself starts on it', async () => {
    const h = await fx.start();
    const m = h.mark();
    // Reserved in lower case: identifiers compare case-insensitively.
    await h.call('ReserveNow', { connectorId: 1, expiryDate: inMinutes(30), idTag: DRIVER.toLowerCase(), reservationId: 7 });
    await h.waitStatus(1, 'Reserved');
    h.sim.swipeCard(DRIVER);
    await h.waitStatus(1, 'Preparing'); // authorized, waiting for the cable
    h.sim.plugIn(1);
    const [start] = await h.waitCalls(m, 'StartTransaction');
    expect(start!.params).toMatchObject({ idTag: DRIVER, reservationId: 7 });
  });

  it('Occupied: the connector is in use, or reserved under another id', async () => {
    const h = await fx.start();
    await h.call('ReserveNow', { connectorId: 1, expiryDate: inMinutes(30), idTag: 'A', reservationId: 1 });
    await h.waitStatus(1, 'Reserved');
    expect(await h.call('ReserveNow', { connectorId: 1, expiryDate: inMinutes(30), idTag: 'B', reservationId: 2 })).toEqual({ status: 'Occupied' });
    expect(await h.call('CancelReservation', { reservationId: 1 })).toEqual({ status: 'Accepted' });
    await h.waitStatus(1, 'Available');
    h.sim.plugIn(1);
    await h.waitStatus(1, 'Preparing');
    expect(await h.call('ReserveNow', { connectorId: 1, expiryDate: inMinutes(30), idTag: 'B', reservationId: 2 })).toEqual({ status: 'Occupied' });
  });

  it('Faulted, Unavailable, and Rejected for an unknown connector', async () => {
    const h = await fx.start();
    h.sim.raiseFault(1, 'GROUND_FAULT');
    await h.waitStatus(1, 'Faulted');
    expect(await h.call('ReserveNow', { connectorId: 1, expiryDate: inMinutes(30), idTag: 'A', reservationId: 1 })).toEqual({ status: 'Faulted' });
    h.sim.clearFault(1, 'GROUND_FAULT');
    await h.waitStatus(1, 'Available');
    await h.call('ChangeAvailability', { connectorId: 1, type: 'Inoperative' });
    await h.waitStatus(1, 'Unavailable');
    expect(await h.call('ReserveNow', { connectorId: 1, expiryDate: inMinutes(30), idTag: 'A', reservationId: 1 })).toEqual({ status: 'Unavailable' });
    expect(await h.call('ReserveNow', { connectorId: 9, expiryDate: inMinutes(30), idTag: 'A', reservationId: 1 })).toEqual({ status: 'Rejected' });
    expect(h.agent.reservations.active()).toEqual([]);
  });

  it('connector 0: Accepted (ReserveConnectorZeroSupported), the one connector held; Rejected when not supported', async () => {
    const h = await fx.start();
    expect(await h.call('ReserveNow', { connectorId: 0, expiryDate: inMinutes(30), idTag: DRIVER, reservationId: 3 })).toEqual({ status: 'Accepted' });
    await h.waitStatus(1, 'Reserved');
    expect(await cardResult(h, STRANGER)).toBe(false);
    expect(await h.call('CancelReservation', { reservationId: 3 })).toEqual({ status: 'Accepted' });
    h.agent.config.setInternal('ReserveConnectorZeroSupported', 'false');
    expect(await h.call('ReserveNow', { connectorId: 0, expiryDate: inMinutes(30), idTag: DRIVER, reservationId: 4 })).toEqual({ status: 'Rejected' });
  });

  it('the same reservationId replaces the reservation', async () => {
    const h = await fx.start();
    await h.call('ReserveNow', { connectorId: 1, expiryDate: inMinutes(30), idTag: STRANGER, reservationId: 5 });
    expect(await h.call('ReserveNow', { connectorId: 1, expiryDate: inMinutes(60), idTag: DRIVER, reservationId: 5 })).toEqual({ status: 'Accepted' });
    expect(h.agent.reservations.active().map((r) => [r.id, r.idToken.value])).toEqual([[5, DRIVER]]);
    await h.waitStatus(1, 'Reserved');
    expect(await cardResult(h, STRANGER)).toBe(false);
  });

  it('expires at expiryDate on the agent clock: Available reported again, other cards welcome', async () => {
    const clock = new FakeClock();
    const h = await fx.start({ clock });
    const m = h.mark();
    const expiryDate = new Date(clock.now().getTime() + 120_000).toISOString();
    expect(await h.call('ReserveNow', { connectorId: 1, expiryDate, idTag: DRIVER, reservationId: 9 })).toEqual({ status: 'Accepted' });
    await h.waitStatus(1, 'Reserved');
    await clock.advanceAsync(119_000);
    expect(statusOf(h.agent.station, 1)).toBe('Reserved');
    await clock.advanceAsync(1_000);
    await h.waitStatus(1, 'Available', 'Available after the reservation expired');
    expect(h.statusesSince(m, 1)).toEqual(['Reserved', 'Available']);
    expect(h.agent.reservations.active()).toEqual([]);
    expect(await cardResult(h, STRANGER)).toBe(true);
  });
});
