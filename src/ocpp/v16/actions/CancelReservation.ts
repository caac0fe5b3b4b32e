// OCPP 1.6 §5.1 CancelReservation: Accepted when the reservation exists (the connector turns
// Available again), Rejected otherwise.
import type { IncomingHandler } from './context.js';

export const CancelReservation: IncomingHandler<'CancelReservation'> = (req, { reservations }) => ({
  status: reservations.cancel(req.reservationId) ? 'Accepted' : 'Rejected',
});
