// Diagnostics socket server: a Unix stream socket, mode 0660,
// group charger-agent-admin, speaking protocol.ts. Everything a client can do is bounded so
// that no client can block or crash the agent: line length, time to say hello and to finish a
// line, connections, log followers, requests in flight per connection (more wait unread),
// idle time, and bytes buffered for a client that does not read (it is cut off). When every
// slot is taken, a new client evicts the longest-idle one (see DiagConnection.evictable()), so
// clients that connect and then do nothing cannot lock an administrator out.
import { chmodSync, chownSync, lstatSync, mkdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { DIAG_COMMANDS, type DiagCommand } from './commands/index.js';
import { DiagConnection, type Eviction, type FollowSlots } from './connection.js';
import type { DiagnosticsHost } from './host.js';
import { ADMIN_GROUP, MAX_LINE_BYTES, type DiagAnswer } from './protocol.js';
import { errorText } from '../platform/errors.js';
import type { AgentLogger } from '../platform/logger.js';

const SILENT: AgentLogger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

export interface DiagnosticsServerOptions {
  path: string;
  host: DiagnosticsHost;
  logger?: AgentLogger;
  /**
   * Clients served at once. One more evicts the longest-idle client; only when none is idle
   * (all are running requests or following logs while reading) it gets `busy`. Default 32.
   */
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
  /** Refused because maxConnections were open and none of them idle. */
  refusedBusy: number;
  /** Closed to make room for a newer client, being idle while all slots were taken. */
  evicted: number;
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
  private readonly log: AgentLogger;
  private server: Server | null = null;
  private readonly connections = new Set<DiagConnection>();
  /** Every open socket, also those refused or being closed, so stop() ends them all now. */
  private readonly sockets = new Set<Socket>();
  private socketIno: number | null = null;
  /** Log followers across all connections of this server. */
  private readonly followSlots: FollowSlots = { used: 0 };
  readonly stats: DiagnosticsServerStats = { connections: 0, accepted: 0, refusedBusy: 0, evicted: 0, droppedSlow: 0, timedOut: 0, badRequests: 0, requests: 0, followers: 0 };

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
      this.log.warn({ group, file, err: errorText(err) }, 'cannot read the group file; the diagnostics socket keeps the service group');
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
      this.log.warn({ group, gid, err: errorText(err) }, 'cannot give the diagnostics socket to the admin group; it keeps the service group');
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
    if (this.connections.size >= this.opts.maxConnections) this.evictOne();
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

  /** Close the idle connection that has waited longest (a stalled one first); none when all are busy. */
  private evictOne(): void {
    let victim: DiagConnection | null = null;
    let best: Eviction | null = null;
    for (const c of this.connections) {
      const e = c.evictable();
      if (e === null) continue;
      if (best === null || (e.stalled && !best.stalled) || (e.stalled === best.stalled && e.lastActive < best.lastActive)) {
        victim = c;
        best = e;
      }
    }
    if (!victim) return;
    this.stats.evicted++;
    // debug: a flood of idle connections must not flood the journal too (stats.evicted counts them).
    this.log.debug({ open: this.connections.size }, 'diagnostics client evicted to make room');
    victim.evict(this.opts.maxConnections);
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
