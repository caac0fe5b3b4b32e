// CALLERROR error-code vocabularies as data, one per OCPP-J version.
// OCPP-J 1.6 §4.2.3 (note its spellings: FormationViolation, OccurenceConstraintViolation);
// OCPP 2.0.1 Part 4 §4.3 (FormatViolation, OccurrenceConstraintViolation, RpcFrameworkError, ...).

/** OCPP-J 1.6 §4.2.3 ErrorCode values with the spec's description. */
export const CALL_ERROR_CODES_16 = {
  NotImplemented: 'Requested Action is not known by receiver',
  NotSupported: 'Requested Action is recognized but not supported by the receiver',
  InternalError: 'An internal error occurred and the receiver was not able to process the requested Action successfully',
  ProtocolError: 'Payload for Action is incomplete',
  SecurityError:
    'During the processing of Action a security issue occurred preventing receiver from completing the Action successfully',
  FormationViolation: 'Payload for Action is syntactically incorrect or not conform the PDU structure for Action',
  PropertyConstraintViolation: 'Payload is syntactically correct but at least one field contains an invalid value',
  OccurenceConstraintViolation:
    'Payload for Action is syntactically correct but at least one of the fields violates occurence constraints',
  TypeConstraintViolation:
    'Payload for Action is syntactically correct but at least one of the fields violates data type constraints (e.g. "somestring": 12)',
  GenericError: 'Any other error not covered by the previous ones',
} as const;

export type CallErrorCode16 = keyof typeof CALL_ERROR_CODES_16;

export function isCallErrorCode16(code: string): code is CallErrorCode16 {
  return Object.prototype.hasOwnProperty.call(CALL_ERROR_CODES_16, code);
}

/** OCPP 2.0.1 Part 4 §4.3 ErrorCode values, for the later v201 adapter. Never use these for 1.6. */
export const CALL_ERROR_CODES_201 = {
  FormatViolation: 'Payload for Action is syntactically incorrect',
  GenericError: 'Any other error not covered by the more specific error codes in this table',
  InternalError: 'An internal error occurred and the receiver was not able to process the requested Action successfully',
  MessageTypeNotSupported: 'A message with an Message Type Number received that is not supported by this implementation',
  NotImplemented: 'Requested Action is not known by receiver',
  NotSupported: 'Requested Action is recognized but not supported by the receiver',
  OccurrenceConstraintViolation:
    'Payload for Action is syntactically correct but at least one of the fields violates occurrence constraints',
  PropertyConstraintViolation: 'Payload is syntactically correct but at least one field contains an invalid value',
  ProtocolError: 'Payload for Action is not conform the PDU structure',
  RpcFrameworkError: 'Content of the call is not a valid RPC Request, for example: MessageId could not be read',
  SecurityError:
    'During the processing of Action a security issue occurred preventing receiver from completing the Action successfully',
  TypeConstraintViolation:
    'Payload for Action is syntactically correct but at least one of the fields violates data type constraints (e.g. "somestring": 12)',
} as const;

export type CallErrorCode201 = keyof typeof CALL_ERROR_CODES_201;

export function isCallErrorCode201(code: string): code is CallErrorCode201 {
  return Object.prototype.hasOwnProperty.call(CALL_ERROR_CODES_201, code);
}

/**
 * The codes the version-neutral RPC layer needs to pick, per version. The payload-validation
 * codes come from the version's validator instead (see validation.ts).
 */
export interface RpcErrorVocabulary<C extends string = string> {
  /** Frame unreadable as JSON or not the PDU structure (1.6 FormationViolation). */
  readonly malformed: C;
  /** Frame incomplete, e.g. a CALL without payload (1.6 ProtocolError). */
  readonly incomplete: C;
  /**
   * Frame over the receiver's size limit. 1.6 has no code of its own; FormationViolation (the PDU
   * cannot be taken as sent) matches 2.0.1, where an over-long message gets FormatViolation.
   */
  readonly tooLarge: C;
  readonly notImplemented: C;
  readonly notSupported: C;
  readonly internal: C;
}

export const RPC_VOCABULARY_16: RpcErrorVocabulary<CallErrorCode16> = {
  malformed: 'FormationViolation',
  incomplete: 'ProtocolError',
  tooLarge: 'FormationViolation',
  notImplemented: 'NotImplemented',
  notSupported: 'NotSupported',
  internal: 'InternalError',
};

// Provisional: 2.0.1 §4.2.3 says a frame that is not a valid RPC request gets RpcFrameworkError;
// to be confirmed when the v201 adapter lands.
export const RPC_VOCABULARY_201: RpcErrorVocabulary<CallErrorCode201> = {
  malformed: 'RpcFrameworkError',
  incomplete: 'RpcFrameworkError',
  tooLarge: 'FormatViolation',
  notImplemented: 'NotImplemented',
  notSupported: 'NotSupported',
  internal: 'InternalError',
};
