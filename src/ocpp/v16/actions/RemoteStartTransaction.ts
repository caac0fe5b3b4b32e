// OCPP 1.6 §5.11 RemoteStartTransaction: accepted when a connector can take it for this
// identifier (operative, free, not Reserved for someone else: §5.13); the start itself
// follows the usual rules (AuthorizeRemoteTxRequests, ConnectionTimeOut).
import { idTokenOf } from '../mappers.js';
import type { IncomingHandler } from './context.js';

export const RemoteStartTransaction: IncomingHandler<'RemoteStartTransaction'> = (req, { station, authorization }) => {
  const ids = station.evseIds();
  if (req.connectorId !== undefined && !ids.includes(req.connectorId)) return { status: 'Rejected' };
  const candidates = req.connectorId !== undefined ? [req.connectorId] : ids;
  const idToken = idTokenOf(req.idTag, 'Central');
  // The identifier's group, as far as this charger knows it: a reservation may be for the group.
  const groupId = authorization.localList.lookup(req.idTag)?.groupId ?? authorization.cache.get(req.idTag)?.groupId;
  if (!candidates.some((c) => station.canStartFor(c, idToken, groupId))) return { status: 'Rejected' };
  const opts: { evseId?: number; remote: boolean } = { remote: true };
  if (req.connectorId !== undefined) opts.evseId = req.connectorId;
  // Answer first; the StartTransaction follows when plugged in.
  setImmediate(() => void station.presentIdToken(idToken, opts).catch(() => undefined));
  return { status: 'Accepted' };
};
