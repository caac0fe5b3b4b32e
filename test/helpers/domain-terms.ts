// A representative neutral connector state for each OCPP 1.6 status, so tests written in 1.6
// statuses can drive domain code that reads neutral states (mappers.test.ts checks the
// round trip through ocpp/v16/mappers.ts).
import type { ConnectorState, StationState } from '../../src/domain/model/connector-state.js';
import type { ChargePointStatus } from '../../src/ocpp/v16/generated/types.js';
import type { IdToken } from '../../src/domain/model/id-token.js';
import type { Reservation } from '../../src/domain/reservation/reservations.js';
import { STATION, evseTarget, type StationTarget } from '../../src/domain/model/evse.js';
import type { AvailabilityResult } from '../../src/domain/model/availability.js';
import type { ChargingStation } from '../../src/domain/station/charging-station.js';

const STATES: Readonly<Record<ChargePointStatus, ConnectorState>> = {
  Available: { availability: 'Available', chargingState: 'Idle', sessionPhase: 'none', faults: [] },
  Preparing: { availability: 'Occupied', chargingState: 'EVConnected', sessionPhase: 'none', faults: [] },
  Charging: { availability: 'Occupied', chargingState: 'Charging', sessionPhase: 'in-transaction', faults: [] },
  SuspendedEV: { availability: 'Occupied', chargingState: 'SuspendedEV', sessionPhase: 'in-transaction', faults: [] },
  SuspendedEVSE: { availability: 'Occupied', chargingState: 'SuspendedEVSE', sessionPhase: 'in-transaction', faults: [] },
  Finishing: { availability: 'Occupied', chargingState: 'EVConnected', sessionPhase: 'after-transaction', faults: [] },
  Reserved: { availability: 'Reserved', chargingState: 'Idle', sessionPhase: 'none', faults: [] },
  Unavailable: { availability: 'Unavailable', chargingState: 'Idle', sessionPhase: 'none', faults: [] },
  Faulted: { availability: 'Faulted', chargingState: 'Idle', sessionPhase: 'none', faults: ['GROUND_FAULT'] },
};

export function stateFor(status: ChargePointStatus): ConnectorState {
  return STATES[status];
}

export function stationStateFor(status: 'Available' | 'Unavailable' | 'Faulted'): StationState {
  return { availability: status, faults: status === 'Faulted' ? ['INTERNAL'] : [] };
}

/** A card read at the reader. */
export function card(value: string): IdToken {
  return { value, type: 'ISO14443' };
}

/** A reservation in 1.6 terms (connector 0 = any EVSE). */
export interface Reservation16 {
  id: number;
  connector: number;
  idTag: string;
  parentIdTag?: string;
  expiresAt: Date;
}

/** The domain's reservation for a 1.6 one. */
export function reservationOf(r: Reservation16): Reservation {
  const out: Reservation = { id: r.id, idToken: { value: r.idTag, type: 'Central' }, expiresAt: r.expiresAt };
  if (r.connector !== 0) out.evseId = r.connector;
  if (r.parentIdTag !== undefined) out.groupId = { value: r.parentIdTag, type: 'Central' };
  return out;
}

/** 1.6 connector 0 is the station, n is EVSE n. */
export function target16(connectorId: number): StationTarget {
  return connectorId === 0 ? STATION : evseTarget(connectorId);
}

/** ChangeAvailability as 1.6 says it (connector 0 = the station). */
export function setOperative16(station: ChargingStation, connectorId: number, operative: boolean): AvailabilityResult {
  return station.setAvailability(target16(connectorId), operative ? 'Operative' : 'Inoperative');
}

/** Operative as set (connector 0 = the station); null for an unknown connector. */
export function isOperative16(station: ChargingStation, connectorId: number): boolean | null {
  const a = station.availability(target16(connectorId));
  return a === null ? null : a === 'Operative';
}
