// OCPP 1.6 §9.1 StopTransactionOnEVSideDisconnect=false: the cable leaves the EV (pilot A,
// cable still in the charger's socket) and the transaction goes on; the charger releases
// the cable lock only when UnlockConnectorOnEVSideDisconnect is true.
import { describe, expect, it } from 'vitest';
import type { Harness } from '../helpers/agent-harness.js';
import { startCharging, useAgentFixture } from '../helpers/action-fixture.js';
import { waitFor } from '../helpers/wait.js';

const fx = useAgentFixture();

async function chargingThenEvSideDisconnect(unlock: 'true' | 'false'): Promise<Harness> {
  const harness = await fx.start({ ocppConfig: { StopTransactionOnEVSideDisconnect: 'false', UnlockConnectorOnEVSideDisconnect: unlock } });
  await startCharging(harness);
  await waitFor(() => harness.sim.state(1).lock === 'locked', 8_000, 'cable locked');
  harness.sim.setPilot(1, 'A'); // cable pulled out of the EV, still in the charger
  await waitFor(() => harness.agent.station.snapshot()[0]?.pilot === 'A', 8_000, 'pilot A seen');
  return harness;
}

describe('EV-side disconnect without stopping the transaction', () => {
  it('UnlockConnectorOnEVSideDisconnect=true: the transaction goes on and the cable is released', async () => {
    const h = await chargingThenEvSideDisconnect('true');
    await waitFor(() => h.sim.state(1).lock === 'unlocked', 8_000, 'cable unlocked');
    expect(h.agent.station.transaction(1)).not.toBeNull();
    expect(h.csms.callsOf('StopTransaction')).toEqual([]);
  });

  it('UnlockConnectorOnEVSideDisconnect=false: the cable stays locked', async () => {
    const h = await chargingThenEvSideDisconnect('false');
    // Give an unlock the time it would need to show, then check it did not happen.
    await new Promise((r) => setTimeout(r, 300));
    expect(h.sim.lastCommand?.type).not.toBe('UNLOCK');
    expect(h.sim.state(1).lock).toBe('locked');
    expect(h.agent.station.transaction(1)).not.toBeNull();
  });
});
