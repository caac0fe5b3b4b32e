// OCPP-J RPC client, charge-point side, version-neutral over a Transport (OCPP-J 1.6 §4).
// At most one CALL of ours outstanding (§4.1.1 synchronicity) with a queue behind it; incoming CALLs
// are served meanwhile. ocpp-rpc strict-mode semantics: every payload in and out is schema-checked.
import { frameTextForLog } from './frame-text.js';
import { randomUUID } from 'node:crypto';
import { RPC_VOCABULARY_16, type CallErrorCode16, type RpcErrorVocabulary } from './error-codes.js';
import {
  parseFrame,
  readFrameHead,
  serializeCall,
  serializeCallError,
  serializeCallResult,
  type CallFrame,
  type FrameFailure,
  type JsonObject,
} from './frame.js';
import {
  CallErrorReply,
  CallTimeoutError,
  ConnectionClosedError,
  InvalidOutgoingPayloadError,
  InvalidResponseError,
  RemoteCallError,
} from './rpc-errors.js';
import { v16Validator, type Direction, type PayloadValidator, type ValidationResult } from './validation.js';
import type { ActionMap } from '../v16/generated/action-map.js';
import {
  SILENT_OCPP_LOGGER,
  SYSTEM_TIMERS,
  type TimerHandle,
  type TimerPort,
  type Transport,
  type TransportCloseInfo,
} from '../transport/transport.js';
import type { AgentLogger } from '../../platform/logger.js';

export const DEFAULT_CALL_TIMEOUT_MS = 30_000;
/**
 * Incoming frames above this are not parsed: a CALL whose id can be read gets a CALLERROR, the rest
 * is dropped and logged (the transport's hard cap above it closes the socket instead). Sized for
 * the largest message we accept: a Full SendLocalList of LocalAuthListMaxLength (10,000) worst-case
 * entries, ~1.5 MB (20-character tags, parent and expiry on each, ~153 bytes an entry).
 */
export const DEFAULT_MAX_INCOMING_BYTES = 2 * 1024 * 1024;

/** One row of a generated action map (e.g. v16 ActionMap). */
export interface ActionShape {
  request: object;
  response: object;
  initiator: 'cp' | 'csms' | 'both';
}
export type ActionMapShape<M> = { [A in keyof M]: ActionShape };
/** Actions we (the Charge Point) may CALL. */
export type OutgoingAction<M> = { [A in keyof M]: M[A] extends { initiator: 'csms' } ? never : A }[keyof M] & string;
/** Actions the Central System may CALL on us. */
export type IncomingAction<M> = { [A in keyof M]: M[A] extends { initiator: 'cp' } ? never : A }[keyof M] & string;

export interface CallContext {
  readonly messageId: string;
  readonly action: string;
}
export type CallHandler<Req, Res> = (request: Req, context: CallContext) => Res | Promise<Res>;

/** One frame seen on the wire, for the frame log (demo output, debugging). */
export interface FrameLogEvent {
  readonly direction: 'in' | 'out';
  /** 2 CALL, 3 CALLRESULT, 4 CALLERROR; undefined when unreadable. */
  readonly messageTypeId: number | undefined;
  readonly messageId: string | undefined;
  readonly action: string | undefined;
  readonly text: string;
}

export interface RpcClientOptions<C extends string = string> {
  readonly transport: Transport;
  readonly validator: PayloadValidator<C>;
  readonly vocabulary: RpcErrorVocabulary<C>;
  readonly callTimeoutMs?: number;
  readonly maxIncomingBytes?: number;
  readonly timers?: TimerPort;
  readonly newMessageId?: () => string;
  readonly logger?: AgentLogger;
  readonly onFrame?: (event: FrameLogEvent) => void;
}

interface QueuedCall {
  readonly action: string;
  readonly payload: object;
  readonly timeoutMs: number;
  readonly resolve: (response: object) => void;
  readonly reject: (error: Error) => void;
  messageId?: string;
  timer?: TimerHandle;
}

const LOG_TEXT_LIMIT = 512;

export class RpcClient<M extends ActionMapShape<M>, C extends string = string> {
  readonly #transport: Transport;
  readonly #validator: PayloadValidator<C>;
  readonly #vocabulary: RpcErrorVocabulary<C>;
  readonly #callTimeoutMs: number;
  readonly #maxIncomingBytes: number;
  readonly #timers: TimerPort;
  readonly #newMessageId: () => string;
  readonly #log: AgentLogger;
  readonly #onFrame: ((event: FrameLogEvent) => void) | undefined;
  readonly #handlers = new Map<string, CallHandler<never, object>>();
  readonly #queue: QueuedCall[] = [];
  #outstanding: QueuedCall | undefined;
  #disposed = false;
  /** Bumped on every close, so a reply is never sent on a newer connection than its CALL came on. */
  #epoch = 0;

  readonly #onMessage = (text: string): void => this.#receive(text);
  readonly #onClose = (info: TransportCloseInfo): void => {
    this.#epoch += 1;
    this.#failAll(info);
  };

  constructor(options: RpcClientOptions<C>) {
    this.#transport = options.transport;
    this.#validator = options.validator;
    this.#vocabulary = options.vocabulary;
    this.#callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.#maxIncomingBytes = options.maxIncomingBytes ?? DEFAULT_MAX_INCOMING_BYTES;
    this.#timers = options.timers ?? SYSTEM_TIMERS;
    this.#newMessageId = options.newMessageId ?? randomUUID;
    this.#log = options.logger ?? SILENT_OCPP_LOGGER;
    this.#onFrame = options.onFrame;
    this.#transport.on('message', this.#onMessage);
    this.#transport.on('close', this.#onClose);
  }

  /** Register the handler for a CALL the Central System may send. One handler per action. */
  handle<A extends IncomingAction<M>>(action: A, handler: CallHandler<M[A]['request'], M[A]['response']>): void {
    this.#handlers.set(action, handler as CallHandler<never, object>);
  }

  removeHandler(action: IncomingAction<M>): void {
    this.#handlers.delete(action);
  }

  /** CALLs waiting behind the outstanding one, plus the outstanding one. */
  get pendingCount(): number {
    return this.#queue.length + (this.#outstanding === undefined ? 0 : 1);
  }

  /**
   * Send a CALL and resolve with the validated CALLRESULT payload. Rejects with an RpcError:
   * InvalidOutgoingPayloadError (never sent), ConnectionClosedError, CallTimeoutError,
   * RemoteCallError (CALLERROR received) or InvalidResponseError.
   */
  call<A extends OutgoingAction<M>>(
    action: A,
    payload: M[A]['request'],
    options: { timeoutMs?: number } = {},
  ): Promise<M[A]['response']> {
    const checked = this.#validator.isKnownAction(action)
      ? this.#check(action, 'request', payload)
      : ({ ok: false, code: this.#vocabulary.notImplemented, message: `unknown action ${action}` } as const);
    if (!checked.ok) {
      // A bug in our own code: never put it on the wire.
      this.#log.error({ action, code: checked.code, detail: checked.message }, 'refusing to send invalid CALL');
      return Promise.reject(new InvalidOutgoingPayloadError(action, checked.code, checked.message));
    }
    if (this.#disposed || !this.#transport.isOpen()) {
      return Promise.reject(new ConnectionClosedError(action, false));
    }
    return new Promise<M[A]['response']>((resolve, reject) => {
      this.#queue.push({
        action,
        payload,
        timeoutMs: options.timeoutMs ?? this.#callTimeoutMs,
        resolve: resolve as (response: object) => void,
        reject,
      });
      this.#pump();
    });
  }

  /** Detach from the transport and reject everything pending. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#transport.off('message', this.#onMessage);
    this.#transport.off('close', this.#onClose);
    this.#failAll(undefined);
  }

  /** validate(), but a throwing validator (e.g. an unreadable schema file) becomes an internal error. */
  #check(action: string, direction: Direction, payload: unknown): ValidationResult<string> {
    try {
      return this.#validator.validate(action, direction, payload);
    } catch (err) {
      this.#log.error({ action, direction, err }, 'validator failed');
      return { ok: false, code: this.#vocabulary.internal, message: `cannot validate ${action} ${direction}` };
    }
  }

  #pump(): void {
    while (this.#outstanding === undefined && this.#queue.length > 0) {
      const next = this.#queue.shift() as QueuedCall;
      const messageId = this.#newMessageId();
      const text = serializeCall(messageId, next.action, next.payload);
      if (!this.#send(text, 2, messageId, next.action)) {
        next.reject(new ConnectionClosedError(next.action, false));
        continue;
      }
      next.messageId = messageId;
      next.timer = this.#timers.setTimeout(() => this.#timeout(next), next.timeoutMs);
      this.#outstanding = next;
    }
  }

  #timeout(call: QueuedCall): void {
    if (this.#outstanding !== call) return;
    this.#outstanding = undefined;
    const messageId = call.messageId ?? '';
    this.#log.warn({ action: call.action, messageId, timeoutMs: call.timeoutMs }, 'CALL timed out');
    call.reject(new CallTimeoutError(call.action, messageId, call.timeoutMs));
    this.#pump();
  }

  /** Settle the outstanding call if `messageId` is its id; false for unknown/late ids. */
  #settle(messageId: string, settle: (call: QueuedCall) => void): boolean {
    const call = this.#outstanding;
    if (call === undefined || call.messageId !== messageId) return false;
    this.#outstanding = undefined;
    if (call.timer !== undefined) this.#timers.clearTimeout(call.timer);
    settle(call);
    this.#pump();
    return true;
  }

  #failAll(info: TransportCloseInfo | undefined): void {
    const call = this.#outstanding;
    this.#outstanding = undefined;
    if (call !== undefined) {
      if (call.timer !== undefined) this.#timers.clearTimeout(call.timer);
      this.#log.warn({ action: call.action, messageId: call.messageId, code: info?.code }, 'connection closed with CALL outstanding');
      call.reject(new ConnectionClosedError(call.action, true));
    }
    for (const queued of this.#queue.splice(0)) queued.reject(new ConnectionClosedError(queued.action, false));
  }

  #send(text: string, messageTypeId: number, messageId: string, action: string | undefined): boolean {
    const sent = this.#transport.send(text);
    if (sent) this.#onFrame?.({ direction: 'out', messageTypeId, messageId, action, text });
    else this.#log.warn({ messageTypeId, messageId, action }, 'transport not open, frame not sent');
    return sent;
  }

  #receive(text: string): void {
    const limit = this.#maxIncomingBytes;
    // Cheap length test first (a UTF-16 unit is 1-3 UTF-8 bytes); count bytes only when it could matter.
    if (text.length > limit || (text.length * 3 > limit && Buffer.byteLength(text, 'utf8') > limit)) {
      this.#tooLarge(text, limit);
      return;
    }
    const parsed = parseFrame(text);
    if (!parsed.ok) {
      this.#onFrame?.({ direction: 'in', messageTypeId: parsed.messageTypeId, messageId: parsed.messageId, action: undefined, text });
      this.#malformed(parsed, text);
      return;
    }
    const frame = parsed.frame;
    const action = frame[0] === 2 ? frame[2] : this.#outstanding?.messageId === frame[1] ? this.#outstanding.action : undefined;
    this.#onFrame?.({ direction: 'in', messageTypeId: frame[0], messageId: frame[1], action, text });
    switch (frame[0]) {
      case 2:
        this.#serve(frame).catch((err: unknown) => this.#log.error({ err, messageId: frame[1] }, 'serving CALL failed'));
        return;
      case 3: {
        const [, messageId, payload] = frame;
        const known = this.#settle(messageId, (call) => {
          const checked = this.#check(call.action, 'response', payload);
          if (checked.ok) call.resolve(payload);
          else {
            this.#log.error({ action: call.action, messageId, code: checked.code, detail: checked.message }, 'invalid CALLRESULT');
            call.reject(new InvalidResponseError(call.action, checked.code, checked.message));
          }
        });
        if (!known) this.#log.warn({ messageId }, 'CALLRESULT for unknown or late message id dropped');
        return;
      }
      case 4: {
        const [, messageId, code, description, details] = frame;
        const known = this.#settle(messageId, (call) => call.reject(new RemoteCallError(call.action, code, description, details)));
        if (!known) this.#log.warn({ messageId, code }, 'CALLERROR for unknown or late message id dropped');
        return;
      }
    }
  }

  /** A frame over the limit: answer a CALL (its id read from the head), fail our CALL a result belongs to. */
  #tooLarge(text: string, limit: number): void {
    const bytes = Buffer.byteLength(text, 'utf8');
    const head = readFrameHead(text);
    const detail = `message of ${bytes} bytes exceeds the ${limit}-byte frame limit`;
    this.#onFrame?.({ direction: 'in', messageTypeId: head?.messageTypeId, messageId: head?.messageId, action: head?.action, text: frameTextForLog(text, LOG_TEXT_LIMIT) });
    if (head === null) {
      this.#log.warn({ bytes, limit, head: frameTextForLog(text, 80) }, 'incoming frame too large and no message id readable, dropped');
      return;
    }
    const { messageTypeId, messageId, action } = head;
    this.#log.warn({ bytes, limit, messageTypeId, messageId, action }, 'incoming frame too large');
    if (messageTypeId === 2) {
      this.#send(serializeCallError(messageId, this.#vocabulary.tooLarge, detail, { maxBytes: limit }), 4, messageId, action);
      return;
    }
    this.#settle(messageId, (call) => call.reject(new InvalidResponseError(call.action, this.#vocabulary.tooLarge, detail)));
  }

  #malformed(failure: FrameFailure, text: string): void {
    this.#log.warn(
      { reason: failure.reason, detail: failure.detail, messageId: failure.messageId, text: frameTextForLog(text, LOG_TEXT_LIMIT) },
      'malformed frame',
    );
    const id = failure.messageId;
    if (id === undefined) return;
    if (failure.replyWith !== undefined) {
      this.#send(serializeCallError(id, this.#vocabulary[failure.replyWith], failure.detail), 4, id, undefined);
      return;
    }
    // A broken CALLRESULT/CALLERROR for our outstanding CALL: fail it now instead of waiting for the timeout.
    this.#settle(id, (call) => call.reject(new InvalidResponseError(call.action, this.#vocabulary.malformed, failure.detail)));
  }

  /** Answer one incoming CALL with exactly one CALLRESULT or CALLERROR. */
  async #serve([, messageId, action, payload]: CallFrame): Promise<void> {
    const epoch = this.#epoch;
    const reply = (text: string, messageTypeId: number): void => {
      if (epoch === this.#epoch) this.#send(text, messageTypeId, messageId, action);
      else this.#log.warn({ action, messageId }, 'connection changed while handling CALL, reply dropped');
    };
    const replyError = (code: string, description: string, details: JsonObject = {}): void =>
      reply(serializeCallError(messageId, code, description, details), 4);
    if (!this.#validator.isKnownAction(action)) {
      replyError(this.#vocabulary.notImplemented, `Action ${action} is not known`);
      return;
    }
    const request = this.#check(action, 'request', payload);
    if (!request.ok) {
      this.#log.warn({ action, messageId, code: request.code, detail: request.message }, 'invalid incoming CALL');
      replyError(request.code, request.message);
      return;
    }
    const handler = this.#handlers.get(action);
    if (handler === undefined) {
      replyError(this.#vocabulary.notSupported, `Action ${action} is not supported`);
      return;
    }
    let result: unknown;
    try {
      result = await (handler as CallHandler<JsonObject, object>)(payload, { messageId, action });
    } catch (error) {
      if (error instanceof CallErrorReply) {
        replyError(error.errorCode, error.message, error.errorDetails);
      } else {
        this.#log.error({ action, messageId, err: error }, 'CALL handler threw');
        replyError(this.#vocabulary.internal, `Internal error while handling ${action}`);
      }
      return;
    }
    const response = this.#check(action, 'response', result);
    if (!response.ok) {
      // Our own handler built a response the schema rejects: a bug; never send it.
      this.#log.error({ action, messageId, code: response.code, detail: response.message, result }, 'handler produced an invalid response');
      replyError(this.#vocabulary.internal, `Internal error: invalid ${action} response`);
      return;
    }
    reply(serializeCallResult(messageId, result as object), 3);
  }
}

/** An RpcClient for OCPP 1.6 (+ Security Whitepaper): v16 schemas and the 1.6 CALLERROR vocabulary. */
export function createV16RpcClient(
  options: Omit<RpcClientOptions<CallErrorCode16>, 'validator' | 'vocabulary'>,
): RpcClient<ActionMap, CallErrorCode16> {
  return new RpcClient<ActionMap, CallErrorCode16>({ ...options, validator: v16Validator, vocabulary: RPC_VOCABULARY_16 });
}
