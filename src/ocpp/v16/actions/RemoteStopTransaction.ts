// OCPP 1.6 §5.12 RemoteStopTransaction: stop with reason Remote if the id is ours and running.
import type { IncomingHandler } from './context.js';

export const RemoteStopTransaction: IncomingHandler<'RemoteStopTransaction'> = (req, { station, session }) => {
  const localId = session.localIdFor(req.transactionId);
  const tx = station.activeTransactions().find((t) => t.localId === localId);
  if (!tx) return { status: 'Rejected' };
  station.stopTransaction(tx.evseId, 'RemoteStop');
  return { status: 'Accepted' };
};
