// Operations wiring for main.ts: the diagnostics socket over the running agent and
// the systemd readiness/watchdog messages, started after the agent and stopped first. A
// diagnostics socket that cannot be opened is logged and the agent charges on without it.
import type { Logger } from 'pino';
import { childLogger } from '../platform/logger.js';
import { createAgentHost, type AgentHost, type AgentHostOptions, type AgentParts } from './agent-host.js';
import { SystemdNotifier } from './sd-notify.js';
import { DiagnosticsServer, type DiagnosticsServerOptions } from './server.js';
import { errorText } from '../platform/errors.js';

export interface OperationsOptions extends AgentHostOptions {
  logger: Logger;
  /** Limits for the socket server (tests use small ones); the path is cfg.diagnosticsSocket. */
  server?: Omit<DiagnosticsServerOptions, 'path' | 'host' | 'logger'>;
  /** Environment for sd_notify (default process.env). */
  env?: NodeJS.ProcessEnv;
}

export interface Operations {
  host: AgentHost;
  /** Null when the socket could not be opened (logged). */
  server: DiagnosticsServer | null;
  notifier: SystemdNotifier;
  stop(): Promise<void>;
}

export async function startOperations(agent: AgentParts, opts: OperationsOptions): Promise<Operations> {
  const log = childLogger(opts.logger, 'diagnostics');
  const host = createAgentHost(agent, opts);
  let server: DiagnosticsServer | null = new DiagnosticsServer({ ...opts.server, path: opts.cfg.diagnosticsSocket, host, logger: log });
  try {
    await server.start();
  } catch (err) {
    log.error({ path: opts.cfg.diagnosticsSocket, err: errorText(err) }, 'diagnostics socket not available; the agent runs without it');
    server = null;
  }
  const notifier = new SystemdNotifier({ logger: childLogger(opts.logger, 'systemd'), ...(opts.env ? { env: opts.env } : {}) });
  void notifier.ready();

  let stopping: Promise<void> | null = null;
  return {
    host,
    server,
    notifier,
    stop: () =>
      (stopping ??= (async () => {
        void notifier.stopping(); // not awaited: shutdown must not wait on PID 1
        await server?.stop();
        host.dispose();
      })()),
  };
}
