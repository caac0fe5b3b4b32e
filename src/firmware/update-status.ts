// What a firmware update reports, in no protocol's words (the 1.6 adapter sends the statuses as
// FirmwareStatusNotification or SignedFirmwareStatusNotification): each step's status, the outcome
// of an install once the release that runs after the restart knows it (with its FirmwareUpdated
// security event), and what a triggered notification says when no update runs.
import type { AgentLogger } from '../platform/logger.js';
import type { SecurityEventSink } from '../security/security-events.js';
import type { UpdateOutcome } from '../launcher/state.js';
import type { FirmwareUpdateStatus, PersistedUpdate } from './update-state.js';

export interface FirmwareStatusSink {
  /** Resolves once sent (or given up); offline, the adapter keeps it for the next registration. */
  report(status: FirmwareUpdateStatus, update: { signed: boolean; requestId: number | null }): Promise<void>;
}

/** A triggered notification's content: the status and the update it belongs to. */
export interface FirmwareTriggerStatus {
  status: FirmwareUpdateStatus | 'Idle';
  signed: boolean;
  requestId: number | null;
}

export interface FirmwareStatusDeps {
  status: FirmwareStatusSink;
  security: SecurityEventSink;
  log: AgentLogger;
}

/** The update a status belongs to, as the sink takes it. */
function updateOf(s: PersistedUpdate): { signed: boolean; requestId: number | null } {
  return { signed: s.request.signature !== null, requestId: s.request.requestId };
}

export class FirmwareStatusReports {
  /** The final status of the last update that ended since the start (for a triggered notification). */
  private lastEnded: FirmwareTriggerStatus | null = null;

  constructor(private readonly d: FirmwareStatusDeps) {}

  /** A step of the update `s`: its status is recorded (and saved by `persist`) before it is sent. */
  async step(s: PersistedUpdate, status: FirmwareUpdateStatus, persist: () => void): Promise<void> {
    s.status = status;
    persist();
    await this.d.status.report(status, updateOf(s));
  }

  /** The final status of the update that ran, kept for a triggered notification. */
  keepEnded(s: PersistedUpdate, status: FirmwareUpdateStatus): void {
    this.lastEnded = { status, ...updateOf(s) };
  }

  /** Sends the final status of `s` (the one that ran, or one a new request replaced). */
  sendEnded(s: PersistedUpdate, status: FirmwareUpdateStatus): Promise<void> {
    return this.d.status.report(status, updateOf(s));
  }

  /**
   * What a triggered status notification says, and for which update: the one running; else a
   * signed update that ended since the start other than Installed (the whitepaper: its last
   * status, with its requestId, Idle only after Installed); else Idle (signed when the last was).
   */
  trigger(current: PersistedUpdate | null): FirmwareTriggerStatus {
    if (current !== null) return { status: current.status, ...updateOf(current) };
    const last = this.lastEnded;
    if (last !== null && last.signed && last.status !== 'Installed') return last;
    return { status: 'Idle', signed: last?.signed ?? false, requestId: null };
  }

  /**
   * After the restart of the update `s` being installed, with the launcher's outcome (if any) and
   * the release that runs: Installed or InstallationFailed, said to the security log here.
   */
  installOutcome(s: PersistedUpdate, outcome: UpdateOutcome | null, running: string | null): 'Installed' | 'InstallationFailed' {
    const installed = outcome !== null ? outcome.outcome === 'Installed' : s.version !== null && running === s.version;
    const why = outcome?.reason ?? (installed ? `release ${running} runs` : 'the installation did not complete');
    if (installed) this.d.security.report('FirmwareUpdated', `release ${running ?? s.version} installed`);
    else if (outcome !== null) this.reportRollback(outcome, running);
    this.d.log.info({ version: s.version, running, reason: why }, installed ? 'firmware update installed' : 'firmware update failed');
    return installed ? 'Installed' : 'InstallationFailed';
  }

  /** An update whose own state is gone (installed by hand, a data dir reset): its outcome is still said once. */
  async strayOutcome(outcome: UpdateOutcome, running: string | null): Promise<void> {
    if (outcome.outcome === 'Installed') this.d.security.report('FirmwareUpdated', `release ${outcome.version} installed`);
    else this.reportRollback(outcome, running);
    this.lastEnded = { status: outcome.outcome, signed: false, requestId: null };
    await this.d.status.report(outcome.outcome, { signed: false, requestId: null });
  }

  /**
   * The launcher brought the previous release back: the firmware changed twice, which the CSMS
   * hears as FirmwareUpdated naming the release that failed and the one that runs.
   */
  private reportRollback(outcome: UpdateOutcome, running: string | null): void {
    const info = `release ${outcome.version} rolled back (${outcome.reason}); release ${running ?? 'previous'} runs`;
    this.d.security.report('FirmwareUpdated', info.slice(0, 255));
  }
}
