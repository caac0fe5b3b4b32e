// A charging transaction in domain terms. `localId` is ours; the CSMS's id is
// the protocol adapter's business (a transaction may start offline).

export type StopReason =
  | 'Local'
  | 'EVDisconnected'
  | 'Remote'
  | 'Reboot'
  | 'HardReset'
  | 'SoftReset'
  | 'PowerLoss'
  | 'DeAuthorized'
  | 'EmergencyStop'
  | 'UnlockCommand'
  | 'Other';

export interface Transaction {
  localId: string;
  connector: number;
  idTag: string;
  parentIdTag?: string;
  startedAt: Date;
  meterStartWh: number;
  reservationId?: number;
  stoppedAt?: Date;
  meterStopWh?: number;
  stopReason?: StopReason;
  /** The identifier that stopped it, when a card or remote stop did. */
  stopIdTag?: string;
}

/** OCPP 1.6 §3.5 (and field practice): identifiers compare trimmed and case-insensitively. */
export function normalizeIdTag(tag: string): string {
  return tag.trim().toUpperCase();
}

export function sameIdTag(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && normalizeIdTag(a) === normalizeIdTag(b);
}
