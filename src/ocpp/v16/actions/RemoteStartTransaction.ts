// OCPP 1.6 §5.11 RemoteStartTransaction: accepted when a connector can take it for this
// identifier (operative, free, not Reserved for someone else: §5.13); the start itself
// follows the usual rules (AuthorizeRemoteTxRequests, ConnectionTimeOut).
import type { IncomingHandler } from './context.js';

export const RemoteStartTransaction: IncomingHandler<'RemoteStartTransaction'> = (req, { station, authorization }) => {
  const ids = station.connectorIds();
  if (req.connectorId !== undefined && !ids.includes(req.connectorId)) return { status: 'Rejected' };
  const candidates = req.connectorId !== undefined ? [req.connectorId] : ids;
  // The identifier's group, as far as this charger knows it: a reservation may be for the group.
  const parentIdTag = authorization.localList.lookup(req.idTag)?.parentIdTag ?? authorization.cache.get(req.idTag)?.parentIdTag;
  if (!candidates.some((c) => station.canStartFor(c, req.idTag, parentIdTag))) return { status: 'Rejected' };
  const opts: { connector?: number; remote: boolean } = { remote: true };
  if (req.connectorId !== undefined) opts.connector = req.connectorId;
  // Answer first; the StartTransaction follows when plugged in.
  setImmediate(() => void station.presentIdTag(req.idTag, opts).catch(() => undefined));
  return { status: 'Accepted' };
};
