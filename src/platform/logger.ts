// Logging seam: one pino root writing JSON lines to stdout (journald keeps them) or readable
// lines at a terminal, a child per module (each key once per line), and secrets redacted: OCPP 1.6 security whitepaper AuthorizationKey (the
// Basic Auth password), private keys and Authorization headers never reach the log.
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import type { pino as PinoFactory, ChildLoggerOptions, DestinationStream, Level, Logger } from 'pino';
import { formatLogLine } from './log-format.js';

// Required, not imported: an ESM import of a CommonJS package makes Node lex it for named exports
// first, start-up CPU a slow board feels (docs/benchmarks.md, start-up).
const { pino } = createRequire(import.meta.url)('pino') as { pino: typeof PinoFactory };

/**
 * The logging surface every module of src/ depends on: a structural subset of pino's Logger, so
 * a pino child, a test's recording object or a no-op all fit, and no module but this one needs pino.
 */
export interface AgentLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export type LogLevel = Level | 'silent';

export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export const REDACTED = '[Redacted]';

/** pino redact paths (one `*` = any one key). Payloads with key/value pairs need redactOcppPayload(). */
export const REDACT_PATHS: readonly string[] = [
  'AuthorizationKey',
  '*.AuthorizationKey',
  'authorizationKey',
  '*.authorizationKey',
  'basicAuthPassword',
  '*.basicAuthPassword',
  'password',
  '*.password',
  'privateKey',
  '*.privateKey',
  'headers.authorization',
  'headers.Authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
];

export type LogFormat = 'json' | 'pretty';

export interface CreateLoggerOptions {
  level: LogLevel;
  /** Where lines go; stdout when omitted (tests pass a stream to read them back). */
  destination?: DestinationStream;
  /**
   * 'json' (default): one JSON object per line, for journald and scripts. 'pretty': one
   * readable line per record (see formatLogLine), for a person at a terminal. Redaction
   * happens in pino before either, and the ring (`diag logs`) keeps JSON in both cases.
   */
  format?: LogFormat;
  /** Fields on every line (e.g. chargePointId), besides pid and hostname. */
  bindings?: Record<string, string | number>;
  /** Recent lines kept in memory for the diagnostics socket (`logs`); 0 keeps none. Default 1000. */
  ringLines?: number;
}

/**
 * The format for `--log-format VALUE` (undefined when not given): readable at a terminal,
 * JSON otherwise (systemd hands the service a pipe to journald). Throws on any other value.
 */
export function chooseLogFormat(flag: string | undefined, stdoutIsTerminal: boolean): LogFormat {
  if (flag === undefined) return stdoutIsTerminal ? 'pretty' : 'json';
  if (flag === 'json' || flag === 'pretty') return flag;
  throw new Error(`--log-format must be json or pretty, not ${JSON.stringify(flag)}`);
}

/** The module of lines logged on the root itself (start-up, shutdown), so every line has one. */
export const ROOT_MODULE = 'agent';

export function createLogger(opts: CreateLoggerOptions): Logger {
  const ring = new LogRing({ maxLines: opts.ringLines ?? 1000 });
  // Synchronous stdout: pino's default buffers, and the lines before a crash or kill -9 are the ones we need.
  const sink = opts.destination ?? pino.destination({ dest: 1, sync: true });
  const destination: DestinationStream = opts.format === 'pretty' ? { write: (line: string) => sink.write(`${formatLogLine(line)}\n`) } : sink;
  const options = {
    level: opts.level,
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    // No bindings on the pino root itself: they live on the child below, so a child that changes
    // one (its module) can be rebuilt from here without the old value (see uniqueBindingsChild).
    base: null,
    // The tee sees the JSON line after redaction; the destination stays the same synchronous one.
    hooks: { streamWrite: (line: string): string => (ring.push(line), line) },
  };
  const base = pino(options, destination);
  // Children are prototype copies of the root, so they find the ring, the base and child() too.
  const internals = base as unknown as Record<symbol, unknown>;
  internals[RING] = ring;
  internals[BASE] = base;
  // pino's own child(), unbound: it is called on whichever logger the new child comes from.
  const pinoChild = base.child as unknown as ChildFn;
  (base as unknown as { child: ChildFn }).child = uniqueBindingsChild(base, pinoChild);
  return base.child({ pid: process.pid, hostname: hostname(), ...opts.bindings, module: ROOT_MODULE });
}

type Bindings = Record<string, unknown>;
type ChildFn = (this: Logger, bindings: Bindings, options?: ChildLoggerOptions) => Logger;

const BASE = Symbol('charger-agent.pinoBase');
const BINDINGS = Symbol('charger-agent.bindings');

/**
 * pino's child() appends its bindings to the parent's, so a key given twice (hal's serial
 * controller adds module "controller" to the child main.ts already made for "controller")
 * appeared twice in every line, which many JSON readers reject or read ambiguously. This
 * child() adds only new keys; a key whose value changes rebuilds the child on the bare base
 * from the merged bindings (rare: module children are made once at start-up).
 */
function uniqueBindingsChild(base: Logger, pinoChild: ChildFn): ChildFn {
  return function child(this: Logger, bindings: Bindings, options?: ChildLoggerOptions): Logger {
    const current = ((this as unknown as Record<symbol, Bindings | undefined>)[BINDINGS] ?? {}) as Bindings;
    const added: Bindings = {};
    let changed = false;
    for (const [k, v] of Object.entries(bindings)) {
      if (!(k in current)) added[k] = v;
      else if (JSON.stringify(current[k]) !== JSON.stringify(v)) changed = true;
    }
    let made: Logger;
    if (!changed) {
      made = pinoChild.call(this, added, options);
    } else {
      // Built on the base: keep the level of `this` when it has one of its own.
      const level = options?.level ?? (this.level !== base.level ? this.level : undefined);
      made = pinoChild.call(base, { ...current, ...bindings }, level === undefined ? options : { ...options, level });
    }
    (made as unknown as Record<symbol, Bindings>)[BINDINGS] = { ...current, ...bindings };
    return made;
  };
}

// ---- runtime level and the in-memory ring (diagnostics socket) ----

const RING = Symbol('charger-agent.logRing');

/** The ring of recent lines of a logger made by createLogger (or one of its children); null otherwise. */
export function logRingOf(logger: Logger): LogRing | null {
  const ring = (logger as unknown as Record<symbol, unknown>)[RING];
  return ring instanceof LogRing ? ring : null;
}

export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value);
}

/**
 * Change the level at runtime. Children made with child() inherit the level through their
 * prototype unless one was given its own, so setting it on the root reaches every module.
 */
export function setLogLevel(logger: Logger, level: LogLevel): void {
  // Module children may be built on the pino base (see uniqueBindingsChild): set it there too.
  const base = (logger as unknown as Record<symbol, Logger | undefined>)[BASE];
  if (base && base !== logger) base.level = level;
  logger.level = level;
}

export interface LogRingOptions {
  /** Most lines kept (oldest dropped first). */
  maxLines: number;
  /** Most bytes kept in all (UTF-16 length as a cheap bound); default 512 KiB. */
  maxBytes?: number;
  /** A longer line is replaced by a short notice; default 16 KiB. */
  maxLineBytes?: number;
  /** Lines waiting for the followers' next delivery; older ones are dropped first. Default 1000. */
  maxQueuedLines?: number;
  /** The same bound in bytes (UTF-16 length). Default 1 MiB. */
  maxQueuedBytes?: number;
}

interface Follower {
  listener: (line: string) => void;
  /** Sequence number of the first line this follower is told about. */
  from: number;
}

/**
 * A bounded in-memory ring of recent JSON log lines, and listeners for `logs --follow`.
 * Never written to disk: the board's eMMC must not wear out on logs (journald has them).
 * push() runs inside pino's write, on the path of every log line, so it only stores the
 * line: followers are told later, in batches on setImmediate, from a bounded queue (a
 * burst while they lag drops the oldest queued lines and tells them how many).
 */
export class LogRing {
  private readonly lines: string[] = [];
  private head = 0;
  private bytes = 0;
  private readonly listeners = new Set<Follower>();
  /** Lines pushed so far; the sequence number of the next line. */
  private seq = 0;
  private queue: string[] = [];
  private queueHead = 0;
  private queueBytes = 0;
  /** Sequence number of queue[queueHead]. */
  private queueFrom = 0;
  private dropped = 0;
  private scheduled = false;
  readonly maxLines: number;
  private readonly maxBytes: number;
  private readonly maxLineBytes: number;
  private readonly maxQueuedLines: number;
  private readonly maxQueuedBytes: number;

  constructor(opts: LogRingOptions) {
    this.maxLines = Math.max(0, Math.floor(opts.maxLines));
    this.maxBytes = opts.maxBytes ?? 512 * 1024;
    this.maxLineBytes = opts.maxLineBytes ?? 16 * 1024;
    this.maxQueuedLines = Math.max(1, Math.floor(opts.maxQueuedLines ?? 1000));
    this.maxQueuedBytes = opts.maxQueuedBytes ?? 1024 * 1024;
  }

  push(raw: string): void {
    const line = raw.endsWith('\n') ? raw.slice(0, -1) : raw;
    const kept = line.length <= this.maxLineBytes ? line : JSON.stringify({ time: Date.now(), level: 40, module: ROOT_MODULE, msg: `[log line of ${line.length} characters not kept]` });
    if (this.maxLines > 0) {
      this.lines.push(kept);
      this.bytes += kept.length;
      while (this.lines.length - this.head > this.maxLines || (this.bytes > this.maxBytes && this.lines.length - this.head > 1)) {
        this.bytes -= this.lines[this.head]!.length;
        this.head++;
      }
      // Compact now and then instead of shift() on every line.
      if (this.head > 1024 && this.head * 2 > this.lines.length) {
        this.lines.splice(0, this.head);
        this.head = 0;
      }
    }
    this.seq++;
    if (this.listeners.size === 0) return;
    if (this.queue.length === this.queueHead) this.queueFrom = this.seq - 1;
    this.queue.push(kept);
    this.queueBytes += kept.length;
    while (this.queue.length - this.queueHead > this.maxQueuedLines || (this.queueBytes > this.maxQueuedBytes && this.queue.length - this.queueHead > 1)) {
      this.queueBytes -= this.queue[this.queueHead]!.length;
      this.queueHead++;
      this.queueFrom++;
      this.dropped++;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Hand the queued lines to the followers: never inside a log call, so a listener cannot slow logging. */
  private flush(): void {
    this.scheduled = false;
    const batch = this.queue.slice(this.queueHead);
    const first = this.queueFrom;
    const dropped = this.dropped;
    this.queue = [];
    this.queueHead = 0;
    this.queueBytes = 0;
    this.dropped = 0;
    // Lines logged by a listener go to the next batch (push() schedules it).
    const notice = dropped > 0 ? JSON.stringify({ time: Date.now(), level: 40, module: ROOT_MODULE, msg: `[${dropped} log line(s) dropped: the followers fell behind]` }) : null;
    for (const f of [...this.listeners]) {
      if (notice !== null && f.from < first) this.tell(f, notice);
      for (let i = Math.max(0, f.from - first); i < batch.length && this.listeners.has(f); i++) this.tell(f, batch[i]!);
    }
  }

  private tell(f: Follower, line: string): void {
    try {
      f.listener(line);
    } catch {
      // A diagnostics listener must never break logging.
    }
  }

  /** The last `n` lines (all kept lines when n is omitted), oldest first. */
  tail(n?: number): string[] {
    const from = n === undefined ? this.head : Math.max(this.head, this.lines.length - Math.max(0, Math.floor(n)));
    return this.lines.slice(from);
  }

  get size(): number {
    return this.lines.length - this.head;
  }

  /** Every line pushed from now on, delivered asynchronously; returns the unsubscribe function. */
  follow(listener: (line: string) => void): () => void {
    const f: Follower = { listener, from: this.seq };
    this.listeners.add(f);
    return () => void this.listeners.delete(f);
  }

  get followers(): number {
    return this.listeners.size;
  }
}

/** A child logger whose lines carry `module`, so an installer can filter one subsystem. */
export function childLogger(root: Logger, module: string): Logger {
  return root.child({ module });
}

/** Property names whose value is a secret wherever they appear in a payload. */
const SECRET_PROPERTIES = new Set(['authorizationkey', 'basicauthpassword', 'password', 'privatekey']);
/** OCPP configuration keys / variables whose value is a secret (compared case-insensitively: CiString). */
const SECRET_CONFIG_KEYS = new Set(['authorizationkey', 'basicauthpassword']);

/**
 * A copy of an OCPP payload fit for the log: the value of AuthorizationKey in a
 * ChangeConfiguration request or a GetConfiguration response (key/value pairs pino's
 * path redaction cannot see), the attributeValue of BasicAuthPassword in a 2.0.1
 * SetVariables request, and any property named like a secret, are replaced by REDACTED.
 * The input is not modified.
 */
export function redactOcppPayload<T>(action: string, payload: T): T {
  const keyValuePairs = action === 'ChangeConfiguration' || action === 'GetConfiguration';
  const setVariables = action === 'SetVariables';
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (value === null || typeof value !== 'object') return value;
    const obj = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) {
      out[k] = SECRET_PROPERTIES.has(k.toLowerCase()) && v !== null && v !== undefined ? REDACTED : walk(v);
      // GetDiagnostics, GetLog, UpdateFirmware: a location's user:password is a secret too.
      if (typeof v === 'string' && URL_PROPERTIES.has(k)) out[k] = stripUrlCredentials(v);
    }
    if (keyValuePairs && isSecretName(obj['key']) && 'value' in obj) out['value'] = REDACTED;
    if (setVariables && 'attributeValue' in obj) {
      const variable = obj['variable'];
      if (variable !== null && typeof variable === 'object' && isSecretName((variable as Record<string, unknown>)['name'])) {
        out['attributeValue'] = REDACTED;
      }
    }
    return out;
  };
  return walk(payload) as T;
}

/** Payload properties holding a URL that may carry user:password. */
const URL_PROPERTIES = new Set(['location', 'remoteLocation']);

/** `scheme://user:password@host` -> `scheme://[Redacted]@host`, anywhere in a text. */
export function stripUrlCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s"']*@/gi, `$1${REDACTED}@`);
}

function isSecretName(name: unknown): boolean {
  return typeof name === 'string' && SECRET_CONFIG_KEYS.has(name.toLowerCase());
}
