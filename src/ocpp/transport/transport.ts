// Transport port for the OCPP-J RPC layer (OCPP-J 1.6 §3): a message-oriented connection to the
// Central System that reconnects by itself. ws-transport.ts implements it on `ws`; tests may inject
// their own. Also the timer port the RPC and transport layers take so tests can drive time.

import type { AgentLogger } from '../../platform/logger.js';

export interface TransportCloseInfo {
  /** WebSocket close code (1006 when the connection dropped without a close frame). */
  readonly code: number;
  readonly reason: string;
  /** True when the transport will reconnect by itself after `reconnectDelayMs`. */
  readonly willReconnect: boolean;
  readonly reconnectDelayMs?: number;
  /** False when the attempt ended before the WebSocket opened (handshake, TLS or network failure). */
  readonly wasOpen: boolean;
}

export type TransportErrorKind =
  | 'config' // bad options (URL scheme vs security profile, missing key, ...)
  | 'subprotocol-rejected' // server did not agree to the requested OCPP subprotocol
  | 'handshake-rejected' // HTTP status other than 101 (e.g. 401 for a wrong AuthorizationKey)
  | 'tls' // certificate / TLS failure
  | 'pong-timeout' // no pong within the ping interval
  | 'network'; // anything else on the socket

/** A typed transport failure; reported through the `error` event (never thrown across the port). */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  readonly kind: TransportErrorKind;
  readonly statusCode: number | undefined;

  constructor(kind: TransportErrorKind, message: string, options: { cause?: unknown; statusCode?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.statusCode = options.statusCode;
  }
}

export interface TransportEvents {
  open: [];
  message: [text: string];
  /** A connection, or a connection attempt, ended. */
  close: [info: TransportCloseInfo];
  error: [error: TransportError];
}

export type TransportEventName = keyof TransportEvents;
export type TransportListener<E extends TransportEventName> = (...args: TransportEvents[E]) => void;

/** The port the RPC client talks to. */
export interface Transport {
  /** Start connecting; reconnects by itself until close(). */
  open(): void;
  /** Graceful close (1000); no reconnect afterwards. Resolves when the socket is closed. */
  close(): Promise<void>;
  /** Send one text message; false when not connected (nothing is queued here). */
  send(text: string): boolean;
  isOpen(): boolean;
  on<E extends TransportEventName>(event: E, listener: TransportListener<E>): this;
  off<E extends TransportEventName>(event: E, listener: TransportListener<E>): this;
}

/** Opaque handle returned by TimerPort.setTimeout. */
export type TimerHandle = object | number;

/**
 * Timer seam (shaped like the globals) so tests can drive timeouts, pings and backoff.
 * The platform Clock (src/platform/clock.ts) satisfies it structurally.
 */
export interface TimerPort {
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

export const SYSTEM_TIMERS: TimerPort = {
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout> | undefined),
};

const noop = (): void => {};
export const SILENT_OCPP_LOGGER: AgentLogger = { debug: noop, info: noop, warn: noop, error: noop };
