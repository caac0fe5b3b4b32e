// One client of the diagnostics socket (server.ts): the hello, request lines with their
// limits (length, deadline, requests in flight), log following, and back-pressure. The server
// asks each connection whether it may be evicted when all slots are taken (see evictable()).
import type { Socket } from 'node:net';
import type { CommandContext } from './commands/index.js';
import {
  DIAG_PROTOCOL,
  DIAG_PROTOCOL_VERSION,
  DiagError,
  parseHello,
  parseRequest,
  requestIdOf,
  type DiagAnswer,
  type DiagLogEvent,
  type DiagRequest,
  type HelloAnswer,
} from './protocol.js';
import type { DiagnosticsServerOptions, DiagnosticsServerStats } from './server.js';
import { errorText } from '../platform/errors.js';
import type { AgentLogger } from '../platform/logger.js';

export type ConnectionOptions = Required<Omit<DiagnosticsServerOptions, 'logger'>>;

export interface FollowSlots {
  used: number;
}

type Subscribe = (emit: (line: string) => void) => () => void;

/** How an idle connection ranks for eviction: stalled ones first, then the longest idle. */
export interface Eviction {
  /** Answers or log events are waiting in our buffer: the client is not reading. */
  stalled: boolean;
  /** When it last sent a line or got an answer (a sequence number across connections). */
  lastActive: number;
}

/** Orders activity across all connections; a counter, not a clock, so that ties cannot happen. */
let activitySeq = 0;

export class DiagConnection {
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
  private lastActive = ++activitySeq;

  constructor(
    private readonly socket: Socket,
    private readonly opts: ConnectionOptions,
    private readonly log: AgentLogger,
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

  /**
   * Whether the server may close this connection to make room for a new one, and how it ranks.
   * Idle means it is doing nothing for anyone: no hello yet, or no request running or waiting,
   * and not following the logs. A request that runs is work somebody waits for; a follower is
   * somebody watching the logs (at most maxFollowers of them), so neither is evicted, unless
   * the client does not read: bytes left in our buffer mean the kernel's is full, which is a
   * client that stopped reading (a follower of quiet logs that never reads cannot be told
   * from one that reads; it costs one slot of 32 and its buffer limit still applies).
   */
  evictable(): Eviction | null {
    if (this.closed) return null;
    const stalled = this.socket.writableLength > 0;
    const busy = this.inFlight > 0 || this.waiting.length > 0 || this.following;
    if (busy && !stalled) return null;
    return { stalled, lastActive: this.lastActive };
  }

  /** Closed for a newer client: it is told why (if it reads), then the slot is free at once. */
  evict(maxConnections: number): void {
    this.send({ id: null, ok: false, error: { code: 'evicted', message: `closed to make room for a newer diagnostics client (at most ${maxConnections} at once; this one was idle)` } });
    this.endSoon();
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
    this.lastActive = ++activitySeq;
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
        const message = errorText(err);
        this.log.warn({ cmd, err: message }, 'diagnostics command failed');
        answer = { id, ok: false, error: { code: 'failed', message } };
      }
    } finally {
      this.inFlight--;
    }
    this.log.debug({ cmd, ok: answer.ok }, 'diagnostics request');
    this.lastActive = ++activitySeq;
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

