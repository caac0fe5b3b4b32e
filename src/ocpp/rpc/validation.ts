// Payload validation with ajv 8 against the vendored schemas, compiled lazily per action+direction.
// Maps the failing ajv keyword to the OCPP-J 1.6 §4.2.3 CALLERROR code; rpc-client.ts applies
// ocpp-rpc's strict-mode semantics (reject bad outbound, CALLERROR bad inbound).
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type SchemaObject, type ValidateFunction } from 'ajv';
import { ACTIONS, isAction, type Action } from '../v16/generated/action-map.js';
import type { CallErrorCode16 } from './error-codes.js';

export type Direction = 'request' | 'response';

export type ValidationResult<C extends string = CallErrorCode16> =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: C; readonly message: string };

/** What the RPC layer needs from a version's schema set. */
export interface PayloadValidator<C extends string = string> {
  isKnownAction(action: string): boolean;
  validate(action: string, direction: Direction, payload: unknown): ValidationResult<C>;
}

/**
 * ajv keyword -> OCPP-J 1.6 CALLERROR code. Unlisted keywords -> FormationViolation.
 * - additionalProperties -> PropertyConstraintViolation: the JSON and the PDU's own fields are intact
 *   (so not FormationViolation, "syntactically incorrect"); what is wrong is a property the PDU does
 *   not allow, i.e. "at least one field contains an invalid value". ocpp-rpc maps it the same way.
 * - minItems/maxItems -> OccurenceConstraintViolation: they bound how often an element occurs (the
 *   spec's cardinality "1..*"), exactly like `required` bounds it at 1.
 */
export const KEYWORD_CODES_16: Readonly<Record<string, CallErrorCode16>> = {
  type: 'TypeConstraintViolation',
  required: 'OccurenceConstraintViolation',
  minItems: 'OccurenceConstraintViolation',
  maxItems: 'OccurenceConstraintViolation',
  maxLength: 'PropertyConstraintViolation',
  minLength: 'PropertyConstraintViolation',
  enum: 'PropertyConstraintViolation',
  const: 'PropertyConstraintViolation',
  minimum: 'PropertyConstraintViolation',
  maximum: 'PropertyConstraintViolation',
  exclusiveMinimum: 'PropertyConstraintViolation',
  exclusiveMaximum: 'PropertyConstraintViolation',
  multipleOf: 'PropertyConstraintViolation',
  format: 'PropertyConstraintViolation',
  pattern: 'PropertyConstraintViolation',
  additionalProperties: 'PropertyConstraintViolation',
};

export function codeForKeyword16(keyword: string): CallErrorCode16 {
  return KEYWORD_CODES_16[keyword] ?? 'FormationViolation';
}

/**
 * Make a vendored schema loadable by ajv 8 without touching the file: drop the draft-04 `id` /
 * draft-06 `$id` / `$schema` header (ajv 8 would reject draft-04 and we compile each schema alone),
 * and drop `additionalProperties` placed on non-object types (a quirk of the 2019:12 edition).
 */
export function normalizeSchema(raw: unknown): SchemaObject {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new TypeError('schema is not an object');
  const clean = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(clean);
    if (typeof node !== 'object' || node === null) return node;
    const out: Record<string, unknown> = {};
    const type = (node as Record<string, unknown>)['type'];
    for (const [k, v] of Object.entries(node)) {
      if (k === 'additionalProperties' && type !== undefined && type !== 'object') continue;
      out[k] = clean(v);
    }
    return out;
  };
  const { $schema: _s, id: _id, $id: _dollarId, ...rest } = raw as Record<string, unknown>;
  return clean(rest) as SchemaObject;
}

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|([+-])(\d{2}):(\d{2}))$/;

/** RFC 3339 §5.6 date-time: full-date "T" full-time, offset required, ranges checked (leap years too). */
export function isRfc3339DateTime(text: string): boolean {
  const m = DATE_TIME.exec(text);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number, number, number, number, number, number,
  ];
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  if (days === undefined || day < 1 || day > days) return false;
  if (hour > 23 || minute > 59 || second > 60) return false; // 60: leap second (RFC 3339 §5.7)
  if (m[9] !== undefined && (Number(m[10]) > 23 || Number(m[11]) > 59)) return false;
  return true;
}

/** Lenient `uri`: a scheme (RFC 3986 §3.1) followed by non-blank text; the CSMS owns the details. */
export function isLenientUri(text: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(text);
}

export interface SchemaSetOptions<C extends string> {
  /** Used in messages, e.g. "OCPP 1.6". */
  readonly label: string;
  /** Folder the schema file names are relative to. */
  readonly schemaDir: URL;
  /** Schema files of an action, or undefined when the action is not in the set. */
  readonly filesOf: (action: string) => { readonly request: string; readonly response: string } | undefined;
  readonly codeForKeyword: (keyword: string) => C;
}

function pathOf(error: ErrorObject): string {
  let path = error.instancePath
    .split('/')
    .slice(1)
    .map((seg) => (/^\d+$/.test(seg) ? `[${seg}]` : `.${seg.replace(/~1/g, '/').replace(/~0/g, '~')}`))
    .join('');
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'required') path += `.${String(params['missingProperty'])}`;
  if (error.keyword === 'additionalProperties') path += `.${String(params['additionalProperty'])}`;
  return path === '' ? '(payload)' : path.replace(/^\./, '');
}

function describe(error: ErrorObject): string {
  const field = `field '${pathOf(error)}'`;
  if (error.keyword === 'required') return `${field} is required but missing`;
  if (error.keyword === 'additionalProperties') return `${field} is not allowed`;
  const allowed = (error.params as Record<string, unknown>)['allowedValues'];
  const suffix = Array.isArray(allowed) ? ` (${allowed.join(', ')})` : '';
  return `${field} ${error.message ?? 'is invalid'}${suffix}`;
}

/** A validator over one schema set; each (action, direction) is read and compiled on first use. */
export function createPayloadValidator<C extends string>(options: SchemaSetOptions<C>): PayloadValidator<C> {
  const ajv = new Ajv({
    allErrors: false,
    strict: true,
    // multipleOf: 0.1 on limits: 7.3 / 0.1 = 72.99999999999999 fails a plain check (ajv issue #2353).
    multipleOfPrecision: 9,
    formats: { 'date-time': isRfc3339DateTime, uri: isLenientUri },
    keywords: ['javaType'], // annotation in the security-whitepaper schemas
    code: { source: false },
  });
  const cache = new Map<string, ValidateFunction>();

  const compiled = (action: string, direction: Direction): ValidateFunction | undefined => {
    const key = `${action}/${direction}`;
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const files = options.filesOf(action);
    if (files === undefined) return undefined;
    const raw: unknown = JSON.parse(readFileSync(new URL(files[direction], options.schemaDir), 'utf8'));
    const fn = ajv.compile(normalizeSchema(raw));
    cache.set(key, fn);
    return fn;
  };

  return {
    isKnownAction: (action) => options.filesOf(action) !== undefined,
    validate(action, direction, payload) {
      const fn = compiled(action, direction);
      if (fn === undefined) {
        return { ok: false, code: options.codeForKeyword('unknownAction'), message: `${options.label}: unknown action ${action}` };
      }
      if (fn(payload)) return { ok: true };
      const first = fn.errors?.[0];
      if (first === undefined) {
        return { ok: false, code: options.codeForKeyword('unknown'), message: `${options.label} ${action}: invalid` };
      }
      const pdu = `${action}.${direction === 'request' ? 'req' : 'conf'}`;
      return { ok: false, code: options.codeForKeyword(first.keyword), message: `${options.label} ${pdu}: ${describe(first)}` };
    },
  };
}

/** The OCPP 1.6 (+ Security Whitepaper) validator over src/ocpp/v16/schemas. */
export const v16Validator: PayloadValidator<CallErrorCode16> = createPayloadValidator({
  label: 'OCPP 1.6',
  schemaDir: new URL('../v16/schemas/', import.meta.url),
  filesOf: (action) => {
    if (!isAction(action)) return undefined;
    const info = ACTIONS[action];
    return { request: info.requestSchema, response: info.responseSchema };
  },
  codeForKeyword: codeForKeyword16,
});

/** Validate an OCPP 1.6 payload; on failure the CALLERROR code to answer with and a message naming the field. */
export function validatePayload(action: Action, direction: Direction, payload: unknown): ValidationResult<CallErrorCode16> {
  return v16Validator.validate(action, direction, payload);
}
