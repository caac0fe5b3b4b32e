#!/usr/bin/env node
// charger-agent command line: `run --config FILE` (the service), `demo` (simulated
// controller + bundled CSMS + a full charging session), `diag` (talk to the running
// agent over its diagnostics socket), `dev-csms` (the bundled CSMS alone, for bring-up),
// `version`. Every command answers `--help` without doing anything else.
// First: V8 flags that must hold before the agent's modules load (memory on small boards).
import './platform/v8-flags.js';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadAgentConfig } from './config/agent-config.js';
import { chooseLogFormat, childLogger, createLogger, type LogFormat } from './platform/logger.js';
import { ocppFrameLogger } from './diagnostics/ocpp-frame-log.js';
import type { RunningAgent } from './main.js';
import { packageVersion } from './platform/package-info.js';
import { errorText } from './platform/errors.js';

const USAGE = `usage: charger-agent <command>
  run --config FILE     run the agent in the foreground (SIGTERM/SIGINT stop it)
    [--log-format json|pretty]  default: pretty at a terminal, JSON otherwise (journald)
  demo [--fast] [--security N]  simulated controller + bundled local CSMS + one charging session
  diag <command>        ask the running agent (status, config, logs, ...; \`diag help\`)
  dev-csms [--port N]   run the bundled development CSMS alone (board bring-up)
  version               print the version
\`charger-agent <command> --help\` describes one command.`;

const RUN_USAGE = `usage: charger-agent run --config FILE
  Runs the agent in the foreground until SIGTERM or SIGINT (a clean stop within 5 s, exit 0).
  --config FILE         the JSON configuration (see config.example.json)
  --log-format json|pretty  default: pretty at a terminal, JSON otherwise (journald)
exit codes: 0 stopped cleanly, 1 failed to start or to stop, 2 bad usage or configuration`;

const DEMO_USAGE = `usage: charger-agent demo [--fast] [--verbose] [--security N]
  The agent with a simulated controller on a pty, against the bundled local CSMS, playing
  one charging session (plug in, card, charge, unplug); exits 0 when it is complete.
  Needs the development dependencies (a source checkout after npm ci).
  --fast                charge for 4 s instead of 10
  --verbose             also show keep-alive PINGs and the agent's logs
  --security N          first take the charger from security profile 0 to N (1-3) over OCPP
                        alone, against a strict CSMS with real TLS (dev PKI, needs openssl):
                        AuthorizationKey, SecurityProfile 1 (Basic auth), InstallCertificate,
                        SecurityProfile 2 (wss://), ExtendedTriggerMessage -> SignCertificate ->
                        CertificateSigned, SecurityProfile 3 (client certificate); then the session`;

const VERSION_USAGE = `usage: charger-agent version
  Prints the version and exits.`;

/** Per-command help, printed for `<command> --help` or `-h` before anything else runs. */
const COMMAND_USAGE: Record<string, string> = { run: RUN_USAGE, demo: DEMO_USAGE, version: VERSION_USAGE };

function wantsHelp(args: string[]): boolean {
  return args.includes('--help') || args.includes('-h');
}

/** Exit codes: 0 ok, 1 runtime failure, 2 bad usage or configuration (`diag`: also 3, agent not reachable). */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const commandUsage = command === undefined ? undefined : COMMAND_USAGE[command];
  if (commandUsage !== undefined && wantsHelp(rest)) {
    process.stdout.write(`${commandUsage}\n`);
    return 0;
  }
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
    case 'dev-csms': {
      const { runDevCsms } = await import('./devtools/dev-csms-cli.js');
      return runDevCsms(rest);
    }
    case 'version':
    case '--version':
      process.stdout.write(`${packageVersion()}\n`);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
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
  let format: LogFormat;
  try {
    format = chooseLogFormat(optionValue(args, '--log-format'), process.stdout.isTTY === true);
  } catch (err) {
    process.stderr.write(`charger-agent run: ${errorText(err)}\n`);
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
  const logger = createLogger({ level: cfg.logLevel, format, bindings: { chargePointId: cfg.chargePointId } });
  let resolveExit!: (code: number) => void;
  const exited = new Promise<number>((r) => (resolveExit = r));
  let agent: RunningAgent | undefined;
  // A stop asked for while the agent is still starting (the CSMS may see it before start-up's last
  // steps, the diagnostics socket, are done) waits for the start, then stops it.
  let stopWhileStarting: string | undefined;
  let shuttingDown = false;
  async function shutdown(why: string): Promise<void> {
    const running = agent;
    if (running === undefined) {
      stopWhileStarting ??= why;
      return;
    }
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
      await running.stop();
      resolveExit(0);
    } catch (err) {
      logger.error({ err: errorText(err) }, 'error during shutdown');
      resolveExit(1);
    } finally {
      clearTimeout(force);
    }
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  try {
    // Loaded here, not at the top: `diag` and `version` start fast without the agent's modules.
    const { startAgent } = await import('./main.js');
    agent = await startAgent(cfg, {
      logger,
      onOcppFrame: ocppFrameLogger(childLogger(logger, 'ocpp')),
      onResetRequested: () => void shutdown('Reset'),
    });
  } catch (err) {
    logger.fatal({ err: errorText(err) }, 'agent failed to start');
    return 1;
  }

  // A forgotten promise is a bug to log, not a reason to drop every charging session.
  process.on('unhandledRejection', (reason) => {
    logger.error({ err: errorText(reason) }, 'unhandled promise rejection');
  });
  // A thrown exception leaves state unknown: log it and let systemd restart us (the store recovers every session).
  process.on('uncaughtException', (err) => {
    logger.fatal({ err: err.message, stack: err.stack }, 'uncaught exception; exiting for a clean restart');
    resolveExit(70);
  });
  // Logged once the handlers above are in place: whoever waits for this line may send SIGTERM.
  logger.info({ version: packageVersion() }, 'agent running'); // chargePointId is on every line
  if (stopWhileStarting !== undefined) void shutdown(stopWhileStarting);
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
