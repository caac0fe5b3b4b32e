// OCPP 1.6 §5.14 Reset: transactions stop with SoftReset/HardReset, then the agent restarts.
import type { IncomingHandler } from './context.js';

export const Reset: IncomingHandler<'Reset'> = (req, { requestReset }) => ({
  status: requestReset(req.type) ? 'Accepted' : 'Rejected',
});
