// OCPP-J RPC framing (OCPP-J 1.6 §4.1-4.2; unchanged in 2.0.1 Part 4 §4): parse and serialize
// CALL [2,id,action,payload], CALLRESULT [3,id,payload], CALLERROR [4,id,code,description,details].
// Pure and version-neutral: parseFrame never throws; a failure says whether a CALLERROR may be sent.

export const MESSAGE_TYPE = { CALL: 2, CALLRESULT: 3, CALLERROR: 4 } as const;

/** OCPP-J 1.6 §4.1.3: a message id is a string of at most 36 characters. */
export const MAX_MESSAGE_ID_LENGTH = 36;
/** OCPP 2.0.1 caps errorDescription at 255; 1.6 does not, but peers may, so we never send more. */
export const MAX_ERROR_DESCRIPTION_LENGTH = 255;

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export type CallFrame = readonly [messageTypeId: 2, messageId: string, action: string, payload: JsonObject];
export type CallResultFrame = readonly [messageTypeId: 3, messageId: string, payload: JsonObject];
export type CallErrorFrame = readonly [
  messageTypeId: 4,
  messageId: string,
  errorCode: string,
  errorDescription: string,
  errorDetails: JsonObject,
];
export type Frame = CallFrame | CallResultFrame | CallErrorFrame;

export type FrameFailureReason =
  | 'not-json'
  | 'not-array'
  | 'unknown-message-type'
  | 'bad-message-id'
  | 'wrong-length'
  | 'bad-action'
  | 'bad-payload'
  | 'bad-error-fields';

export interface FrameFailure {
  readonly ok: false;
  readonly reason: FrameFailureReason;
  readonly detail: string;
  /** Set when the message type could be read. */
  readonly messageTypeId?: number;
  /** Set when a valid message id could be read. */
  readonly messageId?: string;
  /**
   * Set only for a CALL whose id could be read: answer with a CALLERROR of this kind
   * ('malformed' = 1.6 FormationViolation, 'incomplete' = 1.6 ProtocolError). Otherwise drop and log:
   * a CALLRESULT/CALLERROR is never answered, and without an id there is nobody to answer.
   */
  readonly replyWith?: 'malformed' | 'incomplete';
}

export type ParseResult = { readonly ok: true; readonly frame: Frame } | FrameFailure;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Reads the id of a CALL from text that is not valid JSON, so the sender still gets an answer.
const CALL_ID_PREFIX = /^\s*\[\s*2\s*,\s*"([^"\\]{1,36})"\s*,/;

// The head of a frame too large to parse: message type, id and (for a CALL) the action, read from
// its first characters only, so an oversize CALL can still be answered and a result matched.
const FRAME_HEAD = /^\s*\[\s*([234])\s*,\s*"([^"\\]{1,36})"\s*(?:,\s*"([A-Za-z0-9]{1,64})")?/;
const FRAME_HEAD_CHARS = 160;

export interface FrameHead {
  readonly messageTypeId: 2 | 3 | 4;
  readonly messageId: string;
  /** For a CALL whose action could be read. */
  readonly action?: string;
}

/** Message type and id from the start of a frame's text without parsing the rest; null when unreadable. */
export function readFrameHead(text: string): FrameHead | null {
  const m = FRAME_HEAD.exec(text.slice(0, FRAME_HEAD_CHARS));
  if (m?.[1] === undefined || m[2] === undefined) return null;
  const messageTypeId = Number(m[1]) as 2 | 3 | 4;
  return { messageTypeId, messageId: m[2], ...(messageTypeId === 2 && m[3] !== undefined ? { action: m[3] } : {}) };
}

function fail(
  reason: FrameFailureReason,
  detail: string,
  extra: { messageTypeId?: number; messageId?: string; replyWith?: 'malformed' | 'incomplete' } = {},
): FrameFailure {
  return { ok: false, reason, detail, ...extra };
}

/** Parse one WebSocket text message into a typed frame or a typed failure. */
export function parseFrame(text: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    const m = CALL_ID_PREFIX.exec(text);
    return m?.[1] !== undefined
      ? fail('not-json', 'message is not valid JSON', { messageTypeId: 2, messageId: m[1], replyWith: 'malformed' })
      : fail('not-json', 'message is not valid JSON and no message id could be read');
  }
  if (!Array.isArray(value) || value.length === 0) return fail('not-array', 'message is not a non-empty JSON array');
  const [typeId, id] = value as unknown[];
  if (typeId !== 2 && typeId !== 3 && typeId !== 4) {
    // 1.6 §4.1.1: a message type not in the list is ignored (1.6 has no MessageTypeNotSupported).
    return fail('unknown-message-type', `unknown message type ${JSON.stringify(typeId)}`, {
      ...(typeof typeId === 'number' ? { messageTypeId: typeId } : {}),
    });
  }
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_MESSAGE_ID_LENGTH) {
    return fail('bad-message-id', `message id must be a string of 1..${MAX_MESSAGE_ID_LENGTH} characters`, {
      messageTypeId: typeId,
    });
  }
  const at = { messageTypeId: typeId, messageId: id };
  switch (typeId) {
    case 2:
      return parseCall(value, id, at);
    case 3:
      if (value.length !== 3) return fail('wrong-length', `CALLRESULT must have 3 elements, got ${value.length}`, at);
      if (!isJsonObject(value[2])) return fail('bad-payload', 'CALLRESULT payload is not a JSON object', at);
      return { ok: true, frame: [3, id, value[2]] };
    case 4:
      return parseCallError(value, id, at);
  }
}

function parseCall(value: unknown[], id: string, at: { messageTypeId: number; messageId: string }): ParseResult {
  if (value.length < 4) {
    return fail('wrong-length', `CALL must have 4 elements, got ${value.length}`, { ...at, replyWith: 'incomplete' });
  }
  if (value.length > 4) {
    return fail('wrong-length', `CALL must have 4 elements, got ${value.length}`, { ...at, replyWith: 'malformed' });
  }
  const [, , action, payload] = value;
  if (typeof action !== 'string' || action.length === 0) {
    return fail('bad-action', 'CALL action is not a non-empty string', { ...at, replyWith: 'malformed' });
  }
  if (!isJsonObject(payload)) {
    return fail('bad-payload', `CALL ${action} payload is not a JSON object`, { ...at, replyWith: 'malformed' });
  }
  return { ok: true, frame: [2, id, action, payload] };
}

function parseCallError(value: unknown[], id: string, at: { messageTypeId: number; messageId: string }): ParseResult {
  // Lenient on purpose: some Central Systems omit errorDetails; we only use a CALLERROR to reject a call.
  if (value.length !== 5 && value.length !== 4) {
    return fail('wrong-length', `CALLERROR must have 5 elements, got ${value.length}`, at);
  }
  const [, , code, description, details] = value;
  if (typeof code !== 'string' || (description !== undefined && typeof description !== 'string')) {
    return fail('bad-error-fields', 'CALLERROR errorCode/errorDescription are not strings', at);
  }
  return { ok: true, frame: [4, id, code, description ?? '', isJsonObject(details) ? details : {}] };
}

export function serializeCall(messageId: string, action: string, payload: object): string {
  return JSON.stringify([MESSAGE_TYPE.CALL, messageId, action, payload]);
}

export function serializeCallResult(messageId: string, payload: object): string {
  return JSON.stringify([MESSAGE_TYPE.CALLRESULT, messageId, payload]);
}

export function serializeCallError(
  messageId: string,
  errorCode: string,
  errorDescription: string,
  errorDetails: object = {},
): string {
  const description =
    errorDescription.length > MAX_ERROR_DESCRIPTION_LENGTH
      ? `${errorDescription.slice(0, MAX_ERROR_DESCRIPTION_LENGTH - 1)}…`
      : errorDescription;
  return JSON.stringify([MESSAGE_TYPE.CALLERROR, messageId, errorCode, description, errorDetails]);
}
