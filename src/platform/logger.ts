// Logging seam: one pino root writing JSON lines to stdout (journald keeps them), a child
// per module, and secrets redacted: OCPP 1.6 security whitepaper AuthorizationKey (the
// Basic Auth password), private keys and Authorization headers never reach the log.
import { hostname } from 'node:os';
import { pino, type DestinationStream, type Level, type Logger } from 'pino';

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

export interface CreateLoggerOptions {
  level: LogLevel;
  /** Where JSON lines go; stdout when omitted (tests pass a stream to read them back). */
  destination?: DestinationStream;
  /** Fields on every line (e.g. chargePointId), besides pid and hostname. */
  bindings?: Record<string, string | number>;
  /** Recent lines kept in memory for the diagnostics socket (`logs`); 0 keeps none. Default 1000. */
  ringLines?: number;
}

export function createLogger(opts: CreateLoggerOptions): Logger {
  const ring = new LogRing({ maxLines: opts.ringLines ?? 1000 });
  const options = {
    level: opts.level,
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    ...(opts.bindings ? { base: { pid: process.pid, hostname: hostname(), ...opts.bindings } } : {}),
    // The tee sees the line after redaction; stdout itself stays the same synchronous destination.
    hooks: { streamWrite: (line: string): string => (ring.push(line), line) },
  };
  // Synchronous stdout: pino's default buffers, and the lines before a crash or kill -9 are the ones we need.
  const logger = pino(options, opts.destination ?? pino.destination({ dest: 1, sync: true }));
  // Children are prototype copies of the root, so they find the ring too.
  (logger as unknown as Record<symbol, LogRing>)[RING] = ring;
  return logger;
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
    const kept = line.length <= this.maxLineBytes ? line : JSON.stringify({ time: Date.now(), msg: `[log line of ${line.length} characters not kept]` });
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
    const notice = dropped > 0 ? JSON.stringify({ time: Date.now(), level: 40, msg: `[${dropped} log line(s) dropped: the followers fell behind]` }) : null;
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

function isSecretName(name: unknown): boolean {
  return typeof name === 'string' && SECRET_CONFIG_KEYS.has(name.toLowerCase());
}
