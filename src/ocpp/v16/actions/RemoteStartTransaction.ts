// OCPP 1.6 §5.11 RemoteStartTransaction: accepted when a connector can take it for this
// identifier (operative, free, not Reserved for someone else: §5.13); the start itself
// follows the usual rules (AuthorizeRemoteTxRequests, ConnectionTimeOut). A chargingProfile must
// be a TxProfile: it becomes the profile of the transaction that starts (§3.13.2).
import { chargingProfileOf, idTokenOf } from '../mappers.js';
import type { IncomingHandler } from './context.js';

export const RemoteStartTransaction: IncomingHandler<'RemoteStartTransaction'> = (req, { station, authorization, smartCharging }) => {
  const ids = station.evseIds();
  if (req.connectorId !== undefined && !ids.includes(req.connectorId)) return { status: 'Rejected' };
  const txProfile = req.chargingProfile && chargingProfileOf(req.chargingProfile, req.connectorId ?? ids[0] ?? 1, () => undefined);
  if (txProfile && (!smartCharging || txProfile.purpose !== 'Tx' || req.chargingProfile?.transactionId !== undefined || smartCharging.problemOf(txProfile) !== null)) {
    return { status: 'Rejected' };
  }
  const candidates = req.connectorId !== undefined ? [req.connectorId] : ids;
  const idToken = idTokenOf(req.idTag, 'Central');
  // The identifier's group, as far as this charger knows it: a reservation may be for the group.
  const groupId = authorization.localList.lookup(req.idTag)?.groupId ?? authorization.cache.get(req.idTag)?.groupId;
  if (!candidates.some((c) => station.canStartFor(c, idToken, groupId))) return { status: 'Rejected' };
  const opts: { evseId?: number; remote: boolean } = { remote: true };
  if (req.connectorId !== undefined) opts.evseId = req.connectorId;
  if (txProfile) smartCharging?.forNextTransaction(req.connectorId, txProfile);
  // Answer first; the StartTransaction follows when plugged in.
  setImmediate(() => void station.presentIdToken(idToken, opts).catch(() => undefined));
  return { status: 'Accepted' };
};
