// SQLite store on a real file: numbered migrations, transactions and the ordered
// outbox, configuration and availability written only on change.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentDatabase } from '../../src/store/database.js';
import { MIGRATIONS } from '../../src/store/migrations/index.js';
import { SqliteTransactionStore } from '../../src/store/transaction-store.js';
import { SqliteConfigurationRepo } from '../../src/store/configuration-repo.js';
import { SqliteAvailabilityRepo } from '../../src/store/availability-repo.js';
import type { OutboxMessage } from '../../src/ocpp/outbox/ports.js';
import type { Transaction } from '../../src/domain/model/transaction.js';
import { STATION, evseTarget } from '../../src/domain/model/evse.js';

const dirs: string[] = [];
const opened: AgentDatabase[] = [];
function open(dir?: string): AgentDatabase {
  const d = dir ?? mkdtempSync(join(tmpdir(), 'ca-store-'));
  if (!dirs.includes(d)) dirs.push(d);
  const db = new AgentDatabase(join(d, 'agent.db'));
  opened.push(db);
  return db;
}
afterEach(() => {
  for (const db of opened.splice(0)) db.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const tx = (localId: string, evseId = 1): Transaction => ({
  localId,
  evseId,
  idToken: { value: 'TAG1', type: 'ISO14443' },
  startedAt: new Date('2026-01-01T10:00:00Z'),
  meterStartWh: 1000,
});
const entry = (position: number, kind: 'start' | 'meter' | 'stop', localId: string, payload = '{}'): OutboxMessage => ({
  position,
  kind,
  localId,
  durability: kind === 'meter' ? 'write-behind' : 'durable',
  payload,
  attempts: 0,
  createdAt: new Date('2026-01-01T10:00:00Z').toISOString(),
});

describe('AgentDatabase', () => {
  it('migrates an empty file to the latest schema version, once', () => {
    const db = open();
    const latest = Math.max(...MIGRATIONS.map((m) => m.version));
    expect(db.schemaVersion).toBe(latest);
    expect(Number(db.db.pragma('user_version', { simple: true }))).toBe(latest);
    expect(String(db.db.pragma('journal_mode', { simple: true }))).toBe('wal');
    expect(Number(db.db.pragma('page_size', { simple: true }))).toBe(1024);
    const dir = dirs[0]!;
    db.close();
    const again = open(dir);
    expect(again.schemaVersion).toBe(latest);
    expect(again.integrityCheck()).toBe('ok');
  });
});

describe('SqliteTransactionStore', () => {
  it('records a start durably with its outbox entry and acknowledges it with the CSMS reference', () => {
    const db = open();
    const store = new SqliteTransactionStore(db);
    store.write({ messages: [entry(1, 'start', 'a')], opened: { tx: tx('a'), bootId: 'boot-1' } }, 'fsync');
    expect(store.head()).toMatchObject({ position: 1, kind: 'start', localId: 'a', durability: 'durable' });
    expect(store.openTransactions().map((t) => t.localId)).toEqual(['a']);
    expect(db.stats().durableCommits).toBe(1);
    store.acknowledge([1], { localId: 'a', refs: { csmsId: '77' }, authorizationStatus: 'Accepted' }, 'fsync');
    expect(store.head()).toBeNull();
    expect(store.transaction('a')).toMatchObject({ refs: { csmsId: '77' }, bootId: 'boot-1', reported: false, authorizationStatus: 'Accepted' });
  });

  it('rows written before the domain vocabulary (schema 4) read in it: 1.6 stop reasons mapped, identifier type kept', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-store-'));
    dirs.push(dir);
    const old = new AgentDatabase(join(dir, 'agent.db'), null, MIGRATIONS.filter((m) => m.version <= 4));
    const insert = old.db.prepare(
      "INSERT INTO transactions (local_id, connector, id_tag, started_at, meter_start_wh, stopped_at, meter_stop_wh, stop_reason, stop_id_tag) VALUES (?, 1, 'TAG1', '2026-01-01T10:00:00Z', 10, '2026-01-01T11:00:00Z', 20, ?, ?)",
    );
    insert.run('l', 'Local', 'TAG1');
    insert.run('r', 'Remote', null);
    insert.run('d', 'DeAuthorized', null);
    insert.run('e', 'EVDisconnected', null);
    old.close();
    const store = new SqliteTransactionStore(open(dir));
    const read = (id: string) => store.transaction(id);
    expect([read('l')?.stopReason, read('r')?.stopReason, read('d')?.stopReason, read('e')?.stopReason]).toEqual(['LocalStop', 'RemoteStop', 'Deauthorized', 'EVDisconnected']);
    expect(read('l')).toMatchObject({ idToken: { value: 'TAG1', type: 'ISO14443' }, stopIdToken: { value: 'TAG1', type: 'ISO14443' } });
    // Written now: the type is kept.
    store.write({ messages: [entry(1, 'start', 'c')], opened: { tx: { ...tx('c'), idToken: { value: 'REMOTE1', type: 'Central' } }, bootId: null } }, 'fsync');
    expect(store.transaction('c')?.idToken).toEqual({ value: 'REMOTE1', type: 'Central' });
  });

  it('orders the queue by position, whatever order rows were written in', () => {
    const store = new SqliteTransactionStore(open());
    store.write({ messages: [entry(5, 'start', 'a')], opened: { tx: tx('a'), bootId: null } }, 'fsync');
    // Meters enqueued before the start but written behind later keep their earlier position.
    store.write({ messages: [entry(3, 'meter', 'z'), entry(4, 'meter', 'z')] }, 'lazy');
    expect(store.head()?.position).toBe(3);
    expect(store.nextPosition()).toBe(6);
    expect(store.size()).toBe(3);
  });

  it('a stop closes the transaction; its acknowledgement marks it reported', () => {
    const store = new SqliteTransactionStore(open());
    store.write({ messages: [entry(1, 'start', 'a')], opened: { tx: tx('a'), bootId: null } }, 'fsync');
    store.acknowledge([1], { localId: 'a', refs: { csmsId: '9' }, authorizationStatus: 'Accepted' }, 'fsync');
    const stopped: Transaction = { ...tx('a'), stoppedAt: new Date('2026-01-01T11:00:00Z'), meterStopWh: 5000, stopReason: 'EVDisconnected' };
    store.write({ messages: [entry(2, 'meter', 'a'), entry(3, 'stop', 'a')], closed: stopped }, 'fsync');
    expect(store.openTransactions()).toEqual([]);
    expect(store.head()?.kind).toBe('meter');
    expect(store.transaction('a')).toMatchObject({ meterStopWh: 5000, stopReason: 'EVDisconnected' });
    store.acknowledge([2], { localId: 'a' }, 'lazy');
    store.acknowledge([3], { localId: 'a', reported: true }, 'fsync');
    expect(store.size()).toBe(0);
    expect(store.unreportedTransactions()).toEqual([]);
    expect(store.recentTransactions(10)[0]).toMatchObject({ localId: 'a', reported: true, refs: { csmsId: '9' } });
  });

  it('drops only write-behind messages, oldest first, when asked to make room', () => {
    const store = new SqliteTransactionStore(open());
    store.write({ messages: [entry(1, 'start', 'a')], opened: { tx: tx('a'), bootId: null } }, 'fsync');
    store.write({ messages: [entry(2, 'meter', 'a'), entry(3, 'meter', 'a'), entry(4, 'meter', 'a')] }, 'lazy');
    expect(store.dropOldestWriteBehind(2, new Set())).toBe(2);
    expect(store.dropOldestWriteBehind(5, new Set())).toBe(1);
    expect(store.size()).toBe(1);
    expect(store.head()?.kind).toBe('start');
  });

  it('knows the newest durable moment of an open transaction', () => {
    const store = new SqliteTransactionStore(open());
    store.write({ messages: [entry(1, 'start', 'a')], opened: { tx: tx('a'), bootId: null } }, 'fsync');
    expect(store.lastKnownAlive('a')?.toISOString()).toBe('2026-01-01T10:00:00.000Z');
    store.write({ messages: [{ ...entry(2, 'meter', 'a'), createdAt: '2026-01-01T10:30:00.000Z' }] }, 'lazy');
    expect(store.lastKnownAlive('a')?.toISOString()).toBe('2026-01-01T10:30:00.000Z');
  });

  it('references of pruned transactions go with them', () => {
    const db = open();
    const store = new SqliteTransactionStore(db);
    for (let i = 0; i < 60; i++) {
      const t = { ...tx(`t${i}`), startedAt: new Date(Date.UTC(2026, 0, 1, 0, i)) };
      store.write({ messages: [entry(2 * i + 1, 'start', t.localId)], opened: { tx: t, bootId: null } }, 'fsync');
      store.acknowledge([2 * i + 1], { localId: t.localId, refs: { csmsId: String(i) } }, 'fsync');
      store.write({ messages: [entry(2 * i + 2, 'stop', t.localId)], closed: { ...t, stoppedAt: t.startedAt, meterStopWh: 1 } }, 'fsync');
      store.acknowledge([2 * i + 2], { localId: t.localId, reported: true }, 'fsync');
    }
    expect(store.recentTransactions(100)).toHaveLength(50);
    expect((db.db.prepare('SELECT COUNT(*) AS n FROM transaction_refs').get() as { n: number }).n).toBe(50);
  });
});

describe('configuration and availability repos', () => {
  it('configuration: a value that did not change is not written', () => {
    const db = open();
    const repo = new SqliteConfigurationRepo(db);
    repo.save('HeartbeatInterval', '300');
    repo.save('HeartbeatInterval', '300');
    expect(db.stats().durableCommits).toBe(1);
    repo.save('HeartbeatInterval', '60');
    expect(repo.loadAll()).toEqual({ HeartbeatInterval: '60' });
    expect(db.stats().durableCommits).toBe(2);
  });

  it('availability: operative by default writes nothing; changes persist', () => {
    const db = open();
    const repo = new SqliteAvailabilityRepo(db);
    repo.save(evseTarget(1), 'Operative');
    expect(db.stats().durableCommits).toBe(0);
    repo.save(evseTarget(1), 'Inoperative');
    repo.save(evseTarget(1), 'Inoperative');
    expect(db.stats().durableCommits).toBe(1);
    repo.save(STATION, 'Inoperative');
    expect(repo.load()).toEqual({ station: 'Inoperative', evses: new Map([[1, 'Inoperative']]) });
  });
});
