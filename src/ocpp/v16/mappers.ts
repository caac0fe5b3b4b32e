// Domain <-> OCPP 1.6 vocabulary, both ways: connector 0 <-> the station, EVSE n <-> connector
// n, neutral connector state -> ChargePointStatus, stop reasons, authorization statuses,
// identifiers, controller fault codes (the table in shared/protocol/controller-serial.md
// §Fault codes) -> ChargePointErrorCode.
import { CONTROLLER_LINK_FAULT } from '../../domain/station/evses.js';
import type { AuthorizationStatus } from '../../domain/model/authorization.js';
import type { ConnectorState, StationState } from '../../domain/model/connector-state.js';
import { STATION, evseTarget, type EvseId, type StationTarget } from '../../domain/model/evse.js';
import type { IdToken, IdTokenType } from '../../domain/model/id-token.js';
import type { StopReason } from '../../domain/model/stop-reason.js';
import type { TransactionPoints } from '../../domain/model/transaction-points.js';
import type { AuthorizationStatus as AuthorizationStatus16, ChargePointErrorCode, ChargePointStatus, Reason } from './generated/types.js';

export type ChargePointErrorCode16 = ChargePointErrorCode;

// --- where ------------------------------------------------------------------------

/** 1.6 connector 0 is the whole station; connector n is EVSE n. */
export function targetOfConnector(connectorId: number): StationTarget {
  return connectorId === 0 ? STATION : evseTarget(connectorId);
}

export function connectorIdOf(target: StationTarget): number {
  return target.scope === 'station' ? 0 : target.evseId;
}

/** A reservation's connectorId: 0 = any one EVSE (undefined in the domain). */
export function evseOfReservation(connectorId: number): EvseId | undefined {
  return connectorId === 0 ? undefined : connectorId;
}

export function reservationConnectorId(evseId: EvseId | undefined): number {
  return evseId ?? 0;
}

// --- connector status (§4.9, §7.7) ----------------------------------------------------

/** The 1.6 status of a connector, from its neutral state (rows tried in order). */
export function chargePointStatus(s: ConnectorState): ChargePointStatus {
  if (s.availability === 'Faulted') return 'Faulted';
  if (s.availability === 'Unavailable') return 'Unavailable';
  if (s.sessionPhase === 'in-transaction') {
    switch (s.chargingState) {
      case 'SuspendedEVSE':
        return 'SuspendedEVSE';
      case 'Charging':
        return 'Charging';
      case 'SuspendedEV':
        return 'SuspendedEV';
      default:
        // Running, but the EV is gone (StopTransactionOnEVSideDisconnect false).
        return 'Finishing';
    }
  }
  if (s.sessionPhase === 'after-transaction') return 'Finishing';
  if (s.chargingState !== 'Idle' || s.sessionPhase === 'authorized-waiting') return 'Preparing';
  if (s.availability === 'Reserved') return 'Reserved';
  return 'Available';
}

/** Connector 0 reports station-wide states only (§7.7: Available, Unavailable, Faulted). */
export function stationStatus(s: StationState): ChargePointStatus {
  return s.availability;
}

/** The domain's states as 1.6 connectors see them (connector 0 = the station). */
export interface StateSource {
  evseIds(): EvseId[];
  connectorState(evseId: EvseId): ConnectorState | null;
  stationState(): StationState | null;
}

export function statusOf(station: StateSource, connectorId: number): ChargePointStatus | null {
  if (connectorId === 0) {
    const s = station.stationState();
    return s ? stationStatus(s) : null;
  }
  const s = station.connectorState(connectorId);
  return s ? chargePointStatus(s) : null;
}

/** The controller fault code a connector's StatusNotification reports (null: NoError). */
export function faultOf(station: StateSource, connectorId: number): string | null {
  const s = connectorId === 0 ? station.stationState() : station.connectorState(connectorId);
  return s?.faults[0] ?? null;
}

const FAULT_TO_ERROR_CODE: Readonly<Record<string, ChargePointErrorCode16>> = {
  GROUND_FAULT: 'GroundFailure',
  RCD_TRIP: 'GroundFailure',
  OVER_CURRENT: 'OverCurrentFailure',
  OVER_VOLTAGE: 'OverVoltage',
  UNDER_VOLTAGE: 'UnderVoltage',
  OVER_TEMP: 'HighTemperature',
  RELAY_WELDED: 'PowerSwitchFailure',
  LOCK_FAILURE: 'ConnectorLockFailure',
  METER_FAILURE: 'PowerMeterFailure',
  READER_FAILURE: 'ReaderFailure',
  EV_COMM_ERROR: 'EVCommunicationError',
  INTERNAL: 'InternalError',
  [CONTROLLER_LINK_FAULT]: 'InternalError',
};

/** errorCode plus vendorErrorCode (the raw code, for OtherError and for installers). */
export function mapFault(code: string | null): { errorCode: ChargePointErrorCode16; vendorErrorCode?: string; info?: string } {
  if (code === null) return { errorCode: 'NoError' };
  const errorCode = FAULT_TO_ERROR_CODE[code] ?? 'OtherError';
  if (code === CONTROLLER_LINK_FAULT) return { errorCode, info: 'charge controller link down' };
  return { errorCode, vendorErrorCode: code.slice(0, 255) };
}

// --- transactions -------------------------------------------------------------------

const REASON_TO_16: Readonly<Record<StopReason, Reason>> = {
  LocalStop: 'Local',
  RemoteStop: 'Remote',
  EVDisconnected: 'EVDisconnected',
  HardReset: 'HardReset',
  SoftReset: 'SoftReset',
  Reboot: 'Reboot',
  PowerLoss: 'PowerLoss',
  Deauthorized: 'DeAuthorized',
  EmergencyStop: 'EmergencyStop',
  UnlockCommand: 'UnlockCommand',
  // 1.6 has no word for it.
  EnergyLimitReached: 'Other',
  Other: 'Other',
};

export function toReason16(reason: StopReason): Reason {
  return REASON_TO_16[reason];
}

/** 1.6 transactions start once authorized and the EV is connected (either order). */
export function transactionPoints16(stopTransactionOnEVSideDisconnect: boolean): TransactionPoints {
  return { start: 'Authorized+EVConnected', stop: stopTransactionOnEVSideDisconnect ? ['Deauthorized', 'EVDisconnected'] : ['Deauthorized'] };
}

// --- identifiers and authorization --------------------------------------------------------

/** A 1.6 idTag carries no type: one from the CSMS (remote start, reservation, group) is 'Central'. */
export function idTokenOf(idTag: string, type: IdTokenType = 'Central'): IdToken {
  return { value: idTag, type };
}

/** 1.6 knows five statuses; the rest of the domain's superset goes out as Invalid. */
export function toAuthorizationStatus16(status: AuthorizationStatus): AuthorizationStatus16 {
  switch (status) {
    case 'Accepted':
    case 'Blocked':
    case 'Expired':
    case 'Invalid':
    case 'ConcurrentTx':
      return status;
    default:
      return 'Invalid';
  }
}
