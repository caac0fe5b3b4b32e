// OCPP 1.6 §5.11 RemoteStartTransaction: accepted when a connector can take it; the
// start itself follows the usual rules (AuthorizeRemoteTxRequests, ConnectionTimeOut).
// A Reserved connector takes only its reservation's idTag (§5.13).
import { sameIdTag } from '../../../domain/session/transaction.js';
import type { IncomingHandler } from './context.js';

export const RemoteStartTransaction: IncomingHandler<'RemoteStartTransaction'> = (req, { station, reservations }) => {
  const ids = station.connectorIds();
  if (req.connectorId !== undefined && !ids.includes(req.connectorId)) return { status: 'Rejected' };
  const candidates = req.connectorId !== undefined ? [req.connectorId] : ids;
  const reservedForThisTag = (c: number): boolean =>
    reservations.active().some((r) => (r.connector === c || r.connector === 0) && (sameIdTag(r.idTag, req.idTag) || sameIdTag(r.parentIdTag, req.idTag)));
  const free = candidates.some((c) => {
    const s = station.status(c);
    if (station.transaction(c) || s === 'Faulted' || s === 'Unavailable') return false;
    return s !== 'Reserved' || reservedForThisTag(c);
  });
  if (!free) return { status: 'Rejected' };
  const opts: { connector?: number; remote: boolean } = { remote: true };
  if (req.connectorId !== undefined) opts.connector = req.connectorId;
  // Answer first; the StartTransaction follows when plugged in.
  setImmediate(() => void station.presentIdTag(req.idTag, opts).catch(() => undefined));
  return { status: 'Accepted' };
};
