// `logs`: the last lines from the in-memory ring (already redacted JSON), and with
// `follow` every new line as an event until the client hangs up.
import { DiagError } from '../protocol.js';
import { onlyArgs, optionalBoolean, optionalInt } from './args.js';
import type { DiagCommand } from './types.js';

export const MAX_TAIL_LINES = 1000;

export const logs: DiagCommand = {
  name: 'logs',
  summary: 'recent log lines; follow: keep streaming new ones',
  run: (args, { host, stream }) => {
    onlyArgs('logs', args, ['lines', 'follow']);
    const n = optionalInt('logs', args, 'lines', 0, MAX_TAIL_LINES) ?? 50;
    const follow = optionalBoolean('logs', args, 'follow') ?? false;
    const source = host.logs;
    if (!source) throw new DiagError('unavailable', 'this agent keeps no log lines in memory');
    const lines = source.tail(n);
    if (follow) stream((emit) => source.follow(emit));
    return { lines, following: follow };
  },
};
