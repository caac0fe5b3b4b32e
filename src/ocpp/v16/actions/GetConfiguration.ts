// OCPP 1.6 §5.8 GetConfiguration: generic over the key catalogue; write-only keys never leave.
import type { IncomingHandler } from './context.js';

export const GetConfiguration: IncomingHandler<'GetConfiguration'> = (req, { config }) => {
  const { known, unknown } = config.list(req.key);
  const res: Awaited<ReturnType<IncomingHandler<'GetConfiguration'>>> = {
    configurationKey: known.map((k) => ({ key: k.key, readonly: k.readonly, value: k.value })),
  };
  if (unknown.length > 0) res.unknownKey = unknown;
  return res;
};
