// WebSocket transport on `ws` for OCPP-J 1.6 (§3: <url>/<chargePointId>, subprotocol "ocpp1.6") with
// the Security Whitepaper profiles 0-3 (§2.2-2.4: Basic auth, TLS server check, TLS client certificate),
// WebSocket ping/pong liveness, and reconnect with full-jitter exponential backoff.
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type { default as WsWebSocket, ClientOptions, RawData } from 'ws';
import { flooredNow } from '../../security/clock-floor.js';
import type { SecurityEventSink, SecurityEventType } from '../../security/security-events.js';
import { TlsCheckError, tlsFailureClass, verifiedTlsConnect } from '../../security/tls-server-check.js';
import { ReconnectBackoff, type ReconnectOptions } from './reconnect-backoff.js';
import {
  SILENT_OCPP_LOGGER,
  SYSTEM_TIMERS,
  TransportError,
  type TimerHandle,
  type TimerPort,
  type Transport,
  type TransportEvents,
} from './transport.js';
import type { AgentLogger } from '../../platform/logger.js';

// Required, not imported: `ws`'s ESM wrapper makes Node lex each of its CommonJS files for named
// exports, a cost on the start path a slow board feels (docs/benchmarks.md, start-up).
const WebSocket = createRequire(import.meta.url)('ws') as typeof WsWebSocket;
type WebSocket = WsWebSocket;

export type SecurityProfile = 0 | 1 | 2 | 3;

/**
 * What may change while the agent runs (a SecurityProfile raise, a new AuthorizationKey, an installed
 * root or a renewed client certificate): read again before every connection attempt.
 */
export interface ConnectionSettings {
  readonly url: string;
  readonly securityProfile: SecurityProfile;
  readonly authorizationKey?: string;
  readonly ca?: string | readonly string[];
  readonly clientCert?: string;
  readonly clientKey?: string;
}

export interface WsTransportOptions {
  /** CSMS endpoint without the id, e.g. "wss://csms.example.com/ocpp" (a trailing slash is fine). */
  readonly url: string;
  readonly chargePointId: string;
  /** 0: ws, no auth; 1: ws + Basic; 2: wss + Basic; 3: wss + client certificate (Security Whitepaper §2). */
  readonly securityProfile: SecurityProfile;
  /** Basic-auth password for profiles 1 and 2 (configuration key AuthorizationKey), used as-is. */
  readonly authorizationKey?: string;
  /**
   * CA certificates (PEM text or file paths): the installed CentralSystemRootCertificates. When given
   * they replace the system CAs, for OpenSSL and for our own chain check (src/security/tls-server-check.ts).
   */
  readonly ca?: string | readonly string[];
  /** Time to check the server certificate at; default max(system time, build date) (clock-floor.ts). */
  readonly validationTime?: () => Date;
  /** Profile 3 client certificate chain and private key (PEM text or file paths), re-read on each connect. */
  readonly clientCert?: string;
  readonly clientKey?: string;
  readonly subprotocol?: string;
  /** WebSocket ping period (configuration key WebSocketPingInterval); 0 = off. Default 30. */
  readonly pingIntervalSeconds?: number;
  /** Hard cap on one incoming message; ws closes the connection (1009) above it. Default 4 MiB. */
  readonly maxPayloadBytes?: number;
  readonly handshakeTimeoutMs?: number;
  /** Wait this long for the server's close frame on close() before terminating. Default 5000. */
  readonly closeTimeoutMs?: number;
  readonly reconnect?: Partial<ReconnectOptions>;
  readonly random?: () => number;
  readonly timers?: TimerPort;
  readonly logger?: AgentLogger;
  /** When given, overrides url, profile, key, CA and client certificate on each connect. */
  readonly settings?: () => ConnectionSettings;
  /** FailedToAuthenticateAtCentralSystem and the TLS refusals, once per outage. */
  readonly securityEvents?: SecurityEventSink;
}

/**
 * Twice the RPC layer's 2 MiB frame limit: a frame between the two still reaches the RPC layer,
 * which answers it with a CALLERROR; only beyond this is the socket closed. Bounds what one
 * message can cost in memory (buffer, then its text) to a few times 4 MiB on a 512 MB board.
 */
export const DEFAULT_MAX_PAYLOAD_BYTES = 4 * 1024 * 1024;

/** Text of a PEM given inline, or read from the file it names. */
function loadPem(value: string): string {
  return value.includes('-----BEGIN') ? value : readFileSync(value, 'utf8');
}

/** `<url>/<chargePointId>` (OCPP-J 1.6 §3.1.1), tolerating trailing slashes on the url. */
export function endpointUrl(url: string, chargePointId: string): string {
  const u = new URL(url);
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/${encodeURIComponent(chargePointId)}`;
  return u.toString();
}

function checkOptions(o: WsTransportOptions): void {
  const scheme = new URL(o.url).protocol;
  const tls = o.securityProfile >= 2;
  if (scheme !== (tls ? 'wss:' : 'ws:')) {
    throw new TransportError('config', `security profile ${o.securityProfile} needs a ${tls ? 'wss' : 'ws'}:// url, got ${scheme}//`);
  }
  if (o.chargePointId.length === 0) throw new TransportError('config', 'chargePointId is empty');
  if ((o.securityProfile === 1 || o.securityProfile === 2) && !o.authorizationKey) {
    throw new TransportError('config', `security profile ${o.securityProfile} needs an AuthorizationKey`);
  }
  if ((o.securityProfile === 1 || o.securityProfile === 2) && o.chargePointId.includes(':')) {
    throw new TransportError('config', 'chargePointId must not contain ":" with Basic auth (RFC 7617 user-id)');
  }
  if (o.securityProfile === 3 && (!o.clientCert || !o.clientKey)) {
    throw new TransportError('config', 'security profile 3 needs clientCert and clientKey');
  }
}

type State = 'stopped' | 'connecting' | 'open' | 'waiting';

export class WsTransport extends EventEmitter<TransportEvents> implements Transport {
  readonly #o: WsTransportOptions;
  #url: string;
  readonly #subprotocol: string;
  readonly #timers: TimerPort;
  readonly #log: AgentLogger;
  readonly #backoff: ReconnectBackoff;
  #state: State = 'stopped';
  #ws: WebSocket | undefined;
  #failure: TransportError | undefined;
  #reconnectTimer: TimerHandle | undefined;
  #pingTimer: TimerHandle | undefined;
  #stableTimer: TimerHandle | undefined;
  #awaitingPong = false;
  #closed: Promise<void> = Promise.resolve();
  #tlsSeen = false; // a TLS connection has been open: no plain attempt from then on (no downgrade)
  /** Security events reported since the last open connection (once per outage, not per retry). */
  readonly #reportedEvents = new Set<SecurityEventType>();
  /** reconnect() asked for the next attempt at once rather than after a backoff delay. */
  #reconnectNow = false;

  constructor(options: WsTransportOptions) {
    super();
    // With a settings provider the options are checked on each connect (a bad one is reported, not thrown).
    if (options.settings === undefined) checkOptions(options);
    this.#o = options;
    this.#url = endpointUrl(options.url, options.chargePointId);
    this.#subprotocol = options.subprotocol ?? 'ocpp1.6';
    this.#timers = options.timers ?? SYSTEM_TIMERS;
    this.#log = options.logger ?? SILENT_OCPP_LOGGER;
    this.#backoff = new ReconnectBackoff(options.reconnect, options.random);
  }

  /** The full endpoint, `<url>/<chargePointId>`. */
  get url(): string {
    return this.#url;
  }

  isOpen(): boolean {
    return this.#state === 'open' && this.#ws?.readyState === WebSocket.OPEN;
  }

  open(): void {
    if (this.#state !== 'stopped') return;
    this.#connect();
  }

  send(text: string): boolean {
    const ws = this.#ws;
    if (!this.isOpen() || ws === undefined) return false;
    ws.send(text, (err) => {
      if (err) this.#log.warn({ err }, 'websocket send failed');
    });
    return true;
  }

  /**
   * Close the connection (after what was sent) and connect again at once with the current settings:
   * a security profile switch, a new AuthorizationKey, a new client certificate. No-op when stopped.
   */
  reconnect(reason: string): void {
    if (this.#state === 'stopped') return;
    this.#log.info({ reason }, 'reconnecting with the current settings');
    this.#backoff.reset();
    const ws = this.#ws;
    if (ws === undefined) {
      this.#clearTimers();
      this.#connect();
      return;
    }
    this.#reconnectNow = true;
    if (ws.readyState === WebSocket.OPEN) {
      // 1012 Service Restart: the server may expect us back at once. Reason kept well under 123 bytes.
      ws.close(1012, reason.slice(0, 100));
      const guard = this.#timers.setTimeout(() => ws.terminate(), this.#o.closeTimeoutMs ?? 5000);
      void this.#closed.then(() => this.#timers.clearTimeout(guard));
    } else {
      ws.terminate();
    }
  }

  async close(): Promise<void> {
    const ws = this.#ws;
    this.#state = 'stopped';
    this.#clearTimers();
    if (ws === undefined) return;
    const closed = this.#closed;
    if (ws.readyState === WebSocket.OPEN) {
      ws.close(1000, 'shutdown');
      const guard = this.#timers.setTimeout(() => ws.terminate(), this.#o.closeTimeoutMs ?? 5000);
      await closed;
      this.#timers.clearTimeout(guard);
    } else {
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      await closed;
    }
  }

  /** The options of this attempt: the static ones with the current settings over them. */
  #current(): WsTransportOptions {
    const dynamic = this.#o.settings?.();
    return dynamic === undefined ? this.#o : { ...this.#o, ...dynamic };
  }

  #connect(): void {
    this.#state = 'connecting';
    this.#failure = undefined;
    let options: ClientOptions;
    let o: WsTransportOptions;
    try {
      o = this.#current();
      checkOptions(o);
      if (this.#tlsSeen && o.securityProfile < 2) {
        throw new TransportError('config', `refusing a plain connection with security profile ${o.securityProfile}: this agent has connected over TLS (no downgrade)`);
      }
      this.#url = endpointUrl(o.url, o.chargePointId);
      options = this.#clientOptions(o);
    } catch (cause) {
      const error = cause instanceof TransportError ? cause : new TransportError('config', `cannot load TLS material: ${String(cause)}`, { cause });
      this.#report(error);
      this.#afterClose(1006, '', false);
      return;
    }
    this.#log.info({ url: this.#url, securityProfile: o.securityProfile }, 'connecting');
    const ws = new WebSocket(this.#url, [this.#subprotocol], options);
    this.#ws = ws;
    let wasOpen = false;
    this.#closed = new Promise<void>((resolve) => {
      ws.once('close', (code: number, reason: Buffer) => {
        if (this.#ws === ws) {
          this.#ws = undefined;
          this.#afterClose(code, reason.toString('utf8'), wasOpen);
        }
        resolve();
      });
    });
    ws.on('upgrade', (res: IncomingMessage) => {
      const agreed = res.headers['sec-websocket-protocol'];
      if (agreed !== this.#subprotocol) {
        this.#failure = new TransportError(
          'subprotocol-rejected',
          `server did not accept subprotocol ${this.#subprotocol} (answered ${agreed === undefined ? 'none' : JSON.stringify(agreed)})`,
        );
      }
    });
    ws.on('unexpected-response', (_req, res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      this.#failure = new TransportError('handshake-rejected', `server answered the upgrade with HTTP ${status}`, {
        statusCode: status,
      });
      ws.terminate();
    });
    ws.on('open', () => {
      wasOpen = true;
      this.#state = 'open';
      if (o.securityProfile >= 2) this.#tlsSeen = true;
      this.#reportedEvents.clear();
      this.#log.info({ url: this.#url, protocol: ws.protocol }, 'connected');
      this.#stableTimer = this.#timers.setTimeout(() => this.#backoff.reset(), this.#backoff.options.stableAfterMs);
      this.#schedulePing(ws);
      this.emit('open');
    });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) {
        this.#log.warn({ bytes: Buffer.isBuffer(data) ? data.length : undefined }, 'binary frame dropped (OCPP-J is text only)');
        return;
      }
      this.emit('message', Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8'));
    });
    ws.on('pong', () => {
      this.#awaitingPong = false;
    });
    ws.on('error', (err: Error & { code?: string }) => {
      this.#failure ??= classify(err);
    });
  }

  #clientOptions(o: WsTransportOptions): ClientOptions {
    const headers: Record<string, string> = {};
    if (o.securityProfile === 1 || o.securityProfile === 2) {
      headers['Authorization'] = `Basic ${Buffer.from(`${o.chargePointId}:${o.authorizationKey ?? ''}`, 'utf8').toString('base64')}`;
    }
    const options: ClientOptions = {
      headers,
      maxPayload: o.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES,
      handshakeTimeout: o.handshakeTimeoutMs ?? 30_000,
      followRedirects: false,
      perMessageDeflate: false,
      // One message per event-loop turn: frames read in one chunk (a CALLRESULT and the CSMS's next
      // CALL right behind it) would otherwise be emitted back to back, and the CALL served before
      // the code awaiting that result ran (a RemoteStopTransaction not finding the id just given).
      allowSynchronousEvents: false,
    };
    if (o.securityProfile >= 2) {
      // Security Whitepaper §2.3: TLS 1.2 or above, checked server certificate. The connection is made
      // and checked by verifiedTlsConnect (own chain check at the floored time, whitepaper cipher
      // suites) before ws sends the upgrade; these options also reach it.
      options.minVersion = 'TLSv1.2';
      const ca = o.ca === undefined ? undefined : (typeof o.ca === 'string' ? [o.ca] : [...o.ca]).map(loadPem);
      if (ca !== undefined) options.ca = ca;
      const connect = verifiedTlsConnect({
        ...(ca !== undefined ? { ca } : {}),
        validationTime: o.validationTime ?? (() => flooredNow()),
        handshakeTimeoutMs: o.handshakeTimeoutMs ?? 30_000,
      });
      // ws hands createConnection to http, which accepts the (options, callback) form.
      options.createConnection = connect as unknown as ClientOptions['createConnection'];
      if (o.securityProfile === 3) {
        options.cert = loadPem(o.clientCert ?? '');
        options.key = loadPem(o.clientKey ?? '');
      }
    }
    return options;
  }

  #schedulePing(ws: WebSocket): void {
    const seconds = this.#o.pingIntervalSeconds ?? 30;
    if (seconds <= 0) return;
    this.#awaitingPong = false;
    const tick = (): void => {
      if (this.#ws !== ws || ws.readyState !== WebSocket.OPEN) return;
      if (this.#awaitingPong) {
        this.#failure = new TransportError('pong-timeout', `no pong within ${seconds} s`);
        // Reported (one warning) by #afterClose with the other failures.
        this.#log.debug({ seconds }, 'no pong, terminating connection');
        ws.terminate();
        return;
      }
      this.#awaitingPong = true;
      ws.ping();
      this.#pingTimer = this.#timers.setTimeout(tick, seconds * 1000);
    };
    this.#pingTimer = this.#timers.setTimeout(tick, seconds * 1000);
  }

  #report(error: TransportError): void {
    // The one warning per failed attempt or lost connection (listeners do not log it again).
    this.#log.warn({ url: this.#url, kind: error.kind, statusCode: error.statusCode, err: error.message }, 'CSMS connection problem');
    // Emit only with a listener: an unhandled 'error' on an EventEmitter would throw.
    if (this.listenerCount('error') > 0) this.emit('error', error);
    const event = securityEventOf(error);
    if (event !== undefined && this.#o.securityEvents !== undefined && !this.#reportedEvents.has(event)) {
      this.#reportedEvents.add(event);
      this.#o.securityEvents.report(event, `${this.#url}: ${error.message}`.slice(0, 255));
    }
  }

  #afterClose(code: number, reason: string, wasOpen: boolean): void {
    this.#clearTimers();
    const failure = this.#failure;
    this.#failure = undefined;
    if (failure !== undefined) this.#report(failure);
    if (this.#state === 'stopped') {
      this.emit('close', { code, reason, willReconnect: false, wasOpen });
      return;
    }
    const delay = this.#reconnectNow ? 0 : this.#backoff.next();
    this.#reconnectNow = false;
    this.#state = 'waiting';
    this.#log.info({ code, reason, wasOpen, reconnectDelayMs: delay, attempt: this.#backoff.attempts }, 'connection closed, reconnecting');
    this.#reconnectTimer = this.#timers.setTimeout(() => {
      this.#reconnectTimer = undefined;
      if (this.#state === 'waiting') this.#connect();
    }, delay);
    this.emit('close', { code, reason, willReconnect: true, reconnectDelayMs: delay, wasOpen });
  }

  #clearTimers(): void {
    for (const t of [this.#reconnectTimer, this.#pingTimer, this.#stableTimer]) if (t !== undefined) this.#timers.clearTimeout(t);
    this.#reconnectTimer = this.#pingTimer = this.#stableTimer = undefined;
  }
}

/** The whitepaper security event a failed attempt raises, if any (appendix 1). */
function securityEventOf(error: TransportError): SecurityEventType | undefined {
  if (error.kind === 'handshake-rejected' && error.statusCode === 401) return 'FailedToAuthenticateAtCentralSystem';
  if (error.kind === 'tls') return tlsFailureClass(error);
  return undefined;
}

function classify(err: Error & { code?: string }): TransportError {
  // Refused by our own TLS checks: the cause carries the security event class (tlsFailureClass).
  if (err instanceof TlsCheckError) return new TransportError('tls', err.message, { cause: err });
  const code = err.code ?? '';
  const tls = /CERT|SSL|TLS/.test(code) || code === 'EPROTO' || /certificate|ssl|tls/i.test(err.message);
  return new TransportError(tls ? 'tls' : 'network', `${code ? `${code}: ` : ''}${err.message}`, { cause: err });
}
