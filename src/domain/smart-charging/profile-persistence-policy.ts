// When to write the installed profiles to flash, and what.
//
// Why: a CSMS doing dynamic load management may send a distinct profile every minute (1,440
// a day); writing each wears the flash. Identical profiles write nothing. Distinct ones are
// coalesced: the live limit follows the newest at once (the caller applies it), but the set
// is written at most `writesPerDay` times in any 24 h (default 10), spaced out, and once more
// at shutdown. Safety over wear: a restart restores the last written set, which may be stale,
// so the write also carries an envelope (a cap in A per phase applied after a restart) such
// that the agent never offers more than the most restrictive limit the CSMS set since that
// write. A change that only raises limits needs no write for safety. A change that lowers a
// limit below what the written set and envelope allow is written promptly (after a short
// debounce for bursts), with the envelope at the lowest limit the CSMS set in the last 24 h
// (a minimum envelope, so an oscillating CSMS does not cost a write per dip). The last write
// the budget allows sets the envelope to `floorA` (default 0: paused until the CSMS speaks
// again), so no later lowering can be missed. The restored envelope holds until the profiles
// first change after the restart (the CSMS then speaks for itself).
import { compositeSchedule, type Electrical, type TransactionRef } from './composite-schedule.js';
import { STATION, profileSetKey, type ChargingProfile } from './profile.js';
import type { Clock, TimerHandle } from '../../platform/clock.js';

export interface PersistedProfiles {
  profiles: ChargingProfile[];
  /** Cap per phase after a restart; null = none. */
  envelopeA: number | null;
  writtenAtMs: number;
}

/** The part of the Clock port the policy uses. */
export type PolicyClock = Pick<Clock, 'now' | 'setTimeout' | 'clearTimeout'>;

/**
 * The lowest limit (A per phase) that `next` sets where it is below what `persisted` allows,
 * over the time that matters; null when `next` is nowhere below `persisted`.
 */
export type Exposure = (persisted: readonly ChargingProfile[], next: readonly ChargingProfile[], nowMs: number) => number | null;

export interface PersistencePolicyOptions {
  clock: PolicyClock;
  /** Writes durably; may throw (the set stays pending and is retried at the next slot). */
  write(state: PersistedProfiles): void;
  exposure: Exposure;
  writesPerDay?: number;
  floorA?: number;
  /** Debounce of a prompt (safety) write, so a burst of profiles costs one write. */
  urgentDelayMs?: number;
  onError?(err: unknown): void;
}

const DAY_MS = 86_400_000;

export class ProfilePersistencePolicy {
  private readonly perDay: number;
  private readonly floorA: number;
  private readonly urgentDelayMs: number;
  private persisted: PersistedProfiles;
  private persistedKey: string;
  private live: readonly ChargingProfile[];
  private liveKey: string;
  private restoredEnvelope: number | null;
  /** Times of budgeted writes (the last 24 h). */
  private writes: number[] = [];
  /** Lowered limits the CSMS set, with when (the last 24 h): the minimum envelope. */
  private lows: { atMs: number; limitA: number }[] = [];
  private urgent = false;
  private timer: { handle: TimerHandle; dueMs: number } | null = null;
  private total = 0;

  constructor(private readonly opts: PersistencePolicyOptions, restored: PersistedProfiles | null = null) {
    this.perDay = Math.max(1, Math.floor(opts.writesPerDay ?? 10));
    this.floorA = Math.max(0, opts.floorA ?? 0);
    this.urgentDelayMs = Math.max(0, opts.urgentDelayMs ?? 5_000);
    this.persisted = restored ?? { profiles: [], envelopeA: null, writtenAtMs: -Infinity };
    this.persistedKey = profileSetKey(this.persisted.profiles);
    this.live = this.persisted.profiles;
    this.liveKey = this.persistedKey;
    this.restoredEnvelope = restored?.envelopeA ?? null;
  }

  /** The cap to apply now (after a restart, until the profiles first change). */
  envelopeA(): number | null {
    return this.restoredEnvelope;
  }

  /** Budgeted writes so far (shutdown writes excluded). */
  writeCount(): number {
    return this.total;
  }

  pending(): boolean {
    return this.liveKey !== this.persistedKey;
  }

  /** The live set changed (after an install or clear). Identical sets write nothing. */
  changed(profiles: readonly ChargingProfile[]): void {
    const key = profileSetKey(profiles);
    if (key === this.liveKey) return;
    const now = this.now();
    this.restoredEnvelope = null;
    this.live = [...profiles];
    this.liveKey = key;
    if (!this.pending()) {
      this.urgent = false;
      this.cancel();
      return;
    }
    const need = this.opts.exposure(this.persisted.profiles, this.live, now);
    if (need !== null) {
      this.lows.push({ atMs: now, limitA: need });
      if (this.persisted.envelopeA === null || need < this.persisted.envelopeA) this.urgent = true;
    }
    this.plan(now);
  }

  /** Writes what is pending, whatever the budget (shutdown is rare and final). */
  shutdown(): void {
    this.cancel();
    if (this.pending()) this.flush(this.now(), false);
  }

  private plan(now: number): void {
    this.prune(now);
    let due: number;
    if (this.urgent) due = now + this.urgentDelayMs;
    else {
      // Routine writes keep one write of the budget in reserve for a safety write.
      due = Math.max(now, (this.writes[this.writes.length - 1] ?? -Infinity) + DAY_MS / this.perDay);
      const reserve = this.perDay - 1;
      const inWindow = (t: number) => this.writes.filter((w) => w > t - DAY_MS);
      for (let w = inWindow(due); w.length >= reserve && w.length > 0; w = inWindow(due)) due = (w[0] as number) + DAY_MS;
      if (reserve === 0) due = Math.max(due, (this.writes[this.writes.length - 1] ?? -Infinity) + DAY_MS);
    }
    if (this.timer && this.timer.dueMs <= due) return;
    this.cancel();
    if (due <= now) {
      this.fire();
      return;
    }
    const handle = this.opts.clock.setTimeout(() => {
      this.timer = null;
      this.fire();
    }, due - now);
    this.timer = { handle, dueMs: due };
  }

  private fire(): void {
    if (!this.pending()) return;
    this.flush(this.now(), true);
  }

  private flush(now: number, budgeted: boolean): void {
    this.prune(now);
    const last = budgeted && this.writes.length + 1 >= this.perDay;
    const lowest = this.lows.reduce<number | null>((m, l) => (m === null || l.limitA < m ? l.limitA : m), null);
    const envelopeA = last ? Math.min(this.floorA, lowest ?? Infinity) : lowest;
    const state: PersistedProfiles = { profiles: [...this.live], envelopeA, writtenAtMs: now };
    try {
      this.opts.write(state);
    } catch (err) {
      this.opts.onError?.(err);
      if (budgeted) this.retryLater(now);
      return;
    }
    if (budgeted) {
      this.writes.push(now);
      this.total++;
    }
    this.persisted = state;
    this.persistedKey = this.liveKey;
    this.urgent = false;
  }

  private retryLater(now: number): void {
    const handle = this.opts.clock.setTimeout(() => {
      this.timer = null;
      this.fire();
    }, 60_000);
    this.timer = { handle, dueMs: now + 60_000 };
  }

  private prune(now: number): void {
    this.writes = this.writes.filter((w) => w > now - DAY_MS);
    this.lows = this.lows.filter((l) => l.atMs > now - DAY_MS);
  }

  private cancel(): void {
    if (this.timer) this.opts.clock.clearTimeout(this.timer.handle);
    this.timer = null;
  }

  private now(): number {
    return this.opts.clock.now().getTime();
  }
}

export interface CompositeExposureOptions {
  /** The EVSEs whose offer matters (their composites include the StationMax profiles). */
  evseIds: readonly number[];
  /** How far ahead a lowering counts (default 24 h). */
  horizonS?: number;
  electrical(): Electrical;
  transactionOn(evseId: number): TransactionRef | undefined;
  /** Offered where no profile limits (the configured maximum). */
  unlimitedA: number;
}

/** Exposure from composite schedules: the lowest limit `next` sets below `persisted`, per EVSE, over the horizon. */
export function compositeExposure(o: CompositeExposureOptions): Exposure {
  return (persisted, next, nowMs) => {
    let need: number | null = null;
    const startMs = Math.floor(nowMs / 1000) * 1000;
    for (const evseId of o.evseIds.length ? o.evseIds : [STATION]) {
      const req = { evseId, startMs, durationS: o.horizonS ?? 86_400, unit: 'A' as const, electrical: o.electrical(), unlimitedA: o.unlimitedA };
      const tx = o.transactionOn(evseId);
      const a = compositeSchedule({ ...req, profiles: persisted, ...(tx ? { transaction: tx } : {}) }).periods;
      const b = compositeSchedule({ ...req, profiles: next, ...(tx ? { transaction: tx } : {}) }).periods;
      // Walk both step functions over the union of their boundaries.
      const cuts = [...new Set([...a, ...b].map((p) => p.startPeriod))].sort((x, y) => x - y);
      const at = (ps: typeof a, s: number) => ps.filter((p) => p.startPeriod <= s).pop()?.limit ?? o.unlimitedA;
      for (const s of cuts) {
        const lb = at(b, s);
        if (lb < at(a, s) && (need === null || lb < need)) need = lb;
      }
    }
    return need;
  };
}
