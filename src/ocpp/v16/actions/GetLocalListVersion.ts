// OCPP 1.6 §5.10 GetLocalListVersion: the list's version, 0 when it is empty, -1 when the
// local list is not in use (LocalAuthListEnabled false).
import type { IncomingHandler } from './context.js';

export const GetLocalListVersion: IncomingHandler<'GetLocalListVersion'> = (_req, { authorization }) => ({
  listVersion: authorization.localList.version(),
});
