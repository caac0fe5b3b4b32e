// Part of the composition root: the firmware update manager (src/firmware/) over the station,
// the download, the staged install and the status reporter. Loaded by composition/firmware.ts
// when an update is requested or one a restart interrupted is resumed, with the download
// (basic-ftp), the bundle, tar, manifest and signature code the start-up does not need.
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import type { Logger } from 'pino';
import { errorText } from '../platform/errors.js';
import type { Clock } from '../platform/clock.js';
import type { ChargingStation } from '../domain/station/charging-station.js';
import { STATION } from '../domain/model/evse.js';
import { verifyBundle } from '../firmware/bundle.js';
import { downloadFile } from '../firmware/download.js';
import { installBundle } from '../firmware/install.js';
import { FirmwareUpdateManager } from '../firmware/update-manager.js';
import type { CertificateStore } from '../security/certificate-store.js';
import type { SecurityEventSink } from '../security/security-events.js';
import type { ConfigurationStore } from '../ocpp/v16/configuration-store.js';
import type { FirmwareStatusReporter } from '../ocpp/v16/firmware-status.js';
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
  /** The agent's one certificate store: ManufacturerRootCertificates, and CSMS roots for https. */
  certificates: Pick<CertificateStore, 'roots'>;
}

/** The running installation as the launcher set it up (null without a launcher). */
export type LauncherContext = { installRoot: string; version: string } | null;

/** The update manager for a session; its statuses go out through the session's reporter. */
export function createFirmwareManager(d: FirmwareDeps, session: OcppSession, reporter: FirmwareStatusReporter, launcher: LauncherContext, flog: Logger): FirmwareUpdateManager {
  const certificates = d.certificates;
  return new FirmwareUpdateManager({
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
