// Diagnostics socket server: a Unix stream socket, mode 0660,
// group charger-agent-admin, speaking protocol.ts. Everything a client can do is bounded so
// that no client can block or crash the agent: line length, time to say hello and to finish a
// line, connections, log followers, requests in flight per connection (more wait unread),
// idle time, and bytes buffered for a client that does not read (it is cut off).
import { chmodSync, chownSync, lstatSync, mkdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { DIAG_COMMANDS, type CommandContext, type DiagCommand } from './commands/index.js';
import type { DiagnosticsHost } from './host.js';
import {
  ADMIN_GROUP,
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
  /** The hello must come within this of the connect, however the client trickles bytes. Default 5 s. */
  handshakeTimeoutMs?: number;
  /** A line must be complete within this of its first byte (slow-trickle clients). Default 30 s. */
  lineTimeoutMs?: number;
  /** A client with more than this many answer bytes not yet taken is cut off. Default 1 MiB. */
  maxBufferedBytes?: number;
  /** Requests one connection may have running at once; further lines wait, unread, until one ends. Default 4. */
  maxInFlight?: number;
  /** Clients following the logs at once (one follow per connection). Default 8. */
  maxFollowers?: number;
  /** File mode of the socket. Default 0o660 (the service user and the admin group). */
  socketMode?: number;
  /**
   * Group the socket is given after listen (the service has it as a supplementary group), so
   * administrators need not be in the service's own group, which may read the config and its
   * password. Not in groupFile: the socket keeps the service's group (logged). Null: leave it.
   * Default charger-agent-admin.
   */
  adminGroup?: string | null;
  /** Where adminGroup is looked up. Default /etc/group. */
  groupFile?: string;
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
  /** Connections following the logs now. */
  followers: number;
}

export class DiagnosticsServer {
  private readonly opts: Required<Omit<DiagnosticsServerOptions, 'logger'>>;
  private readonly log: DiagLogger;
  private server: Server | null = null;
  private readonly connections = new Set<DiagConnection>();
  /** Every open socket, also those refused or being closed, so stop() ends them all now. */
  private readonly sockets = new Set<Socket>();
  private socketIno: number | null = null;
  /** Log followers across all connections of this server. */
  private readonly followSlots: FollowSlots = { used: 0 };
  readonly stats: DiagnosticsServerStats = { connections: 0, accepted: 0, refusedBusy: 0, droppedSlow: 0, timedOut: 0, badRequests: 0, requests: 0, followers: 0 };

  constructor(options: DiagnosticsServerOptions) {
    this.log = options.logger ?? SILENT;
    this.opts = {
      path: options.path,
      host: options.host,
      maxConnections: options.maxConnections ?? 32,
      maxLineBytes: options.maxLineBytes ?? MAX_LINE_BYTES,
      idleTimeoutMs: options.idleTimeoutMs ?? 5 * 60_000,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 5_000,
      lineTimeoutMs: options.lineTimeoutMs ?? 30_000,
      maxBufferedBytes: options.maxBufferedBytes ?? 1024 * 1024,
      maxInFlight: Math.max(1, options.maxInFlight ?? 4),
      maxFollowers: options.maxFollowers ?? 8,
      socketMode: options.socketMode ?? 0o660,
      adminGroup: options.adminGroup === undefined ? ADMIN_GROUP : options.adminGroup,
      groupFile: options.groupFile ?? '/etc/group',
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
    // listen() creates the file with the umask's mode (0700 under the unit's UMask=0077); the
    // group changes first, so the mode never opens the socket to the wrong group.
    this.applyAdminGroup(path);
    chmodSync(path, this.opts.socketMode);
    this.socketIno = statSync(path).ino;
    this.server = server;
    this.log.info({ path, mode: this.opts.socketMode.toString(8), gid: statSync(path).gid }, 'diagnostics socket listening');
  }

  private applyAdminGroup(path: string): void {
    const group = this.opts.adminGroup;
    if (group === null) return;
    const file = this.opts.groupFile;
    let gid: number | null;
    try {
      gid = groupIdIn(readFileSync(file, 'utf8'), group);
    } catch (err) {
      this.log.warn({ group, file, err: err instanceof Error ? err.message : String(err) }, 'cannot read the group file; the diagnostics socket keeps the service group');
      return;
    }
    if (gid === null) {
      // Installed (systemd sets INVOCATION_ID) the group should exist: say so loudly. On a development machine it is expected.
      const level = process.env['INVOCATION_ID'] ? 'warn' : 'info';
      this.log[level]({ group, file, gid: statSync(path).gid }, 'admin group not found; the diagnostics socket keeps the service group (only root and that group may use it)');
      return;
    }
    try {
      chownSync(path, -1, gid);
    } catch (err) {
      // EPERM: the service does not have the group (SupplementaryGroups= missing from the unit).
      this.log.warn({ group, gid, err: err instanceof Error ? err.message : String(err) }, 'cannot give the diagnostics socket to the admin group; it keeps the service group');
    }
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
    const conn = new DiagConnection(socket, this.opts, this.log, this.stats, this.followSlots, () => {
      this.connections.delete(conn);
      this.stats.connections = this.connections.size;
    });
    this.connections.add(conn);
    this.stats.connections = this.connections.size;
  }
}

type ConnectionOptions = Required<Omit<DiagnosticsServerOptions, 'logger'>>;

interface FollowSlots {
  used: number;
}

type Subscribe = (emit: (line: string) => void) => () => void;

class DiagConnection {
  private readonly pending: Buffer[] = [];
  private pendingBytes = 0;
  private handshaken = false;
  private inFlight = 0;
  private closed = false;
  private following = false;
  /** This connection holds one of the server's follow slots. */
  private followSlot = false;
  /** Request lines read while maxInFlight were running; the socket is paused meanwhile. */
  private readonly waiting: string[] = [];
  private helloTimer: NodeJS.Timeout | null;
  private lineTimer: NodeJS.Timeout | null = null;
  private readonly unsubscribers: Array<() => void> = [];

  constructor(
    private readonly socket: Socket,
    private readonly opts: ConnectionOptions,
    private readonly log: DiagLogger,
    private readonly stats: DiagnosticsServerStats,
    private readonly slots: FollowSlots,
    private readonly onClosed: () => void,
  ) {
    // A deadline, not socket.setTimeout(): that one restarts on every byte, and a client
    // trickling a byte at a time would hold its connection slot for ever.
    this.helloTimer = setTimeout(() => this.timeOut(), opts.handshakeTimeoutMs);
    socket.on('timeout', () => {
      if (this.following || this.inFlight > 0) return;
      this.timeOut();
    });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => this.cleanup());
  }

  destroy(): void {
    this.cleanup();
    this.socket.destroy();
  }

  private timeOut(): void {
    if (this.closed) return;
    this.stats.timedOut++;
    this.destroy();
  }

  private cleanup(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.helloTimer) clearTimeout(this.helloTimer);
    if (this.lineTimer) clearTimeout(this.lineTimer);
    this.helloTimer = this.lineTimer = null;
    this.waiting.length = 0;
    for (const u of this.unsubscribers.splice(0)) u();
    this.releaseFollowSlot();
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
      if (this.lineTimer) clearTimeout(this.lineTimer);
      this.lineTimer = null;
      this.handleLine(line.endsWith('\r') ? line.slice(0, -1) : line);
    }
    if (this.closed || start >= chunk.length) return;
    const rest = chunk.subarray(start);
    if (this.pendingBytes + rest.length > this.opts.maxLineBytes) return this.tooLong();
    this.pending.push(Buffer.from(rest));
    this.pendingBytes += rest.length;
    // An absolute limit from the line's first byte; the idle timeout alone restarts on every byte.
    this.lineTimer ??= setTimeout(() => this.lineTooSlow(), this.opts.lineTimeoutMs);
  }

  private tooLong(): void {
    this.stats.badRequests++;
    this.send({ id: null, ok: false, error: { code: 'line_too_long', message: `a line may be at most ${this.opts.maxLineBytes} bytes` } });
    this.endSoon();
  }

  private lineTooSlow(): void {
    this.lineTimer = null;
    if (this.closed) return;
    if (this.socket.isPaused()) {
      // We stopped reading (its requests are running): the rest of the line cannot come yet.
      this.lineTimer = setTimeout(() => this.lineTooSlow(), this.opts.lineTimeoutMs);
      return;
    }
    this.stats.timedOut++;
    this.send({ id: null, ok: false, error: { code: 'bad_request', message: `a line must be complete within ${this.opts.lineTimeoutMs} ms of its first byte` } });
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
    if (this.inFlight >= this.opts.maxInFlight || this.waiting.length > 0) {
      // Backpressure instead of a `busy` answer: stop reading until a request ends. What is
      // held is at most the rest of the chunk already read.
      this.waiting.push(line);
      this.socket.pause();
      return;
    }
    this.handleRequest(line);
  }

  private handleRequest(line: string): void {
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

  /** A request ended: run the lines that waited, then read again. */
  private drain(): void {
    while (!this.closed && this.waiting.length > 0 && this.inFlight < this.opts.maxInFlight) this.handleRequest(this.waiting.shift()!);
    if (!this.closed && this.waiting.length === 0 && this.socket.isPaused()) this.socket.resume();
  }

  private handshake(line: string): void {
    if (this.helloTimer) clearTimeout(this.helloTimer);
    this.helloTimer = null;
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

  /** One follow per connection, maxFollowers per server: each one costs work on every log line. */
  private takeFollowSlot(): void {
    if (this.followSlot) throw new DiagError('busy', 'this connection already follows the logs');
    if (this.slots.used >= this.opts.maxFollowers) throw new DiagError('busy', `at most ${this.opts.maxFollowers} clients may follow the logs at once`);
    this.followSlot = true;
    this.slots.used++;
    this.stats.followers = this.slots.used;
  }

  private releaseFollowSlot(): void {
    if (!this.followSlot) return;
    this.followSlot = false;
    this.slots.used--;
    this.stats.followers = this.slots.used;
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
    this.stats.requests++;
    this.inFlight++;
    let subscribe: Subscribe | null = null;
    const ctx: CommandContext = {
      host: this.opts.host,
      stream: (s) => {
        this.takeFollowSlot(); // throws DiagError('busy')
        subscribe = s;
      },
    };
    let answer: DiagAnswer;
    try {
      answer = { id, ok: true, result: await command.run(args, ctx) };
    } catch (err) {
      if (subscribe) this.releaseFollowSlot();
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
    const s = subscribe as Subscribe | null;
    if (s && !this.closed) {
      this.following = true;
      this.socket.setTimeout(0);
      this.unsubscribers.push(s((line) => this.send({ id, event: 'log', line } satisfies DiagLogEvent)));
    }
    this.drain();
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

/** The gid of `name` in /etc/group text (name:password:gid:members), null when it is not there. */
export function groupIdIn(groupFileText: string, name: string): number | null {
  for (const line of groupFileText.split('\n')) {
    const fields = line.split(':');
    if (fields[0] === name && fields.length >= 3 && /^\d+$/.test(fields[2]!)) return Number(fields[2]);
  }
  return null;
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
