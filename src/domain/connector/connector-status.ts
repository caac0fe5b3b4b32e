// Connector status as a pure function of what the station knows about a connector.
// Statuses follow the OCPP 1.6 ChargePointStatus set, which is the richest
// (2.0.1's connector + charging states derive from it).

export type ConnectorStatus =
  | 'Available'
  | 'Preparing'
  | 'Charging'
  | 'SuspendedEV'
  | 'SuspendedEVSE'
  | 'Finishing'
  | 'Reserved'
  | 'Unavailable'
  | 'Faulted';

import type { PilotState } from '../ports.js';

export interface ConnectorFacts {
  operative: boolean;
  /** Active controller fault codes on this connector or the station. */
  faults: readonly string[];
  pilot: PilotState;
  /** An identifier is authorized and waiting for this connector (card first). */
  authorizedWaiting: boolean;
  transactionRunning: boolean;
  /** A transaction ended and the cable is still plugged in. */
  finished: boolean;
  /** Current offered to the EV during a transaction (0 = EVSE-side suspension). */
  offeredA: number;
  reserved: boolean;
}

/** Rows are tried in order; the first whose predicate holds gives the status. */
const STATUS_TABLE: ReadonlyArray<readonly [ConnectorStatus, (f: ConnectorFacts) => boolean]> = [
  ['Faulted', (f) => f.faults.length > 0 || f.pilot === 'E'],
  ['Unavailable', (f) => !f.transactionRunning && (!f.operative || f.pilot === 'F')],
  ['SuspendedEVSE', (f) => f.transactionRunning && f.offeredA < 6],
  // The controller closes the contactor itself in C/D once enabled (controller-serial.md ENABLE).
  ['Charging', (f) => f.transactionRunning && (f.pilot === 'C' || f.pilot === 'D')],
  ['SuspendedEV', (f) => f.transactionRunning && (f.pilot === 'B' || f.pilot === 'C' || f.pilot === 'D')],
  ['Finishing', (f) => f.transactionRunning || (f.finished && f.pilot !== 'A')],
  ['Preparing', (f) => f.pilot !== 'A' || f.authorizedWaiting],
  ['Reserved', (f) => f.reserved],
  ['Available', () => true],
];

export function deriveStatus(facts: ConnectorFacts): ConnectorStatus {
  for (const [status, holds] of STATUS_TABLE) if (holds(facts)) return status;
  return 'Available';
}
