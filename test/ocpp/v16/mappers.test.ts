// Domain <-> OCPP 1.6 (src/ocpp/v16/mappers.ts): the 1.6 ChargePointStatus derived from the
// neutral connector state reproduces the 1.6 status table over every combination of facts;
// stop reasons, authorization statuses, connector 0 and identifiers map both ways.
import { describe, expect, it } from 'vitest';
import { deriveConnectorState, type ConnectorFacts } from '../../../src/domain/model/connector-state.js';
import type { StopReason } from '../../../src/domain/model/stop-reason.js';
import type { PilotState } from '../../../src/domain/ports.js';
import type { ChargePointStatus } from '../../../src/ocpp/v16/generated/types.js';
import {
  chargePointStatus,
  connectorIdOf,
  evseOfReservation,
  idTokenOf,
  mapFault,
  reservationConnectorId,
  stationStatus,
  targetOfConnector,
  toAuthorizationStatus16,
  toReason16,
  transactionPoints16,
} from '../../../src/ocpp/v16/mappers.js';
import { stateFor } from '../../helpers/domain-terms.js';

/** The 1.6 status table (rows tried in order), as the station applied it before the neutral state. */
const TABLE_16: ReadonlyArray<readonly [ChargePointStatus, (f: ConnectorFacts) => boolean]> = [
  ['Faulted', (f) => f.faults.length > 0 || f.pilot === 'E'],
  ['Unavailable', (f) => !f.transactionRunning && (!f.operative || f.pilot === 'F')],
  ['SuspendedEVSE', (f) => f.transactionRunning && f.offeredA < 6],
  ['Charging', (f) => f.transactionRunning && (f.pilot === 'C' || f.pilot === 'D')],
  ['SuspendedEV', (f) => f.transactionRunning && (f.pilot === 'B' || f.pilot === 'C' || f.pilot === 'D')],
  ['Finishing', (f) => f.transactionRunning || (f.finished && f.pilot !== 'A')],
  ['Preparing', (f) => f.pilot !== 'A' || f.authorizedWaiting],
  ['Reserved', (f) => f.reserved],
  ['Available', () => true],
];

function table16(f: ConnectorFacts): ChargePointStatus {
  return TABLE_16.find(([, holds]) => holds(f))![0];
}

/** Every combination of facts the station can be in ("finished" only with a cable plugged in). */
function* allFacts(): Generator<ConnectorFacts> {
  const pilots: PilotState[] = ['A', 'B', 'C', 'D', 'E', 'F'];
  for (const pilot of pilots)
    for (const operative of [true, false])
      for (const faults of [[], ['GROUND_FAULT']])
        for (const authorizedWaiting of [true, false])
          for (const transactionRunning of [true, false])
            for (const finished of [true, false])
              for (const offeredA of [0, 5, 6, 32])
                for (const reserved of [true, false]) {
                  if (finished && !['B', 'C', 'D'].includes(pilot)) continue;
                  yield { pilot, operative, faults, authorizedWaiting, transactionRunning, finished, offeredA, reserved };
                }
}

describe('connector status (1.6 §4.9, §7.7)', () => {
  it('the status derived from the neutral state is the 1.6 table for every combination of facts', () => {
    let n = 0;
    for (const f of allFacts()) {
      expect([f, chargePointStatus(deriveConnectorState(f))]).toEqual([f, table16(f)]);
      n++;
    }
    expect(n).toBeGreaterThan(1000);
  });

  it('the fault reported: the first code, EV_COMM_ERROR for pilot E alone, none unless Faulted', () => {
    const base: ConnectorFacts = { pilot: 'A', operative: true, faults: [], authorizedWaiting: false, transactionRunning: false, finished: false, offeredA: 0, reserved: false };
    expect(deriveConnectorState({ ...base, faults: ['OVER_TEMP', 'RCD_TRIP'] }).faults[0]).toBe('OVER_TEMP');
    expect(deriveConnectorState({ ...base, pilot: 'E' }).faults).toEqual(['EV_COMM_ERROR']);
    expect(deriveConnectorState({ ...base, pilot: 'E', faults: ['RCD_TRIP'] }).faults[0]).toBe('RCD_TRIP');
    expect(deriveConnectorState({ ...base, pilot: 'F' }).faults).toEqual([]);
    expect(mapFault('EV_COMM_ERROR')).toEqual({ errorCode: 'EVCommunicationError', vendorErrorCode: 'EV_COMM_ERROR' });
  });

  it('the station (connector 0) reports its own availability', () => {
    expect(stationStatus({ availability: 'Faulted', faults: ['CONTROLLER_LINK'] })).toBe('Faulted');
    expect(stationStatus({ availability: 'Unavailable', faults: [] })).toBe('Unavailable');
    expect(stationStatus({ availability: 'Available', faults: [] })).toBe('Available');
  });

  it('the test helper states map back to their 1.6 status', () => {
    const all: ChargePointStatus[] = ['Available', 'Preparing', 'Charging', 'SuspendedEV', 'SuspendedEVSE', 'Finishing', 'Reserved', 'Unavailable', 'Faulted'];
    for (const s of all) expect(chargePointStatus(stateFor(s))).toBe(s);
  });
});

describe('stop reasons, authorization, where', () => {
  it('neutral stop reasons go out in 1.6 words; what 1.6 cannot say is Other', () => {
    const cases: Array<[StopReason, string]> = [
      ['LocalStop', 'Local'],
      ['RemoteStop', 'Remote'],
      ['Deauthorized', 'DeAuthorized'],
      ['EVDisconnected', 'EVDisconnected'],
      ['HardReset', 'HardReset'],
      ['SoftReset', 'SoftReset'],
      ['Reboot', 'Reboot'],
      ['PowerLoss', 'PowerLoss'],
      ['EmergencyStop', 'EmergencyStop'],
      ['UnlockCommand', 'UnlockCommand'],
      ['EnergyLimitReached', 'Other'],
      ['Other', 'Other'],
    ];
    for (const [reason, word] of cases) expect(toReason16(reason)).toBe(word);
  });

  it("1.6's five authorization statuses pass; the rest of 2.0.1's set goes out as Invalid", () => {
    for (const s of ['Accepted', 'Blocked', 'Expired', 'Invalid', 'ConcurrentTx'] as const) expect(toAuthorizationStatus16(s)).toBe(s);
    for (const s of ['Unknown', 'NoCredit', 'NotAllowedTypeEVSE', 'NotAtThisLocation', 'NotAtThisTime'] as const) expect(toAuthorizationStatus16(s)).toBe('Invalid');
  });

  it('connector 0 is the station, connector n is EVSE n; reservation connector 0 is any EVSE', () => {
    expect(targetOfConnector(0)).toEqual({ scope: 'station' });
    expect(targetOfConnector(2)).toEqual({ scope: 'evse', evseId: 2 });
    expect(connectorIdOf(targetOfConnector(0))).toBe(0);
    expect(connectorIdOf(targetOfConnector(3))).toBe(3);
    expect(evseOfReservation(0)).toBeUndefined();
    expect(reservationConnectorId(evseOfReservation(0))).toBe(0);
    expect(reservationConnectorId(evseOfReservation(1))).toBe(1);
  });

  it('an idTag is the value of an identifier (Central unless read at the reader); stop points follow StopTransactionOnEVSideDisconnect', () => {
    expect(idTokenOf('04A2')).toEqual({ value: '04A2', type: 'Central' });
    expect(idTokenOf('04A2', 'ISO14443')).toEqual({ value: '04A2', type: 'ISO14443' });
    expect(transactionPoints16(true).stop).toContain('EVDisconnected');
    expect(transactionPoints16(false).stop).not.toContain('EVDisconnected');
  });
});
