// Part of the composition root (with src/main.ts): the only src/ modules that load hal/ at run time.
// Builds the charge controller: the serial driver on the configured port, or on a pty whose other
// end is the built-in simulator.
import { SerialController } from '../../hal/controller/serial-controller.js';
import type { ChargeController } from '../../hal/controller/types.js';
import type { SimulatedController } from '../../hal/sim/simulated-controller.js';
import type { AgentConfig } from '../config/agent-config.js';
import type { Logger } from 'pino';
import { childLogger } from '../platform/logger.js';

export interface ControllerOptions {
  onSerialLine?: ((direction: 'rx' | 'tx', line: string) => void) | undefined;
  simTimeScale?: number | undefined;
}

export interface BuiltController {
  controller: SerialController;
  /** The simulated controller when `controller.simulated` is on. */
  simulator: SimulatedController | null;
  /** Stops the simulator and closes its pty (after the driver has stopped). */
  closeSimulator(): Promise<void>;
}

export async function buildController(cfg: AgentConfig, opts: ControllerOptions, log: Logger): Promise<BuiltController> {
  let controllerPath: string | null = cfg.controller.port;
  let simulator: SimulatedController | null = null;
  let closeSimulator = async (): Promise<void> => {};
  if (cfg.controller.simulated) {
    // Loaded only here: a board with a real controller does not compile the simulator at start.
    const [{ openPtyPair }, { SimulatedController }] = await Promise.all([import('../../hal/sim/pty-pair.js'), import('../../hal/sim/simulated-controller.js')]);
    const pty = await openPtyPair();
    const sim = new SimulatedController({
      path: pty.controllerPath,
      baudRate: cfg.controller.baudRate,
      ...(cfg.identity.serialNumber ? { serial: cfg.identity.serialNumber } : {}),
      timeScale: opts.simTimeScale ?? 1,
      logger: childLogger(log, 'simulator'),
    });
    await sim.start();
    simulator = sim;
    closeSimulator = async () => {
      await sim.stop();
      await pty.close();
    };
    controllerPath = pty.agentPath;
    log.info({ path: controllerPath }, 'simulated controller on a pseudo-terminal');
  }

  if (controllerPath === null) throw new Error('controller.port is required unless controller.simulated is true');
  const controller = new SerialController({
    path: controllerPath,
    baudRate: cfg.controller.baudRate,
    logger: childLogger(log, 'controller'),
  });
  if (opts.onSerialLine) controller.on('wire', opts.onSerialLine);
  return { controller, simulator, closeSimulator };
}

/** Resolves once the controller link is up, or after `timeoutMs` regardless. */
export function waitForLinkUp(controller: ChargeController, timeoutMs: number): Promise<void> {
  if (controller.isLinkUp) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      controller.off('linkUp', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    controller.on('linkUp', done);
  });
}
