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
import { ResetRule } from './domain/station/reset.js';
import { SystemClock, type Clock } from './platform/clock.js';
import { childLogger } from './platform/logger.js';
import { INCOMING_ACTIONS } from './ocpp/v16/actions/index.js';
import type { HandlerContext, VendorDataHandler } from './ocpp/v16/actions/context.js';
import { ConfigurationStore } from './ocpp/v16/configuration-store.js';
import { OcppSession, type BootIdentity } from './ocpp/v16/session.js';
import { connectCsms, type CsmsConnection } from './ocpp/v16/connection.js';
import { startOperations } from './diagnostics/operations.js';
import { transactionReport } from './diagnostics/agent-host.js';
import { TransactionMessenger, csmsTransactionIdOf } from './ocpp/v16/transaction-messages.js';
import { AgentDatabase, type StoreLogger } from './store/database.js';
import { SqliteConfigurationRepo } from './store/configuration-repo.js';
import { SqliteAvailabilityRepo } from './store/availability-repo.js';
import { SqliteTransactionStore } from './store/transaction-store.js';
import { SqliteTimeBaseRepo } from './store/time-base-repo.js';
import { TimeCorrector } from './ocpp/outbox/time-correction.js';
import { shiftPayload } from './ocpp/v16/time-correction.js';
import { AuthorizationCache } from './domain/authorization/authorization-cache.js';
import { LocalAuthorizationList } from './domain/authorization/local-list.js';
import { AuthorizationService } from './domain/authorization/authorizer.js';
import { ReservationBook } from './domain/reservation/reservations.js';
import { SqliteLocalListRepo } from './store/local-list-repo.js';
import { SqliteAuthCacheRepo } from './store/auth-cache-repo.js';
import { SqliteReservationRepo } from './store/reservation-repo.js';
import { RemoteAuthorize } from './ocpp/v16/outgoing/Authorize.js';
import { transactionAnswerHooks } from './ocpp/v16/transaction-answers.js';
import { transactionPoints16 } from './ocpp/v16/mappers.js';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

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
  /** DataTransfer handlers by vendorId (OCPP 1.6 §5.6); any other vendorId is answered UnknownVendorId. */
  vendorHandlers?: ReadonlyMap<string, VendorDataHandler>;
}

export interface RunningAgent {
  station: ChargingStation;
  controller: ChargeController;
  session: OcppSession;
  config: ConfigurationStore;
  csms: CsmsConnection;
  /** The simulated controller when `controller.simulated` is on. */
  simulator: SimulatedController | null;
  database: AgentDatabase;
  transactionStore: SqliteTransactionStore;
  messenger: TransactionMessenger;
  /** Local authorization list, authorization cache and the decision order over them. */
  authorization: { service: AuthorizationService; localList: LocalAuthorizationList; cache: AuthorizationCache };
  reservations: ReservationBook;
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

  const database = openDataDir(cfg.dataDir, childLogger(log, 'store'));
  const config = new ConfigurationStore(new SqliteConfigurationRepo(database));
  const transactionStore = new SqliteTransactionStore(database);
  const bootId = readBootId();
  // Before anything reads stored times: a restart within a synced boot takes that sync again, and
  // provisional times of this or an earlier boot are brought into one base (time-correction.ts).
  const time = new TimeCorrector(clock, new SqliteTimeBaseRepo(database, shiftPayload), bootId, childLogger(log, 'clock'));
  time.resume();
  const stationLog = childLogger(log, 'station');
  const csms = connectCsms(cfg, {
    logger: childLogger(log, 'ocpp'),
    onFrame: opts.onOcppFrame,
    authorizationKey: () => config.get('AuthorizationKey') || undefined,
    pingIntervalSeconds: config.getInt('WebSocketPingInterval'),
  });
  const remoteAuthorizer = new RemoteAuthorize();
  // ---- authorization and reservations ----
  const authLog = childLogger(log, 'authorization');
  const localList = new LocalAuthorizationList(new SqliteLocalListRepo(database), {
    enabled: () => config.getBoolean('LocalAuthListEnabled'),
    maxEntries: () => config.getInt('LocalAuthListMaxLength'),
    maxUpdateEntries: () => config.getInt('SendLocalListMaxLength'),
  });
  const authCache = new AuthorizationCache(new SqliteAuthCacheRepo(database), clock, {
    onError: (err, context) => authLog.warn({ err: err instanceof Error ? err.message : String(err), context }, 'authorization cache write failed'),
  });
  const authorizer = new AuthorizationService({
    remote: remoteAuthorizer,
    list: localList,
    cache: authCache,
    settings: {
      localPreAuthorize: () => config.getBoolean('LocalPreAuthorize'),
      localAuthorizeOffline: () => config.getBoolean('LocalAuthorizeOffline'),
      allowOfflineTxForUnknownId: () => config.getBoolean('AllowOfflineTxForUnknownId'),
      authorizationCacheEnabled: () => config.getBoolean('AuthorizationCacheEnabled'),
    },
    clock,
  });
  const reservations = new ReservationBook(
    new SqliteReservationRepo(database),
    clock,
    { reserveConnectorZeroSupported: () => config.getBoolean('ReserveConnectorZeroSupported') },
    {
      onEnded: (r, why) => authLog.info({ reservationId: r.id, connector: r.evseId ?? 0, why }, 'reservation ended'),
      onError: (err, context) => authLog.warn({ err: err instanceof Error ? err.message : String(err), context }, 'reservation store failed'),
    },
  );
  // ---- end authorization and reservations ----
  const messenger = new TransactionMessenger(
    csms.rpc,
    transactionStore,
    {
      transactionMessageAttempts: () => config.getInt('TransactionMessageAttempts'),
      transactionMessageRetryIntervalS: () => config.getInt('TransactionMessageRetryInterval'),
    },
    clock,
    childLogger(log, 'outbox'),
    {},
    { bootId, time },
  );
  const station = new ChargingStation(
    controller,
    authorizer,
    {
      connectionTimeoutS: () => config.getInt('ConnectionTimeOut'),
      transactionPoints: () => transactionPoints16(config.getBoolean('StopTransactionOnEVSideDisconnect')),
      stopTransactionOnInvalidId: () => config.getBoolean('StopTransactionOnInvalidId'),
      authorizeRemoteTxRequests: () => config.getBoolean('AuthorizeRemoteTxRequests'),
      maxCurrentA: () => cfg.controller.maxCurrentA,
      maxEnergyOnInvalidIdWh: () => config.getInt('MaxEnergyOnInvalidId'),
      unlockConnectorOnEVSideDisconnect: () => config.getBoolean('UnlockConnectorOnEVSideDisconnect'),
    },
    clock,
    (err, context) => stationLog.warn({ err: err instanceof Error ? err.message : String(err), context }, 'station operation failed'),
    { availability: new SqliteAvailabilityRepo(database), reservations, journal: messenger, learner: authorizer },
  );
  messenger.onAnswers(transactionAnswerHooks({ station, learner: authorizer }));

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

  const session = new OcppSession(csms.rpc, station, config, clock, identity, childLogger(log, 'session'), messenger, remoteAuthorizer);
  station.recover(transactionStore, bootId);
  const reset = new ResetRule({ station, clock, delivery: session, controller, restart: (type) => opts.onResetRequested?.(type) });

  const ctx: HandlerContext = {
    station,
    config,
    session,
    vendorHandlers: opts.vendorHandlers ?? new Map(),
    authorization: { localList, cache: authCache },
    reservations,
    requestReset: (type) => reset.request(type),
  };
  csms.registerHandlers(INCOMING_ACTIONS, ctx);
  csms.on('connected', () => session.onConnected());
  csms.on('disconnected', () => session.onDisconnected());

  const ledLog = childLogger(log, 'leds');
  // No LEDs configured: do not even load onoff (development machines, tests).
  const gpio = Object.keys(cfg.leds).length > 0 ? await loadOnoffGpio(ledLog) : null;
  const unbindLeds = gpio
    ? bindStatusLeds(new StatusLeds({ leds: cfg.leds, open: gpio.open, logger: ledLog }), station, csms, config)
    : () => {};

  station.start();
  await controller.start();
  // Meet the CSMS knowing the controller (connector count, statuses): a few seconds at most, then go on
  // regardless, since a dead controller is itself something the CSMS must hear about (Faulted).
  await waitForLinkUp(controller, CONTROLLER_FIRST_LINK_WAIT_MS);
  csms.open();

  // ---- operations: diagnostics socket + systemd READY/WATCHDOG; stopped first in stop() ----
  const ops = await startOperations({ station, controller, session, config, csms, simulator }, {
    cfg,
    clock,
    logger: log,
    queueDepth: () => messenger.queueDepth,
    storeStats: () => {
      const bytes = database.stats().processWriteBytes;
      return bytes === null ? null : { bytesWritten: bytes };
    },
    recentTransactions: (limit) =>
      transactionStore
        .recentTransactions(limit)
        .filter((t) => t.stoppedAt !== undefined)
        .map((t) => transactionReport(t, csmsTransactionIdOf(t), t.meterStopWh ?? null)),
  });
  // ---- end operations ----

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await ops.stop(); // operations
      // A transaction stopped just now still waits for its stop register: queue its Stop first.
      await withinMs(station.stopsSettled(), STOP_READS_WAIT_MS);
      // The transaction message in flight may still be answered: commit that before the socket closes.
      await withinMs(messenger.settleInFlight(), SHUTDOWN_ANSWER_WAIT_MS);
      session.stop();
      await csms.close();
      unbindLeds();
      await controller.stop();
      await simulator?.stop();
      await pty?.close();
      reservations.stop();
      authCache.stop(); // writes the cache's pending batch
      database.close();
    })();
    return stopping;
  };

  return { station, controller, session, config, csms, simulator, database, transactionStore, messenger, authorization: { service: authorizer, localList, cache: authCache }, reservations, stop };
}

/** How long shutdown waits for the stop registers being read (the controller answers in milliseconds). */
const STOP_READS_WAIT_MS = 1_500;

/** How long shutdown waits for the answer to the transaction message in flight (within the 5 s stop budget). */
const SHUTDOWN_ANSWER_WAIT_MS = 2_000;

/** How long start-up waits for the controller link before connecting to the CSMS anyway. */
const CONTROLLER_FIRST_LINK_WAIT_MS = 5_000;

/** Waits for `p`, at most `ms` of real time (shutdown has a wall-clock budget, whatever the agent's clock). */
async function withinMs(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

function waitForLinkUp(controller: ChargeController, timeoutMs: number): Promise<void> {
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

/** The data dir (0700: device keys live here too) and its database. */
function openDataDir(dataDir: string, log: StoreLogger): AgentDatabase {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  return new AgentDatabase(join(dataDir, 'charger-agent.db'), log);
}

/** The kernel's id of this boot; a transaction recorded under another one was cut by a power loss. */
function readBootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return null;
  }
}
