// Part of the composition root: the data dir, its database and the stores the agent reads at start,
// with the time base stored times are read in.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../platform/clock.js';
import { childLogger } from '../platform/logger.js';
import { errorText } from '../platform/errors.js';
import { backupBeforeMigration, launcherContext } from '../firmware/health.js';
import { ConfigurationStore } from '../ocpp/v16/configuration-store.js';
import { TimeCorrector } from '../ocpp/outbox/time-correction.js';
import { shiftPayload } from '../ocpp/v16/time-correction.js';
import { AgentDatabase } from '../store/database.js';
import { SqliteConfigurationRepo } from '../store/configuration-repo.js';
import { SqliteTransactionStore } from '../store/transaction-store.js';
import { SqliteTimeBaseRepo } from '../store/time-base-repo.js';
import { SqliteSecurityLog } from '../store/security-log-repo.js';
import { CertificateStore } from '../security/certificate-store.js';
import { SecurityEventRecorder } from '../security/security-event-recorder.js';
import { ReconnectPort } from '../security/reconnect.js';
import { parsePemChain } from '../security/certificate-validation.js';
import type { CertificateRenewal } from '../ocpp/v16/certificate-renewal.js';
import type { MemoryWatch } from '../security/memory-watch.js';
import type { X509Certificate } from 'node:crypto';

export interface OpenedStore {
  database: AgentDatabase;
  config: ConfigurationStore;
  transactionStore: SqliteTransactionStore;
  /** The kernel's id of this boot; a transaction recorded under another one was cut by a power loss. */
  bootId: string | null;
  time: TimeCorrector;
  security: SecurityParts;
}

/** The certificate store and the security events (log + notifications), built before the CSMS connection that uses them. */
export interface SecurityParts {
  certificates: CertificateStore;
  /** The SecurityEventSink: the security log, and SecurityEventNotification once the outbox is attached (buildMessenger). */
  events: SecurityEventRecorder;
  log: SqliteSecurityLog;
  /** "Reconnect with the current credentials" (a new charge-point certificate); the transport implements it. */
  reconnect: ReconnectPort;
  /** Set once the session exists (composition/ocpp.ts): renewal state and the certificate's expiry. */
  renewal: CertificateRenewal | null;
  /** The MemoryExhaustion watch, when security.memoryLimitMb is set (composition/security.ts). */
  memory: MemoryWatch | null;
}

/**
 * The newest charge-point certificate: one signed in advance and waiting for its start, else the one
 * CertificateSigned installed, else the factory-provisioned file (renewal and diagnostics read it).
 */
export function currentChargePointCertificate(store: CertificateStore, provisionedFile: string | null): X509Certificate | undefined {
  const installed = store.nextChargePointCertificate() ?? store.chargePointCertificate();
  const pem = installed?.cert ?? (provisionedFile !== null ? readIfPresent(provisionedFile) : undefined);
  if (pem === undefined) return undefined;
  try {
    return parsePemChain(pem)[0];
  } catch {
    return undefined;
  }
}

function readIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

export async function openStore(dataDir: string, clock: Clock, log: Logger): Promise<OpenedStore> {
  // 0700: device keys live in the data dir too.
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const dbPath = join(dataDir, 'charger-agent.db');
  await backupBeforeTrialMigrates(dbPath, log);
  const database = new AgentDatabase(dbPath, childLogger(log, 'store'));
  const config = new ConfigurationStore(new SqliteConfigurationRepo(database));
  const transactionStore = new SqliteTransactionStore(database);
  const bootId = readBootId();
  // Before anything reads stored times: a restart within a synced boot takes that sync again, and
  // provisional times of this or an earlier boot are brought into one base (time-correction.ts).
  const time = new TimeCorrector(clock, new SqliteTimeBaseRepo(database, shiftPayload), bootId, childLogger(log, 'clock'));
  time.resume();
  const securityLog = new SqliteSecurityLog(database);
  const security: SecurityParts = {
    certificates: new CertificateStore({
      dataDir,
      now: () => clock.now(),
      maxCertificates: config.getInt('CertificateStoreMaxLength'),
      logger: childLogger(log, 'certificates'),
    }),
    // Times taken before the clock is set are corrected with the outbox's at the sync.
    events: new SecurityEventRecorder(securityLog, clock, childLogger(log, 'security'), { timeBase: () => time.current() }),
    log: securityLog,
    reconnect: new ReconnectPort(childLogger(log, 'security')),
    renewal: null,
    memory: null,
  };
  return { database, config, transactionStore, bootId, time, security };
}

/**
 * A release on trial (just installed by an update) copies the database before its migrations
 * run: when it fails its trial, the launcher puts the copy back for the release it returns to.
 */
async function backupBeforeTrialMigrates(dbPath: string, log: Logger): Promise<void> {
  const launcher = launcherContext();
  if (launcher === null) return;
  try {
    if (await backupBeforeMigration(launcher.installRoot, launcher.version, dbPath)) log.info({ version: launcher.version }, 'database copied before this release on trial migrates it');
  } catch (err) {
    // Without the copy a rollback keeps the migrated database (migrations stay readable by the previous release).
    log.error({ err: errorText(err) }, 'cannot copy the database before migrating it');
  }
}

function readBootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return null;
  }
}
