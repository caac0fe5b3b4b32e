// `charger-agent diag <command>`: talks to the running agent over the diagnostics
// socket. Tables for people, --json for scripts (one JSON document on stdout). Exit codes:
// 0 ok, 1 the agent refused or the command failed, 2 bad usage, 3 agent not reachable
// (not running, permission denied, no answer).
import type { Readable } from 'node:stream';
import { CONFIG_DEFAULTS, ConfigError, loadAgentConfig } from '../config/agent-config.js';
import { DiagClient, DiagClientError, DiagRemoteError, type DiagClientOptions } from './client.js';
import { escapeControls, formatConfig, formatLogLine, formatPlain, formatSecurityLog, formatStatus, formatTransactions } from './format.js';
import { isJsonObject, type Json, type JsonObject } from './protocol.js';
import { errorText } from '../platform/errors.js';

export const INSTALLED_CONFIG = '/etc/charger-agent/config.json';

export const DIAG_USAGE = `usage: charger-agent diag <command> [--config FILE | --socket PATH] [--json]
  status                               connectors, CSMS and controller links, queue, clock, versions
  config get [KEY...]                  OCPP configuration keys (exit 1 if a KEY is unknown)
  config set KEY VALUE                 change one (same checks as ChangeConfiguration)
  config set KEY -                     the same, the value read from stdin (one line): for secrets
                                       such as AuthorizationKey, which must not be on a command line
  transactions                         active and recent transactions
  logs [--lines N] [--follow]          recent log lines; --follow keeps streaming (Ctrl-C stops)
  log-level [LEVEL]                    show or set the log level until the next restart
  trigger MESSAGE [--connector N]      send BootNotification, StatusNotification or Heartbeat now
  controller TYPE [FIELD...] [--force]
                                       raw controller command for board bring-up, e.g. READ 1;
                                       ENABLE, DISABLE, UNLOCK, CONFIG and RESET act on the live
                                       charger (power, contactor, cable lock) and need --force
  simulate plug N [--cable A] [--ev-max A] | charge N | pause N | unplug N | card UID
                                       drive the simulated controller
  security-log [--lines N]             the newest security events (time, type, detail)
  security-log clear                   empty the security log (recorded as SecurityLogWasCleared)
The socket defaults to diagnosticsSocket in ${INSTALLED_CONFIG}.
exit codes: 0 ok, 1 refused or failed, 2 bad usage, 3 agent not reachable`;

export interface DiagIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Registers a Ctrl-C handler for `logs --follow`; returns the unregister function. */
  onInterrupt?: (handler: () => void) => () => void;
  /** One line from stdin (trailing newline removed), for `config set KEY -`. */
  readLine?: () => Promise<string>;
  client?: DiagClientOptions;
}

const PROCESS_IO: DiagIo = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
  onInterrupt: (h) => {
    process.once('SIGINT', h);
    return () => void process.off('SIGINT', h);
  },
  readLine: async () => {
    if (process.stdin.isTTY) process.stderr.write('value (one line, then Enter): ');
    try {
      return await readOneLine(process.stdin);
    } finally {
      process.stdin.destroy(); // or the open pipe keeps the process alive
    }
  },
};

/** Longest value `config set KEY -` reads. */
const MAX_STDIN_LINE = 4096;

/**
 * The first line of `input`, without its line ending; all of it when it has no newline.
 * Stops reading at the newline, so a terminal needs no Ctrl-D.
 */
export function readOneLine(input: Readable, maxBytes = MAX_STDIN_LINE): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const finish = (err: Error | null, line?: Buffer): void => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.off('error', onError);
      input.pause();
      if (err) return reject(err);
      const text = line!.toString('utf8');
      resolve(text.endsWith('\r') ? text.slice(0, -1) : text);
    };
    const onData = (chunk: Buffer | string): void => {
      buf = Buffer.concat([buf, typeof chunk === 'string' ? Buffer.from(chunk) : chunk]);
      const nl = buf.indexOf(0x0a);
      if (nl !== -1 && nl <= maxBytes) return finish(null, buf.subarray(0, nl));
      if (buf.length > maxBytes) finish(new UsageError(`the value on stdin is longer than ${maxBytes} bytes`));
    };
    const onEnd = (): void => finish(null, buf);
    const onError = (err: Error): void => finish(err);
    input.on('data', onData);
    input.once('end', onEnd);
    input.once('error', onError);
  });
}

export class UsageError extends Error {}

/**
 * Raw controller commands that only ask (controller-serial.md §Commands); any other acts on
 * the live charger (ENABLE, DISABLE, UNLOCK, CONFIG, RESET) and needs --force.
 */
export const CONTROLLER_QUERIES: readonly string[] = ['INFO', 'STATUS', 'READ', 'PING'];

interface Parsed {
  socket?: string;
  config?: string;
  json: boolean;
  positional: string[];
  options: Map<string, string | true>;
}

const VALUE_OPTIONS = new Set(['--config', '--socket', '--lines', '--connector', '--cable', '--ev-max']);
const FLAG_OPTIONS = new Set(['--json', '--follow', '-f', '--force']);

function parse(argv: string[]): Parsed {
  const parsed: Parsed = { json: false, positional: [], options: new Map() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (VALUE_OPTIONS.has(a)) {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      if (a === '--config') parsed.config = v;
      else if (a === '--socket') parsed.socket = v;
      else parsed.options.set(a, v);
    } else if (FLAG_OPTIONS.has(a)) {
      if (a === '--json') parsed.json = true;
      else if (a === '--force') parsed.options.set('--force', true);
      else parsed.options.set('--follow', true);
    } else if (a.startsWith('--')) {
      throw new UsageError(`unknown option ${a}`);
    } else {
      parsed.positional.push(a);
    }
  }
  if (parsed.socket !== undefined && parsed.config !== undefined) throw new UsageError('give --config or --socket, not both');
  return parsed;
}

function intOption(p: Parsed, name: string): number | undefined {
  const v = p.options.get(name);
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^\d{1,6}$/.test(v)) throw new UsageError(`${name} must be a whole number`);
  return Number(v);
}

function intArg(v: string | undefined, what: string): number {
  if (v === undefined || !/^\d{1,6}$/.test(v)) throw new UsageError(`${what} must be a whole number`);
  return Number(v);
}

/** The wire request for a command line, or a UsageError. */
export function buildRequest(p: Parsed): { cmd: string; args: JsonObject } {
  const [command, ...rest] = p.positional;
  const allowOnly = (...names: string[]): void => {
    for (const k of p.options.keys()) if (!names.includes(k)) throw new UsageError(`${k} does not apply to ${command}`);
  };
  const noMore = (n: number): void => {
    if (rest.length > n) throw new UsageError(`too many arguments for ${command}`);
  };
  switch (command) {
    case 'status':
    case 'transactions':
      allowOnly();
      noMore(0);
      return { cmd: command, args: {} };
    case 'config': {
      allowOnly();
      const [op, ...keys] = rest;
      if (op === 'get') return { cmd: 'config.get', args: keys.length > 0 ? { keys } : {} };
      if (op === 'set') {
        if (keys.length !== 2) throw new UsageError('config set KEY VALUE (or - to read the value from stdin)');
        return { cmd: 'config.set', args: { key: keys[0]!, value: keys[1]! } };
      }
      throw new UsageError('config get [KEY...] | config set KEY VALUE|-');
    }
    case 'logs': {
      allowOnly('--lines', '--follow');
      noMore(0);
      const args: JsonObject = {};
      const lines = intOption(p, '--lines');
      if (lines !== undefined) args['lines'] = lines;
      if (p.options.has('--follow')) args['follow'] = true;
      return { cmd: 'logs', args };
    }
    case 'log-level':
      allowOnly();
      noMore(1);
      return { cmd: 'log-level', args: rest[0] !== undefined ? { level: rest[0] } : {} };
    case 'trigger': {
      allowOnly('--connector');
      noMore(1);
      if (rest[0] === undefined) throw new UsageError('trigger BootNotification|StatusNotification|Heartbeat');
      const args: JsonObject = { message: rest[0] };
      const connector = intOption(p, '--connector');
      if (connector !== undefined) args['connector'] = connector;
      return { cmd: 'trigger', args };
    }
    case 'controller': {
      allowOnly('--force');
      if (rest[0] === undefined) throw new UsageError('controller TYPE [FIELD...], e.g. controller READ 1');
      const type = rest[0].toUpperCase();
      if (!CONTROLLER_QUERIES.includes(type) && !p.options.has('--force')) {
        throw new UsageError(`controller ${type} acts on the live charger, bypassing the agent (power, contactor, cable lock, controller settings): add --force if you mean it`);
      }
      return { cmd: 'controller', args: { type: rest[0], fields: rest.slice(1) } };
    }
    case 'simulate': {
      const [action, target] = rest;
      if (action === 'card') {
        allowOnly();
        noMore(2);
        if (target === undefined) throw new UsageError('simulate card UID');
        return { cmd: 'simulate', args: { action, uid: target } };
      }
      if (action === 'plug' || action === 'charge' || action === 'pause' || action === 'unplug') {
        if (action === 'plug') allowOnly('--cable', '--ev-max');
        else allowOnly();
        noMore(2);
        const args: JsonObject = { action, connector: intArg(target, 'the connector') };
        const cable = intOption(p, '--cable');
        const ev = intOption(p, '--ev-max');
        if (cable !== undefined) args['cableAmps'] = cable;
        if (ev !== undefined) args['evMaxAmps'] = ev;
        return { cmd: 'simulate', args };
      }
      throw new UsageError('simulate plug N | charge N | pause N | unplug N | card UID');
    }
    case 'security-log': {
      if (rest[0] === 'clear') {
        allowOnly();
        noMore(1);
        return { cmd: 'security-log.clear', args: {} };
      }
      allowOnly('--lines');
      noMore(0);
      const lines = intOption(p, '--lines');
      return { cmd: 'security-log', args: lines !== undefined ? { lines } : {} };
    }
    case undefined:
      throw new UsageError('no command given');
    default:
      throw new UsageError(`unknown diag command ${JSON.stringify(command)}`);
  }
}

/** --socket, else diagnosticsSocket from --config, else from the installed config, else the default path. */
export function resolveSocketPath(p: { socket?: string; config?: string }): string {
  if (p.socket !== undefined) return p.socket;
  try {
    return loadAgentConfig(p.config ?? INSTALLED_CONFIG).diagnosticsSocket;
  } catch (err) {
    // An explicit --config must work; a missing or unreadable installed one falls back to the default.
    if (p.config !== undefined) throw err;
    if (!(err instanceof ConfigError)) throw err;
    return CONFIG_DEFAULTS.diagnosticsSocket;
  }
}

function render(cmd: string, result: Json): string {
  switch (cmd) {
    case 'status':
      return formatStatus(result);
    case 'config.get':
      return formatConfig(result);
    case 'transactions':
      return formatTransactions(result);
    case 'security-log':
      return formatSecurityLog(result);
    case 'logs': {
      const lines = isJsonObject(result) && Array.isArray(result['lines']) ? result['lines'] : [];
      return lines.map((l) => formatLogLine(String(l))).join('\n');
    }
    default:
      return formatPlain(result);
  }
}

/** For --json: log lines as objects, not JSON text inside JSON. */
function forJson(cmd: string, result: Json): Json {
  if (cmd !== 'logs' || !isJsonObject(result) || !Array.isArray(result['lines'])) return result;
  return { ...result, lines: result['lines'].map((l) => parseOr(String(l))) };
}

function parseOr(line: string): Json {
  try {
    return JSON.parse(line) as Json;
  } catch {
    return line;
  }
}

export async function runDiag(argv: string[], io: DiagIo = PROCESS_IO): Promise<number> {
  if (argv[0] === 'help' || argv.includes('--help') || argv.includes('-h')) {
    io.stdout(`${DIAG_USAGE}\n`);
    return 0;
  }
  let parsed: Parsed;
  let request: { cmd: string; args: JsonObject };
  let socketPath: string;
  try {
    parsed = parse(argv);
    request = buildRequest(parsed);
    socketPath = resolveSocketPath(parsed);
    if (request.cmd === 'config.set' && request.args['value'] === '-') {
      // `-`: the value comes from stdin, so a secret is not in ps, /proc/*/cmdline or the shell history.
      if (!io.readLine) throw new UsageError('config set KEY -: no stdin to read the value from');
      const value = await io.readLine().catch((e: unknown) => {
        throw e instanceof UsageError ? e : new UsageError(`config set KEY -: cannot read stdin: ${errorText(e)}`);
      });
      if (value === '') throw new UsageError('config set KEY -: stdin held no value');
      request = { cmd: request.cmd, args: { ...request.args, value } };
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`charger-agent diag: ${escapeControls(err.message)}\n${DIAG_USAGE}\n`);
      return 2;
    }
    if (err instanceof ConfigError) {
      io.stderr(`charger-agent diag: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const json = parsed.json;
  const fail = (code: string, message: string, exit: number): number => {
    if (json) io.stdout(`${JSON.stringify({ ok: false, error: { code, message } })}\n`);
    // The message may quote the agent or the CSMS: no control characters to the terminal.
    io.stderr(`charger-agent diag: ${escapeControls(message)}\n`);
    return exit;
  };

  let client: DiagClient;
  try {
    ({ client } = await DiagClient.connect(socketPath, io.client));
  } catch (err) {
    if (err instanceof DiagClientError) return fail(err.problem, err.message, 3);
    throw err;
  }

  const follow = request.cmd === 'logs' && request.args['follow'] === true;
  const onEvent = follow ? (line: string): void => io.stdout(`${json ? line : formatLogLine(line)}\n`) : undefined;
  try {
    const result = await client.request(request.cmd, request.args, onEvent);
    if (json) {
      if (follow) {
        // A stream for scripts: one log record per line (NDJSON).
        const lines = isJsonObject(result) && Array.isArray(result['lines']) ? result['lines'] : [];
        for (const l of lines) io.stdout(`${String(l)}\n`);
      } else {
        io.stdout(`${JSON.stringify(forJson(request.cmd, result), null, 2)}\n`);
      }
    } else {
      const text = render(request.cmd, result);
      if (text !== '') io.stdout(`${text}\n`);
    }
    if (!follow) {
      client.close();
      // Like `config set`, an unknown key is an error (the known ones are still shown above).
      const unknown = request.cmd === 'config.get' && isJsonObject(result) && Array.isArray(result['unknown']) ? result['unknown'] : [];
      if (unknown.length > 0) {
        io.stderr(`charger-agent diag: unknown configuration key(s): ${escapeControls(unknown.map((k) => String(k)).join(', '))}\n`);
        return 1;
      }
      return 0;
    }
    let interrupted = false;
    const unregister = io.onInterrupt?.(() => {
      interrupted = true;
      client.close();
    });
    await client.closed();
    unregister?.();
    return interrupted ? 0 : fail('closed', 'the agent closed the connection', 3);
  } catch (err) {
    client.close();
    if (err instanceof DiagRemoteError) return fail(err.body.code, err.message, 1);
    if (err instanceof DiagClientError) return fail(err.problem, err.message, 3);
    throw err;
  }
}
