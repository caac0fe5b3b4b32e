// May this identifier charge: 2.0.1's AuthorizationStatus (a superset of 1.6's five) and what
// is known about an identifier (1.6 IdTagInfo, 2.0.1 IdTokenInfo).
import type { IdToken } from './id-token.js';

export type AuthorizationStatus =
  | 'Accepted'
  | 'Blocked'
  | 'Expired'
  | 'Invalid'
  | 'ConcurrentTx'
  | 'Unknown'
  | 'NoCredit'
  | 'NotAllowedTypeEVSE'
  | 'NotAtThisLocation'
  | 'NotAtThisTime';

export interface AuthorizationResult {
  status: AuthorizationStatus;
  /** The identifier's group (1.6 parentIdTag). */
  groupId?: IdToken;
}

/** What is known about an identifier: status, group, validity. */
export interface AuthorizationInfo extends AuthorizationResult {
  /** After this instant an Accepted identifier counts as Expired. */
  expiresAt?: Date;
}
