// OCPP 1.6 §5.2 ChangeAvailability: connector N or 0 (whole station); Scheduled while a
// transaction runs on it (applied when it ends); Rejected for an unknown connector. While a
// firmware update holds the station Inoperative, a change of connector 0 is Scheduled too: it is
// kept and applies when the update ends (update-manager.ts holdAvailability).
import { targetOfConnector } from '../mappers.js';
import type { IncomingHandler } from './context.js';

export const ChangeAvailability: IncomingHandler<'ChangeAvailability'> = (req, { station, firmware }) => {
  if (req.connectorId === 0 && firmware.holdAvailability(req.type)) return { status: 'Scheduled' };
  return { status: station.setAvailability(targetOfConnector(req.connectorId), req.type) };
};
