// `config.get` / `config.set`: OCPP configuration keys with exactly the validation of
// ChangeConfiguration (OCPP 1.6 §5.3, §9.1). Write-only keys (AuthorizationKey, security
// whitepaper) can be set but are never read back: `get` says only whether one is set.
import { DiagError, type Json } from '../protocol.js';
import { onlyArgs, optionalStringList, requireString, requireText } from './args.js';
import type { DiagCommand } from './types.js';

export const configGet: DiagCommand = {
  name: 'config.get',
  summary: 'OCPP configuration keys and values (all, or the keys given)',
  run: (args, { host }) => {
    onlyArgs('config.get', args, ['keys']);
    const keys = optionalStringList('config.get', args, 'keys', 100, 100);
    const writeOnly = keys.filter((k) => host.config.isWriteOnly(k));
    const readable = keys.filter((k) => !host.config.isWriteOnly(k));
    // list([]) means every key: only when no key at all was asked for.
    const { known, unknown } = keys.length > 0 && readable.length === 0 ? { known: [], unknown: [] } : host.config.list(readable);
    const entries: Json[] = known.map((e) => ({ key: e.key, readonly: e.readonly, value: e.value }));
    for (const key of writeOnly) entries.push({ key, readonly: false, writeOnly: true, set: host.config.isSet(key) });
    return { keys: entries, unknown };
  },
};

export const configSet: DiagCommand = {
  name: 'config.set',
  summary: 'change an OCPP configuration key (same checks as ChangeConfiguration)',
  run: (args, { host }) => {
    onlyArgs('config.set', args, ['key', 'value']);
    const key = requireString('config.set', args, 'key', 100);
    const value = requireText('config.set', args, 'value', 500);
    const { result, reason } = host.config.change(key, value);
    if (result === 'NotSupported') throw new DiagError('rejected', `NotSupported: ${reason ?? `unknown key ${key}`}`);
    if (result === 'Rejected') throw new DiagError('rejected', `Rejected: ${reason ?? 'invalid value'}`);
    return { key, result };
  },
};
