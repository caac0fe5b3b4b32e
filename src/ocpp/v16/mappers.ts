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
import type { ChargingProfile, ProfilePurpose, RateUnit } from '../../domain/smart-charging/profile.js';
import type { CompositeSchedule } from '../../domain/smart-charging/composite-schedule.js';
import type {
  AuthorizationStatus as AuthorizationStatus16,
  ChargePointErrorCode,
  ChargePointStatus,
  ChargingProfile as ChargingProfile16,
  ChargingProfilePurposeType,
  ChargingSchedule as ChargingSchedule16,
  Reason,
} from './generated/types.js';

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

// --- charging profiles (§3.13, §5.16, §5.5, §5.7) -------------------------------------------

const PURPOSE_OF_16: Readonly<Record<ChargingProfilePurposeType, ProfilePurpose>> = {
  ChargePointMaxProfile: 'StationMax',
  TxDefaultProfile: 'TxDefault',
  TxProfile: 'Tx',
};

export function profilePurposeOf(purpose: ChargingProfilePurposeType): ProfilePurpose {
  return PURPOSE_OF_16[purpose];
}

/** A 1.6 date-time as epoch ms (NaN for a bad one: the profile's checks reject it). */
const timeOf = (iso: string | undefined): number | undefined => (iso === undefined ? undefined : Date.parse(iso));

/**
 * A 1.6 csChargingProfiles on a connector (0 = the station). The 1.6 transactionId is the
 * CSMS's number: `localIdOf` turns it into the domain's transaction id; one the station does
 * not know maps to an id no transaction has, so the stack rejects the profile.
 */
export function chargingProfileOf(p: ChargingProfile16, connectorId: number, localIdOf: (transactionId: number) => string | undefined): ChargingProfile {
  const s = p.chargingSchedule;
  const schedule: ChargingProfile['schedule'] = {
    unit: s.chargingRateUnit,
    periods: s.chargingSchedulePeriod.map((per) => ({
      startPeriod: per.startPeriod,
      limit: per.limit,
      ...(per.numberPhases !== undefined ? { numberPhases: per.numberPhases } : {}),
    })),
  };
  const start = timeOf(s.startSchedule);
  if (start !== undefined) schedule.startScheduleMs = start;
  if (s.duration !== undefined) schedule.durationS = s.duration;
  if (s.minChargingRate !== undefined) schedule.minChargingRate = s.minChargingRate;
  const out: ChargingProfile = {
    id: p.chargingProfileId,
    stackLevel: p.stackLevel,
    purpose: PURPOSE_OF_16[p.chargingProfilePurpose],
    kind: p.chargingProfileKind,
    evseId: connectorId,
    schedule,
  };
  if (p.recurrencyKind !== undefined) out.recurrency = p.recurrencyKind;
  const from = timeOf(p.validFrom);
  const to = timeOf(p.validTo);
  if (from !== undefined) out.validFromMs = from;
  if (to !== undefined) out.validToMs = to;
  if (p.transactionId !== undefined) out.transactionId = localIdOf(p.transactionId) ?? `csms:${p.transactionId}`;
  return out;
}

/** ChargingScheduleAllowedChargingRateUnit (Current, Power) as the domain's units. */
export function rateUnitsOf(allowed: readonly string[]): RateUnit[] {
  return allowed.map((u) => (u.trim() === 'Current' ? 'A' : u.trim() === 'Power' ? 'W' : null)).filter((u): u is RateUnit => u !== null);
}

/** A composite schedule as GetCompositeSchedule.conf's chargingSchedule. */
export function chargingScheduleOf(c: CompositeSchedule): ChargingSchedule16 {
  return {
    duration: c.durationS,
    startSchedule: new Date(c.startMs).toISOString(),
    chargingRateUnit: c.unit,
    chargingSchedulePeriod: c.periods.map((per) => ({
      startPeriod: per.startPeriod,
      limit: per.limit,
      ...(per.numberPhases !== undefined ? { numberPhases: per.numberPhases } : {}),
    })),
  };
}
