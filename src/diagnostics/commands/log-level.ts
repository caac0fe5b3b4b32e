// `log-level`: read or change the log level at runtime (not persisted: the config file's
// logLevel applies again at the next start). Issue 6, "Logs".
import { LOG_LEVELS } from '../../platform/logger.js';
import type { Json } from '../protocol.js';
import { oneOf, onlyArgs } from './args.js';
import type { DiagCommand } from './types.js';

export const logLevel: DiagCommand = {
  name: 'log-level',
  summary: 'show the log level, or set it until the next restart',
  run: (args, { host }): Json => {
    onlyArgs('log-level', args, ['level']);
    const previous = host.getLogLevel();
    if (args['level'] === undefined) return { level: previous };
    const level = oneOf('log-level', args, 'level', LOG_LEVELS);
    host.setLogLevel(level);
    return { level, previous };
  },
};
