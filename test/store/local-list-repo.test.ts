// The local authorization list in SQLite (OCPP 1.6 §3.5.2): compact WITHOUT ROWID rows keyed by
// the normalized idTag, atomic replace/patch (a refused patch leaves the old list), kept across a reopen.
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteLocalListRepo } from '../../src/store/local-list-repo.js';
import { TempDatabases } from '../helpers/temp-agent-db.js';

const dbs = new TempDatabases();
afterEach(() => dbs.cleanup());

describe('SqliteLocalListRepo', () => {
  it('starts empty at version 0', () => {
    const repo = new SqliteLocalListRepo(dbs.open().db);
    expect(repo.version()).toBe(0);
    expect(repo.count()).toBe(0);
    expect(repo.get('ABC')).toBeNull();
  });

  it('replace stores every field and the version, in one durable commit', () => {
    const { db } = dbs.open();
    const repo = new SqliteLocalListRepo(db);
    const before = db.stats().durableCommits;
    repo.replace(7, [
      ['AAA', { status: 'Accepted', expiresAt: new Date('2030-01-01T00:00:00Z'), groupId: { value: 'GROUP', type: 'Central' } }],
      ['BBB', { status: 'Blocked' }],
      ['CCC', { status: 'ConcurrentTx' }],
    ]);
    expect(db.stats().durableCommits).toBe(before + 1);
    expect(repo.version()).toBe(7);
    expect(repo.count()).toBe(3);
    expect(repo.get('AAA')).toEqual({ status: 'Accepted', expiresAt: new Date('2030-01-01T00:00:00Z'), groupId: { value: 'GROUP', type: 'Central' } });
    expect(repo.get('BBB')).toEqual({ status: 'Blocked' });
    expect(repo.get('CCC')).toEqual({ status: 'ConcurrentTx' });
    repo.replace(8, [['DDD', { status: 'Invalid' }]]);
    expect(repo.get('AAA')).toBeNull();
    expect(repo.count()).toBe(1);
    expect(repo.version()).toBe(8);
  });

  it('patch upserts and deletes; over the bound it rolls everything back', () => {
    const { db } = dbs.open();
    const repo = new SqliteLocalListRepo(db);
    repo.replace(1, [
      ['AAA', { status: 'Accepted' }],
      ['BBB', { status: 'Accepted' }],
    ]);
    expect(repo.patch(2, [['AAA', { status: 'Blocked' }], ['CCC', { status: 'Accepted' }]], ['BBB'], 10)).toBe(true);
    expect(repo.get('AAA')).toEqual({ status: 'Blocked' });
    expect(repo.get('BBB')).toBeNull();
    expect(repo.get('CCC')).toEqual({ status: 'Accepted' });
    expect(repo.version()).toBe(2);

    // 2 entries max: AAA and CCC, minus CCC, plus DDD and EEE would make 3.
    expect(repo.patch(3, [['DDD', { status: 'Accepted' }], ['EEE', { status: 'Accepted' }]], ['CCC'], 2)).toBe(false);
    expect(repo.version()).toBe(2);
    expect(repo.get('CCC')).toEqual({ status: 'Accepted' });
    expect(repo.get('DDD')).toBeNull();
    expect(repo.count()).toBe(2);
  });

  it('survives closing and reopening the database', () => {
    const { db, dir } = dbs.open();
    new SqliteLocalListRepo(db).replace(4, [['AAA', { status: 'Expired', groupId: { value: 'P', type: 'Central' } }]]);
    const again = new SqliteLocalListRepo(dbs.reopen(db, dir));
    expect(again.version()).toBe(4);
    expect(again.get('AAA')).toEqual({ status: 'Expired', groupId: { value: 'P', type: 'Central' } });
  });

  it('the table is WITHOUT ROWID and keyed by id_tag (one B-tree descent per lookup)', () => {
    const { db } = dbs.open();
    const sql = db.db.prepare("SELECT sql FROM sqlite_master WHERE name = 'local_list'").get() as { sql: string };
    expect(sql.sql).toMatch(/WITHOUT ROWID/);
    const plan = db.db.prepare("EXPLAIN QUERY PLAN SELECT status FROM local_list WHERE id_tag = 'X'").all() as Array<{ detail: string }>;
    expect(plan.map((p) => p.detail).join(' ')).toMatch(/SEARCH local_list USING PRIMARY KEY/);
  });
});
