// OCPP 1.6 §5.2 ChangeAvailability: connector N or 0 (whole station); Scheduled while a
// transaction runs on it (applied when it ends); Rejected for an unknown connector.
import { targetOfConnector } from '../mappers.js';
import type { IncomingHandler } from './context.js';

export const ChangeAvailability: IncomingHandler<'ChangeAvailability'> = (req, { station }) => ({
  status: station.setAvailability(targetOfConnector(req.connectorId), req.type),
});
