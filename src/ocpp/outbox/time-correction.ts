// Timestamps made before the clock is set. A board with a dead RTC boots at 1970 (or drifts
// years ahead); the CSMS time arrives only with the protocol's answers (1.6: BootNotification.conf
// / Heartbeat.conf, §4.2, §4.6). Until then every stamp is provisional: made in a "time base", the
// difference wall - monotonic of the process that made it, together with the kernel boot id.
// Monotonic time (CLOCK_MONOTONIC) is shared within a boot, so once synced, every provisional
// stamp of this boot is corrected exactly; a boot that never synced gets the latest moment it
// can have been (it ended before this boot began), and a log line says so.

import { errorText } from '../../platform/errors.js';
import type { AgentLogger } from '../../platform/logger.js';

/** wall = monotonic + wallMinusMonoMs for every stamp made in this base. */
export interface TimeBase {
  bootId: string | null;
  wallMinusMonoMs: number;
}

/** How a base's stamps are rewritten: shifted, and then made in `to` (null: real CSMS time). */
export interface Restamp {
  shiftMs: number;
  to: TimeBase | null;
}

export type RestampPlan = (base: TimeBase) => Restamp | null;

/** What the correction needs from durable storage (the SQLite transaction store implements it). */
export interface TimeBaseStore {
  /** Every provisional base in the store, with the latest moment stamped in it. */
  provisionalBases(): Array<{ base: TimeBase; latestMs: number }>;
  /** In one commit: rewrites every record `plan` maps, and records `sync` (a sync of this boot). */
  restamp(plan: RestampPlan, sync: { bootId: string; wallMinusMonoMs: number; at: Date } | null): number;
  /** wall - monotonic recorded when a process of that boot synced, if one did. */
  knownSync(bootId: string): number | null;
  /** The latest CSMS-synced moment ever recorded (a lower bound for what came after). */
  lastSyncAt(): Date | null;
}

/** The clock as the correction sees it (the platform SystemClock, or the test FakeClock). */
export interface SyncableClock {
  readonly synced: boolean;
  readonly wallMinusMonotonicMs: number;
  monotonicMs(): number;
  setOffsetFrom(csmsTime: Date): void;
}

/** The one logger interface (platform/logger.ts). */
export type CorrectionLogger = AgentLogger;

export function sameBase(a: TimeBase, b: TimeBase): boolean {
  return a.bootId === b.bootId && a.wallMinusMonoMs === b.wallMinusMonoMs;
}

/**
 * The pure rule. `syncedMs`: this process's wall - monotonic once synced (null before).
 * `knownSyncs`: syncs recorded of earlier processes, by boot. `latest`: what the store holds.
 */
export function planRestamp(
  current: { provisional: TimeBase; syncedMs: number | null },
  knownSync: (bootId: string) => number | null,
  latest: ReadonlyArray<{ base: TimeBase; latestMs: number }>,
): { plan: RestampPlan; estimated: Map<string, { shiftMs: number; endedBy: Date | null }> } {
  const { provisional, syncedMs } = current;
  // The latest monotonic moment known of each other boot: its events all came before this boot began.
  const lastMonoOfBoot = new Map<string, number>();
  for (const { base, latestMs } of latest) {
    const key = base.bootId ?? '';
    const mono = latestMs - base.wallMinusMonoMs;
    lastMonoOfBoot.set(key, Math.max(lastMonoOfBoot.get(key) ?? Number.NEGATIVE_INFINITY, mono));
  }
  const estimated = new Map<string, { shiftMs: number; endedBy: Date | null }>();
  const plan: RestampPlan = (base) => {
    const thisBoot = base.bootId === null ? sameBase(base, provisional) : base.bootId === provisional.bootId;
    if (thisBoot) {
      if (syncedMs !== null) return { shiftMs: syncedMs - base.wallMinusMonoMs, to: null };
      return sameBase(base, provisional) ? null : { shiftMs: provisional.wallMinusMonoMs - base.wallMinusMonoMs, to: provisional };
    }
    const known = base.bootId === null ? null : knownSync(base.bootId);
    if (known !== null) return { shiftMs: known - base.wallMinusMonoMs, to: null };
    // A boot that never synced: its last event is placed when this boot began (monotonic 0), the
    // latest it can have been; order and spacing within that boot are kept. Before this boot has
    // synced, they join this process's base, so the sync corrects everything by one difference.
    const lastMono = lastMonoOfBoot.get(base.bootId ?? '') ?? 0;
    const target = syncedMs ?? provisional.wallMinusMonoMs;
    const shiftMs = target - lastMono - base.wallMinusMonoMs;
    estimated.set(base.bootId ?? '(unknown boot)', { shiftMs, endedBy: syncedMs === null ? null : new Date(syncedMs) });
    return { shiftMs, to: syncedMs === null ? provisional : null };
  };
  return { plan, estimated };
}

/** Applies the rule to the store and tells the caller how to fix what it holds in memory. */
export class TimeCorrector {
  /** The base stamps of this process are made in until the sync (constant: see CsmsWallTime). */
  readonly provisional: TimeBase;
  private corrected = false;

  constructor(
    private readonly clock: SyncableClock,
    private readonly store: TimeBaseStore,
    private readonly bootId: string | null,
    private readonly log: CorrectionLogger,
  ) {
    this.provisional = { bootId, wallMinusMonoMs: clock.wallMinusMonotonicMs };
  }

  /** The base a stamp made now is in; undefined once synced (real time). */
  current(): TimeBase | undefined {
    return this.clock.synced ? undefined : this.provisional;
  }

  /**
   * At start: an agent restarted within a boot that already synced takes that sync again (the
   * monotonic clock is the same), and earlier stamps of this boot are brought into one base.
   */
  resume(): void {
    const known = this.bootId === null || this.clock.synced ? null : this.safe(() => this.store.knownSync(this.bootId!), null);
    if (known !== null) {
      this.clock.setOffsetFrom(new Date(this.clock.monotonicMs() + known));
      this.log.info({ bootId: this.bootId }, 'clock: time of an earlier sync in this boot taken again');
    }
    this.apply();
  }

  /**
   * After setOffsetFrom(): the first time, corrects what the store holds and returns the plan
   * for what the caller still holds in memory (null: nothing to do).
   */
  synced(): RestampPlan | null {
    if (!this.clock.synced || this.corrected) return null;
    const plan = this.apply();
    if (plan === null) return null;
    const shift = this.clock.wallMinusMonotonicMs - this.provisional.wallMinusMonoMs;
    if (shift !== 0) this.log.info({ shiftMs: Math.round(shift) }, 'clock synced: provisional timestamps corrected');
    return plan;
  }

  private apply(): RestampPlan | null {
    const syncedMs = this.clock.synced ? this.clock.wallMinusMonotonicMs : null;
    const { plan, estimated } = planRestamp(
      { provisional: this.provisional, syncedMs },
      (b) => this.safe(() => this.store.knownSync(b), null),
      this.safe(() => this.store.provisionalBases(), []),
    );
    this.corrected = syncedMs !== null;
    const sync = syncedMs !== null && this.bootId !== null ? { bootId: this.bootId, wallMinusMonoMs: syncedMs, at: new Date(this.clock.monotonicMs() + syncedMs) } : null;
    try {
      const lowerBound = this.store.lastSyncAt(); // before restamp() records this sync
      const changed = this.store.restamp(plan, sync);
      if (changed > 0) this.log.info({ records: changed }, 'clock: stored timestamps corrected');
      for (const [bootId, e] of estimated) {
        this.log.warn(
          { bootId, notBefore: lowerBound?.toISOString() ?? null, notAfter: e.endedBy?.toISOString() ?? 'the start of this boot' },
          'clock: events of an earlier boot that never synced are stamped with the latest time they can have had (its end placed at this boot\'s start)',
        );
      }
    } catch (err) {
      // The messenger still corrects each message as it sends it (the plan); only the stored copy stays provisional.
      this.log.error({ err: errorText(err) }, 'clock: stored timestamps not corrected');
    }
    return plan;
  }

  private safe<T>(fn: () => T, fallback: T): T {
    try {
      return fn();
    } catch {
      return fallback;
    }
  }
}

/** Rewrites every timestamp an opaque payload carries; the protocol adapter knows where they are. */
export type PayloadRestamper = (payload: string, shift: (ms: number) => number) => string;

export function shiftIso(iso: string, shift: (ms: number) => number): string {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? new Date(shift(ms)).toISOString() : iso;
}
