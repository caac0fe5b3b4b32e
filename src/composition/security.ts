// Part of the composition root: the certificate store under the data dir, the TLS material the
// CSMS connection reads before each attempt, and the SecurityProfile / AuthorizationKey switch.
import type { Logger } from 'pino';
import type { AgentConfig } from '../config/agent-config.js';
import { childLogger } from '../platform/logger.js';
import type { ConfigurationStore } from '../ocpp/v16/configuration-store.js';
import { SecurityProfileSwitch, type PendingSwitchStore } from '../ocpp/v16/security-profile.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeFileDurably, writeFileAtomic } from '../security/atomic-file.js';
import { SYSTEM_TIMERS, type TimerPort } from '../ocpp/transport/transport.js';
import type { ConnectionSettings, SecurityProfile } from '../ocpp/transport/ws-transport.js';
import { CertificateStore } from '../security/certificate-store.js';
import { ConnectionMaterial } from '../security/connection-material.js';
import type { SecurityEventSink, SecurityEventType } from '../security/security-events.js';

export interface AgentSecurity {
  certificates: CertificateStore;
  material: ConnectionMaterial;
  profile: SecurityProfileSwitch;
  /** The connection settings for the next attempt (profile, URL, key, roots, client certificate). */
  settings(): ConnectionSettings;
}

export function buildSecurity(cfg: AgentConfig, config: ConfigurationStore, events: SecurityEventSink, log: Logger, timers: TimerPort = SYSTEM_TIMERS): AgentSecurity {
  const certificates = new CertificateStore({ dataDir: cfg.dataDir, logger: childLogger(log, 'certificates') });
  const material = new ConnectionMaterial(certificates, cfg.csms);
  const profile = new SecurityProfileSwitch({
    config,
    factory: cfg.csms,
    preconditions: material,
    events,
    switchTimeoutMs: cfg.csms.securitySwitchTimeoutS * 1000,
    timers,
    logger: childLogger(log, 'security'),
    pendingStore: pendingSwitchFile(join(cfg.dataDir, 'security-switch.json'), childLogger(log, 'security')),
  });
  return { certificates, material, profile, settings: () => profile.connectionSettings(material) };
}

/** The settings a switch falls back to, in the data dir (mode 0600: it may hold the previous key). */
function pendingSwitchFile(path: string, log: Logger): PendingSwitchStore {
  return {
    load() {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch {
        return undefined;
      }
      try {
        const v = JSON.parse(text) as { profile?: unknown; storedKey?: unknown };
        if (typeof v.profile === 'number' && [0, 1, 2, 3].includes(v.profile) && typeof v.storedKey === 'string') {
          return { profile: v.profile as SecurityProfile, storedKey: v.storedKey };
        }
      } catch {
        // unreadable: treated as no switch in progress
      }
      log.warn({ path }, 'unreadable security switch record ignored');
      removeFileDurably(path);
      return undefined;
    },
    save: (previous) => writeFileAtomic(path, JSON.stringify(previous), 0o600),
    clear: () => void removeFileDurably(path),
  };
}

/** Every security event also goes to the log (type and techInfo only: no secret is ever put there). */
export function loggedSecurityEvents(sink: SecurityEventSink, log: Logger): SecurityEventSink {
  const events = childLogger(log, 'security');
  return {
    report(type: SecurityEventType, techInfo?: string) {
      events.warn({ type, techInfo }, 'security event');
      sink.report(type, techInfo);
    },
  };
}
