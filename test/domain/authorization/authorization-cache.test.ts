// Authorization cache (OCPP 1.6 §3.5.1) over the real SQLite store with a FakeClock: entries
// with expiry (changed to Expired), the size bound (invalid first, then least recently used),
// write-behind batching (one transaction per batch, none when nothing changed), ClearCache.
import { afterEach, describe, expect, it } from 'vitest';
import { AuthorizationCache } from '../../../src/domain/authorization/authorization-cache.js';
import { SqliteAuthCacheRepo } from '../../../src/store/auth-cache-repo.js';
import type { AgentDatabase } from '../../../src/store/database.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { TempDatabases } from '../../helpers/temp-agent-db.js';

const dbs = new TempDatabases();
afterEach(() => dbs.cleanup());

const WRITE_BEHIND_MS = 10_000;

function setup(maxEntries = 100): { cache: AuthorizationCache; clock: FakeClock; db: AgentDatabase; dir: string } {
  const { db, dir } = dbs.open();
  const clock = new FakeClock();
  const cache = new AuthorizationCache(new SqliteAuthCacheRepo(db), clock, { maxEntries, writeBehindMs: WRITE_BEHIND_MS });
  return { cache, clock, db, dir };
}

const commits = (db: AgentDatabase): number => db.stats().lazyCommits + db.stats().durableCommits;

describe('AuthorizationCache', () => {
  it('stores answers by trimmed, case-insensitive identifier', () => {
    const { cache } = setup();
    cache.put(' 04ab12 ', { status: 'Accepted', groupId: { value: 'FLEET', type: 'Central' } });
    expect(cache.get('04AB12')).toEqual({ status: 'Accepted', groupId: { value: 'FLEET', type: 'Central' } });
    expect(cache.get('04ab12  ')).toEqual({ status: 'Accepted', groupId: { value: 'FLEET', type: 'Central' } });
    expect(cache.get('OTHER')).toBeNull();
    cache.put('04AB12', { status: 'Blocked' });
    expect(cache.get('04ab12')).toEqual({ status: 'Blocked' });
    expect(cache.size).toBe(1);
  });

  it('writes behind: many changes become one transaction; an unchanged answer or a lookup writes nothing', () => {
    const { cache, clock, db } = setup();
    const start = commits(db);
    cache.put('A', { status: 'Accepted' });
    cache.put('B', { status: 'Blocked' });
    cache.put('C', { status: 'Accepted', expiresAt: new Date('2030-01-01T00:00:00Z') });
    expect(commits(db)).toBe(start); // nothing yet: all in memory
    clock.advance(WRITE_BEHIND_MS);
    expect(commits(db)).toBe(start + 1);
    expect(cache.writtenBatches).toBe(1);

    // The same answers again, and lookups: no change, no write, no timer left behind.
    cache.put('A', { status: 'Accepted' });
    cache.put('C', { status: 'Accepted', expiresAt: new Date('2030-01-01T00:00:00Z') });
    cache.get('B');
    clock.advance(WRITE_BEHIND_MS * 3);
    expect(commits(db)).toBe(start + 1);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('an Accepted entry past its expiry is changed to Expired in the cache (and written)', () => {
    const { cache, clock, db, dir } = setup();
    const expiresAt = new Date(clock.now().getTime() + 60_000);
    cache.put('T1', { status: 'Accepted', expiresAt });
    expect(cache.get('T1')?.status).toBe('Accepted');
    clock.advance(60_000);
    expect(cache.get('T1')).toEqual({ status: 'Expired', expiresAt });
    cache.stop();
    // Stored as Expired (not recomputed on load).
    expect(new SqliteAuthCacheRepo(dbs.reopen(db, dir)).loadAll().map((r) => r.info.status)).toEqual(['Expired']);
  });

  it('bounded: evicts the least recently used valid entry', () => {
    const { cache } = setup(3);
    cache.put('A', { status: 'Accepted' });
    cache.put('B', { status: 'Accepted' });
    cache.put('C', { status: 'Accepted' });
    cache.get('A'); // A is now the most recently used
    cache.put('D', { status: 'Accepted' });
    expect(cache.size).toBe(3);
    expect(cache.get('B')).toBeNull();
    expect(cache.get('A')).not.toBeNull();
    expect(cache.get('C')).not.toBeNull();
    expect(cache.get('D')).not.toBeNull();
  });

  it('bounded: invalid entries (not Accepted, or expired) go before valid ones', () => {
    const { cache, clock } = setup(3);
    cache.put('VALID-OLD', { status: 'Accepted' });
    cache.put('EXPIRING', { status: 'Accepted', expiresAt: new Date(clock.now().getTime() + 1_000) });
    cache.put('BLOCKED', { status: 'Blocked' });
    clock.advance(2_000);
    cache.put('NEW1', { status: 'Accepted' }); // evicts EXPIRING (the first invalid in LRU order)
    expect(cache.get('EXPIRING')).toBeNull();
    cache.put('NEW2', { status: 'Accepted' }); // evicts BLOCKED, not the older valid entry
    expect(cache.get('BLOCKED')).toBeNull();
    expect(cache.get('VALID-OLD')).toEqual({ status: 'Accepted' });
  });

  it('bounded: a Blocked answer just learnt is kept, even when it is the only invalid entry', () => {
    const { cache } = setup(2);
    cache.put('A', { status: 'Accepted' });
    cache.put('B', { status: 'Accepted' });
    cache.put('X', { status: 'Blocked' }); // full of valid entries: the least recently used valid one goes
    expect(cache.get('X')).toEqual({ status: 'Blocked' });
    expect(cache.get('A')).toBeNull();
    expect(cache.get('B')).toEqual({ status: 'Accepted' });
  });

  it('evictions reach storage in the same batch', () => {
    const { cache, clock, db, dir } = setup(2);
    cache.put('A', { status: 'Accepted' });
    cache.put('B', { status: 'Accepted' });
    cache.put('C', { status: 'Accepted' });
    clock.advance(WRITE_BEHIND_MS);
    const stored = new SqliteAuthCacheRepo(dbs.reopen(db, dir)).loadAll().map((r) => r.key);
    expect(stored.sort()).toEqual(['B', 'C']);
  });

  it('survives a restart: stop() writes the pending batch, entries come back in recency order', () => {
    const { cache, clock, db, dir } = setup(2);
    cache.put('FIRST', { status: 'Accepted' });
    clock.advance(1_000);
    cache.put('SECOND', { status: 'Accepted' });
    cache.stop();
    const reloaded = new AuthorizationCache(new SqliteAuthCacheRepo(dbs.reopen(db, dir)), clock, { maxEntries: 2 });
    expect(reloaded.size).toBe(2);
    reloaded.put('THIRD', { status: 'Accepted' }); // FIRST was least recently used
    expect(reloaded.get('FIRST')).toBeNull();
    expect(reloaded.get('SECOND')).not.toBeNull();
  });

  it('clear() empties memory and storage at once, in one durable commit', () => {
    const { cache, clock, db, dir } = setup();
    cache.put('A', { status: 'Accepted' });
    clock.advance(WRITE_BEHIND_MS);
    cache.put('B', { status: 'Accepted' }); // still pending in memory
    const durable = db.stats().durableCommits;
    cache.clear();
    expect(db.stats().durableCommits).toBe(durable + 1);
    expect(cache.size).toBe(0);
    expect(cache.get('A')).toBeNull();
    expect(new SqliteAuthCacheRepo(dbs.reopen(db, dir)).loadAll()).toEqual([]);
  });
});
