// OCPP 1.6 §5.6 DataTransfer: UnknownVendorId unless a vendor handler is registered
// (startAgent's vendorHandlers option: a charger maker's own messages).
import type { IncomingHandler } from './context.js';

export const DataTransfer: IncomingHandler<'DataTransfer'> = (req, { vendorHandlers }) => {
  const handler = vendorHandlers.get(req.vendorId);
  if (!handler) return { status: 'UnknownVendorId' };
  return handler(req.messageId, req.data);
};
