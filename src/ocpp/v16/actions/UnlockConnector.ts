// OCPP 1.6 §5.18 UnlockConnector: the station stops a transaction on the connector first
// (reason UnlockCommand), then releases the cable lock. NotSupported: no lock or no such connector.
import type { IncomingHandler } from './context.js';

export const UnlockConnector: IncomingHandler<'UnlockConnector'> = async (req, { station }) => ({
  status: await station.unlockConnector(req.connectorId),
});
