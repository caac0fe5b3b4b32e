// Diagnostics socket server (issue 6, "Diagnostics socket"): a Unix stream socket, mode 0660,
// speaking protocol.ts. Everything a client can do is bounded so that no client can block or
// crash the agent: line length, connections, requests in flight per connection, idle time, and
// bytes buffered for a client that does not read (it is cut off).
import { chmodSync, lstatSync, mkdirSync, statSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { DIAG_COMMANDS, type CommandContext, type DiagCommand } from './commands/index.js';
import type { DiagnosticsHost } from './host.js';
import {
  DIAG_PROTOCOL,
  DIAG_PROTOCOL_VERSION,
  DiagError,
  MAX_LINE_BYTES,
  parseHello,
  parseRequest,
  requestIdOf,
  type DiagAnswer,
  type DiagLogEvent,
  type DiagRequest,
  type HelloAnswer,
} from './protocol.js';

export interface DiagLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const SILENT: DiagLogger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

export interface DiagnosticsServerOptions {
  path: string;
  host: DiagnosticsHost;
  logger?: DiagLogger;
  /** Clients served at once; more get a `busy` answer and are closed. Default 32. */
  maxConnections?: number;
  /** Default MAX_LINE_BYTES (64 KiB). */
  maxLineBytes?: number;
  /** A client that sends nothing for this long is closed (not while following logs). Default 5 min. */
  idleTimeoutMs?: number;
  /** The hello must come within this. Default 5 s. */
  handshakeTimeoutMs?: number;
  /** A client with more than this many answer bytes not yet taken is cut off. Default 1 MiB. */
  maxBufferedBytes?: number;
  /** Requests one connection may have running at once. Default 4. */
  maxInFlight?: number;
  /** File mode of the socket. Default 0o660 (service user and its group, the admins). */
  socketMode?: number;
  /** The command registry; DIAG_COMMANDS by default. */
  commands?: ReadonlyMap<string, DiagCommand>;
}

export interface DiagnosticsServerStats {
  /** Connections open now. */
  connections: number;
  accepted: number;
  /** Refused because maxConnections were open. */
  refusedBusy: number;
  /** Cut off for not reading their answers. */
  droppedSlow: number;
  /** Closed for sending nothing within the timeout. */
  timedOut: number;
  /** Lines answered with an error (bad JSON, unknown command, bad arguments, ...). */
  badRequests: number;
  requests: number;
}

export class DiagnosticsServer {
  private readonly opts: Required<Omit<DiagnosticsServerOptions, 'logger'>>;
  private readonly log: DiagLogger;
  private server: Server | null = null;
  private readonly connections = new Set<DiagConnection>();
  /** Every open socket, also those refused or being closed, so stop() ends them all now. */
  private readonly sockets = new Set<Socket>();
  private socketIno: number | null = null;
  readonly stats: DiagnosticsServerStats = { connections: 0, accepted: 0, refusedBusy: 0, droppedSlow: 0, timedOut: 0, badRequests: 0, requests: 0 };

  constructor(options: DiagnosticsServerOptions) {
    this.log = options.logger ?? SILENT;
    this.opts = {
      path: options.path,
      host: options.host,
      maxConnections: options.maxConnections ?? 32,
      maxLineBytes: options.maxLineBytes ?? MAX_LINE_BYTES,
      idleTimeoutMs: options.idleTimeoutMs ?? 5 * 60_000,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 5_000,
      maxBufferedBytes: options.maxBufferedBytes ?? 1024 * 1024,
      maxInFlight: options.maxInFlight ?? 4,
      socketMode: options.socketMode ?? 0o660,
      commands: options.commands ?? DIAG_COMMANDS,
    };
  }

  get path(): string {
    return this.opts.path;
  }

  /** Listen on the socket path; a stale socket file is removed only when nobody listens on it. */
  async start(): Promise<void> {
    if (this.server) return;
    const path = this.opts.path;
    mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
    await removeStaleSocket(path);
    const server = createServer({ allowHalfOpen: false }, (socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.log.error({ err: err.message, path }, 'diagnostics socket error'));
    // listen() creates the file with the umask's mode; the unit's runtime directory (0750) covers the gap.
    chmodSync(path, this.opts.socketMode);
    this.socketIno = statSync(path).ino;
    this.server = server;
    this.log.info({ path, mode: this.opts.socketMode.toString(8) }, 'diagnostics socket listening');
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const c of [...this.connections]) c.destroy();
    for (const s of [...this.sockets]) s.destroy();
    await closed;
    // Remove the file only if it is still ours (a newer agent may have replaced it).
    try {
      if (this.socketIno !== null && statSync(this.opts.path).ino === this.socketIno) unlinkSync(this.opts.path);
    } catch {
      // already gone
    }
    this.socketIno = null;
  }

  private accept(socket: Socket): void {
    socket.on('error', () => {}); // EPIPE / ECONNRESET from a client that went away: nothing to do
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    if (this.connections.size >= this.opts.maxConnections) {
      this.stats.refusedBusy++;
      const answer: DiagAnswer = { id: null, ok: false, error: { code: 'busy', message: `too many diagnostics clients (at most ${this.opts.maxConnections})` } };
      socket.end(`${JSON.stringify(answer)}\n`, () => socket.destroy());
      // A client that never reads must not keep the descriptor either.
      setTimeout(() => socket.destroy(), 2_000).unref();
      return;
    }
    this.stats.accepted++;
    const conn = new DiagConnection(socket, this.opts, this.log, this.stats, () => {
      this.connections.delete(conn);
      this.stats.connections = this.connections.size;
    });
    this.connections.add(conn);
    this.stats.connections = this.connections.size;
  }
}

type ConnectionOptions = Required<Omit<DiagnosticsServerOptions, 'logger'>>;

class DiagConnection {
  private readonly pending: Buffer[] = [];
  private pendingBytes = 0;
  private handshaken = false;
  private inFlight = 0;
  private closed = false;
  private following = false;
  private readonly unsubscribers: Array<() => void> = [];

  constructor(
    private readonly socket: Socket,
    private readonly opts: ConnectionOptions,
    private readonly log: DiagLogger,
    private readonly stats: DiagnosticsServerStats,
    private readonly onClosed: () => void,
  ) {
    socket.setTimeout(opts.handshakeTimeoutMs);
    socket.on('timeout', () => {
      if (this.following) return;
      this.stats.timedOut++;
      this.destroy();
    });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => this.cleanup());
  }

  destroy(): void {
    this.cleanup();
    this.socket.destroy();
  }

  private cleanup(): void {
    if (this.closed) return;
    this.closed = true;
    for (const u of this.unsubscribers.splice(0)) u();
    this.onClosed();
  }

  private onData(chunk: Buffer): void {
    let start = 0;
    while (!this.closed) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl === -1) break;
      const piece = chunk.subarray(start, nl);
      start = nl + 1;
      if (this.pendingBytes + piece.length > this.opts.maxLineBytes) return this.tooLong();
      const line = (this.pending.length === 0 ? piece : Buffer.concat([...this.pending, piece])).toString('utf8');
      this.pending.length = 0;
      this.pendingBytes = 0;
      this.handleLine(line.endsWith('\r') ? line.slice(0, -1) : line);
    }
    if (this.closed || start >= chunk.length) return;
    const rest = chunk.subarray(start);
    if (this.pendingBytes + rest.length > this.opts.maxLineBytes) return this.tooLong();
    this.pending.push(Buffer.from(rest));
    this.pendingBytes += rest.length;
  }

  private tooLong(): void {
    this.stats.badRequests++;
    this.send({ id: null, ok: false, error: { code: 'line_too_long', message: `a line may be at most ${this.opts.maxLineBytes} bytes` } });
    this.endSoon();
  }

  /** Answer sent, then close: the client can still read what we sent. */
  private endSoon(): void {
    if (this.closed) return;
    this.cleanup();
    this.socket.end(() => this.socket.destroy());
    setTimeout(() => this.socket.destroy(), 2_000).unref();
  }

  private handleLine(line: string): void {
    if (line.trim() === '') return;
    if (!this.handshaken) return this.handshake(line);
    let request: DiagRequest;
    try {
      request = parseRequest(line);
    } catch (err) {
      this.stats.badRequests++;
      const body = err instanceof DiagError ? err.toBody() : { code: 'bad_request' as const, message: 'bad request' };
      this.send({ id: requestIdOf(line), ok: false, error: body });
      return;
    }
    void this.dispatch(request);
  }

  private handshake(line: string): void {
    try {
      const hello = parseHello(line);
      this.handshaken = true;
      this.socket.setTimeout(this.opts.idleTimeoutMs);
      const answer: HelloAnswer = {
        hello: DIAG_PROTOCOL,
        version: hello.version,
        ok: true,
        agent: { version: this.opts.host.agentVersion, chargePointId: this.opts.host.chargePointId },
      };
      this.send(answer);
    } catch (err) {
      this.stats.badRequests++;
      const error = err instanceof DiagError ? err.toBody() : { code: 'handshake' as const, message: 'handshake failed' };
      const answer: HelloAnswer = { hello: DIAG_PROTOCOL, version: DIAG_PROTOCOL_VERSION, ok: false, error };
      this.send(answer);
      this.endSoon();
    }
  }

  private async dispatch(request: DiagRequest): Promise<void> {
    const { id, cmd, args } = request;
    const command = this.opts.commands.get(cmd);
    if (!command) {
      this.stats.badRequests++;
      const known = [...this.opts.commands.keys()].join(', ');
      this.send({ id, ok: false, error: { code: 'unknown_command', message: `unknown command ${JSON.stringify(cmd.slice(0, 64))} (known: ${known})` } });
      return;
    }
    if (this.inFlight >= this.opts.maxInFlight) {
      this.send({ id, ok: false, error: { code: 'busy', message: `at most ${this.opts.maxInFlight} requests at once per connection` } });
      return;
    }
    this.stats.requests++;
    this.inFlight++;
    let subscribe: ((emit: (line: string) => void) => () => void) | null = null;
    const ctx: CommandContext = {
      host: this.opts.host,
      stream: (s) => {
        subscribe = s;
      },
    };
    let answer: DiagAnswer;
    try {
      answer = { id, ok: true, result: await command.run(args, ctx) };
    } catch (err) {
      subscribe = null;
      if (err instanceof DiagError) {
        if (err.code === 'bad_args') this.stats.badRequests++;
        answer = { id, ok: false, error: err.toBody() };
      } else {
        const message = err instanceof Error ? err.message : String(err);
        this.log.warn({ cmd, err: message }, 'diagnostics command failed');
        answer = { id, ok: false, error: { code: 'failed', message } };
      }
    } finally {
      this.inFlight--;
    }
    this.log.debug({ cmd, ok: answer.ok }, 'diagnostics request');
    this.send(answer);
    const s = subscribe as ((emit: (line: string) => void) => () => void) | null;
    if (s && !this.closed) {
      this.following = true;
      this.socket.setTimeout(0);
      this.unsubscribers.push(s((line) => this.send({ id, event: 'log', line } satisfies DiagLogEvent)));
    }
  }

  private send(message: DiagAnswer | HelloAnswer | DiagLogEvent): void {
    if (this.closed || this.socket.destroyed) return;
    this.socket.write(`${JSON.stringify(message)}\n`);
    if (this.socket.writableLength > this.opts.maxBufferedBytes) {
      // Unsubscribe before logging: the log line would otherwise come back here as an event.
      const buffered = this.socket.writableLength;
      this.stats.droppedSlow++;
      this.destroy();
      this.log.warn({ bufferedBytes: buffered }, 'diagnostics client does not read its answers; disconnected');
    }
  }
}

/**
 * A socket file left by a crashed agent is removed; one somebody still listens on is not
 * (two agents on one board would fight over the controller), nor anything that is not a socket.
 */
export async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) throw new Error(`${path} exists and is not a socket; not removing it`);
  const alive = await new Promise<boolean>((resolve, reject) => {
    const probe = createConnection(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', (err: NodeJS.ErrnoException) => {
      probe.destroy();
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') resolve(false);
      else reject(new Error(`cannot check ${path}: ${err.message}`));
    });
  });
  if (alive) throw new Error(`another process is listening on ${path} (is another charger-agent running?)`);
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
