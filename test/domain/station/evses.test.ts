// The connectors-and-availability block (src/domain/station/evses.ts) over the real serial
// driver and the simulator on a pty: neutral states announced on change, station faults
// (controller link), faults raised and cleared, ChangeAvailability now or Scheduled.
import { afterEach, describe, expect, it } from 'vitest';
import type { ConnectorState, StationState } from '../../../src/domain/model/connector-state.js';
import { STATION, evseTarget } from '../../../src/domain/model/evse.js';
import { startStationRig, type StationRig } from '../../helpers/agent-harness.js';
import { card } from '../../helpers/domain-terms.js';
import { waitFor } from '../../helpers/wait.js';

let rig: StationRig | null = null;
afterEach(async () => {
  await rig?.stop();
  rig = null;
});

async function setup() {
  rig = await startStationRig();
  const states: ConnectorState[] = [];
  const station: StationState[] = [];
  const events: string[] = [];
  rig.station.subscribe({
    connectorStateChanged: ({ connector, state }) => connector.evseId === 1 && states.push(state),
    stationStateChanged: ({ state }) => station.push(state),
    faultRaised: ({ target, code }) => events.push(`raised ${target.scope} ${code}`),
    faultCleared: ({ target, code }) => events.push(`cleared ${target.scope} ${code}`),
    availabilityChanged: ({ target, availability }) => events.push(`${target.scope} ${availability}`),
  });
  return { rig, states, station, events, state: () => rig!.station.connectorState(1) };
}

describe('connectors and availability', () => {
  it('a plug-in is announced as a new state: occupied, EV connected', async () => {
    const t = await setup();
    expect(t.state()).toEqual({ availability: 'Available', chargingState: 'Idle', sessionPhase: 'none', faults: [] });
    t.rig.sim.plugIn(1);
    await waitFor(() => t.states.some((s) => s.chargingState === 'EVConnected'), 5_000, 'EV connected');
    expect(t.state()).toEqual({ availability: 'Occupied', chargingState: 'EVConnected', sessionPhase: 'none', faults: [] });
  });

  it('a connector fault makes it Faulted with the code, and back once cleared', async () => {
    const t = await setup();
    t.rig.sim.raiseFault(1, 'OVER_TEMP');
    await waitFor(() => t.state()?.availability === 'Faulted', 5_000, 'Faulted');
    expect(t.state()?.faults).toEqual(['OVER_TEMP']);
    t.rig.sim.clearFault(1, 'OVER_TEMP');
    await waitFor(() => t.state()?.availability === 'Available', 5_000, 'Available again');
    expect(t.events).toEqual(['raised evse OVER_TEMP', 'cleared evse OVER_TEMP']);
  });

  it('the controller link down faults the station, not each connector', async () => {
    const t = await setup();
    expect(t.rig.station.stationState()).toEqual({ availability: 'Available', faults: [] });
    await t.rig.controller.stop();
    await waitFor(() => t.rig.station.stationState()?.availability === 'Faulted', 5_000, 'station Faulted');
    expect(t.rig.station.stationState()?.faults).toEqual(['CONTROLLER_LINK']);
    expect(t.state()?.availability).toBe('Available');
  });

  it('Inoperative: at once when idle, Scheduled during a transaction (Unavailable once it ends)', async () => {
    const t = await setup();
    expect(t.rig.station.setAvailability(evseTarget(1), 'Inoperative')).toBe('Accepted');
    expect(t.state()?.availability).toBe('Unavailable');
    expect(t.rig.station.setAvailability(evseTarget(1), 'Operative')).toBe('Accepted');
    t.rig.sim.plugIn(1);
    await waitFor(() => t.state()?.chargingState === 'EVConnected', 5_000, 'EV connected');
    expect(await t.rig.station.presentIdToken(card('DRIVER'))).toBe('started');
    expect(t.rig.station.setAvailability(STATION, 'Inoperative')).toBe('Scheduled');
    expect(t.state()?.availability).toBe('Occupied');
    expect(t.rig.station.stationState()?.availability).toBe('Available');
    t.rig.station.stopTransaction(1, 'LocalStop');
    expect(t.state()?.availability).toBe('Unavailable');
    expect(t.rig.station.stationState()?.availability).toBe('Unavailable');
    expect(t.rig.station.availability(STATION)).toBe('Inoperative');
    expect(t.rig.station.setAvailability(evseTarget(7), 'Inoperative')).toBe('Rejected');
    expect(t.events).toEqual(['evse Inoperative', 'evse Operative', 'station Inoperative']);
  });
});
