// Typed errors of the OCPP-J RPC client (OCPP-J 1.6 §4): how one of our CALLs can fail, and the
// error a handler throws to answer an incoming CALL with a chosen CALLERROR code.
import type { JsonObject } from './frame.js';

export type RpcErrorKind =
  | 'call-timeout'
  | 'connection-closed'
  | 'remote-callerror'
  | 'invalid-response'
  | 'invalid-outgoing-payload';

/** Base of every rejection of RpcClient.call(). */
export abstract class RpcError extends Error {
  abstract readonly kind: RpcErrorKind;
  /** The action of the CALL that failed. */
  readonly action: string;

  constructor(action: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.action = action;
  }
}

/** No CALLRESULT/CALLERROR within the call timeout; the next queued CALL is sent. */
export class CallTimeoutError extends RpcError {
  override readonly name = 'CallTimeoutError';
  readonly kind = 'call-timeout';
  readonly messageId: string;
  readonly timeoutMs: number;

  constructor(action: string, messageId: string, timeoutMs: number) {
    super(action, `${action} (${messageId}) got no response within ${timeoutMs} ms`);
    this.messageId = messageId;
    this.timeoutMs = timeoutMs;
  }
}

/** The connection closed (or was not open) before a response arrived; the outbox retries. */
export class ConnectionClosedError extends RpcError {
  override readonly name = 'ConnectionClosedError';
  readonly kind = 'connection-closed';
  /** True when the CALL may have reached the peer (it was sent before the close). */
  readonly maybeDelivered: boolean;

  constructor(action: string, maybeDelivered: boolean) {
    super(action, `${action}: connection ${maybeDelivered ? 'closed before the response' : 'not open'}`);
    this.maybeDelivered = maybeDelivered;
  }
}

/** The peer answered with a CALLERROR. */
export class RemoteCallError extends RpcError {
  override readonly name = 'RemoteCallError';
  readonly kind = 'remote-callerror';
  readonly errorCode: string;
  readonly errorDescription: string;
  readonly errorDetails: JsonObject;

  constructor(action: string, errorCode: string, errorDescription: string, errorDetails: JsonObject) {
    super(action, `${action} answered with CALLERROR ${errorCode}: ${errorDescription}`);
    this.errorCode = errorCode;
    this.errorDescription = errorDescription;
    this.errorDetails = errorDetails;
  }
}

/** The peer's CALLRESULT failed the response schema (or was malformed). */
export class InvalidResponseError extends RpcError {
  override readonly name = 'InvalidResponseError';
  readonly kind = 'invalid-response';
  /** The CALLERROR code this failure maps to (for logs; a CALLRESULT is never answered). */
  readonly errorCode: string;

  constructor(action: string, errorCode: string, detail: string) {
    super(action, `${action} response rejected (${errorCode}): ${detail}`);
    this.errorCode = errorCode;
  }
}

/** Our own CALL failed its request schema: a bug on our side; it was never sent. */
export class InvalidOutgoingPayloadError extends RpcError {
  override readonly name = 'InvalidOutgoingPayloadError';
  readonly kind = 'invalid-outgoing-payload';
  readonly errorCode: string;

  constructor(action: string, errorCode: string, detail: string) {
    super(action, `${action} not sent, payload invalid (${errorCode}): ${detail}`);
    this.errorCode = errorCode;
  }
}

/** Throw from a CALL handler to answer with this CALLERROR instead of InternalError. */
export class CallErrorReply extends Error {
  override readonly name = 'CallErrorReply';
  readonly errorCode: string;
  readonly errorDetails: JsonObject;

  constructor(errorCode: string, description: string, errorDetails: JsonObject = {}) {
    super(description);
    this.errorCode = errorCode;
    this.errorDetails = errorDetails;
  }
}
