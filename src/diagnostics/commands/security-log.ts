// `security-log`: the newest entries of the security log (security whitepaper: every security
// event with its time and detail); `security-log.clear` empties it, which is itself recorded
// (SecurityLogWasCleared, sent to the CSMS).
import { DiagError, type Json } from '../protocol.js';
import type { DiagnosticsHost, SecurityLogSource } from '../host.js';
import { onlyArgs, optionalInt } from './args.js';
import type { DiagCommand } from './types.js';

const DEFAULT_LINES = 50;
const MAX_LINES = 10_000;

function source(host: DiagnosticsHost): SecurityLogSource {
  if (!host.securityLog) throw new DiagError('unavailable', 'this agent keeps no security log');
  return host.securityLog;
}

export const securityLog: DiagCommand = {
  name: 'security-log',
  summary: 'the newest security events (time, type, detail)',
  run: (args, { host }): Json => {
    onlyArgs('security-log', args, ['lines']);
    const lines = optionalInt('security-log', args, 'lines', 1, MAX_LINES) ?? DEFAULT_LINES;
    return { entries: source(host).tail(lines) };
  },
};

export const securityLogClear: DiagCommand = {
  name: 'security-log.clear',
  summary: 'empty the security log (recorded as SecurityLogWasCleared)',
  run: (args, { host }): Json => {
    onlyArgs('security-log.clear', args, []);
    return { removed: source(host).clear() };
  },
};
