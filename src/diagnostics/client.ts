// Client side of the diagnostics socket: connect, hello, requests by id, streamed
// log events; connection failures become one clear message (agent not running, permission).
import { createConnection, type Socket } from 'node:net';
import {
  ADMIN_GROUP,
  DIAG_PROTOCOL,
  DIAG_PROTOCOL_VERSION,
  isJsonObject,
  type DiagErrorBody,
  type Json,
  type JsonObject,
  type RequestId,
} from './protocol.js';

/** Why the client could not talk to the agent at all. */
export type DiagClientProblem = 'not_running' | 'permission' | 'timeout' | 'protocol' | 'closed' | 'failed';

export class DiagClientError extends Error {
  override readonly name = 'DiagClientError';
  constructor(
    readonly problem: DiagClientProblem,
    message: string,
  ) {
    super(message);
  }
}

/** The agent answered the request with an error. */
export class DiagRemoteError extends Error {
  override readonly name = 'DiagRemoteError';
  constructor(readonly body: DiagErrorBody) {
    super(body.message);
  }
}

export { ADMIN_GROUP };

/** A failed connect() as the message a person needs. */
export function describeConnectError(err: NodeJS.ErrnoException, path: string): DiagClientError {
  switch (err.code) {
    case 'ENOENT':
    case 'ECONNREFUSED':
    case 'ENOTDIR':
      return new DiagClientError('not_running', `charger-agent is not running: nothing listens on ${path} (systemctl status charger-agent)`);
    case 'EACCES':
    case 'EPERM':
      return new DiagClientError('permission', `permission denied on ${path}: run as root or as a member of the ${ADMIN_GROUP} group (usermod -aG ${ADMIN_GROUP} USER, then log in again)`);
    default:
      return new DiagClientError('failed', `cannot connect to ${path}: ${err.message}`);
  }
}

export interface DiagClientOptions {
  /** For connect + hello, and for each answer. Default 30 s. */
  timeoutMs?: number;
  /** Longest answer line accepted. Default 16 MiB. */
  maxLineBytes?: number;
  /** Opens the socket (tests inject failures). */
  connect?: (path: string) => Socket;
}

interface Pending {
  resolve(result: Json): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout | null;
}

export interface AgentHello {
  version: string;
  chargePointId: string;
}

export class DiagClient {
  private readonly pending = new Map<RequestId, Pending>();
  private readonly streams = new Map<RequestId, (line: string) => void>();
  private nextId = 1;
  private buffer = '';
  private closedError: DiagClientError | null = null;
  private readonly closedPromise: Promise<void>;
  private onHello: ((value: Json) => void) | null = null;

  private constructor(
    private readonly socket: Socket,
    private readonly timeoutMs: number,
    private readonly maxLineBytes: number,
  ) {
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => this.onData(text));
    this.closedPromise = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.once('close', () => this.fail(this.closedError ?? new DiagClientError('closed', 'the agent closed the connection')));
  }

  /** Connect and say hello; rejects with DiagClientError. */
  static async connect(path: string, opts: DiagClientOptions = {}): Promise<{ client: DiagClient; agent: AgentHello }> {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const socket = (opts.connect ?? ((p: string) => createConnection(p)))(path);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new DiagClientError('timeout', `no answer from ${path} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        socket.destroy();
        reject(describeConnectError(err, path));
      });
    });
    socket.on('error', () => {}); // reported through 'close'
    const client = new DiagClient(socket, timeoutMs, opts.maxLineBytes ?? 16 * 1024 * 1024);
    const hello = await client.hello(path);
    return { client, agent: hello };
  }

  private hello(path: string): Promise<AgentHello> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.close();
        reject(new DiagClientError('timeout', `no hello from ${path} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      const failed = (err: Error): void => {
        clearTimeout(timer);
        reject(err);
      };
      this.pending.set('\u0000hello', { resolve: () => {}, reject: failed, timer: null });
      this.onHello = (value) => {
        clearTimeout(timer);
        this.pending.delete('\u0000hello');
        const v = isJsonObject(value) ? value : {};
        if (v['hello'] === undefined && isJsonObject(v['error'] ?? null)) {
          // Refused before the hello (too many clients).
          const e = v['error'] as JsonObject;
          return reject(new DiagClientError(e['code'] === 'busy' || e['code'] === 'evicted' ? 'failed' : 'protocol', `the agent refused: ${String(e['message'] ?? 'no reason')}`));
        }
        if (v['hello'] !== DIAG_PROTOCOL) return reject(this.protocolError(`${path} does not speak ${DIAG_PROTOCOL}`));
        if (v['ok'] !== true) {
          const e = isJsonObject(v['error'] ?? null) ? (v['error'] as JsonObject) : {};
          return reject(new DiagClientError('protocol', `the agent refused the handshake: ${String(e['message'] ?? 'no reason')}`));
        }
        const agent = isJsonObject(v['agent'] ?? null) ? (v['agent'] as JsonObject) : {};
        resolve({ version: String(agent['version'] ?? '?'), chargePointId: String(agent['chargePointId'] ?? '?') });
      };
      this.write({ hello: DIAG_PROTOCOL, version: DIAG_PROTOCOL_VERSION });
    });
  }

  /**
   * One request. `onEvent` receives the streamed lines of a following request (logs --follow)
   * after the answer; they stop when the connection closes.
   */
  request(cmd: string, args: JsonObject = {}, onEvent?: (line: string) => void): Promise<Json> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new DiagClientError('timeout', `no answer to ${cmd} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      if (onEvent) this.streams.set(id, onEvent);
      this.write({ id, cmd, args });
    });
  }

  /** Resolves when the connection is closed (by either side). */
  closed(): Promise<void> {
    return this.closedPromise;
  }

  close(): void {
    this.closedError ??= new DiagClientError('closed', 'connection closed');
    this.socket.destroy();
  }

  private write(value: Json): void {
    this.socket.write(`${JSON.stringify(value)}\n`);
  }

  private onData(text: string): void {
    this.buffer += text;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) !== -1) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      if (line.trim() !== '') this.onLine(line);
    }
    if (this.buffer.length > this.maxLineBytes) {
      this.closedError = this.protocolError('answer line too long');
      this.socket.destroy();
    }
  }

  private onLine(line: string): void {
    let value: Json;
    try {
      value = JSON.parse(line) as Json;
    } catch {
      this.closedError = this.protocolError('the agent sent a line that is not JSON');
      this.socket.destroy();
      return;
    }
    if (this.onHello) {
      const h = this.onHello;
      this.onHello = null;
      h(value);
      return;
    }
    if (!isJsonObject(value)) return;
    const id = value['id'];
    if (value['event'] === 'log' && (typeof id === 'number' || typeof id === 'string')) {
      const line = value['line'];
      if (typeof line === 'string') this.streams.get(id)?.(line);
      return;
    }
    if (typeof id !== 'number' && typeof id !== 'string') {
      // An answer without id: a refusal of the whole connection (busy, line too long).
      const e = isJsonObject(value['error'] ?? null) ? (value['error'] as JsonObject) : {};
      const body: DiagErrorBody = { code: typeof e['code'] === 'string' ? (e['code'] as DiagErrorBody['code']) : 'failed', message: String(e['message'] ?? 'refused') };
      this.closedError = new DiagClientError(body.code === 'busy' || body.code === 'evicted' ? 'failed' : 'protocol', `the agent refused: ${body.message}`);
      return;
    }
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (p.timer) clearTimeout(p.timer);
    if (value['ok'] === true) {
      p.resolve(value['result'] ?? null);
    } else {
      this.streams.delete(id);
      const e = isJsonObject(value['error'] ?? null) ? (value['error'] as JsonObject) : {};
      p.reject(new DiagRemoteError({ code: (typeof e['code'] === 'string' ? e['code'] : 'failed') as DiagErrorBody['code'], message: String(e['message'] ?? 'error') }));
    }
  }

  private fail(err: DiagClientError): void {
    this.closedError = err;
    for (const [id, p] of this.pending) {
      if (p.timer) clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(err);
    }
    this.streams.clear();
  }

  private protocolError(message: string): DiagClientError {
    return new DiagClientError('protocol', message);
  }
}
