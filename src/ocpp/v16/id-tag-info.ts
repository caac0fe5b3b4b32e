// OCPP 1.6 IdTagInfo (§7 IdTagInfo) <-> the domain's AuthorizationInfo.
import type { AuthorizationInfo } from '../../domain/model/authorization.js';
import { idTokenOf } from './mappers.js';
import type { IdTagInfo } from './generated/types.js';

/** Strict: null when expiryDate is present but not a date (SendLocalList answers Failed then). */
export function parseIdTagInfo(info: IdTagInfo): AuthorizationInfo | null {
  const out: AuthorizationInfo = { status: info.status };
  if (info.parentIdTag !== undefined) out.groupId = idTokenOf(info.parentIdTag);
  if (info.expiryDate !== undefined) {
    const t = new Date(info.expiryDate);
    if (Number.isNaN(t.getTime())) return null;
    out.expiresAt = t;
  }
  return out;
}

/** Lenient, for the CSMS's answers: an unreadable expiryDate is dropped, the status kept. */
export function fromIdTagInfo(info: IdTagInfo): AuthorizationInfo {
  const parsed = parseIdTagInfo(info);
  if (parsed) return parsed;
  const out: AuthorizationInfo = { status: info.status };
  if (info.parentIdTag !== undefined) out.groupId = idTokenOf(info.parentIdTag);
  return out;
}
