// A firmware update from request to restart, in no protocol's words (the 1.6 adapter maps the
// statuses to FirmwareStatusNotification or SignedFirmwareStatusNotification):
//   scheduled   wait for the retrieve time (DownloadScheduled), then download with retries
//               (Downloading, Downloaded or DownloadFailed); a plain bundle is verified as part of
//               its download (a corrupt or truncated file is a failed attempt); a signed one has
//               its signature checked first (SignatureVerified or InvalidSignature), then its
//               bundle (InstallVerificationFailed)
//   downloaded  the station goes Inoperative (free connectors Unavailable at once, busy ones when
//               their transaction ends), running transactions end and their messages are
//               delivered (InstallScheduled while waiting), then Installing, the staged install
//               (install.ts) and a restart (InstallRebooting) into the new release on trial
//   installing  after the restart, at the first accepted registration, the release that runs
//               reports Installed (the new one, which marked itself healthy) or InstallationFailed
//               (the old one, which the launcher brought back), and the availability comes back
// The state is persisted at each phase (update-state.ts). Clock, downloader and installer are
// injected, so tests drive each fault.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import type { X509Certificate } from 'node:crypto';
import type { Clock, TimerHandle } from '../platform/clock.js';
import { errorText } from '../platform/errors.js';
import type { AgentLogger } from '../platform/logger.js';
import type { SecurityEventSink } from '../security/security-events.js';
import type { UpdateOutcome } from '../launcher/state.js';
import type { Downloader, DownloadOptions } from './download.js';
import { checkFileSignature, checkSigningCertificate, FirmwareSignatureError } from './signature.js';
import { UpdateStateFile, type FirmwareUpdateRequest, type FirmwareUpdateStatus, type PersistedUpdate } from './update-state.js';
import { FirmwareStatusReports, type FirmwareStatusSink, type FirmwareTriggerStatus } from './update-status.js';

export type { FirmwareUpdateRequest, FirmwareUpdateStatus } from './update-state.js';

export type Availability = 'Operative' | 'Inoperative';

/** The station as an update needs it. */
export interface FirmwareSite {
  activeTransactions(): number;
  /** Called whenever a transaction ends; returns the unsubscribe. */
  onTransactionEnded(listener: () => void): () => void;
  stationAvailability(): Availability;
  setStationAvailability(availability: Availability): void;
  /** Delivers the queued transaction messages (resolves when done or given up). */
  drainTransactionMessages(): Promise<void>;
}

export interface FirmwareInstaller {
  /** Checks the bundle; resolves with its version, throws with the reason it is refused. */
  verify(bundlePath: string): Promise<string>;
  /** Installs it as the next release on trial; resolves with its version. */
  install(bundlePath: string): Promise<string>;
  /** The release running now (null without a launcher). */
  runningVersion(): string | null;
}

export type FirmwareRequestResult = 'Accepted' | 'AcceptedCanceled' | 'Rejected' | 'InvalidCertificate';

export interface FirmwareManagerDeps {
  dataDir: string;
  clock: Clock;
  download: Downloader;
  installer: FirmwareInstaller;
  site: FirmwareSite;
  status: FirmwareStatusSink;
  security: SecurityEventSink;
  manufacturerRoots: () => X509Certificate[];
  /** Configuration: only signed updates are taken. */
  requireSigned: () => boolean;
  /** Stop the agent so the launcher starts the new `current`. */
  restart: () => void;
  log: AgentLogger;
  limits?: Partial<DownloadOptions>;
}

const DEFAULT_LIMITS: DownloadOptions = { maxBytes: 128 * 1024 * 1024, idleTimeoutMs: 60_000 };
/** How long an Installing or a final status may take to reach the CSMS before the restart goes on. */
const REPORT_WAIT_MS = 5_000;
const DRAIN_WAIT_MS = 15_000;

export class FirmwareUpdateManager {
  private readonly file: UpdateStateFile;
  private current: PersistedUpdate | null = null;
  /** Bumped by a new request or stop(): a run that sees another value has been superseded. */
  private generation = 0;
  private readonly timers = new Set<TimerHandle>();
  private registeredOnce = false;
  private readonly reports: FirmwareStatusReports;

  constructor(private readonly d: FirmwareManagerDeps) {
    this.file = new UpdateStateFile(d.dataDir);
    this.reports = new FirmwareStatusReports(d);
  }

  /** At start: picks up an update a restart interrupted (one being installed waits for registered()). */
  resume(): void {
    const s = this.file.read();
    if (s === null) return;
    this.current = s;
    if (s.phase === 'installing') return;
    if (s.phase === 'downloaded' && !existsSync(this.file.bundlePath(s))) s.phase = 'scheduled';
    this.d.log.info({ location: s.request.location, phase: s.phase }, 'resuming the firmware update');
    this.start();
  }

  /** The status a TriggerMessage reports: the last one while an update runs, else Idle. */
  currentStatus(): FirmwareUpdateStatus | 'Idle' {
    return this.current?.status ?? 'Idle';
  }

  /** What a triggered status notification says, and for which update (update-status.ts). */
  triggerStatus(): FirmwareTriggerStatus {
    return this.reports.trigger(this.current);
  }

  /**
   * A station-wide availability change the CSMS asks for while an update holds the station
   * Inoperative: recorded (persisted) as the availability to restore when the update ends, so the
   * last one asked for applies then; true when held so (the answer is Scheduled), false when no
   * update holds the station and the change applies now.
   */
  holdAvailability(availability: Availability): boolean {
    const s = this.current;
    if (s === null || s.availabilityBefore === null) return false;
    s.availabilityBefore = availability;
    this.persist();
    this.d.log.info({ availability }, 'availability change kept until the firmware update ends');
    return true;
  }

  /** An update request (UpdateFirmware, SignedUpdateFirmware). */
  request(req: FirmwareUpdateRequest): FirmwareRequestResult {
    const signed = req.signature !== null;
    if (!signed && this.d.requireSigned()) {
      this.d.log.warn({ location: req.location }, 'unsigned firmware update ignored: only signed updates are allowed (RequireSignedFirmware)');
      this.d.security.report('InvalidFirmwareSignature', 'unsigned firmware update refused: RequireSignedFirmware is true');
      return 'Rejected';
    }
    if (this.current?.phase === 'installing') {
      this.d.log.warn({ location: req.location }, 'firmware update refused: another one is being installed');
      return 'Rejected';
    }
    if (req.signature !== null) {
      try {
        checkSigningCertificate(req.signature.certificatePem, this.d.manufacturerRoots(), this.d.clock.now());
      } catch (err) {
        this.d.log.warn({ err: errorText(err) }, 'signed firmware update refused');
        this.d.security.report('InvalidFirmwareSigningCertificate', errorText(err).slice(0, 255));
        return 'InvalidCertificate';
      }
    }
    const replaced = this.current !== null;
    if (replaced) {
      this.d.log.info({ location: this.current!.request.location }, 'firmware update replaced by a new request');
      this.restoreAvailability(this.current!);
    }
    this.current = { request: req, phase: 'scheduled', status: 'DownloadScheduled', availabilityBefore: null, version: null, bundle: UpdateStateFile.bundleName() };
    this.file.clear();
    this.persist();
    this.d.log.info({ location: req.location, retrieveAt: req.retrieveAt, signed }, 'firmware update accepted');
    this.start();
    return replaced ? 'AcceptedCanceled' : 'Accepted';
  }

  /**
   * The first accepted registration after start, with the launcher's outcome of the last
   * install (health.ts takeUpdateOutcome): the release running now reports how it ended.
   */
  async registered(outcome: UpdateOutcome | null): Promise<void> {
    if (this.registeredOnce) return;
    this.registeredOnce = true;
    const s = this.current;
    if (s !== null && s.phase === 'installing') {
      await this.finish(s, this.reports.installOutcome(s, outcome, this.d.installer.runningVersion()));
    } else if (outcome !== null) {
      await this.reports.strayOutcome(outcome, this.d.installer.runningVersion());
    }
  }

  stop(): void {
    this.generation++;
    for (const t of this.timers) this.d.clock.clearTimeout(t);
    this.timers.clear();
  }

  // --- the run ----------------------------------------------------------------------------

  private start(): void {
    this.stop();
    const gen = this.generation;
    void this.run(gen).catch((err: unknown) => {
      this.d.log.error({ err: errorText(err) }, 'firmware update failed unexpectedly');
      const s = this.current;
      if (gen === this.generation && s !== null) void this.finish(s, 'InstallationFailed');
    });
  }

  private async run(gen: number): Promise<void> {
    const s = this.current!;
    const r = s.request;
    const signed = r.signature !== null;
    const bundle = this.file.bundlePath(s);
    const live = (): boolean => gen === this.generation && this.current === s;
    // A run superseded while it downloaded removes what it fetched.
    const drop = (): void => {
      rmSync(bundle, { force: true });
      rmSync(`${bundle}.part`, { force: true });
    };
    if (s.phase === 'scheduled') {
      if (Date.parse(r.retrieveAt) > this.d.clock.now().getTime()) {
        await this.report(s, 'DownloadScheduled');
        if (!(await this.sleepUntil(Date.parse(r.retrieveAt), live))) return;
      }
      let version: string | null = null;
      for (let attempt = 0; attempt <= r.retries; attempt++) {
        if (attempt > 0) {
          await this.sleep(r.retryIntervalS * 1000);
          if (!live()) return;
        }
        await this.report(s, 'Downloading');
        try {
          mkdirSync(this.file.dir, { recursive: true, mode: 0o700 });
          const bytes = await this.d.download(r.location, bundle, { ...DEFAULT_LIMITS, ...this.d.limits });
          if (!live()) return drop();
          if (!signed) version = await this.d.installer.verify(bundle);
          this.d.log.info({ location: r.location, bytes, attempt: attempt + 1 }, 'firmware downloaded');
          break;
        } catch (err) {
          if (!live()) return drop();
          this.d.log.warn({ location: r.location, attempt: attempt + 1, of: r.retries + 1, err: errorText(err) }, 'firmware download failed');
          if (attempt === r.retries) return this.finish(s, 'DownloadFailed');
        }
      }
      if (!live()) return;
      await this.report(s, 'Downloaded');
      if (r.signature !== null) {
        try {
          const cert = checkSigningCertificate(r.signature.certificatePem, this.d.manufacturerRoots(), this.d.clock.now());
          await checkFileSignature(bundle, cert, r.signature.signatureBase64);
        } catch (err) {
          if (!live()) return;
          const certificate = err instanceof FirmwareSignatureError && err.kind === 'InvalidCertificate';
          this.d.log.warn({ err: errorText(err) }, 'firmware signature refused');
          this.d.security.report(certificate ? 'InvalidFirmwareSigningCertificate' : 'InvalidFirmwareSignature', errorText(err).slice(0, 255));
          return this.finish(s, 'InvalidSignature');
        }
        await this.report(s, 'SignatureVerified');
        try {
          version = await this.d.installer.verify(bundle);
        } catch (err) {
          if (!live()) return;
          this.d.log.warn({ err: errorText(err) }, 'signed firmware bundle refused');
          return this.finish(s, 'InstallVerificationFailed');
        }
      }
      if (!live()) return;
      s.phase = 'downloaded';
      s.version = version;
      this.persist();
    }
    if (s.phase === 'downloaded') await this.install(s, live);
  }

  private async install(s: PersistedUpdate, live: () => boolean): Promise<void> {
    const installAt = s.request.installAt === null ? 0 : Date.parse(s.request.installAt);
    if (installAt > this.d.clock.now().getTime()) {
      await this.report(s, 'InstallScheduled');
      if (!(await this.sleepUntil(installAt, live))) return;
    }
    // No new session from here on; the running ones go on to their end.
    if (s.availabilityBefore === null) {
      s.availabilityBefore = this.d.site.stationAvailability();
      this.persist();
    }
    // Checked again after the messages went out: one may have started just before the station went Inoperative.
    do {
      this.d.site.setStationAvailability('Inoperative');
      if (this.d.site.activeTransactions() > 0) {
        this.d.log.info({ transactions: this.d.site.activeTransactions() }, 'firmware install waits for the running transactions to end');
        if (s.status !== 'InstallScheduled') await this.report(s, 'InstallScheduled');
        await this.noTransactions(live);
        if (!live()) return;
      }
      // Their StopTransaction goes out before the restart (it would anyway after: the outbox is durable).
      await this.bounded(this.d.site.drainTransactionMessages(), DRAIN_WAIT_MS);
      if (!live()) return;
    } while (this.d.site.activeTransactions() > 0);
    s.phase = 'installing';
    s.status = 'Installing';
    this.persist();
    await this.bounded(this.report(s, 'Installing'), REPORT_WAIT_MS);
    let version: string;
    try {
      version = await this.d.installer.install(this.file.bundlePath(s));
    } catch (err) {
      this.d.log.warn({ err: errorText(err) }, 'firmware install failed; nothing was switched');
      return this.finish(s, 'InstallationFailed');
    }
    s.version = version;
    this.persist();
    await this.bounded(this.report(s, 'InstallRebooting'), REPORT_WAIT_MS);
    this.d.log.info({ version }, 'firmware installed: restarting into the new release');
    this.d.restart();
  }

  private async finish(s: PersistedUpdate, status: FirmwareUpdateStatus): Promise<void> {
    this.restoreAvailability(s);
    if (this.current === s) {
      this.current = null;
      this.file.clear();
      this.reports.keepEnded(s, status);
    }
    await this.bounded(this.reports.sendEnded(s, status), REPORT_WAIT_MS);
  }

  private restoreAvailability(s: PersistedUpdate): void {
    if (s.availabilityBefore !== null && this.d.site.stationAvailability() !== s.availabilityBefore) this.d.site.setStationAvailability(s.availabilityBefore);
  }

  private report(s: PersistedUpdate, status: FirmwareUpdateStatus): Promise<void> {
    return this.reports.step(s, status, () => this.persist());
  }

  private persist(): void {
    if (this.current === null) return;
    try {
      this.file.write(this.current);
    } catch (err) {
      this.d.log.warn({ err: errorText(err) }, 'cannot save the firmware update state');
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = this.d.clock.setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }

  /**
   * Waits until the wall time `atMs`, a minute at most per timer: the clock may be set from the
   * CSMS meanwhile (a board without RTC boots in 1970), and a timer cannot wait over 24.8 days.
   * False when the run was superseded.
   */
  private async sleepUntil(atMs: number, live: () => boolean): Promise<boolean> {
    for (;;) {
      const left = atMs - this.d.clock.now().getTime();
      if (left <= 0) return live();
      await this.sleep(Math.min(left, 60_000));
      if (!live()) return false;
    }
  }

  private async bounded(p: Promise<void>, ms: number): Promise<void> {
    await Promise.race([p.catch(() => undefined), this.sleep(ms)]);
  }

  /** Resolves when no transaction runs (checked at each end, and every second in case one was missed). */
  private async noTransactions(live: () => boolean): Promise<void> {
    while (this.d.site.activeTransactions() > 0) {
      let off = (): void => undefined;
      const ended = new Promise<void>((resolve) => (off = this.d.site.onTransactionEnded(() => resolve())));
      await Promise.race([ended, this.sleep(1000)]);
      off();
      if (!live()) return;
    }
  }
}
