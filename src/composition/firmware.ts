// Part of the composition root: firmware updates. The update manager (src/firmware/) over the
// station, the staged install and the launcher's health gate; its statuses as 1.6 messages
// (ocpp/v16/firmware-status.ts). At the first accepted BootNotification (the database migrations
// ran at start) a release on trial marks itself healthy, then the outcome of the last update is
// reported once, by whichever release runs.
// The manager, with the download, bundle, install and signature code (firmware-manager.ts), is
// loaded only when it has something to do: an update request, an update a restart interrupted
// (its state file), or an install outcome to report. Until then it would answer Idle and hold
// nothing, which is what this file answers.
import type { Logger } from 'pino';
import { childLogger } from '../platform/logger.js';
import { errorText } from '../platform/errors.js';
import { launcherContext, markReleaseHealthy, takeUpdateOutcome, type UpdateOutcome } from '../firmware/health.js';
import { UpdateStateFile } from '../firmware/update-state.js';
import type { Availability, FirmwareRequestResult, FirmwareUpdateManager, FirmwareUpdateRequest } from '../firmware/update-manager.js';
import type { FirmwareTriggerStatus } from '../firmware/update-status.js';
import { FirmwareStatusReporter, triggeredFirmwareMessage } from '../ocpp/v16/firmware-status.js';
import type { OcppSession } from '../ocpp/v16/session.js';
import type { FirmwareDeps, LauncherContext } from './firmware-manager.js';

export type { FirmwareDeps } from './firmware-manager.js';

/** What the session, the handlers and the shutdown use of the update manager. */
export interface FirmwareHandling {
  request(req: FirmwareUpdateRequest): Promise<FirmwareRequestResult>;
  holdAvailability(availability: Availability): boolean;
  /** At start, once the station recovered its transactions: an interrupted update goes on. */
  resume(): void;
  stop(): void;
}

/**
 * The firmware handling for a session (called by startSession before the handlers are registered).
 * The caller resumes it once the station recovered its transactions.
 */
export function buildFirmware(d: FirmwareDeps, session: OcppSession, log: Logger): FirmwareHandling {
  const flog = childLogger(log, 'firmware');
  const launcher = launcherContext();
  const reporter = new FirmwareStatusReporter(session.outgoing);
  const stateFile = new UpdateStateFile(d.dataDir);
  // An update a restart interrupted: the manager is loaded now, before it is needed.
  const interrupted = stateFile.read();
  let manager: FirmwareUpdateManager | null = null;
  let resumed = false;
  let stopped = false;
  let loading: Promise<FirmwareUpdateManager> | null = null;
  // One promise, so what waits for the manager runs in the order it asked (resume, registered, requests).
  const load = (): Promise<FirmwareUpdateManager> =>
    (loading ??= import('./firmware-manager.js').then((m) => (manager = m.createFirmwareManager(d, session, reporter, launcher, flog))));
  if (interrupted !== null) void load().catch((err: unknown) => flog.error({ err: errorText(err) }, 'cannot load the firmware update code'));

  session.setFirmwareStatusSource(() => triggeredFirmwareMessage(manager !== null && (resumed || interrupted === null) ? manager.triggerStatus() : idleOr(interrupted)));
  let first = true;
  session.onAccepted(() => {
    if (!first) {
      void reporter.flush();
      return;
    }
    first = false;
    const outcome = healthGate(launcher, flog);
    void reporter.flush().then(async () => {
      // Without an update of its own nor an outcome to report, the manager would do nothing here.
      if (interrupted === null && outcome === null && loading === null) return;
      await (await load()).registered(outcome);
    }).catch((err: unknown) => flog.error({ err: errorText(err) }, 'cannot report the firmware update outcome'));
  });
  return {
    request: async (req) => {
      const m = await load();
      const result = m.request(req);
      // The shutdown came while the code loaded: as if it had come just after the request.
      if (stopped) m.stop();
      return result;
    },
    holdAvailability: (availability) => {
      if (manager !== null && (resumed || interrupted === null)) return manager.holdAvailability(availability);
      // The interrupted update is not resumed yet: its state file keeps the change for its end.
      if (interrupted === null || interrupted.availabilityBefore === null) return false;
      interrupted.availabilityBefore = availability;
      try {
        stateFile.write(interrupted);
      } catch (err) {
        flog.warn({ err: errorText(err) }, 'cannot save the firmware update state');
      }
      flog.info({ availability }, 'availability change kept until the firmware update ends');
      return true;
    },
    resume: () => {
      if (interrupted === null) return;
      void load().then(
        (m) => {
          if (stopped) return;
          m.resume();
          resumed = true;
        },
        (err: unknown) => flog.error({ err: errorText(err) }, 'cannot resume the firmware update'),
      );
    },
    stop: () => {
      stopped = true;
      manager?.stop();
    },
  };
}

/** What the manager would say of the interrupted update before it resumes it: its last status. */
function idleOr(s: ReturnType<UpdateStateFile['read']>): FirmwareTriggerStatus {
  if (s === null) return { status: 'Idle', signed: false, requestId: null };
  return { status: s.status, signed: s.request.signature !== null, requestId: s.request.requestId };
}

/** Ends this release's trial (migrations ran, the CSMS accepted it) and takes the last update's outcome. */
function healthGate(launcher: LauncherContext, log: Logger): UpdateOutcome | null {
  if (launcher === null) return null;
  try {
    if (markReleaseHealthy(launcher.installRoot, launcher.version)) log.info({ version: launcher.version }, 'release marked healthy: its trial is over');
    return takeUpdateOutcome(launcher.installRoot);
  } catch (err) {
    log.error({ err: errorText(err) }, 'cannot read or write the update state');
    return null;
  }
}
