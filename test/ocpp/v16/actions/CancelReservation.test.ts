// OCPP 1.6 §5.1 CancelReservation against the real agent and the DevCsms: Accepted for a live
// reservation (the connector is reported Available again), Rejected for an unknown id.
import { describe, expect, it } from 'vitest';
import { useAgentFixture } from '../../../helpers/action-fixture.js';

const fx = useAgentFixture();

describe('CancelReservation (OCPP 1.6 §5.1)', () => {
  it('Accepted for a live reservation: Available reported; Rejected afterwards and for unknown ids', async () => {
    const h = await fx.start();
    const m = h.mark();
    const expiryDate = new Date(Date.now() + 3_600_000).toISOString();
    await h.call('ReserveNow', { connectorId: 1, expiryDate, idTag: 'DRIVER', reservationId: 11 });
    await h.waitStatus(1, 'Reserved');
    expect(await h.call('CancelReservation', { reservationId: 12 })).toEqual({ status: 'Rejected' });
    expect(await h.call('CancelReservation', { reservationId: 11 })).toEqual({ status: 'Accepted' });
    await h.waitStatus(1, 'Available');
    expect(h.statusesSince(m, 1)).toEqual(['Reserved', 'Available']);
    expect(await h.call('CancelReservation', { reservationId: 11 })).toEqual({ status: 'Rejected' });
  });
});
