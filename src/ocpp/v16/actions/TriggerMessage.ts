// OCPP 1.6 §5.17 TriggerMessage: answer first, then send the requested message. What can be
// sent on request, and how, is the charger-initiated action's module's (outgoing/index.ts).
import { OUTGOING_ACTIONS } from '../outgoing/index.js';
import type { IncomingHandler } from './context.js';

export const TriggerMessage: IncomingHandler<'TriggerMessage'> = (req, { session, station }) => {
  if (req.connectorId !== undefined && req.connectorId !== 0 && !station.evseIds().includes(req.connectorId)) {
    return { status: 'Rejected' };
  }
  const entry = OUTGOING_ACTIONS[req.requestedMessage];
  const trigger = entry === 'NotSent' ? undefined : entry.trigger;
  if (!trigger) return { status: 'NotImplemented' };
  setImmediate(() => void trigger(session.outgoing, req.connectorId).catch(() => undefined));
  return { status: 'Accepted' };
};
