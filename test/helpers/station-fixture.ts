// The fixture for domain tests that build a ChargingStation themselves over the real serial
// driver and the simulator on a pty: `useControllerOnPty()` opens the pair on demand and
// closes whatever was opened after each test (controller, simulator, pty, in that order).
import { afterEach } from 'vitest';
import { SerialController, type SerialControllerOptions } from '../../hal/controller/serial-controller.js';
import { openPtyPair, type PtyPair } from '../../hal/sim/pty-pair.js';
import { SimulatedController, type SimulatedControllerOptions } from '../../hal/sim/simulated-controller.js';
import type { StationSettings } from '../../src/domain/station/charging-station.js';
import { transactionPoints16 } from '../../src/ocpp/v16/mappers.js';

/** OCPP settings as the domain tests assume them: a refused identifier is suspended, not stopped. */
export const STATION_TEST_SETTINGS: StationSettings = {
  connectionTimeoutS: () => 60,
  transactionPoints: () => transactionPoints16(true),
  stopTransactionOnInvalidId: () => false,
  authorizeRemoteTxRequests: () => false,
  maxCurrentA: () => 32,
  maxEnergyOnInvalidIdWh: () => 0,
};

export interface ControllerOnPty {
  /** Opens a pty pair and starts the simulator on its controller end. */
  simulator(opts?: Partial<Omit<SimulatedControllerOptions, 'path'>>): Promise<SimulatedController>;
  /** A serial driver (not started) on the agent end of the pair `simulator()` opened. */
  controller(opts?: Partial<Omit<SerialControllerOptions, 'path'>>): SerialController;
}

export function useControllerOnPty(): ControllerOnPty {
  let pty: PtyPair | null = null;
  let sim: SimulatedController | null = null;
  let controller: SerialController | null = null;
  afterEach(async () => {
    await controller?.stop();
    await sim?.stop();
    await pty?.close();
    controller = null;
    sim = null;
    pty = null;
  });
  return {
    simulator: async (opts = {}) => {
      pty = await openPtyPair();
      sim = new SimulatedController({ path: pty.controllerPath, ...opts });
      await sim.start();
      return sim;
    },
    controller: (opts = {}) => {
      if (!pty) throw new Error('controller(): call simulator() first, it opens the pty pair');
      controller = new SerialController({ path: pty.agentPath, ...opts });
      return controller;
    },
  };
}
