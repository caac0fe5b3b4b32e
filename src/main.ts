// Composition root: builds the real clock, logger, controller (serial, or the simulator on a pty),
// store, domain station, OCPP connection/outbox/session and LEDs, and wires them. It holds no
// rules: each part is built in src/composition/ (part of the composition root; with this file the
// only src/ modules that load hal/ at run time), in the order each needs the one before.
import type { Logger } from 'pino';
import type { ChargeController } from '../hal/controller/types.js';
import type { SimulatedController } from '../hal/sim/simulated-controller.js';
import type { AgentConfig } from './config/agent-config.js';
import type { ChargingStation } from './domain/station/charging-station.js';
import type { AuthorizationCache } from './domain/authorization/authorization-cache.js';
import type { LocalAuthorizationList } from './domain/authorization/local-list.js';
import type { AuthorizationService } from './domain/authorization/authorizer.js';
import type { ReservationBook } from './domain/reservation/reservations.js';
import { SystemClock, type Clock } from './platform/clock.js';
import type { VendorDataHandler } from './ocpp/v16/actions/context.js';
import type { ConfigurationStore } from './ocpp/v16/configuration-store.js';
import type { OcppSession } from './ocpp/v16/session.js';
import type { CsmsConnection } from './ocpp/v16/connection.js';
import type { TransactionMessenger } from './ocpp/v16/transaction-messages.js';
import type { AgentDatabase } from './store/database.js';
import type { SqliteTransactionStore } from './store/transaction-store.js';
import { buildController, waitForLinkUp } from './composition/controller.js';
import { openStore } from './composition/store.js';
import { buildAuthorization } from './composition/authorization.js';
import { buildStation } from './composition/station.js';
import { buildSmartCharging } from './composition/smart-charging.js';
import type { SmartCharging } from './domain/smart-charging/smart-charging.js';
import { buildMessenger, connectOcpp, startSession } from './composition/ocpp.js';
import { buildProfileSwitching } from './composition/security-profile.js';
import { startLeds } from './composition/leds.js';
import { startAgentOperations } from './composition/operations.js';
import { shutdownSequence } from './composition/shutdown.js';
import { buildLogUploads } from './composition/diagnostics-upload.js';
import { buildFirmware, type FirmwareHandling } from './composition/firmware.js';
import { invalidFrameWatcher, startSecurityEvents, stopSecurityTimers, watchSecurityConfiguration } from './composition/security.js';
import type { SecurityParts } from './composition/store.js';

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
  smartCharging: SmartCharging;
  /** Certificate store, security log and the security-event sink. */
  security: SecurityParts;
  stop(): Promise<void>;
}

/** How long start-up waits for the controller link before connecting to the CSMS anyway. */
const CONTROLLER_FIRST_LINK_WAIT_MS = 5_000;

export async function startAgent(cfg: AgentConfig, opts: AgentOptions): Promise<RunningAgent> {
  const log = opts.logger;
  const clock = opts.clock ?? new SystemClock();

  const { controller, simulator, closeSimulator } = await buildController(cfg, opts, log);
  const { database, config, transactionStore, bootId, time, security } = await openStore(cfg.dataDir, clock, log);
  const switching = buildProfileSwitching(cfg, config, security, log);
  const link = { onOcppFrame: invalidFrameWatcher(security.events, opts.onOcppFrame) };
  const { csms, remoteAuthorizer } = connectOcpp(cfg, config, security, switching, link, log);
  const { reservations, ...authorization } = buildAuthorization({ database, config, clock, remote: remoteAuthorizer }, log);
  const messenger = buildMessenger({ csms, transactionStore, config, clock, bootId, time }, log);
  startSecurityEvents(security, messenger, cfg, clock);
  watchSecurityConfiguration(config, security.events);
  const station = buildStation(cfg, { controller, authorizer: authorization.service, reservations, journal: messenger, database, config, clock }, log);
  const uploads = buildLogUploads(cfg, { database, config, messenger, station, controller, clock, securityLog: security.log }, log);
  const smartCharging = buildSmartCharging(cfg, { station, controller, csms, config, database, clock }, log);
  const firmwareDeps = { dataDir: cfg.dataDir, station, config, clock, security: security.events, restart: () => opts.onResetRequested?.('Soft'), caFile: cfg.csms.caFile, certificates: security.certificates };
  const firmwareFor = (s: OcppSession): FirmwareHandling => buildFirmware(firmwareDeps, s, log);
  const parts = { csms, remoteAuthorizer, messenger, station, controller, config, clock, authorization, reservations, uploads, smartCharging, security, firmware: firmwareFor };
  const { session, firmware } = startSession(cfg, parts, opts, log);
  station.recover(transactionStore, bootId);
  const unbindLeds = await startLeds(cfg, station, csms, config, log);

  station.start();
  await controller.start();
  // Meet the CSMS knowing the controller (connector count, statuses): a few seconds at most, then go on
  // regardless, since a dead controller is itself something the CSMS must hear about (Faulted).
  await waitForLinkUp(controller, CONTROLLER_FIRST_LINK_WAIT_MS);
  csms.open();
  // An update a restart interrupted goes on, now that the station knows its running transactions.
  firmware.resume();

  // Operations (diagnostics socket, systemd READY/WATCHDOG) start last and stop first.
  const operations = await startAgentOperations({ station, controller, session, config, csms, simulator, smartCharging }, { messenger, database, transactionStore, security }, cfg, clock, log);
  const stop = shutdownSequence({
    operations,
    uploads,
    firmware,
    station,
    messenger,
    session: { stop: () => (stopSecurityTimers(security), session.stop()) },
    csms,
    securitySwitch: switching.profile,
    unbindLeds,
    controller,
    closeSimulator,
    reservations,
    authCache: authorization.cache,
    smartCharging,
    database,
  });

  return { station, controller, session, config, csms, simulator, database, transactionStore, messenger, authorization, reservations, smartCharging, security, stop };
}
