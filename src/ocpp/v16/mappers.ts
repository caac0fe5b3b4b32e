// Domain <-> OCPP 1.6 wire vocabulary. The controller fault table is the one in
// shared/protocol/controller-serial.md (§Fault codes).
import { CONTROLLER_LINK_FAULT } from '../../domain/station/charging-station.js';
import type { ChargePointErrorCode } from './generated/types.js';

export type ChargePointErrorCode16 = ChargePointErrorCode;

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
