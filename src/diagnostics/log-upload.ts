// Diagnostics and log uploads, protocol-neutral: one at a time (a new request cancels the one
// running), the archive built once, then up to 1 + retries attempts retryInterval apart, each
// bounded in time. The listener hears "uploading" once and one final outcome; a cancelled
// upload says nothing more. Time comes from the injected clock, so tests drive the retries.
import type { Clock, TimerHandle } from '../platform/clock.js';
import { errorText } from '../platform/errors.js';
import type { AgentLogger } from '../platform/logger.js';
import { buildLogArchive, type ArchiveSources, type BuiltArchive, type LogKind, type TimeWindow } from './log-archive.js';
import { displayLocation, parseUploadLocation, uploadFile, UploadError, type TransferOptions, type UploadFailure, type UploadTarget } from './upload-transport.js';

export interface UploadRequest {
  kind: LogKind;
  location: string;
  window: TimeWindow;
  /** Attempts after the first one; the default when absent. */
  retries?: number;
  /** Seconds between attempts; the default when absent. */
  retryIntervalS?: number;
  /** The CSMS's id of the request (GetLog), carried back in its notifications. */
  requestId?: number;
}

export type UploadOutcome = { status: 'Uploaded' } | { status: 'Failed'; failure: UploadFailure; reason: string };

export interface UploadListener {
  uploading(): void;
  finished(outcome: UploadOutcome): void;
}

export type StartResult =
  | { accepted: true; fileName: string; /** An upload was running and is now cancelled. */ canceledPrevious: boolean }
  | { accepted: false; failure: UploadFailure; reason: string };

/** What runs now, for a triggered status notification. */
export interface RunningUpload {
  kind: LogKind;
  requestId?: number;
}

/** Told after each failed attempt (logs, tests waiting for the retry to be due). */
export interface AttemptFailure {
  attempt: number;
  failure: UploadFailure;
  reason: string;
  /** When the next attempt starts, in ms from now; null after the last one. */
  retryInMs: number | null;
}

/** What the 1.6 handlers use: LogUploads, or the composition's stand-in that loads it on the first start. */
export interface UploadService {
  start(req: UploadRequest, listener: UploadListener): StartResult | Promise<StartResult>;
  current(): RunningUpload | null;
  stop(): void;
}

export type Transfer = (target: UploadTarget, fileName: string, data: Buffer, opts: TransferOptions) => Promise<void>;

export interface LogUploadDeps {
  clock: Clock;
  log: AgentLogger;
  sources: ArchiveSources;
  /** Part of the file name, so files from many chargers can share a directory. */
  chargePointId: string;
  /** How a file goes out; uploadFile (FTP, HTTP(S)) by default. */
  transfer?: Transfer;
  /** Trusted CAs for https locations; Node's own when absent. */
  ca?: (string | Buffer)[];
  /** One attempt's bound, ms (default 5 minutes): a stalled server must not hold the slot for ever. */
  attemptTimeoutMs?: number;
  /** Socket inactivity bound, ms (default 60 s). */
  idleTimeoutMs?: number;
  /** When the request gives none: OCPP leaves both to the charger. */
  defaultRetries?: number;
  defaultRetryIntervalS?: number;
}

/** Most attempts whatever the request asks: a huge `retries` must not keep the slot busy for days. */
const MAX_RETRIES = 10;

interface Job {
  req: UploadRequest;
  fileName: string;
  listener: UploadListener;
  canceled: boolean;
  abort: AbortController | null;
  timer: TimerHandle | undefined;
  wake: (() => void) | null;
}

export class LogUploads {
  private job: Job | null = null;
  private readonly observers = new Set<(e: AttemptFailure) => void>();
  private readonly transfer: Transfer;

  constructor(private readonly deps: LogUploadDeps) {
    this.transfer = deps.transfer ?? uploadFile;
  }

  /** Starts an upload after the caller's answer has gone out (setImmediate); a bad location is refused at once. */
  start(req: UploadRequest, listener: UploadListener): StartResult {
    try {
      parseUploadLocation(req.location);
    } catch (err) {
      const reason = errorText(err);
      this.deps.log.warn({ kind: req.kind, location: displayLocation(req.location), reason }, 'log upload refused');
      return { accepted: false, failure: err instanceof UploadError ? err.failure : 'unsupported-location', reason };
    }
    const canceledPrevious = this.cancel('a new upload was requested');
    const job: Job = { req, fileName: this.fileName(req.kind), listener, canceled: false, abort: null, timer: undefined, wake: null };
    this.job = job;
    setImmediate(() => void this.run(job));
    return { accepted: true, fileName: job.fileName, canceledPrevious };
  }

  current(): RunningUpload | null {
    if (this.job === null) return null;
    return { kind: this.job.req.kind, ...(this.job.req.requestId !== undefined ? { requestId: this.job.req.requestId } : {}) };
  }

  /** Every failed attempt from now on; returns the unsubscribe function. */
  onAttemptFailed(observer: (e: AttemptFailure) => void): () => void {
    this.observers.add(observer);
    return () => void this.observers.delete(observer);
  }

  /** Cancels the upload running (at shutdown): no more notification from it. */
  stop(): void {
    this.cancel('the agent is stopping');
  }

  private cancel(why: string): boolean {
    const job = this.job;
    if (job === null) return false;
    job.canceled = true;
    job.abort?.abort(new Error(why));
    this.deps.clock.clearTimeout(job.timer);
    job.wake?.();
    this.job = null;
    this.deps.log.info({ kind: job.req.kind, fileName: job.fileName, why }, 'log upload cancelled');
    return true;
  }

  private fileName(kind: LogKind): string {
    const stamp = this.deps.clock.now().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    const id = this.deps.chargePointId.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100);
    return `${kind === 'security' ? 'security-log' : 'diagnostics'}-${id}-${stamp}.tar.gz`;
  }

  private async run(job: Job): Promise<void> {
    if (job.canceled) return;
    const { req } = job;
    const location = displayLocation(req.location);
    tell(() => job.listener.uploading());
    let archive: BuiltArchive;
    try {
      archive = await buildLogArchive({ kind: req.kind, window: req.window, fileName: job.fileName, createdAt: this.deps.clock.now() }, this.deps.sources);
    } catch (err) {
      return this.finish(job, { status: 'Failed', failure: 'failed', reason: `the archive could not be built: ${errorText(err)}` });
    }
    if (job.canceled) return; // replaced while the archive was being built
    const target = parseUploadLocation(req.location);
    const attempts = 1 + Math.min(MAX_RETRIES, Math.max(0, Math.floor(req.retries ?? this.deps.defaultRetries ?? 1)));
    const intervalMs = Math.max(0, req.retryIntervalS ?? this.deps.defaultRetryIntervalS ?? 30) * 1000;
    let last: UploadOutcome = { status: 'Failed', failure: 'failed', reason: 'not attempted' };
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        await this.attempt(job, target, archive.data);
        if (job.canceled) return;
        this.deps.log.info({ kind: req.kind, location, fileName: job.fileName, bytes: archive.data.length, attempt }, 'log uploaded');
        return this.finish(job, { status: 'Uploaded' });
      } catch (err) {
        if (job.canceled) return;
        const failure = err instanceof UploadError ? err.failure : 'failed';
        const reason = errorText(err);
        last = { status: 'Failed', failure, reason };
        const retryInMs = attempt < attempts ? intervalMs : null;
        this.deps.log.warn({ kind: req.kind, location, attempt, attempts, reason, retryInMs }, 'log upload attempt failed');
        for (const o of [...this.observers]) o({ attempt, failure, reason, retryInMs });
        if (retryInMs !== null) await this.sleep(job, retryInMs);
        if (job.canceled) return;
      }
    }
    this.finish(job, last);
  }

  private async attempt(job: Job, target: UploadTarget, data: Buffer): Promise<void> {
    const abort = new AbortController();
    job.abort = abort;
    const bound = this.deps.attemptTimeoutMs ?? 5 * 60_000;
    job.timer = this.deps.clock.setTimeout(() => abort.abort(new Error(`no upload within ${Math.round(bound / 1000)} s`)), bound);
    try {
      await this.transfer(target, job.fileName, data, {
        signal: abort.signal,
        idleTimeoutMs: this.deps.idleTimeoutMs ?? 60_000,
        ...(this.deps.ca ? { ca: this.deps.ca } : {}),
      });
    } finally {
      this.deps.clock.clearTimeout(job.timer);
      job.timer = undefined;
      job.abort = null;
    }
  }

  private sleep(job: Job, ms: number): Promise<void> {
    return new Promise((resolve) => {
      job.wake = resolve;
      job.timer = this.deps.clock.setTimeout(() => {
        job.timer = undefined;
        job.wake = null;
        resolve();
      }, ms);
    });
  }

  private finish(job: Job, outcome: UploadOutcome): void {
    if (job.canceled) return;
    if (this.job === job) this.job = null;
    if (outcome.status === 'Failed') this.deps.log.warn({ kind: job.req.kind, fileName: job.fileName, failure: outcome.failure, reason: outcome.reason }, 'log upload failed');
    tell(() => job.listener.finished(outcome));
  }
}

/** A listener's fault (a notification that cannot go out) must not break the upload or the next one. */
function tell(fn: () => void): void {
  try {
    fn();
  } catch {
    // nothing to do: the outcome is in the log already
  }
}
