// Reservations in SQLite (OCPP 1.6 §5.13): saved durably, replaced by id, deleted, and loaded
// back after a reopen (a reboot); deleting an unknown id writes nothing.
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteReservationRepo } from '../../src/store/reservation-repo.js';
import { TempDatabases } from '../helpers/temp-agent-db.js';

const dbs = new TempDatabases();
afterEach(() => dbs.cleanup());

describe('SqliteReservationRepo', () => {
  it('save, replace by id, delete, reload after a reopen', () => {
    const { db, dir } = dbs.open();
    const repo = new SqliteReservationRepo(db);
    repo.save({ id: 5, evseId: 1, idToken: { value: 'TAG', type: 'Central' }, expiresAt: new Date('2030-01-01T10:00:00Z') });
    repo.save({ id: 9, idToken: { value: 'OTHER', type: 'Central' }, groupId: { value: 'GRP', type: 'Central' }, expiresAt: new Date('2030-01-01T11:00:00Z') });
    repo.save({ id: 5, evseId: 2, idToken: { value: 'TAG2', type: 'Central' }, expiresAt: new Date('2030-01-01T12:00:00Z') });
    const reloaded = new SqliteReservationRepo(dbs.reopen(db, dir));
    expect(reloaded.load()).toEqual([
      { id: 5, evseId: 2, idToken: { value: 'TAG2', type: 'Central' }, expiresAt: new Date('2030-01-01T12:00:00Z') },
      { id: 9, idToken: { value: 'OTHER', type: 'Central' }, groupId: { value: 'GRP', type: 'Central' }, expiresAt: new Date('2030-01-01T11:00:00Z') },
    ]);
    reloaded.delete(5);
    expect(reloaded.load().map((r) => r.id)).toEqual([9]);
  });

  it('each write is durable; deleting an unknown id commits nothing', () => {
    const { db } = dbs.open();
    const repo = new SqliteReservationRepo(db);
    const start = db.stats().durableCommits;
    repo.save({ id: 1, evseId: 1, idToken: { value: 'T', type: 'Central' }, expiresAt: new Date('2030-01-01T00:00:00Z') });
    expect(db.stats().durableCommits).toBe(start + 1);
    repo.delete(42);
    expect(db.stats().durableCommits).toBe(start + 1);
    repo.delete(1);
    expect(db.stats().durableCommits).toBe(start + 2);
  });
});
