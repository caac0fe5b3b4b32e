// One fixture for the tests that drive the real agent (or the station alone) end to end:
// `useAgentFixture()` registers the teardown once per file, so a test only says what it starts;
// `startCharging` is the one "plug in, present a card, charging" session every such test uses.
// Kept thin on purpose: a renamed domain type (an identifier, a transaction id) touches only here.
import { afterEach } from 'vitest';
import type { StationOptions } from '../../src/domain/station/charging-station.js';
import type { SimulatedControllerOptions } from '../../hal/sim/simulated-controller.js';
import { startHarness, startStationRig, type Harness, type HarnessOptions, type StationRig } from './agent-harness.js';

/** A card UID as the reader sends it, accepted by the DevCsms. */
export const TEST_CARD = '04A2B3C4';

export interface AgentFixture {
  /** The real agent against a fresh DevCsms, stopped after the test. */
  start(opts?: HarnessOptions): Promise<Harness>;
  /** The station alone on a simulator (see startStationRig); its restarts are stopped after the test too. */
  startRig(sim?: Partial<Omit<SimulatedControllerOptions, 'path'>>, opts?: StationOptions): Promise<StationRig>;
}

export function useAgentFixture(): AgentFixture {
  const harnesses: Harness[] = [];
  let rig: StationRig | null = null;
  // A restarted rig replaces the one it came from: only the latest holds the simulator and pty.
  const track = (r: StationRig): StationRig => {
    rig = r;
    return { ...r, restart: async (o) => track(await r.restart(o)) };
  };
  afterEach(async () => {
    const started = harnesses.splice(0);
    const r = rig;
    rig = null;
    for (const h of started) await h.stop();
    await r?.stop();
  });
  return {
    start: async (opts) => {
      const h = await startHarness(opts);
      harnesses.push(h);
      return h;
    },
    startRig: async (sim, opts) => track(await startStationRig(sim, opts)),
  };
}

/**
 * Plugs an EV into `connector`, presents `card`, waits for the StartTransaction and for
 * Charging once the EV draws energy. Returns the transaction id (the DevCsms numbers them
 * from 1, one per StartTransaction).
 */
export async function startCharging(h: Harness, connector = 1, card = TEST_CARD): Promise<number> {
  const m = h.mark();
  h.sim.plugIn(connector);
  h.sim.swipeCard(card);
  await h.waitCalls(m, 'StartTransaction');
  h.sim.evRequestEnergy(connector);
  await h.waitStatus(connector, 'Charging');
  return h.csms.callsOf('StartTransaction').length;
}
