// The security log in a real SQLite file (all migrations): entries in order with time and detail,
// the bound (newest kept, older deleted in the appending commit), time ranges, clear, and a
// restart keeping what was written.
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteSecurityLog } from '../../src/store/security-log-repo.js';
import { TempDatabases } from '../helpers/temp-agent-db.js';

const dbs = new TempDatabases();
afterEach(() => dbs.cleanup());

describe('SqliteSecurityLog', () => {
  it('keeps entries in order with their time and detail, across a restart', () => {
    const { db, dir } = dbs.open();
    const log = new SqliteSecurityLog(db);
    log.append({ atMs: 1_000, type: 'StartupOfTheDevice', techInfo: 'firmware 1.0' });
    log.append({ atMs: 2_000, type: 'InvalidMessages', techInfo: null });
    const again = new SqliteSecurityLog(dbs.reopen(db, dir));
    expect(again.entries().map(({ atMs, type, techInfo }) => ({ atMs, type, techInfo }))).toEqual([
      { atMs: 1_000, type: 'StartupOfTheDevice', techInfo: 'firmware 1.0' },
      { atMs: 2_000, type: 'InvalidMessages', techInfo: null },
    ]);
  });

  it('is bounded: past the bound the oldest go, and the newest stay in order', () => {
    const { db } = dbs.open();
    const log = new SqliteSecurityLog(db, 50);
    for (let i = 0; i < 180; i++) log.append({ atMs: i, type: 'InvalidMessages', techInfo: `#${i}` });
    expect(log.size()).toBe(50);
    const kept = log.entries();
    expect(kept.map((e) => e.techInfo)).toEqual(Array.from({ length: 50 }, (_, k) => `#${130 + k}`));
  });

  it('holds the default 10,000 newest entries', () => {
    const { db } = dbs.open();
    const log = new SqliteSecurityLog(db);
    for (let i = 0; i < 10_050; i++) log.append({ atMs: i, type: 'InvalidMessages', techInfo: null });
    expect(log.size()).toBe(10_000);
    expect(log.entries()[0]!.atMs).toBe(50);
  });

  it('answers a time range (GetLog asks for one) and can be cleared', () => {
    const { db } = dbs.open();
    const log = new SqliteSecurityLog(db);
    for (const atMs of [10, 20, 30, 40]) log.append({ atMs, type: 'SettingSystemTime', techInfo: null });
    expect(log.entries({ fromMs: 20, toMs: 30 }).map((e) => e.atMs)).toEqual([20, 30]);
    expect(log.clear()).toBe(4);
    expect(log.entries()).toEqual([]);
  });

  it('refuses a bound that is not a positive integer', () => {
    const { db } = dbs.open();
    expect(() => new SqliteSecurityLog(db, 0)).toThrow(/positive integer/);
  });
});
