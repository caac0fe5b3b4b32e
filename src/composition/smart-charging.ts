// Part of the composition root: smart charging over the station. The profiles' store, the
// station's limits read from the OCPP configuration, the write budget and fail-safe from the
// config file; the controller's cable ratings and the CSMS link feed it, and the station asks it
// for the first current of every transaction.
import type { Logger } from 'pino';
import type { AgentConfig } from '../config/agent-config.js';
import type { Clock } from '../platform/clock.js';
import { errorText } from '../platform/errors.js';
import { childLogger } from '../platform/logger.js';
import type { ChargeControllerPort } from '../domain/ports.js';
import type { ChargingStation } from '../domain/station/charging-station.js';
import { SmartCharging } from '../domain/smart-charging/smart-charging.js';
import type { ConfigurationStore } from '../ocpp/v16/configuration-store.js';
import { rateUnitsOf } from '../ocpp/v16/mappers.js';
import type { AgentDatabase } from '../store/database.js';
import { SqliteChargingProfileRepo } from '../store/charging-profile-repo.js';

export interface SmartChargingDeps {
  station: ChargingStation;
  controller: Pick<ChargeControllerPort, 'on'>;
  csms: { on(event: 'connected' | 'disconnected', listener: () => void): unknown };
  config: ConfigurationStore;
  database: AgentDatabase;
  clock: Clock;
}

export function buildSmartCharging(cfg: AgentConfig, d: SmartChargingDeps, log: Logger): SmartCharging {
  const scLog = childLogger(log, 'smart-charging');
  const { failSafeCurrentA, failSafeAfterS } = cfg.smartCharging;
  const smart = new SmartCharging({
    clock: d.clock,
    station: d.station,
    store: new SqliteChargingProfileRepo(d.database),
    writesPerDay: cfg.smartCharging.profileWritesPerDay,
    limits: () => ({
      maxStackLevel: d.config.getInt('ChargeProfileMaxStackLevel'),
      maxPeriods: d.config.getInt('ChargingScheduleMaxPeriods'),
      maxInstalled: d.config.getInt('MaxChargingProfilesInstalled'),
      allowedUnits: rateUnitsOf(d.config.getList('ChargingScheduleAllowedChargingRateUnit')),
    }),
    limiter: () => ({
      configuredMaxA: cfg.controller.maxCurrentA,
      ...(failSafeCurrentA !== null ? { failSafe: { afterMs: failSafeAfterS * 1000, limitA: failSafeCurrentA } } : {}),
    }),
    // The EV may take ConnectionTimeOut to plug in after a remote start.
    remoteStartWindowMs: () => (d.config.getInt('ConnectionTimeOut') + 5) * 1000,
    onError: (err, context) => scLog.warn({ err: errorText(err), context }, 'smart charging operation failed'),
  });
  d.station.useOfferLimit((evseId) => smart.offerAtStart(evseId));
  d.controller.on('cableCapacity', (n, amps) => smart.cableCapacity(n, amps));
  d.csms.on('connected', () => smart.csmsReachable(true));
  d.csms.on('disconnected', () => smart.csmsReachable(false));
  smart.start();
  return smart;
}
