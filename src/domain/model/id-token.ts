// Who is charging, in 2.0.1's terms (1.6's idTag is the value; 1.6 maps only the value).

/** OCPP 2.0.1 IdTokenEnumType: how the identifier was obtained. */
export type IdTokenType = 'Central' | 'eMAID' | 'ISO14443' | 'ISO15693' | 'KeyCode' | 'Local' | 'MacAddress' | 'NoAuthorization';

export interface IdToken {
  value: string;
  type: IdTokenType;
}

export function idToken(value: string, type: IdTokenType): IdToken {
  return { value, type };
}

/** Identifiers compare trimmed and case-insensitively (1.6 §3.5 and field practice). */
export function normalizeIdValue(value: string): string {
  return value.trim().toUpperCase();
}

/**
 * Same identifier: values compared normalized, types ignored (a card read as ISO14443 is the
 * same driver as the idTag the CSMS put in a reservation or a group, which 1.6 gives no type).
 */
export function sameIdToken(a: IdToken | undefined, b: IdToken | undefined): boolean {
  return a !== undefined && b !== undefined && normalizeIdValue(a.value) === normalizeIdValue(b.value);
}

const ID_TOKEN_TYPES: ReadonlySet<string> = new Set<IdTokenType>(['Central', 'eMAID', 'ISO14443', 'ISO15693', 'KeyCode', 'Local', 'MacAddress', 'NoAuthorization']);

export function isIdTokenType(s: string): s is IdTokenType {
  return ID_TOKEN_TYPES.has(s);
}
