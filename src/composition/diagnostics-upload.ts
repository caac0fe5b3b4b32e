// Part of the composition root: diagnostics and log uploads (GetDiagnostics, GetLog). No upload
// is needed before the BootNotification, so the service (diagnostics-upload-service.ts: the
// archive, the FTP/HTTP(S) transports, basic-ftp, the database summary) is loaded on the first
// request; until then nothing runs, nothing is cancelled, and the answers wait for the load only.
import type { Logger } from 'pino';
import type { ControllerInfo } from '../../hal/controller/types.js';
import type { AgentConfig } from '../config/agent-config.js';
import type { Clock } from '../platform/clock.js';
import type { SecurityLogReader } from '../security/security-events.js';
import type { ConfigurationStore } from '../ocpp/v16/configuration-store.js';
import type { AgentDatabase } from '../store/database.js';
import type { LogUploads, RunningUpload, StartResult, UploadListener, UploadRequest, UploadService } from '../diagnostics/log-upload.js';

export interface UploadParts {
  database: AgentDatabase;
  config: ConfigurationStore;
  messenger: { readonly queueDepth: number };
  station: { evseIds(): readonly number[] };
  controller: { readonly info: ControllerInfo | null };
  clock: Clock;
  securityLog?: SecurityLogReader;
}

/** The upload service, built on its first request. */
export function buildLogUploads(cfg: AgentConfig, parts: UploadParts, log: Logger): UploadService {
  let service: LogUploads | null = null;
  let loading: Promise<LogUploads> | null = null;
  // One promise: requests arriving while it loads start in their order.
  const load = (): Promise<LogUploads> =>
    (loading ??= import('./diagnostics-upload-service.js').then((m) => (service = m.createLogUploads(cfg, parts, log))));
  return {
    start: (req: UploadRequest, listener: UploadListener): StartResult | Promise<StartResult> =>
      service !== null ? service.start(req, listener) : load().then((s) => s.start(req, listener)),
    current: (): RunningUpload | null => service?.current() ?? null,
    stop: (): void => service?.stop(),
  };
}
