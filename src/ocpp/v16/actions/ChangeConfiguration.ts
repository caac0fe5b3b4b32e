// OCPP 1.6 §5.3 ChangeConfiguration: unknown key NotSupported, read-only or invalid Rejected.
import type { IncomingHandler } from './context.js';

export const ChangeConfiguration: IncomingHandler<'ChangeConfiguration'> = (req, { config }) => ({
  status: config.change(req.key, req.value).result,
});
