// OCPP 1.6 §5.4 ClearCache: empties the authorization cache (memory and storage). 1.6 does not
// say what a disabled cache answers; like OCPP 2.0.1 (C11.FR.04) it answers Rejected, clearing nothing.
import type { IncomingHandler } from './context.js';

export const ClearCache: IncomingHandler<'ClearCache'> = (_req, { authorization, config }) => {
  if (!config.getBoolean('AuthorizationCacheEnabled')) return { status: 'Rejected' };
  authorization.cache.clear();
  return { status: 'Accepted' };
};
