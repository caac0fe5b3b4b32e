// The DiagnosticsHost over a running agent: reads station, session, CSMS link,
// controller and configuration into plain reports, and maps the few actions (trigger,
// raw controller command, simulator steps, log level) onto them. Built in main.ts.
import type { Logger } from 'pino';
import type { ChargeController } from '../../hal/controller/types.js';
import type { SimulatedController } from '../../hal/sim/simulated-controller.js';
import type { AgentConfig } from '../config/agent-config.js';
import type { ChargingStation } from '../domain/station/charging-station.js';
import type { Transaction } from '../domain/model/transaction.js';
import { chargePointStatus, toReason16 } from '../ocpp/v16/mappers.js';
import { CONFIGURATION_KEYS, isConfigurationKey, type KeySpec } from '../ocpp/v16/configuration-keys.js';
import type { ConfigurationStore } from '../ocpp/v16/configuration-store.js';
import { logRingOf, setLogLevel, type LogLevel } from '../platform/logger.js';
import { packageVersion } from '../platform/package-info.js';
import type { DiagConfig, DiagnosticsHost, LogSource, SecurityLogSource, SimulateAction, SmartChargingReport, StatusReport, TransactionReport, TriggerKind } from './host.js';
import type { SmartChargingCounters } from '../domain/smart-charging/smart-charging.js';
import { DIAG_PROTOCOL_VERSION, DiagError } from './protocol.js';

/** The parts of RunningAgent the host reads (structural, so main.ts passes them as they are). */
export interface AgentParts {
  station: ChargingStation;
  controller: ChargeController;
  session: {
    readonly registrationStatus: string;
    csmsTransactionId(localId: string): number | undefined;
    triggerable(message: string, connectorId?: number): (() => Promise<void>) | null;
  };
  config: ConfigurationStore;
  csms: { readonly isConnected: boolean };
  simulator: SimulatedController | null;
  smartCharging?: { counters(): SmartChargingCounters };
}

export interface AgentHostOptions {
  cfg: AgentConfig;
  /** The agent's clock (offset from the CSMS time). */
  clock: { readonly offsetMs: number; readonly synced: boolean };
  /** The root logger given to startAgent: its level is the runtime level, its ring feeds `logs`. */
  logger: Logger;
  /** Transaction messages waiting for the CSMS (the durable outbox); null when unknown. */
  queueDepth?: () => number | null;
  /** Bytes the store wrote to flash since start; the store work connects it. */
  storeStats?: () => { bytesWritten: number } | null;
  /** Expiry of the client certificate (security profile 3); the security work connects it. */
  certificateExpiry?: () => Date | null;
  /** Root certificates installed, by kind. */
  installedRoots?: () => { centralSystem: number; manufacturer: number };
  /** The security log (security whitepaper) for `diag security-log`. */
  securityLog?: SecurityLogSource;
  /** Recent finished transactions from the store; without it, the ones since start are kept in memory. */
  recentTransactions?: (limit: number) => TransactionReport[];
}

export interface AgentHost extends DiagnosticsHost {
  /** Stop listening to the station. */
  dispose(): void;
}

const RECENT_STOPPED = 20;

/** A transaction as `diag transactions` shows it; `endWh` is the register at its end, or now. */
export function transactionReport(tx: Transaction, transactionId: number | null, endWh: number | null): TransactionReport {
  return {
    localId: tx.localId,
    transactionId,
    connector: tx.evseId,
    idTag: tx.idToken.value,
    startedAt: tx.startedAt.toISOString(),
    stoppedAt: tx.stoppedAt?.toISOString() ?? null,
    // As the CSMS was told it (OCPP 1.6).
    stopReason: tx.stopReason ? toReason16(tx.stopReason) : null,
    meterStartWh: tx.meterStartWh,
    energyWh: endWh === null ? null : Math.max(0, endWh - tx.meterStartWh),
  };
}

export function createAgentHost(agent: AgentParts, opts: AgentHostOptions): AgentHost {
  const { station, controller, session, csms, simulator } = agent;
  const { cfg, clock, logger } = opts;
  const startedAt = performance.now();
  const report = (tx: Transaction): TransactionReport =>
    transactionReport(tx, session.csmsTransactionId(tx.localId) ?? null, tx.meterStopWh ?? station.lastMeter(tx.evseId)?.energyWh ?? null);

  // Stopped transactions since start, newest first, for `transactions` when no store hook is given.
  const stopped: TransactionReport[] = [];
  const unsubscribe = station.subscribe({
    transactionEnded: ({ tx }) => {
      stopped.unshift(report(tx));
      stopped.length = Math.min(stopped.length, RECENT_STOPPED);
    },
  });

  const config: DiagConfig = {
    list: (keys) => agent.config.list(keys),
    change: (key, value) => {
      const outcome = agent.config.change(key, value);
      // The value of a write-only key never reaches the log.
      const shown = isConfigurationKey(key) && isWriteOnlyKey(key) ? undefined : value;
      logger.info({ key, value: shown, result: outcome.result }, 'configuration change requested through diagnostics');
      return outcome;
    },
    isWriteOnly: (key) => isConfigurationKey(key) && isWriteOnlyKey(key),
    isSet: (key) => isConfigurationKey(key) && agent.config.get(key) !== '',
  };

  const ring = logRingOf(logger);
  const logs: LogSource | null = ring ? { tail: (n) => ring.tail(n), follow: (l) => ring.follow(l) } : null;

  const simulate = simulator
    ? (a: SimulateAction): void => {
        switch (a.action) {
          case 'plug':
            simulator.plugIn(a.connector, {
              ...(a.cableAmps !== undefined ? { cableAmps: a.cableAmps } : {}),
              ...(a.evMaxAmps !== undefined ? { evMaxAmps: a.evMaxAmps } : {}),
            });
            return;
          case 'charge':
            return simulator.evRequestEnergy(a.connector);
          case 'pause':
            return simulator.evPause(a.connector);
          case 'unplug':
            return simulator.unplug(a.connector);
          case 'card':
            return simulator.swipeCard(a.uid);
        }
      }
    : null;

  return {
    chargePointId: cfg.chargePointId,
    agentVersion: packageVersion(),
    config,
    logs,
    simulate,
    securityLog: opts.securityLog ?? null,

    status(): StatusReport {
      const info = controller.info;
      return {
        chargePointId: cfg.chargePointId,
        uptimeSeconds: Math.floor((performance.now() - startedAt) / 1000),
        versions: {
          agent: packageVersion(),
          node: process.version,
          firmware: cfg.identity.firmwareVersion,
          controllerFirmware: info?.firmwareVersion ?? null,
          diagProtocol: DIAG_PROTOCOL_VERSION,
        },
        csms: {
          url: `${cfg.csms.url.replace(/\/+$/, '')}/${cfg.chargePointId}`,
          connected: csms.isConnected,
          registration: session.registrationStatus,
          securityProfile: cfg.csms.securityProfile,
        },
        controller: {
          port: cfg.controller.simulated ? 'simulated' : cfg.controller.port,
          linkUp: controller.isLinkUp,
          serialNumber: info?.serialNumber ?? null,
          connectorCount: info?.connectorCount ?? null,
        },
        connectors: station.snapshot().map((c) => ({
          connector: c.evseId,
          // The connector status as the CSMS is told it (OCPP 1.6).
          status: c.state ? chargePointStatus(c.state) : null,
          pilot: c.pilot,
          cableA: c.cableA,
          contactorClosed: c.contactorClosed,
          offeredA: c.offeredA,
          faults: c.faults,
          meterWh: c.energyWh,
          transaction: c.transaction ? report(c.transaction) : null,
        })),
        queueDepth: opts.queueDepth?.() ?? null,
        clock: { synced: clock.synced, offsetMs: Math.round(clock.offsetMs) },
        certificateExpiry: opts.certificateExpiry?.()?.toISOString() ?? null,
        installedRoots: opts.installedRoots?.() ?? null,
        flashBytesWritten: opts.storeStats?.()?.bytesWritten ?? null,
        logLevel: logger.level as LogLevel,
        smartCharging: agent.smartCharging ? smartChargingReport(agent.smartCharging.counters()) : null,
      };
    },

    transactions(): TransactionReport[] {
      const active = station.activeTransactions().map(report);
      const recent = opts.recentTransactions ? opts.recentTransactions(RECENT_STOPPED) : stopped.map((t) => ({ ...t, transactionId: t.transactionId ?? session.csmsTransactionId(t.localId) ?? null }));
      return [...active, ...recent];
    },

    async trigger(kind: TriggerKind, connector?: number): Promise<void> {
      if (!csms.isConnected) throw new DiagError('unavailable', 'the CSMS is not connected');
      if (kind !== 'BootNotification' && session.registrationStatus !== 'Accepted' && session.registrationStatus !== 'Pending') {
        throw new DiagError('unavailable', `not registered with the CSMS (registration ${session.registrationStatus})`);
      }
      if (kind === 'StatusNotification' && connector !== undefined && connector !== 0 && !station.evseIds().includes(connector)) {
        throw new DiagError('bad_args', `trigger: no connector ${connector}`);
      }
      const send = session.triggerable(kind, connector);
      if (!send) throw new DiagError('unavailable', `${kind} cannot be sent`);
      logger.info({ action: kind, connector }, 'message triggered through diagnostics');
      await send();
    },

    async controllerRaw(type: string, fields: string[]): Promise<void> {
      logger.info({ type, fields }, 'raw controller command through diagnostics');
      await controller.sendRaw(type, fields);
    },

    getLogLevel: () => logger.level as LogLevel,
    setLogLevel(level: LogLevel): void {
      const previous = logger.level;
      const say = (): void => logger.info({ level, previous }, 'log level changed through diagnostics');
      // Logged under whichever of the two levels is more verbose, so the change shows when it is allowed to.
      const louder = (logger.levels.values[level] ?? Infinity) < (logger.levels.values[previous] ?? Infinity);
      if (!louder) say();
      setLogLevel(logger, level);
      if (louder) say();
    },

    dispose: () => unsubscribe(),
  };
}

function smartChargingReport(c: SmartChargingCounters): SmartChargingReport {
  return {
    profilesReceived: c.profilesReceived,
    profilesIdentical: c.profilesIdentical,
    profileWrites: c.profileWrites,
    profileBytesWritten: c.profileBytesWritten,
    profilesCoalesced: c.profilesCoalesced,
    limits: c.limits.map((l) => ({
      connector: l.evseId,
      limitA: l.limitA,
      binding: l.binding,
      paused: l.paused,
      voltageV: Math.round(l.voltageV * 10) / 10,
      phases: l.phases,
      measured: l.measured,
    })),
  };
}

function isWriteOnlyKey(key: keyof typeof CONFIGURATION_KEYS): boolean {
  const spec: KeySpec = CONFIGURATION_KEYS[key];
  return spec.writeOnly === true;
}
