// A charging transaction in domain terms. `localId` is ours; the CSMS's id is the protocol
// adapter's business (a transaction may start offline).
import type { EvseId } from './evse.js';
import type { IdToken } from './id-token.js';
import type { StopReason } from './stop-reason.js';

export interface Transaction {
  localId: string;
  evseId: EvseId;
  idToken: IdToken;
  /** The identifier's group as known at the start (1.6 parentIdTag). */
  groupId?: IdToken;
  startedAt: Date;
  meterStartWh: number;
  reservationId?: number;
  stoppedAt?: Date;
  meterStopWh?: number;
  stopReason?: StopReason;
  /** The identifier that stopped it, when a card or remote stop did. */
  stopIdToken?: IdToken;
}
