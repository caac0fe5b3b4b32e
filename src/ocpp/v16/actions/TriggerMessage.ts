// OCPP 1.6 §5.17 TriggerMessage: answer first, then send the requested message.
import type { IncomingHandler } from './context.js';

export const TriggerMessage: IncomingHandler<'TriggerMessage'> = (req, { session, station }) => {
  if (req.connectorId !== undefined && req.connectorId !== 0 && !station.evseIds().includes(req.connectorId)) {
    return { status: 'Rejected' };
  }
  const send = session.triggerable(req.requestedMessage, req.connectorId);
  if (!send) return { status: 'NotImplemented' };
  setImmediate(() => void send().catch(() => undefined));
  return { status: 'Accepted' };
};
