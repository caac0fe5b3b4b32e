// Part of the composition root: firmware updates. The update manager (src/firmware/) over the
// station, the staged install and the launcher's health gate; its statuses as 1.6 messages
// (ocpp/v16/firmware-status.ts). At the first accepted BootNotification (the database migrations
// ran at start) a release on trial marks itself healthy, then the outcome of the last update is
// reported once, by whichever release runs.
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import type { Logger } from 'pino';
import { childLogger } from '../platform/logger.js';
import { errorText } from '../platform/errors.js';
import type { Clock } from '../platform/clock.js';
import type { ChargingStation } from '../domain/station/charging-station.js';
import { STATION } from '../domain/model/evse.js';
import { verifyBundle } from '../firmware/bundle.js';
import { downloadFile } from '../firmware/download.js';
import { launcherContext, markReleaseHealthy, takeUpdateOutcome, type UpdateOutcome } from '../firmware/health.js';
import { installBundle } from '../firmware/install.js';
import { FirmwareUpdateManager } from '../firmware/update-manager.js';
import { CertificateStore } from '../security/certificate-store.js';
import type { SecurityEventSink } from '../security/security-events.js';
import type { ConfigurationStore } from '../ocpp/v16/configuration-store.js';
import { FirmwareStatusReporter, triggeredFirmwareMessage } from '../ocpp/v16/firmware-status.js';
import type { OcppSession } from '../ocpp/v16/session.js';

export interface FirmwareDeps {
  dataDir: string;
  station: ChargingStation;
  config: ConfigurationStore;
  clock: Clock;
  security: SecurityEventSink;
  /** Stops the agent; the launcher (or systemd) starts the new `current`. */
  restart: () => void;
  /** csms.caFile: trusted by https downloads too, as by the CSMS connection and the uploads. */
  caFile?: string | null;
}

/**
 * The update manager for a session (called by startSession before the handlers are registered).
 * The caller resumes it once the station recovered its transactions.
 */
export function buildFirmware(d: FirmwareDeps, session: OcppSession, log: Logger): FirmwareUpdateManager {
  const flog = childLogger(log, 'firmware');
  const launcher = launcherContext();
  const reporter = new FirmwareStatusReporter(session.outgoing);
  const certificates = new CertificateStore({ dataDir: d.dataDir, logger: flog });
  const manager = new FirmwareUpdateManager({
    dataDir: d.dataDir,
    clock: d.clock,
    // Read at each download: a CentralSystemRootCertificate installed meanwhile counts.
    download: (location, dest, opts) => downloadFile(location, dest, { ...opts, ca: firmwareCas(d.caFile ?? null, certificates, flog) }),
    installer: {
      verify: async (path) => (await verifyBundle(path)).manifest.version,
      install: async (path) => {
        if (launcher === null) throw new Error('the agent was not started by the launcher: there is no install root to install into');
        return (await installBundle(path, { installRoot: launcher.installRoot })).version;
      },
      runningVersion: () => launcher?.version ?? null,
    },
    site: {
      activeTransactions: () => d.station.activeTransactions().length,
      onTransactionEnded: (listener) => d.station.subscribe({ transactionEnded: () => listener() }),
      stationAvailability: () => d.station.availability(STATION) ?? 'Operative',
      setStationAvailability: (availability) => void d.station.setAvailability(STATION, availability),
      drainTransactionMessages: () => session.drain(),
    },
    status: reporter,
    security: d.security,
    manufacturerRoots: () => certificates.roots('ManufacturerRootCertificate'),
    requireSigned: () => d.config.getBoolean('RequireSignedFirmware'),
    restart: d.restart,
    log: flog,
  });
  session.setFirmwareStatusSource(() => triggeredFirmwareMessage(manager.triggerStatus()));
  let first = true;
  session.onAccepted(() => {
    if (!first) {
      void reporter.flush();
      return;
    }
    first = false;
    const outcome = healthGate(launcher, flog);
    void reporter.flush().then(() => manager.registered(outcome));
  });
  return manager;
}

/**
 * The CAs an https firmware location must chain to: the system's, csms.caFile and the installed
 * CentralSystemRootCertificates (the CSMS's own PKI often serves the files too).
 */
export function firmwareCas(caFile: string | null, certificates: Pick<CertificateStore, 'roots'>, log: Logger): (string | Buffer)[] {
  const cas: (string | Buffer)[] = [...rootCertificates];
  if (caFile) {
    try {
      cas.push(readFileSync(caFile));
    } catch (err) {
      log.warn({ caFile, err: errorText(err) }, 'https downloads: the CA file cannot be read, not trusted');
    }
  }
  for (const root of certificates.roots('CentralSystemRootCertificate')) cas.push(root.toString());
  return cas;
}

/** Ends this release's trial (migrations ran, the CSMS accepted it) and takes the last update's outcome. */
function healthGate(launcher: { installRoot: string; version: string } | null, log: Logger): UpdateOutcome | null {
  if (launcher === null) return null;
  try {
    if (markReleaseHealthy(launcher.installRoot, launcher.version)) log.info({ version: launcher.version }, 'release marked healthy: its trial is over');
    return takeUpdateOutcome(launcher.installRoot);
  } catch (err) {
    log.error({ err: errorText(err) }, 'cannot read or write the update state');
    return null;
  }
}
