// Composition root: builds the real clock, logger, controller (serial, or the
// simulator on a pty), domain station, OCPP transport/RPC/session and LEDs, and
// wires them. The only module that imports hal/ at runtime.
import type { Logger } from 'pino';
import { SerialController } from '../hal/controller/serial-controller.js';
import type { ChargeController } from '../hal/controller/types.js';
import { openPtyPair, type PtyPair } from '../hal/sim/pty-pair.js';
import { SimulatedController } from '../hal/sim/simulated-controller.js';
import { loadOnoffGpio } from '../hal/gpio/onoff-gpio.js';
import { StatusLeds } from '../hal/gpio/status-leds.js';
import { bindStatusLeds } from './leds.js';
import type { AgentConfig } from './config/agent-config.js';
import { ChargingStation } from './domain/station/charging-station.js';
import type { ChargeControllerPort } from './domain/ports.js';
import { SystemClock, type Clock } from './platform/clock.js';
import { childLogger } from './platform/logger.js';
import { INCOMING_ACTIONS } from './ocpp/v16/actions/index.js';
import type { HandlerContext } from './ocpp/v16/actions/context.js';
import { ConfigurationStore } from './ocpp/v16/configuration-store.js';
import { OcppSession, type BootIdentity } from './ocpp/v16/session.js';
import { connectCsms, type CsmsConnection } from './ocpp/v16/connection.js';

export interface AgentOptions {
  logger: Logger;
  clock?: Clock;
  /** Called for every serial line (demo, diagnostics). */
  onSerialLine?: (direction: 'rx' | 'tx', line: string) => void;
  /** Called for every OCPP frame (demo, diagnostics). */
  onOcppFrame?: (direction: 'in' | 'out', text: string) => void;
  /** Energy speed-up of the built-in simulator (demo). */
  simTimeScale?: number;
  /** A Reset.req was accepted and transactions are stopped: the caller restarts the agent. */
  onResetRequested?: (type: 'Soft' | 'Hard') => void;
}

export interface RunningAgent {
  station: ChargingStation;
  controller: ChargeController;
  session: OcppSession;
  config: ConfigurationStore;
  csms: CsmsConnection;
  /** The simulated controller when `controller.simulated` is on. */
  simulator: SimulatedController | null;
  stop(): Promise<void>;
}

export async function startAgent(cfg: AgentConfig, opts: AgentOptions): Promise<RunningAgent> {
  const log = opts.logger;
  const clock = opts.clock ?? new SystemClock();

  let pty: PtyPair | null = null;
  let simulator: SimulatedController | null = null;
  let controllerPath: string | null = cfg.controller.port;
  if (cfg.controller.simulated) {
    pty = await openPtyPair();
    simulator = new SimulatedController({
      path: pty.controllerPath,
      baudRate: cfg.controller.baudRate,
      ...(cfg.identity.serialNumber ? { serial: cfg.identity.serialNumber } : {}),
      timeScale: opts.simTimeScale ?? 1,
      logger: childLogger(log, 'simulator'),
    });
    await simulator.start();
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

  const config = new ConfigurationStore(null);
  const stationLog = childLogger(log, 'station');
  let session: OcppSession | null = null;
  const station = new ChargingStation(
    controller as ChargeControllerPort,
    { authorize: (idTag) => session!.authorize(idTag) },
    {
      connectionTimeoutS: () => config.getInt('ConnectionTimeOut'),
      stopTransactionOnEVSideDisconnect: () => config.getBoolean('StopTransactionOnEVSideDisconnect'),
      stopTransactionOnInvalidId: () => config.getBoolean('StopTransactionOnInvalidId'),
      authorizeRemoteTxRequests: () => config.getBoolean('AuthorizeRemoteTxRequests'),
      maxCurrentA: () => cfg.controller.maxCurrentA,
    },
    clock,
    (err, context) => stationLog.warn({ err: err instanceof Error ? err.message : String(err), context }, 'station operation failed'),
  );

  const identity = (): BootIdentity => {
    const id: BootIdentity = {
      chargePointVendor: cfg.identity.vendor,
      chargePointModel: cfg.identity.model,
      firmwareVersion: cfg.identity.firmwareVersion,
    };
    if (cfg.identity.serialNumber) {
      id.chargePointSerialNumber = cfg.identity.serialNumber;
      id.chargeBoxSerialNumber = cfg.identity.serialNumber;
    }
    const meterSerial = controller.info?.serialNumber;
    if (meterSerial) id.meterSerialNumber = meterSerial.slice(0, 25);
    return id;
  };

  const csms = connectCsms(cfg, {
    logger: childLogger(log, 'ocpp'),
    onFrame: opts.onOcppFrame,
    authorizationKey: () => config.get('AuthorizationKey') || undefined,
    pingIntervalSeconds: config.getInt('WebSocketPingInterval'),
  });
  session = new OcppSession(csms.rpc, station, config, clock, identity, childLogger(log, 'session'));

  const resetReasons = { Soft: 'SoftReset', Hard: 'HardReset' } as const;
  const ctx: HandlerContext = {
    station,
    config,
    session,
    vendorHandlers: new Map(),
    requestReset: (type) => {
      for (const tx of station.activeTransactions()) station.stopTransaction(tx.connector, resetReasons[type]);
      // Answer the Reset.req first, then restart.
      clock.setTimeout(() => {
        void (async () => {
          await session!.drain();
          if (type === 'Hard') await controller.reset().catch(() => undefined);
          opts.onResetRequested?.(type);
        })();
      }, 50);
      return true;
    },
  };
  csms.registerHandlers(INCOMING_ACTIONS, ctx);
  csms.on('connected', () => session!.onConnected());
  csms.on('disconnected', () => session!.onDisconnected());

  const ledLog = childLogger(log, 'leds');
  // No LEDs configured: do not even load onoff (development machines, tests).
  const gpio = Object.keys(cfg.leds).length > 0 ? await loadOnoffGpio(ledLog) : null;
  const unbindLeds = gpio
    ? bindStatusLeds(new StatusLeds({ leds: cfg.leds, open: gpio.open, logger: ledLog }), station, csms)
    : () => {};

  station.start();
  await controller.start();
  csms.open();

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      session!.stop();
      await csms.close();
      unbindLeds();
      await controller.stop();
      await simulator?.stop();
      await pty?.close();
    })();
    return stopping;
  };

  return { station, controller, session, config, csms, simulator, stop };
}
