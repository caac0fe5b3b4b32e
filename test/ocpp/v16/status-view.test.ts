// The 1.6 view of the station's neutral states (src/ocpp/v16/status-view.ts), over the real
// serial driver and the simulator on a pty: a change is announced only when the 1.6 status or
// its fault changes, so a neutral change 1.6 cannot see sends no StatusNotification.
import { afterEach, describe, expect, it } from 'vitest';
import { StatusView } from '../../../src/ocpp/v16/status-view.js';
import { startStationRig, type StationRig } from '../../helpers/agent-harness.js';
import { waitFor } from '../../helpers/wait.js';

let rig: StationRig | null = null;
let view: StatusView | null = null;
afterEach(async () => {
  view?.stop();
  await rig?.stop();
  rig = null;
  view = null;
});

describe('StatusView', () => {
  it('a plug-in on a Faulted connector is no 1.6 change; the fault clearing is', async () => {
    rig = await startStationRig();
    view = new StatusView(rig.station);
    const seen: string[] = [];
    view.onChange((c, status, fault) => seen.push(`${c} ${status} ${fault ?? '-'}`));
    rig.sim.raiseFault(1, 'OVER_TEMP');
    await waitFor(() => view!.status(1) === 'Faulted', 5_000, 'Faulted');
    rig.sim.plugIn(1);
    await waitFor(() => rig!.station.connectorState(1)?.chargingState === 'EVConnected', 5_000, 'EV connected (neutral)');
    expect(view.status(1)).toBe('Faulted');
    rig.sim.clearFault(1, 'OVER_TEMP');
    await waitFor(() => view!.status(1) === 'Preparing', 5_000, 'Preparing');
    expect(seen).toEqual(['1 Faulted OVER_TEMP', '1 Preparing -']);
    expect(view.statusFault(1)).toBeNull();
    expect(view.status(0)).toBe('Available');
    expect(view.connectorIds()).toEqual([1]);
  });
});
