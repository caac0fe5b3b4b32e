// Compact row encoding shared by the local list and the authorization cache tables:
// status as a small integer, expiry as ms since the epoch (see migrations/002-authorization.ts).
import type { AuthorizationInfo, AuthorizationStatus } from '../domain/model/authorization.js';

/** Codes are positions: new statuses are only ever appended. */
const STATUS_CODES: readonly AuthorizationStatus[] = [
  'Accepted',
  'Blocked',
  'Expired',
  'Invalid',
  'ConcurrentTx',
  'Unknown',
  'NoCredit',
  'NotAllowedTypeEVSE',
  'NotAtThisLocation',
  'NotAtThisTime',
];

export interface AuthorizationRow {
  status: number;
  expires_at: number | null;
  parent: string | null;
}

export function statusCode(status: AuthorizationStatus): number {
  return STATUS_CODES.indexOf(status);
}

export function rowToInfo(row: AuthorizationRow): AuthorizationInfo {
  // An unknown code (a newer agent wrote it) is read as Invalid: never authorizes by mistake.
  const info: AuthorizationInfo = { status: STATUS_CODES[row.status] ?? 'Invalid' };
  if (row.expires_at !== null) info.expiresAt = new Date(row.expires_at);
  // The group comes from the CSMS (1.6 parentIdTag has no type).
  if (row.parent !== null) info.groupId = { value: row.parent, type: 'Central' };
  return info;
}

/** [status, expires_at, parent] bind values for an info. */
export function infoToValues(info: AuthorizationInfo): [number, number | null, string | null] {
  return [statusCode(info.status), info.expiresAt ? info.expiresAt.getTime() : null, info.groupId?.value ?? null];
}
