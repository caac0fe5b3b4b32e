// Payload validation against the vendored schemas, with validators ajv compiled at build time
// (scripts/codegen/gen-validators.mjs -> src/ocpp/v16/generated/validators.ts): no schema compiling
// and no ajv compiler in the running agent. Maps the failing ajv keyword to the OCPP-J 1.6 §4.2.3
// CALLERROR code; rpc-client.ts applies ocpp-rpc's strict-mode semantics (reject bad outbound,
// CALLERROR bad inbound).
import type { ErrorObject } from 'ajv';
import { isAction, type Action } from '../v16/generated/action-map.js';
import { VALIDATORS, type CompiledValidator } from '../v16/generated/validators.js';
import type { CallErrorCode16 } from './error-codes.js';

export { isLenientUri, isRfc3339DateTime } from './formats.js';

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

export interface SchemaSetOptions<C extends string> {
  /** Used in messages, e.g. "OCPP 1.6". */
  readonly label: string;
  /** The compiled validators of an action, or undefined when the action is not in the set. */
  readonly validatorsOf: (action: string) => { readonly request: CompiledValidator; readonly response: CompiledValidator } | undefined;
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

/** A validator over one set of compiled validators. */
export function createPayloadValidator<C extends string>(options: SchemaSetOptions<C>): PayloadValidator<C> {
  return {
    isKnownAction: (action) => options.validatorsOf(action) !== undefined,
    validate(action, direction, payload) {
      const fn = options.validatorsOf(action)?.[direction];
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

/** The OCPP 1.6 (+ Security Whitepaper) validator, compiled from src/ocpp/v16/schemas. */
export const v16Validator: PayloadValidator<CallErrorCode16> = createPayloadValidator({
  label: 'OCPP 1.6',
  validatorsOf: (action) => (isAction(action) ? VALIDATORS[action] : undefined),
  codeForKeyword: codeForKeyword16,
});

/** Validate an OCPP 1.6 payload; on failure the CALLERROR code to answer with and a message naming the field. */
export function validatePayload(action: Action, direction: Direction, payload: unknown): ValidationResult<CallErrorCode16> {
  return v16Validator.validate(action, direction, payload);
}
