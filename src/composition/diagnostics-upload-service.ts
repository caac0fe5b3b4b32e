// Part of the composition root: the diagnostics and log upload service (GetDiagnostics, GetLog)
// over the running agent's parts: the log ring, the configuration, the database summary, the
// outbox depth, the controller's identity and the durable security log. Loaded on the first
// upload request (diagnostics-upload.ts), with the archive, the transports and basic-ftp.
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import type { Logger } from 'pino';
import type { AgentConfig } from '../config/agent-config.js';
import { errorText } from '../platform/errors.js';
import { childLogger, logRingOf } from '../platform/logger.js';
import { summarizeDatabase } from '../store/database-summary.js';
import type { ArchiveSources } from '../diagnostics/log-archive.js';
import { LogUploads } from '../diagnostics/log-upload.js';
import type { SecurityLogReader } from '../security/security-events.js';
import type { UploadParts } from './diagnostics-upload.js';

/** A security log that holds nothing: for tools and tests that run without the store. */
export const EMPTY_SECURITY_LOG: SecurityLogReader = { entries: () => [] };

export function archiveSources(cfg: AgentConfig, parts: UploadParts, log: Logger): ArchiveSources {
  const ring = logRingOf(log);
  return {
    logLines: () => ring?.tail() ?? [],
    logTimeOffsetMs: () => parts.clock.offsetMs,
    agentConfig: () => cfg,
    ocppConfiguration: () => parts.config.list().known,
    databaseSummary: () => summarizeDatabase(parts.database),
    outboxDepth: () => parts.messenger.queueDepth,
    identity: () => {
      const info = parts.controller.info;
      return {
        firmwareVersion: cfg.identity.firmwareVersion,
        serialNumber: cfg.identity.serialNumber,
        controller: info ? { firmwareVersion: info.firmwareVersion, serialNumber: info.serialNumber, protocolVersion: info.protocolVersion } : null,
        connectorCount: parts.station.evseIds().length,
      };
    },
    securityLog: parts.securityLog ?? EMPTY_SECURITY_LOG,
    secretValues: () => [parts.config.get('AuthorizationKey'), cfg.csms.basicAuthPassword ?? ''].filter((s) => s !== ''),
  };
}

export function createLogUploads(cfg: AgentConfig, parts: UploadParts, log: Logger): LogUploads {
  const uploadLog = childLogger(log, 'upload');
  return new LogUploads({
    clock: parts.clock,
    log: uploadLog,
    sources: archiveSources(cfg, parts, log),
    chargePointId: cfg.chargePointId,
    ...trustedCas(cfg, uploadLog),
  });
}

/** https uploads trust what the CSMS connection trusts: Node's CAs plus the configured one. */
function trustedCas(cfg: AgentConfig, log: Logger): { ca?: (string | Buffer)[] } {
  if (!cfg.csms.caFile) return {};
  try {
    return { ca: [...rootCertificates, readFileSync(cfg.csms.caFile)] };
  } catch (err) {
    log.warn({ caFile: cfg.csms.caFile, err: errorText(err) }, 'https uploads: the CA file cannot be read, using the system CAs');
    return {};
  }
}
