// Part of the composition root: the diagnostics socket and systemd notifications over the running
// agent, with the outbox depth, store writes and recent transactions they report.
import type { Logger } from 'pino';
import type { AgentConfig } from '../config/agent-config.js';
import type { Clock } from '../platform/clock.js';
import type { AgentParts } from '../diagnostics/agent-host.js';
import type { Operations } from '../diagnostics/operations.js';
import { csmsTransactionIdOf, type TransactionMessenger } from '../ocpp/v16/transaction-messages.js';
import type { AgentDatabase } from '../store/database.js';
import type { SqliteTransactionStore } from '../store/transaction-store.js';
import type { SecurityParts } from './store.js';

export interface OperationsSources {
  messenger: TransactionMessenger;
  database: AgentDatabase;
  transactionStore: SqliteTransactionStore;
  security: SecurityParts;
}

export async function startAgentOperations(agent: AgentParts, src: OperationsSources, cfg: AgentConfig, clock: Clock, log: Logger): Promise<Operations> {
  // Loaded here, once the CSMS connection is opening: the diagnostics socket's two dozen modules
  // are not on the path to BootNotification, which a slow board feels (docs/benchmarks.md).
  const [{ startOperations }, { transactionReport }] = await Promise.all([import('../diagnostics/operations.js'), import('../diagnostics/agent-host.js')]);
  return startOperations(agent, {
    cfg,
    clock,
    logger: log,
    queueDepth: () => src.messenger.queueDepth,
    certificateExpiry: () => src.security.renewal?.expiry() ?? null,
    securityLog: {
      tail: (n) =>
        src.security.log
          .tail(n)
          .map((e) => ({ seq: e.seq, at: new Date(e.atMs).toISOString(), type: e.type, techInfo: e.techInfo })),
      clear: () => src.security.events.clearLog('requested through diagnostics'),
    },
    installedRoots: () => ({
      centralSystem: src.security.certificates.count('CentralSystemRootCertificate'),
      manufacturer: src.security.certificates.count('ManufacturerRootCertificate'),
    }),
    storeStats: () => {
      const bytes = src.database.stats().processWriteBytes;
      return bytes === null ? null : { bytesWritten: bytes };
    },
    recentTransactions: (limit) =>
      src.transactionStore
        .recentTransactions(limit)
        .filter((t) => t.stoppedAt !== undefined)
        .map((t) => transactionReport(t, csmsTransactionIdOf(t), t.meterStopWh ?? null)),
  });
}
