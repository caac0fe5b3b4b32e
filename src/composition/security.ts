// Part of the composition root: the certificate store under the data dir, the TLS material the
// CSMS connection reads before each attempt, and the SecurityProfile / AuthorizationKey switch.
import type { Logger } from 'pino';
import type { AgentConfig } from '../config/agent-config.js';
import { childLogger } from '../platform/logger.js';
import type { ConfigurationStore } from '../ocpp/v16/configuration-store.js';
import { SecurityProfileSwitch } from '../ocpp/v16/security-profile.js';
import { join } from 'node:path';
import { PendingSwitchFile } from '../security/pending-switch-file.js';
import { SYSTEM_TIMERS, type TimerPort } from '../ocpp/transport/transport.js';
import type { ConnectionSettings } from '../ocpp/transport/ws-transport.js';
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
    pendingStore: new PendingSwitchFile(join(cfg.dataDir, 'security-switch.json'), childLogger(log, 'security')),
  });
  return { certificates, material, profile, settings: () => profile.connectionSettings(material) };
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
