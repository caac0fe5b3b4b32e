// A small local CSMS for development and demos only (never for production). Built on
// the independent ocpp-rpc server in strict mode, so every frame the agent sends is
// checked against the OCPP 1.6 schemas by code other than the agent's own.
// ocpp-rpc is a devDependency: this module is loaded only by `demo` and tests.
import { EventEmitter } from 'node:events';

export interface DevCsmsOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  bootStatus?: 'Accepted' | 'Pending' | 'Rejected';
  heartbeatIntervalS?: number;
  /** idTags answered Invalid (case-insensitive); all others are Accepted. */
  rejectedTags?: string[];
}

export interface ReceivedCall {
  identity: string;
  action: string;
  params: Record<string, unknown>;
}

export interface DevCsmsEvents {
  frame: [identity: string, outbound: boolean, text: string];
  call: [call: ReceivedCall];
  connect: [identity: string, protocol: string | undefined];
  disconnect: [identity: string];
}

interface RpcClientLike {
  identity: string;
  protocol?: string;
  handle(method: string, handler: (ctx: { params: Record<string, unknown> }) => unknown): void;
  handle(handler: (ctx: { method: string; params: Record<string, unknown> }) => unknown): void;
  call(method: string, params: unknown): Promise<unknown>;
  on(event: 'message', l: (e: { message: Buffer | string; outbound: boolean }) => void): void;
  on(event: 'close', l: () => void): void;
  close(opts?: { code?: number; force?: boolean }): Promise<unknown>;
}

interface RpcServerLike {
  on(event: 'client', l: (client: RpcClientLike) => void): void;
  listen(port: number, host?: string): Promise<import('node:http').Server>;
  close(opts?: { force?: boolean }): Promise<void>;
}

export class DevCsms extends EventEmitter<DevCsmsEvents> {
  readonly received: ReceivedCall[] = [];
  private server: RpcServerLike | null = null;
  private readonly clients = new Map<string, RpcClientLike>();
  private nextTransactionId = 1;
  private boundPort = 0;

  constructor(private readonly opts: DevCsmsOptions = {}) {
    super();
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    return `ws://${this.opts.host ?? '127.0.0.1'}:${this.boundPort}/ocpp`;
  }

  async start(): Promise<void> {
    let mod: { RPCServer: new (o: object) => RpcServerLike };
    try {
      mod = (await import('ocpp-rpc')) as unknown as { RPCServer: new (o: object) => RpcServerLike };
    } catch {
      throw new Error('the development CSMS needs the dev dependencies (npm ci without --omit=dev)');
    }
    const server = new mod.RPCServer({ protocols: ['ocpp1.6'], strictMode: true });
    server.on('client', (client) => this.attach(client));
    const http = await server.listen(this.opts.port ?? 0, this.opts.host ?? '127.0.0.1');
    const addr = http.address();
    this.boundPort = typeof addr === 'object' && addr ? addr.port : 0;
    this.server = server;
  }

  async stop(): Promise<void> {
    await this.server?.close({ force: true });
    this.server = null;
  }

  /** Send a CALL to a connected charge point (RemoteStart, Reset, ...). */
  async call(identity: string, action: string, params: object): Promise<unknown> {
    const client = this.clients.get(identity);
    if (!client) throw new Error(`charge point ${identity} is not connected`);
    return client.call(action, params);
  }

  /** Drop a charge point's connection (outage simulation). */
  async disconnect(identity: string): Promise<void> {
    await this.clients.get(identity)?.close({ code: 1001, force: true });
  }

  callsOf(action: string): ReceivedCall[] {
    return this.received.filter((c) => c.action === action);
  }

  private attach(client: RpcClientLike): void {
    const id = client.identity;
    this.clients.set(id, client);
    this.emit('connect', id, client.protocol);
    client.on('message', ({ message, outbound }) => this.emit('frame', id, outbound, message.toString()));
    client.on('close', () => {
      if (this.clients.get(id) === client) this.clients.delete(id);
      this.emit('disconnect', id);
    });
    const record = (action: string, params: Record<string, unknown>): void => {
      const call = { identity: id, action, params };
      this.received.push(call);
      this.emit('call', call);
    };
    const now = (): string => new Date().toISOString();
    const rejected = new Set((this.opts.rejectedTags ?? []).map((t) => t.trim().toUpperCase()));
    const idTagInfo = (tag: unknown) => ({ status: rejected.has(String(tag).trim().toUpperCase()) ? 'Invalid' : 'Accepted' });

    client.handle('BootNotification', ({ params }) => {
      record('BootNotification', params);
      return { status: this.opts.bootStatus ?? 'Accepted', currentTime: now(), interval: this.opts.heartbeatIntervalS ?? 300 };
    });
    client.handle('Heartbeat', ({ params }) => (record('Heartbeat', params), { currentTime: now() }));
    client.handle('StatusNotification', ({ params }) => (record('StatusNotification', params), {}));
    client.handle('Authorize', ({ params }) => (record('Authorize', params), { idTagInfo: idTagInfo(params.idTag) }));
    client.handle('StartTransaction', ({ params }) => {
      record('StartTransaction', params);
      return { transactionId: this.nextTransactionId++, idTagInfo: idTagInfo(params.idTag) };
    });
    client.handle('StopTransaction', ({ params }) => {
      record('StopTransaction', params);
      return params.idTag === undefined ? {} : { idTagInfo: idTagInfo(params.idTag) };
    });
    client.handle('MeterValues', ({ params }) => (record('MeterValues', params), {}));
    client.handle('DataTransfer', ({ params }) => (record('DataTransfer', params), { status: 'UnknownVendorId' }));
    client.handle(({ method, params }) => (record(method, params), {}));
  }
}
