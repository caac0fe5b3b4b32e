// The charging profiles' store (migration 008) on a real SQLite file: nothing stored reads as
// null, a save is one durable commit of the whole set with its envelope, a later save replaces
// it (one row), it reads back after the file is opened again, and a damaged row is an error the
// caller logs.
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteChargingProfileRepo } from '../../src/store/charging-profile-repo.js';
import type { ChargingProfile } from '../../src/domain/smart-charging/profile.js';
import { TempDatabases } from '../helpers/temp-agent-db.js';

const dbs = new TempDatabases();
afterEach(() => dbs.cleanup());

const profile = (id: number, limit: number): ChargingProfile => ({
  id,
  stackLevel: 0,
  purpose: 'StationMax',
  kind: 'Absolute',
  evseId: 0,
  schedule: { startScheduleMs: 1_700_000_000_000, unit: 'A', periods: [{ startPeriod: 0, limit }] },
});

describe('SqliteChargingProfileRepo', () => {
  it('saves the whole set with its envelope in one durable commit, replaces it, and reads it back after a reopen', () => {
    const { db, dir } = dbs.open();
    const repo = new SqliteChargingProfileRepo(db);
    expect(repo.load()).toBeNull();
    const before = db.stats().durableCommits;
    expect(repo.save({ profiles: [profile(1, 16)], envelopeA: 16, writtenAtMs: 1_000 })).toBeGreaterThan(0);
    repo.save({ profiles: [profile(1, 10), profile(2, 20)], envelopeA: null, writtenAtMs: 2_000 });
    expect(db.stats().durableCommits - before).toBe(2);
    expect(db.db.prepare('SELECT COUNT(*) AS n FROM charging_profiles').get()).toEqual({ n: 1 });
    const again = new SqliteChargingProfileRepo(dbs.reopen(db, dir));
    expect(again.load()).toEqual({ profiles: [profile(1, 10), profile(2, 20)], envelopeA: null, writtenAtMs: 2_000 });
  });

  it('a damaged row is an error for the caller to log (SmartCharging then starts without profiles)', () => {
    const { db } = dbs.open();
    db.db.prepare("INSERT INTO charging_profiles (id, profiles, envelope_a, written_at_ms) VALUES (1, '{not json', 5, 0)").run();
    expect(() => new SqliteChargingProfileRepo(db).load()).toThrow();
  });
});
