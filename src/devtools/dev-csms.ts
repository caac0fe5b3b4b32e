// A small local CSMS for development and demos only (never for production). Built on
// the independent ocpp-rpc server in strict mode, so every frame the agent sends is
// checked against the OCPP 1.6 schemas by code other than the agent's own.
// ocpp-rpc is a devDependency: this module is loaded only by `demo`, `dev-csms` and tests.
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { errorText } from '../platform/errors.js';
import { DualListener, refuseUpgrade, SecurityPolicy, signCsr, type Admission, type DevCsmsSecurityOptions } from './dev-csms-security.js';

/** ocpp-rpc is absent: a production tree (npm ci --omit=dev, npm run release). */
export class DevDependenciesMissing extends Error {
  override readonly name = 'DevDependenciesMissing';
  constructor() {
    super('the development CSMS needs the development dependencies: run from a source checkout with npm ci');
  }
}

export interface DevCsmsOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  bootStatus?: 'Accepted' | 'Pending' | 'Rejected';
  heartbeatIntervalS?: number;
  /** idTags answered Invalid (case-insensitive); all others are Accepted. */
  rejectedTags?: string[];
  /** idTag -> parentIdTag returned in idTagInfo (case-insensitive keys). */
  parentIdTags?: Record<string, string>;
  /**
   * A StartTransaction identical to one received before (a retransmission after the charge point
   * crashed before committing the answer) gets the transactionId given the first time, as
   * production CSMSs deduplicate; default false: every StartTransaction gets a new id.
   */
  sameIdForRetransmittedStart?: boolean;
  /** A slow CSMS: the StopTransaction answer leaves this long after the call was received (recorded). */
  stopTransactionAnswerDelayMs?: number;
  /**
   * Security profiles (whitepaper): serve wss:// beside ws:// on the same port with the dev PKI, admit
   * only the profile and key this CSMS set (or the minimum), and sign CSRs. Without it: ws:// only, no checks.
   */
  security?: DevCsmsSecurityOptions;
  /** Answers for further actions (recorded like the others), e.g. SignCertificate in tests; they win over the built-in ones. */
  answers?: Record<string, (params: Record<string, unknown>, identity: string) => unknown>;
}

/** A frame that failed ocpp-rpc's strict schema check (either direction). */
export interface StrictFailure {
  identity: string;
  method: string;
  outbound: boolean;
  error: string;
}

export interface ReceivedCall {
  identity: string;
  action: string;
  params: Record<string, unknown>;
  /** StartTransaction only: the transactionId answered. */
  transactionId?: number;
}

export interface DevCsmsEvents {
  frame: [identity: string, outbound: boolean, text: string];
  call: [call: ReceivedCall];
  connect: [identity: string, protocol: string | undefined];
  disconnect: [identity: string];
  /** An upgrade admitted or refused (401) by the security policy. */
  admission: [admission: Admission];
}

interface RpcClientLike {
  identity: string;
  protocol?: string;
  handle(method: string, handler: (ctx: { params: Record<string, unknown> }) => unknown): void;
  handle(handler: (ctx: { method: string; params: Record<string, unknown> }) => unknown): void;
  call(method: string, params: unknown): Promise<unknown>;
  sendRaw(message: string): void;
  on(event: 'message', l: (e: { message: Buffer | string; outbound: boolean }) => void): void;
  on(event: 'strictValidationFailure', l: (e: { method: string; outbound: boolean; error: unknown }) => void): void;
  on(event: 'close', l: () => void): void;
  close(opts?: { code?: number; force?: boolean }): Promise<unknown>;
}

interface RpcModule {
  RPCServer: new (o: object) => RpcServerLike;
}

interface RpcServerLike {
  on(event: 'client', l: (client: RpcClientLike) => void): void;
  readonly handleUpgrade: (request: IncomingMessage, socket: Duplex, head: Buffer) => void;
  close(opts?: { force?: boolean }): Promise<void>;
}

export class DevCsms extends EventEmitter<DevCsmsEvents> {
  readonly received: ReceivedCall[] = [];
  readonly strictFailures: StrictFailure[] = [];
  readonly admissions: Admission[] = [];
  private server: RpcServerLike | null = null;
  private listener: DualListener | null = null;
  private readonly policy: SecurityPolicy | null;
  private readonly clients = new Map<string, RpcClientLike>();
  private nextTransactionId = 1;
  /** StartTransaction params (JSON) -> transactionId, for sameIdForRetransmittedStart. */
  private readonly startIds = new Map<string, number>();
  private boundPort = 0;

  constructor(private readonly opts: DevCsmsOptions = {}) {
    super();
    this.policy = opts.security === undefined ? null : new SecurityPolicy(opts.security);
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    return `ws://${this.opts.host ?? '127.0.0.1'}:${this.boundPort}/ocpp`;
  }

  /** The same endpoint over TLS (with `security`). */
  get wssUrl(): string {
    return this.url.replace(/^ws:/, 'wss:');
  }

  /** Connections by transport since start: a charger on TLS must never come back in plain. */
  get connectionCounts(): { plain: number; tls: number } {
    return { plain: this.listener?.plainConnections ?? 0, tls: this.listener?.tlsConnections ?? 0 };
  }

  /** The security policy (required profile, keys), with `security`. */
  get securityPolicy(): SecurityPolicy | null {
    return this.policy;
  }

  async start(): Promise<void> {
    let mod: RpcModule;
    try {
      mod = (await import('ocpp-rpc')) as unknown as RpcModule;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') throw new DevDependenciesMissing();
      throw err;
    }
    const server = new mod.RPCServer({ protocols: ['ocpp1.6'], strictMode: true });
    server.on('client', (client) => this.attach(client));
    // Our own listener rather than server.listen(), which leaves a listen error (port in use)
    // as an unhandled 'error' event that kills the process instead of rejecting.
    const listener = new DualListener(this.opts.security?.pkiDir ?? null, (req, socket, head) => this.upgrade(server, req, socket, head));
    // A restart after stop() (outage simulation) listens on the same port again, so agents find it.
    this.boundPort = await listener.listen(this.opts.port ?? this.boundPort, this.opts.host ?? '127.0.0.1');
    this.server = server;
    this.listener = listener;
  }

  private upgrade(server: RpcServerLike, req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.policy !== null) {
      const admission = this.policy.admit(req);
      this.admissions.push(admission);
      this.emit('admission', admission);
      if (admission.refused !== undefined) return refuseUpgrade(socket, 401, 'Unauthorized');
    }
    server.handleUpgrade(req, socket, head);
  }

  async stop(): Promise<void> {
    await this.server?.close({ force: true });
    this.server = null;
    const listener = this.listener;
    this.listener = null;
    await listener?.close();
  }

  /** Send a CALL to a connected charge point (RemoteStart, Reset, ...). */
  async call(identity: string, action: string, params: object): Promise<unknown> {
    const client = this.clients.get(identity);
    if (!client) throw new Error(`charge point ${identity} is not connected`);
    const answer = await client.call(action, params);
    // A strict CSMS from then on expects what it set: the key as the Basic password, the profile as a minimum.
    const p = params as { key?: unknown; value?: unknown };
    if (this.policy !== null && action === 'ChangeConfiguration' && (answer as { status?: string }).status === 'Accepted' && typeof p.value === 'string') {
      if (p.key === 'AuthorizationKey') this.policy.setAuthorizationKey(identity, p.value);
      if (p.key === 'SecurityProfile') this.policy.setTargetProfile(identity, Number(p.value));
    }
    return answer;
  }

  /** Send text as is on a charge point's socket (invalid frames for tests); no schema check. */
  sendRaw(identity: string, text: string): void {
    const client = this.clients.get(identity);
    if (!client) throw new Error(`charge point ${identity} is not connected`);
    client.sendRaw(text);
  }

  isConnected(identity: string): boolean {
    return this.clients.has(identity);
  }

  /** BootNotification answer from now on (e.g. Pending, then Accepted). */
  setBootStatus(status: 'Accepted' | 'Pending' | 'Rejected'): void {
    this.opts.bootStatus = status;
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
    client.on('strictValidationFailure', ({ method, outbound, error }) =>
      this.strictFailures.push({ identity: id, method, outbound, error: errorText(error) }),
    );
    client.on('close', () => {
      if (this.clients.get(id) === client) this.clients.delete(id);
      this.emit('disconnect', id);
    });
    const record = (action: string, params: Record<string, unknown>, transactionId?: number): void => {
      const call: ReceivedCall = { identity: id, action, params, ...(transactionId !== undefined ? { transactionId } : {}) };
      this.received.push(call);
      this.emit('call', call);
    };
    const now = (): string => new Date().toISOString();
    const rejected = new Set((this.opts.rejectedTags ?? []).map((t) => t.trim().toUpperCase()));
    const parents = new Map(Object.entries(this.opts.parentIdTags ?? {}).map(([k, v]) => [k.trim().toUpperCase(), v]));
    const idTagInfo = (tag: unknown) => {
      const key = String(tag).trim().toUpperCase();
      const parentIdTag = parents.get(key);
      return { status: rejected.has(key) ? 'Invalid' : 'Accepted', ...(parentIdTag ? { parentIdTag } : {}) };
    };

    client.handle('BootNotification', ({ params }) => {
      record('BootNotification', params);
      return { status: this.opts.bootStatus ?? 'Accepted', currentTime: now(), interval: this.opts.heartbeatIntervalS ?? 300 };
    });
    client.handle('Heartbeat', ({ params }) => (record('Heartbeat', params), { currentTime: now() }));
    client.handle('StatusNotification', ({ params }) => (record('StatusNotification', params), {}));
    client.handle('Authorize', ({ params }) => (record('Authorize', params), { idTagInfo: idTagInfo(params.idTag) }));
    client.handle('StartTransaction', ({ params }) => {
      const key = `${id} ${JSON.stringify(params)}`;
      const transactionId = (this.opts.sameIdForRetransmittedStart ? this.startIds.get(key) : undefined) ?? this.nextTransactionId++;
      this.startIds.set(key, transactionId);
      record('StartTransaction', params, transactionId);
      return { transactionId, idTagInfo: idTagInfo(params.idTag) };
    });
    client.handle('StopTransaction', async ({ params }) => {
      record('StopTransaction', params);
      const delayMs = this.opts.stopTransactionAnswerDelayMs ?? 0;
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
      return params.idTag === undefined ? {} : { idTagInfo: idTagInfo(params.idTag) };
    });
    client.handle('MeterValues', ({ params }) => (record('MeterValues', params), {}));
    client.handle('SignCertificate', ({ params }) => {
      record('SignCertificate', params);
      const pkiDir = this.opts.security?.pkiDir;
      if (pkiDir === undefined) return { status: 'Rejected' };
      // Answer first, then sign and send CertificateSigned (whitepaper A02 flow).
      setTimeout(() => {
        signCsr(pkiDir, String(params.csr))
          .then((certificateChain) => client.call('CertificateSigned', { certificateChain }))
          .then((answer) => record('CertificateSigned.conf', answer as Record<string, unknown>))
          .catch((err: unknown) => record('CertificateSigned.error', { error: errorText(err) }));
      }, 10);
      return { status: 'Accepted' };
    });
    client.handle('DataTransfer', ({ params }) => (record('DataTransfer', params), { status: 'UnknownVendorId' }));
    for (const [method, answer] of Object.entries(this.opts.answers ?? {})) {
      client.handle(method, async ({ params }) => (record(method, params), await answer(params, id)));
    }
    client.handle(({ method, params }) => (record(method, params), {}));
  }
}
