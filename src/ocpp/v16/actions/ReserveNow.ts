// OCPP 1.6 §5.13 ReserveNow: reserve a connector (or, with ReserveConnectorZeroSupported, any
// one connector: connectorId 0) for an idTag until expiryDate; the same reservationId replaces.
import type { Reservation } from '../../../domain/reservation/reservations.js';
import { evseOfReservation, idTokenOf } from '../mappers.js';
import type { IncomingHandler } from './context.js';

export const ReserveNow: IncomingHandler<'ReserveNow'> = (req, { reservations, station }) => {
  const expiresAt = new Date(req.expiryDate);
  if (Number.isNaN(expiresAt.getTime()) || req.connectorId < 0) return { status: 'Rejected' };
  const r: Reservation = { id: req.reservationId, idToken: idTokenOf(req.idTag), expiresAt };
  const evseId = evseOfReservation(req.connectorId);
  if (evseId !== undefined) r.evseId = evseId;
  if (req.parentIdTag !== undefined) r.groupId = idTokenOf(req.parentIdTag);
  return { status: reservations.reserve(r, station) };
};
