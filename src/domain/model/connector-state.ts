// A connector's state as facts, not as any protocol's status: 2.0.1's connector availability
// and charging state, plus the session phase 1.6 needs for Preparing/Finishing and the active
// fault codes. Each protocol derives its own status from these (ocpp/v16/mappers.ts for 1.6).
import type { PilotState } from '../ports.js';

/** 2.0.1 ConnectorStatusEnumType. */
export type ConnectorAvailability = 'Available' | 'Occupied' | 'Reserved' | 'Unavailable' | 'Faulted';

/** 2.0.1 ChargingStateEnumType (Idle also while a transaction runs without an EV). */
export type ChargingState = 'Idle' | 'EVConnected' | 'Charging' | 'SuspendedEV' | 'SuspendedEVSE';

/** Where the connector is in a driver's session. */
export type SessionPhase = 'none' | 'authorized-waiting' | 'in-transaction' | 'after-transaction';

export interface ConnectorState {
  availability: ConnectorAvailability;
  chargingState: ChargingState;
  sessionPhase: SessionPhase;
  /** Active fault codes (controller codes, first = the one to report); empty unless Faulted. */
  faults: readonly string[];
}

/** The station as a whole: faulted (its own faults, the controller link) or set Inoperative. */
export interface StationState {
  availability: 'Available' | 'Unavailable' | 'Faulted';
  faults: readonly string[];
}

/** What the station knows about a connector, from which its state follows. */
export interface ConnectorFacts {
  /** Operative as set for the connector and the station. */
  operative: boolean;
  /** Active fault codes on this connector or the station (not the controller link). */
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

/** Below this the EV may not draw current (IEC 61851): the EVSE suspends. */
export const MIN_OFFER_A = 6;

const PLUGGED: ReadonlySet<PilotState> = new Set(['B', 'C', 'D']);

export function isPlugged(pilot: PilotState): boolean {
  return PLUGGED.has(pilot);
}

/** Pilot E is the EV's own error: reported as EV_COMM_ERROR when no controller fault says more. */
export const EV_COMM_ERROR = 'EV_COMM_ERROR';

export function deriveConnectorState(f: ConnectorFacts): ConnectorState {
  const faults = f.pilot === 'E' ? [...f.faults, EV_COMM_ERROR] : [...f.faults];
  const plugged = isPlugged(f.pilot);
  let availability: ConnectorAvailability;
  if (faults.length > 0) availability = 'Faulted';
  // A running transaction is never made Unavailable: it ends first (ChangeAvailability Scheduled).
  else if (!f.transactionRunning && (!f.operative || f.pilot === 'F')) availability = 'Unavailable';
  else if (f.transactionRunning || plugged) availability = 'Occupied';
  else if (f.reserved) availability = 'Reserved';
  else availability = 'Available';

  let chargingState: ChargingState;
  if (f.transactionRunning) {
    if (f.offeredA < MIN_OFFER_A) chargingState = 'SuspendedEVSE';
    // The controller closes the contactor itself in C/D once enabled (controller-serial.md ENABLE).
    else if (f.pilot === 'C' || f.pilot === 'D') chargingState = 'Charging';
    else if (f.pilot === 'B') chargingState = 'SuspendedEV';
    else chargingState = 'Idle';
  } else chargingState = plugged ? 'EVConnected' : 'Idle';

  const sessionPhase: SessionPhase = f.transactionRunning ? 'in-transaction' : f.finished && plugged ? 'after-transaction' : f.authorizedWaiting ? 'authorized-waiting' : 'none';
  return { availability, chargingState, sessionPhase, faults: availability === 'Faulted' ? faults : [] };
}

export function sameConnectorState(a: ConnectorState | null, b: ConnectorState | null): boolean {
  if (a === null || b === null) return a === b;
  return a.availability === b.availability && a.chargingState === b.chargingState && a.sessionPhase === b.sessionPhase && a.faults.join('\n') === b.faults.join('\n');
}

/** Idle for a new reservation or a walk-up driver: nothing plugged, no session, usable. */
export function isIdle(s: ConnectorState): boolean {
  return (s.availability === 'Available' || s.availability === 'Reserved') && s.sessionPhase === 'none';
}
