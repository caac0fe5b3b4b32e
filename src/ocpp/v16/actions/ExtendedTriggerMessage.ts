// Security whitepaper ExtendedTriggerMessage: TriggerMessage's twin with SignChargePointCertificate
// (a new CSR through SignCertificate: certificate-renewal.ts) and LogStatusNotification. Answer
// first, then send; what can be sent on request is each outgoing module's (outgoing/index.ts), and a
// message this charger cannot send yet is NotImplemented.
import { triggerFor } from '../outgoing/index.js';
import type { IncomingHandler } from './context.js';

export const ExtendedTriggerMessage: IncomingHandler<'ExtendedTriggerMessage'> = (req, { session, station, security }) => {
  if (req.connectorId !== undefined && req.connectorId !== 0 && !station.evseIds().includes(req.connectorId)) {
    return { status: 'Rejected' };
  }
  if (req.requestedMessage === 'SignChargePointCertificate') {
    setImmediate(() => void security.renewal.request('triggered'));
    return { status: 'Accepted' };
  }
  const send = triggerFor(req.requestedMessage, session.outgoing, req.connectorId);
  if (send === null) return { status: 'NotImplemented' };
  setImmediate(() => void send().catch(() => undefined));
  return { status: 'Accepted' };
};
