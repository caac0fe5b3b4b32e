// Diagnostics socket protocol: newline-delimited JSON over a
// Unix stream socket. The client opens with a hello naming the protocol and its version; then
// each request {id, cmd, args} gets one answer {id, ok, result | error}; `logs --follow` also
// streams {id, event: "log", line} until the client hangs up.

export const DIAG_PROTOCOL = 'charger-agent-diag';
export const DIAG_PROTOCOL_VERSION = 1;
/** Versions this agent answers; a client with another one is told and cut off. */
export const SUPPORTED_VERSIONS: readonly number[] = [1];
/** A request or answer line longer than this is refused (the socket is local, commands are small). */
export const MAX_LINE_BYTES = 64 * 1024;
/**
 * The group whose members may use the socket: not the service's own group, which may read
 * the config (and the CSMS password in it). The service has it as a supplementary group.
 */
export const ADMIN_GROUP = 'charger-agent-admin';

/** Plain JSON, the only thing that crosses the socket. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface Hello {
  hello: typeof DIAG_PROTOCOL;
  version: number;
}

export type HelloAnswer =
  | { hello: typeof DIAG_PROTOCOL; version: number; ok: true; agent: { version: string; chargePointId: string } }
  | { hello: typeof DIAG_PROTOCOL; version: number; ok: false; error: DiagErrorBody };

export type RequestId = number | string;

export interface DiagRequest {
  id: RequestId;
  cmd: string;
  args: JsonObject;
}

export type DiagErrorCode =
  | 'bad_json'
  | 'bad_request'
  | 'line_too_long'
  | 'handshake'
  | 'unsupported_version'
  | 'unknown_command'
  | 'bad_args'
  | 'busy'
  | 'evicted'
  | 'unavailable'
  | 'rejected'
  | 'failed';

export interface DiagErrorBody {
  code: DiagErrorCode;
  message: string;
}

export type DiagAnswer =
  | { id: RequestId | null; ok: true; result: Json }
  | { id: RequestId | null; ok: false; error: DiagErrorBody };

export interface DiagLogEvent {
  id: RequestId;
  event: 'log';
  line: string;
}

/** An error a command handler throws on purpose: it becomes the answer's `error`. */
export class DiagError extends Error {
  override readonly name = 'DiagError';
  constructor(
    readonly code: DiagErrorCode,
    message: string,
  ) {
    super(message);
  }

  toBody(): DiagErrorBody {
    return { code: this.code, message: this.message };
  }
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parse one line as JSON; DiagError('bad_json') when it is not. */
export function parseJsonLine(line: string): Json {
  try {
    return JSON.parse(line) as Json;
  } catch {
    throw new DiagError('bad_json', 'not valid JSON');
  }
}

/** The client's first line. Throws DiagError(handshake | unsupported_version). */
export function parseHello(line: string): Hello {
  const value = parseJsonLine(line);
  if (!isJsonObject(value) || value['hello'] !== DIAG_PROTOCOL) {
    throw new DiagError('handshake', `the first line must be {"hello":"${DIAG_PROTOCOL}","version":${DIAG_PROTOCOL_VERSION}}`);
  }
  const version = value['version'];
  if (typeof version !== 'number' || !SUPPORTED_VERSIONS.includes(version)) {
    throw new DiagError('unsupported_version', `protocol version ${JSON.stringify(version)} is not supported; this agent speaks ${SUPPORTED_VERSIONS.join(', ')}`);
  }
  return { hello: DIAG_PROTOCOL, version };
}

/** A request line after the handshake. Throws DiagError(bad_json | bad_request). */
export function parseRequest(line: string): DiagRequest {
  const value = parseJsonLine(line);
  if (!isJsonObject(value)) throw new DiagError('bad_request', 'a request is a JSON object {"id":..., "cmd":..., "args":{...}}');
  const id = value['id'];
  if (typeof id !== 'number' && typeof id !== 'string') throw new DiagError('bad_request', 'request "id" must be a number or a string');
  const cmd = value['cmd'];
  if (typeof cmd !== 'string' || cmd === '') throw new DiagError('bad_request', 'request "cmd" must be a non-empty string');
  const args = value['args'] ?? {};
  if (!isJsonObject(args)) throw new DiagError('bad_request', 'request "args" must be an object');
  return { id, cmd, args };
}

/** The id of a request line that failed to parse, when one can be read, so the error answer can carry it. */
export function requestIdOf(line: string): RequestId | null {
  try {
    const value = JSON.parse(line) as unknown;
    if (isJsonObject(value as Json)) {
      const id = (value as JsonObject)['id'];
      if (typeof id === 'number' || typeof id === 'string') return id;
    }
  } catch {
    // not JSON: no id
  }
  return null;
}
