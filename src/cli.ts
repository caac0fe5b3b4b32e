#!/usr/bin/env node
// charger-agent command line: `run --config FILE` (the service), `demo` (simulated
// controller + bundled CSMS + a full charging session), `diag` (talk to the running
// agent over its diagnostics socket), `version`.
// First: V8 flags that must hold before the agent's modules load (memory on small boards).
import './platform/v8-flags.js';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadAgentConfig } from './config/agent-config.js';
import { childLogger, createLogger } from './platform/logger.js';
import { ocppFrameLogger } from './diagnostics/ocpp-frame-log.js';
import type { RunningAgent } from './main.js';
import { packageVersion } from './platform/package-info.js';

const USAGE = `usage: charger-agent <command>
  run --config FILE     run the agent in the foreground (SIGTERM/SIGINT stop it)
  demo [--fast]         simulated controller + bundled local CSMS + one charging session
  diag <command>        ask the running agent (status, config, logs, ...; \`diag help\`)
  version               print the version`;

/** Exit codes: 0 ok, 1 runtime failure, 2 bad usage or configuration (`diag`: also 3, agent not reachable). */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run':
      return runCommand(rest);
    case 'demo': {
      const { runDemo } = await import('./devtools/demo.js');
      return runDemo(rest);
    }
    case 'diag': {
      const { runDiag } = await import('./diagnostics/diag-cli.js');
      return runDiag(rest);
    }
    case 'version':
    case '--version':
      process.stdout.write(`${packageVersion()}\n`);
      return 0;
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`charger-agent: unknown command ${JSON.stringify(command)}\n${USAGE}\n`);
      return 2;
  }
}

function optionValue(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

async function runCommand(args: string[]): Promise<number> {
  const path = optionValue(args, '--config');
  if (!path) {
    process.stderr.write('charger-agent run: --config FILE is required\n');
    return 2;
  }
  let cfg;
  try {
    cfg = loadAgentConfig(path);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const logger = createLogger({ level: cfg.logLevel, bindings: { chargePointId: cfg.chargePointId } });
  let agent: RunningAgent;
  try {
    // Loaded here, not at the top: `diag` and `version` start fast without the agent's modules.
    const { startAgent } = await import('./main.js');
    agent = await startAgent(cfg, {
      logger,
      onOcppFrame: ocppFrameLogger(childLogger(logger, 'ocpp')),
      onResetRequested: () => void shutdown('Reset'),
    });
  } catch (err) {
    logger.fatal({ err: err instanceof Error ? err.message : String(err) }, 'agent failed to start');
    return 1;
  }
  logger.info({ version: packageVersion() }, 'agent running'); // chargePointId is on every line

  let resolveExit!: (code: number) => void;
  const exited = new Promise<number>((r) => (resolveExit = r));
  let shuttingDown = false;
  async function shutdown(why: string): Promise<void> {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ why }, 'shutting down');
    // systemd gives us TimeoutStopSec; we promise 5 s.
    const force = setTimeout(() => {
      logger.error('shutdown took longer than 5 s; exiting anyway');
      resolveExit(1);
    }, 5_000);
    force.unref();
    try {
      await agent.stop();
      resolveExit(0);
    } catch (err) {
      logger.error({ err: err instanceof Error ? err.message : String(err) }, 'error during shutdown');
      resolveExit(1);
    } finally {
      clearTimeout(force);
    }
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  // A forgotten promise is a bug to log, not a reason to drop every charging session.
  process.on('unhandledRejection', (reason) => {
    logger.error({ err: reason instanceof Error ? reason.message : String(reason) }, 'unhandled promise rejection');
  });
  // A thrown exception leaves state unknown: log it and let systemd restart us (the store recovers every session).
  process.on('uncaughtException', (err) => {
    logger.fatal({ err: err.message, stack: err.stack }, 'uncaught exception; exiting for a clean restart');
    resolveExit(70);
  });
  return exited;
}

// Run when executed directly (also through the npm bin symlink), not when imported by tests.
function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`charger-agent: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
