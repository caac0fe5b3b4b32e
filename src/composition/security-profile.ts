// Part of the composition root: the TLS material the CSMS connection reads before each attempt
// (installed roots and charge-point certificate, else the config file's files), and the
// SecurityProfile / AuthorizationKey switch over the configuration store.
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { AgentConfig } from '../config/agent-config.js';
import { childLogger } from '../platform/logger.js';
import type { ConfigurationStore } from '../ocpp/v16/configuration-store.js';
import { SecurityProfileSwitch } from '../ocpp/v16/security-profile.js';
import { SYSTEM_TIMERS, type TimerPort } from '../ocpp/transport/transport.js';
import type { ConnectionSettings } from '../ocpp/transport/ws-transport.js';
import type { CertificateStore } from '../security/certificate-store.js';
import { ConnectionMaterial } from '../security/connection-material.js';
import { PendingSwitchFile } from '../security/pending-switch-file.js';
import type { SecurityEventSink } from '../security/security-events.js';

export interface ProfileSwitching {
  material: ConnectionMaterial;
  profile: SecurityProfileSwitch;
  /** The connection settings for the next attempt (profile, URL, key, roots, client certificate). */
  settings(): ConnectionSettings;
}

export function buildProfileSwitching(
  cfg: AgentConfig,
  config: ConfigurationStore,
  security: { certificates: CertificateStore; events: SecurityEventSink },
  log: Logger,
  timers: TimerPort = SYSTEM_TIMERS,
): ProfileSwitching {
  const material = new ConnectionMaterial(security.certificates, cfg.csms);
  const profile = new SecurityProfileSwitch({
    config,
    factory: cfg.csms,
    preconditions: material,
    events: security.events,
    switchTimeoutMs: cfg.csms.securitySwitchTimeoutS * 1000,
    timers,
    logger: childLogger(log, 'security'),
    pendingStore: new PendingSwitchFile(join(cfg.dataDir, 'security-switch.json'), childLogger(log, 'security')),
  });
  return { material, profile, settings: () => profile.connectionSettings(material) };
}
