// The configuration of an agent on the simulated controller against a local CSMS:
// what the demo, the test harnesses and the benches run. Development only.
import { join } from 'node:path';
import { parseAgentConfig, type AgentConfig } from '../config/agent-config.js';
import type { LogLevel } from '../platform/logger.js';

export interface SimulatedAgentConfigOptions {
  chargePointId: string;
  csmsUrl: string;
  /** The diagnostics socket goes here too. */
  dataDir: string;
  logLevel?: LogLevel;
  /** csms.securitySwitchTimeoutS (default 60). */
  securitySwitchTimeoutS?: number;
}

export function simulatedAgentConfig(opts: SimulatedAgentConfigOptions): AgentConfig {
  return parseAgentConfig({
    chargePointId: opts.chargePointId,
    csms: { url: opts.csmsUrl, securityProfile: 0, basicAuthPassword: null, ...(opts.securitySwitchTimeoutS !== undefined ? { securitySwitchTimeoutS: opts.securitySwitchTimeoutS } : {}) },
    controller: { port: 'simulated', baudRate: 115200, simulated: true },
    dataDir: opts.dataDir,
    diagnosticsSocket: join(opts.dataDir, 'diag.sock'),
    identity: { vendor: 'Acme', model: 'AC22', serialNumber: 'SN0042' },
    leds: {},
    logLevel: opts.logLevel ?? 'warn',
  });
}
