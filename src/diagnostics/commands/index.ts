// Registry of diagnostics commands: adding one is a module beside this file and one line here.
import { configGet, configSet } from './config.js';
import { controller } from './controller.js';
import { logLevel } from './log-level.js';
import { logs } from './logs.js';
import { simulate } from './simulate.js';
import { securityLog, securityLogClear } from './security-log.js';
import { status } from './status.js';
import { transactions } from './transactions.js';
import { trigger } from './trigger.js';
import type { DiagCommand } from './types.js';

export type { CommandContext, DiagCommand } from './types.js';

export const DIAG_COMMANDS: ReadonlyMap<string, DiagCommand> = new Map(
  [status, configGet, configSet, transactions, logs, logLevel, trigger, controller, simulate, securityLog, securityLogClear].map((c) => [c.name, c]),
);
