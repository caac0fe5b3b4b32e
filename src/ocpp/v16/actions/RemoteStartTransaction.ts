// OCPP 1.6 §5.11 RemoteStartTransaction: accepted when a connector can take it; the
// start itself follows the usual rules (AuthorizeRemoteTxRequests, ConnectionTimeOut).
import type { IncomingHandler } from './context.js';

export const RemoteStartTransaction: IncomingHandler<'RemoteStartTransaction'> = (req, { station }) => {
  const ids = station.connectorIds();
  if (req.connectorId !== undefined && !ids.includes(req.connectorId)) return { status: 'Rejected' };
  const candidates = req.connectorId !== undefined ? [req.connectorId] : ids;
  const free = candidates.some((c) => {
    const s = station.status(c);
    return !station.transaction(c) && s !== 'Faulted' && s !== 'Unavailable';
  });
  if (!free) return { status: 'Rejected' };
  const opts: { connector?: number; remote: boolean } = { remote: true };
  if (req.connectorId !== undefined) opts.connector = req.connectorId;
  // Answer first; the StartTransaction follows when plugged in.
  setImmediate(() => void station.presentIdTag(req.idTag, opts).catch(() => undefined));
  return { status: 'Accepted' };
};
