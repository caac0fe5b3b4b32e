// Part of the composition root: the OCPP 1.6 side. The CSMS connection, the transaction outbox
// and Authorize.req come first (the station records into the outbox); the session, the reset
// rule and the CSMS-initiated handlers once the station exists.
import type { Logger } from 'pino';
import type { AgentConfig } from '../config/agent-config.js';
import type { Clock } from '../platform/clock.js';
import { childLogger } from '../platform/logger.js';
import type { ChargingStation } from '../domain/station/charging-station.js';
import { ResetRule, type ResetType } from '../domain/station/reset.js';
import type { AuthorizationService } from '../domain/authorization/authorizer.js';
import type { AuthorizationCache } from '../domain/authorization/authorization-cache.js';
import type { LocalAuthorizationList } from '../domain/authorization/local-list.js';
import type { ReservationBook } from '../domain/reservation/reservations.js';
import type { SmartCharging } from '../domain/smart-charging/smart-charging.js';
import { INCOMING_ACTIONS } from '../ocpp/v16/actions/index.js';
import type { HandlerContext, VendorDataHandler } from '../ocpp/v16/actions/context.js';
import type { ConfigurationStore } from '../ocpp/v16/configuration-store.js';
import { connectCsms, type CsmsConnection } from '../ocpp/v16/connection.js';
import { RemoteAuthorize } from '../ocpp/v16/outgoing/Authorize.js';
import { OcppSession, type BootIdentity } from '../ocpp/v16/session.js';
import type { TimeCorrector } from '../ocpp/outbox/time-correction.js';
import { transactionAnswerHooks } from '../ocpp/v16/transaction-answers.js';
import { TransactionMessenger } from '../ocpp/v16/transaction-messages.js';
import type { SqliteTransactionStore } from '../store/transaction-store.js';
import type { UploadService } from '../diagnostics/log-upload.js';
import type { ProfileSwitching } from './security-profile.js';
import { currentChargePointCertificate, type SecurityParts } from './store.js';
import { CertificateRenewal } from '../ocpp/v16/certificate-renewal.js';

export interface OcppLink {
  csms: CsmsConnection;
  /** Authorize.req for the domain's authorizer; bound to the session once there is one. */
  remoteAuthorizer: RemoteAuthorize;
}

export interface LinkOptions {
  onOcppFrame?: ((direction: 'in' | 'out', text: string) => void) | undefined;
}

/** The CSMS connection (not opened yet), switched by the security settings, and Authorize.req. */
export function connectOcpp(cfg: AgentConfig, config: ConfigurationStore, security: SecurityParts, switching: ProfileSwitching, opts: LinkOptions, log: Logger): OcppLink {
  const csms = connectCsms(cfg, {
    logger: childLogger(log, 'ocpp'),
    onFrame: opts.onOcppFrame,
    pingIntervalSeconds: config.getInt('WebSocketPingInterval'),
    settings: switching.settings,
    securityEvents: security.events,
  });
  switching.profile.attach(csms);
  // CertificateSigned: the certificate actions reconnect through this port to present the new certificate.
  security.reconnect.implement((reason) => csms.reconnect(reason));
  return { csms, remoteAuthorizer: new RemoteAuthorize() };
}

export interface MessengerDeps {
  csms: CsmsConnection;
  transactionStore: SqliteTransactionStore;
  config: ConfigurationStore;
  clock: Clock;
  bootId: string | null;
  time: TimeCorrector;
}

/** The durable, ordered outbox of StartTransaction, MeterValues and StopTransaction. */
export function buildMessenger(d: MessengerDeps, log: Logger): TransactionMessenger {
  return new TransactionMessenger(
    d.csms.rpc,
    d.transactionStore,
    {
      transactionMessageAttempts: () => d.config.getInt('TransactionMessageAttempts'),
      transactionMessageRetryIntervalS: () => d.config.getInt('TransactionMessageRetryInterval'),
    },
    d.clock,
    childLogger(log, 'outbox'),
    {},
    { bootId: d.bootId, time: d.time },
  );
}

export interface SessionDeps extends OcppLink {
  messenger: TransactionMessenger;
  station: ChargingStation;
  controller: { readonly info?: { serialNumber?: string } | null; reset?(): Promise<void> };
  config: ConfigurationStore;
  clock: Clock;
  authorization: { service: AuthorizationService; localList: LocalAuthorizationList; cache: AuthorizationCache };
  reservations: ReservationBook;
  /** GetDiagnostics and GetLog uploads (composition/diagnostics-upload.ts). */
  uploads?: UploadService;
  smartCharging?: SmartCharging;
  /** Builds the firmware update handling over the session (before the handlers are registered). */
  firmware: (session: OcppSession) => HandlerContext['firmware'] & { stop(): void; resume(): void };
  security: SecurityParts;
}

export interface SessionOptions {
  onResetRequested?: ((type: ResetType) => void) | undefined;
  vendorHandlers?: ReadonlyMap<string, VendorDataHandler> | undefined;
}

/** The session (boot, heartbeat, reports), the reset rule and the handlers of CSMS-initiated actions. */
export function startSession(cfg: AgentConfig, d: SessionDeps, opts: SessionOptions, log: Logger): { session: OcppSession; firmware: { stop(): void; resume(): void } } {
  const { csms, messenger, station, config, clock } = d;
  messenger.onAnswers(transactionAnswerHooks({ station, learner: d.authorization.service }));
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
    const meterSerial = d.controller.info?.serialNumber;
    if (meterSerial) id.meterSerialNumber = meterSerial.slice(0, 25);
    return id;
  };
  const session = new OcppSession(csms.rpc, station, config, clock, identity, childLogger(log, 'session'), messenger, d.remoteAuthorizer);
  session.reportClockChanges(d.security.events);
  const renewal = buildRenewal(cfg, d, session, log);
  const reset = new ResetRule({ station, clock, delivery: session, controller: d.controller, restart: (type) => opts.onResetRequested?.(type) });
  const firmware = d.firmware(session);
  const ctx: HandlerContext = {
    station,
    config,
    session,
    vendorHandlers: opts.vendorHandlers ?? new Map(),
    authorization: { localList: d.authorization.localList, cache: d.authorization.cache },
    reservations: d.reservations,
    ...(d.uploads ? { uploads: d.uploads } : {}),
    ...(d.smartCharging ? { smartCharging: d.smartCharging } : {}),
    firmware,
    requestReset: (type) => {
      const accepted = reset.request(type);
      if (accepted) d.security.events.report('ResetOrReboot', `${type} reset requested by the CSMS`);
      return accepted;
    },
    security: {
      certificates: d.security.certificates,
      events: d.security.events,
      reconnect: d.security.reconnect,
      // The profile in use: the switch keeps the stored key at max(config file, CSMS raises).
      securityProfile: () => config.getInt('SecurityProfile'),
      renewal,
      chargePointId: cfg.chargePointId,
    },
  };
  if (d.uploads) session.outgoing.uploads = d.uploads;
  csms.registerHandlers(INCOMING_ACTIONS, ctx);
  csms.on('connected', () => session.onConnected());
  csms.on('disconnected', () => session.onDisconnected());
  return { session, firmware };
}

/** Certificate renewal: checked after the first accepted BootNotification, then every 12 h. */
function buildRenewal(cfg: AgentConfig, d: SessionDeps, session: OcppSession, log: Logger): CertificateRenewal {
  const renewal = new CertificateRenewal(
    {
      rpc: d.csms.rpc,
      certificates: d.security.certificates,
      config: d.config,
      clock: d.clock,
      log: childLogger(log, 'certificates'),
      canSend: () => session.outgoing.canSend(),
      canSendTriggered: () => session.outgoing.canSendTriggered(),
      current: () => currentChargePointCertificate(d.security.certificates, cfg.csms.clientCertFile),
    },
    { chargePointId: cfg.chargePointId, keyType: cfg.security.csrKeyType, renewBeforeDays: cfg.security.renewBeforeDays },
  );
  session.onAccepted(() => renewal.start());
  d.security.renewal = renewal;
  return renewal;
}
