// The authorization cache's storage (OCPP 1.6 §3.5.1): a batch is one transaction (lazy, or
// durable when it clears), entries load back least recently used first.
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteAuthCacheRepo } from '../../src/store/auth-cache-repo.js';
import { TempDatabases } from '../helpers/temp-agent-db.js';

const dbs = new TempDatabases();
afterEach(() => dbs.cleanup());

describe('SqliteAuthCacheRepo', () => {
  it('writes a batch of upserts and deletes in one lazy commit and loads it back in used order', () => {
    const { db, dir } = dbs.open();
    const repo = new SqliteAuthCacheRepo(db);
    const before = db.stats();
    repo.writeBatch(
      {
        clear: false,
        upserts: [
          { key: 'NEW', info: { status: 'Accepted', expiresAt: new Date('2031-05-01T00:00:00Z') }, usedAt: 300 },
          { key: 'OLD', info: { status: 'Blocked', groupId: { value: 'G', type: 'Central' } }, usedAt: 100 },
          { key: 'GONE', info: { status: 'Accepted' }, usedAt: 200 },
        ],
        deletes: [],
      },
      false,
    );
    repo.writeBatch({ clear: false, upserts: [], deletes: ['GONE'] }, false);
    const after = db.stats();
    expect(after.lazyCommits - before.lazyCommits).toBe(2);
    expect(after.durableCommits).toBe(before.durableCommits);
    const loaded = new SqliteAuthCacheRepo(dbs.reopen(db, dir)).loadAll();
    expect(loaded).toEqual([
      { key: 'OLD', info: { status: 'Blocked', groupId: { value: 'G', type: 'Central' } }, usedAt: 100 },
      { key: 'NEW', info: { status: 'Accepted', expiresAt: new Date('2031-05-01T00:00:00Z') }, usedAt: 300 },
    ]);
  });

  it('a clearing batch empties the table first, durably', () => {
    const { db } = dbs.open();
    const repo = new SqliteAuthCacheRepo(db);
    repo.writeBatch({ clear: false, upserts: [{ key: 'A', info: { status: 'Accepted' }, usedAt: 1 }], deletes: [] }, false);
    const durable = db.stats().durableCommits;
    repo.writeBatch({ clear: true, upserts: [{ key: 'B', info: { status: 'Invalid' }, usedAt: 2 }], deletes: [] }, true);
    expect(db.stats().durableCommits).toBe(durable + 1);
    expect(repo.loadAll()).toEqual([{ key: 'B', info: { status: 'Invalid' }, usedAt: 2 }]);
  });
});
