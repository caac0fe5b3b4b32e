// Authorization cache (OCPP 1.6 §3.5.1): identifiers learnt from the CSMS's answers, held in
// memory with a size bound (invalid entries evicted first, then the least recently used) and
// written behind to storage in one transaction per batch, so presenting a card never writes
// flash by itself and an unchanged answer writes nothing at all.
import type { Clock, TimerHandle } from '../../platform/clock.js';
import type { AuthorizationInfo } from '../model/authorization.js';
import { normalizeIdValue } from '../model/id-token.js';

/** One stored entry; `key` is the normalized identifier. */
export interface CacheRecord {
  key: string;
  info: AuthorizationInfo;
  /** Wall-clock ms of the last update: the least-recently-used order after a restart. */
  usedAt: number;
}

export interface CacheBatch {
  /** Remove everything stored before applying the rest (ClearCache). */
  clear: boolean;
  upserts: CacheRecord[];
  deletes: string[];
}

/** Where the cache is kept across restarts (the SQLite store implements it). */
export interface AuthCachePersistence {
  /** Every stored entry, least recently used first. */
  loadAll(): CacheRecord[];
  /** Applies a batch in ONE transaction; `durable` asks for an fsync (ClearCache). */
  writeBatch(batch: CacheBatch, durable: boolean): void;
}

export interface AuthorizationCacheOptions {
  maxEntries?: number;
  /** Longest a change waits in memory before its batch is written. */
  writeBehindMs?: number;
  onError?: (err: unknown, context: string) => void;
}

/** ~60 bytes a row: 1,000 entries are ~60 KiB on flash and a few hundred KiB of heap at most. */
export const DEFAULT_CACHE_MAX_ENTRIES = 1_000;
/** A lost batch (power cut) only costs an extra Authorize.req for the identifiers in it. */
export const DEFAULT_CACHE_WRITE_BEHIND_MS = 60_000;

interface Entry {
  info: AuthorizationInfo;
  usedAt: number;
}

export class AuthorizationCache {
  /** Map order is the recency order: oldest first (a touch re-inserts at the end). */
  private readonly entries = new Map<string, Entry>();
  /** Keys to write (present in `entries`) or delete (absent) at the next flush. */
  private readonly dirty = new Set<string>();
  private clearPending = false;
  private timer: TimerHandle | null = null;
  private batches = 0;
  private readonly maxEntries: number;
  private readonly writeBehindMs: number;

  constructor(
    private readonly persistence: AuthCachePersistence | null,
    private readonly clock: Clock,
    private readonly opts: AuthorizationCacheOptions = {},
  ) {
    this.maxEntries = Math.max(1, opts.maxEntries ?? DEFAULT_CACHE_MAX_ENTRIES);
    this.writeBehindMs = opts.writeBehindMs ?? DEFAULT_CACHE_WRITE_BEHIND_MS;
    for (const r of persistence?.loadAll() ?? []) this.entries.set(r.key, { info: r.info, usedAt: r.usedAt });
    // A smaller bound than the stored set (configuration changed): trim, and write the trim.
    while (this.entries.size > this.maxEntries) this.evictOne('');
    if (this.dirty.size > 0) this.schedule();
  }

  get size(): number {
    return this.entries.size;
  }

  /** Batches written so far (one SQLite transaction each). */
  get writtenBatches(): number {
    return this.batches;
  }

  /**
   * The cached answer for an identifier, marking it recently used. An Accepted entry past its
   * expiry is changed to Expired in the cache (§3.5.1) and returned as such.
   */
  get(idTag: string): AuthorizationInfo | null {
    const key = normalizeIdValue(idTag);
    const e = this.entries.get(key);
    if (!e) return null;
    if (e.info.status === 'Accepted' && e.info.expiresAt && e.info.expiresAt.getTime() <= this.clock.now().getTime()) {
      e.info = { ...e.info, status: 'Expired' };
      this.markDirty(key);
    }
    // Recency lives in memory only: a touch alone is not worth a flash write.
    this.entries.delete(key);
    this.entries.set(key, e);
    return { ...e.info };
  }

  /** Stores the CSMS's answer for an identifier; an identical answer changes nothing on storage. */
  put(idTag: string, info: AuthorizationInfo): void {
    const key = normalizeIdValue(idTag);
    const old = this.entries.get(key);
    this.entries.delete(key);
    const usedAt = this.clock.now().getTime();
    if (old && sameInfo(old.info, info)) {
      this.entries.set(key, old);
      return;
    }
    this.entries.set(key, { info: copyInfo(info), usedAt });
    this.markDirty(key);
    // Never the entry just learnt: a fresh Blocked answer evicted at once would make the card unknown.
    while (this.entries.size > this.maxEntries) this.evictOne(key);
  }

  /** ClearCache: empties memory and storage at once (durably). */
  clear(): void {
    this.entries.clear();
    this.dirty.clear();
    this.clearPending = true;
    this.flush();
  }

  /** Writes pending changes now, in one transaction; nothing pending writes nothing. */
  flush(): void {
    if (this.timer !== null) {
      this.clock.clearTimeout(this.timer);
      this.timer = null;
    }
    if (!this.persistence || (this.dirty.size === 0 && !this.clearPending)) return;
    const batch: CacheBatch = { clear: this.clearPending, upserts: [], deletes: [] };
    for (const key of this.dirty) {
      const e = this.entries.get(key);
      if (e) batch.upserts.push({ key, info: e.info, usedAt: e.usedAt });
      else batch.deletes.push(key);
    }
    try {
      this.persistence.writeBatch(batch, batch.clear);
      this.batches++;
      this.dirty.clear();
      this.clearPending = false;
    } catch (err) {
      // Kept dirty: the next change schedules another attempt.
      this.opts.onError?.(err, 'authorization cache write');
    }
  }

  /** Flushes and stops the write-behind timer (agent shutdown). */
  stop(): void {
    this.flush();
  }

  private markDirty(key: string): void {
    this.dirty.add(key);
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== null || !this.persistence) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      this.flush();
    }, this.writeBehindMs);
  }

  /** §3.5.1: invalid identifiers go first, then valid ones in order of least recent use. */
  private evictOne(keep: string): void {
    const now = this.clock.now().getTime();
    let victim: string | undefined;
    for (const [key, e] of this.entries) {
      if (key !== keep && !isValid(e.info, now)) {
        victim = key;
        break;
      }
    }
    victim ??= [...this.entries.keys()].find((k) => k !== keep);
    if (victim === undefined) return;
    this.entries.delete(victim);
    this.dirty.add(victim);
  }
}

function isValid(info: AuthorizationInfo, nowMs: number): boolean {
  return info.status === 'Accepted' && (!info.expiresAt || info.expiresAt.getTime() > nowMs);
}

function copyInfo(info: AuthorizationInfo): AuthorizationInfo {
  const c: AuthorizationInfo = { status: info.status };
  if (info.groupId !== undefined) c.groupId = { ...info.groupId };
  if (info.expiresAt !== undefined) c.expiresAt = new Date(info.expiresAt.getTime());
  return c;
}

function sameInfo(a: AuthorizationInfo, b: AuthorizationInfo): boolean {
  return a.status === b.status && a.groupId?.value === b.groupId?.value && a.groupId?.type === b.groupId?.type && a.expiresAt?.getTime() === b.expiresAt?.getTime();
}
