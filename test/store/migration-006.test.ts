// Schema 6 on databases the schema-4 and schema-5 releases left mid-transaction
// (test/fixtures/outbox-v4.db, outbox-v5.db, made by those releases' own code): nothing queued is
// lost or reordered, the CSMS's transaction ids become references the 1.6 adapter reads, and the
// queue replays the original messages.
import { afterEach, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentDatabase } from '../../src/store/database.js';
import { SqliteTransactionStore } from '../../src/store/transaction-store.js';
import { TransactionMessenger, csmsTransactionIdOf } from '../../src/ocpp/v16/transaction-messages.js';
import type { RpcCaller } from '../../src/ocpp/v16/session.js';
import type { CpAction, RequestOf, ResponseOf } from '../../src/ocpp/v16/actions/types.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { SILENT_LOGGER } from '../../hal/log.js';

const fixture = (schema: number): string => new URL(`../fixtures/outbox-v${schema}.db`, import.meta.url).pathname;

const dirs: string[] = [];
const dbs: AgentDatabase[] = [];
afterEach(() => {
  for (const d of dbs.splice(0)) d.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A copy of the fixture opened by this agent (the fixture itself is never written); `before` edits the copy first. */
function upgraded(schema: number, before?: (raw: Database.Database) => void): AgentDatabase {
  const dir = mkdtempSync(join(tmpdir(), 'ca-upgrade-'));
  dirs.push(dir);
  copyFileSync(fixture(schema), join(dir, 'agent.db'));
  if (before) {
    const raw = new Database(join(dir, 'agent.db'));
    before(raw);
    raw.close();
  }
  const db = new AgentDatabase(join(dir, 'agent.db'));
  dbs.push(db);
  return db;
}

class RecordingCsms implements RpcCaller {
  readonly calls: Array<{ action: string; payload: Record<string, unknown> }> = [];
  async call<A extends CpAction>(action: A, payload: RequestOf<A>): Promise<ResponseOf<A>> {
    this.calls.push({ action, payload: payload as unknown as Record<string, unknown> });
    const answer = action === 'StartTransaction' ? { transactionId: 5000, idTagInfo: { status: 'Accepted' } } : {};
    return answer as ResponseOf<A>;
  }
}

describe.each([4, 5])('migration 6 (neutral outbox) on a schema-%i database', (schema) => {
  it('keeps every queued message in order, with its durability, and the CSMS ids as references', () => {
    const db = upgraded(schema);
    expect(db.schemaVersion).toBeGreaterThanOrEqual(6);
    expect(db.integrityCheck()).toBe('ok');
    const rows = db.db.prepare('SELECT position, kind, local_id AS localId, durability FROM outbox ORDER BY position').all();
    expect(rows).toEqual([
      { position: 4, kind: 'MeterValues', localId: 'fixture-a', durability: 'write-behind' },
      { position: 5, kind: 'MeterValues', localId: 'fixture-a', durability: 'write-behind' },
      { position: 6, kind: 'StopTransaction', localId: 'fixture-a', durability: 'durable' },
      { position: 7, kind: 'StartTransaction', localId: 'fixture-b', durability: 'durable' },
      { position: 8, kind: 'MeterValues', localId: 'fixture-b', durability: 'write-behind' },
      { position: 9, kind: 'MeterValues', localId: 'fixture-b', durability: 'write-behind' },
    ]);
    const store = new SqliteTransactionStore(db);
    expect(store.transaction('fixture-a')).toMatchObject({ authorizationStatus: 'Accepted', reported: false, bootId: 'fixture-boot' });
    expect(csmsTransactionIdOf(store.transaction('fixture-a')!)).toBe(4711);
    expect(csmsTransactionIdOf(store.recentTransactions(10).find((t) => t.localId === 'fixture-c')!)).toBe(4710);
    expect(store.transaction('fixture-b')).toMatchObject({ authorizationStatus: null, refs: {} });
    expect(store.openTransactions().map((t) => t.localId)).toEqual(['fixture-b']);
    // The stop time after a power loss still comes from the last stored sample.
    expect(store.lastKnownAlive('fixture-b')?.toISOString()).toBe('2026-03-01T10:30:00.000Z');
  });

  it('replays the original messages in order, the stopped transaction under its original CSMS id', async () => {
    const db = upgraded(schema);
    const store = new SqliteTransactionStore(db);
    const csms = new RecordingCsms();
    const clock = new FakeClock({ systemTime: Date.UTC(2026, 2, 2) });
    const settings = { transactionMessageAttempts: () => 3, transactionMessageRetryIntervalS: () => 60 };
    const messenger = new TransactionMessenger(csms, store, settings, clock, SILENT_LOGGER as never, {}, { bootId: 'another-boot' });
    expect(messenger.queueDepth).toBe(6);
    expect(messenger.csmsTransactionId('fixture-a')).toBe(4711);
    expect(messenger.localIdFor(4711)).toBe('fixture-a');
    messenger.setOnline(true);
    await messenger.deliverQueued();
    expect(csms.calls.map((c) => c.action)).toEqual(['MeterValues', 'StopTransaction', 'StartTransaction', 'MeterValues']);
    const [metersA, stopA, startB, metersB] = csms.calls.map((c) => c.payload);
    expect(metersA).toMatchObject({ connectorId: 1, transactionId: 4711, meterValue: [{ timestamp: '2026-03-01T09:15:00.000Z' }, { timestamp: '2026-03-01T09:30:00.000Z' }] });
    expect(stopA).toMatchObject({ transactionId: 4711, meterStop: 5600, timestamp: '2026-03-01T09:40:00.000Z', reason: 'EVDisconnected' });
    expect(startB).toEqual({ connectorId: 1, idTag: 'CARD-B', meterStart: 5600, timestamp: '2026-03-01T10:00:00.000Z' });
    expect(metersB).toMatchObject({ transactionId: 5000, meterValue: [{ sampledValue: [{ value: '5800' }] }, { sampledValue: [{ value: '6000' }] }] });
    expect(store.size()).toBe(0);
    expect(store.transaction('fixture-a')?.reported).toBe(true);
    expect(csmsTransactionIdOf(store.transaction('fixture-b')!)).toBe(5000);
  });
});

describe('migration 6 and provisional times (schema 5)', () => {
  it('keeps the time base of queued messages and transactions', () => {
    const db = upgraded(5, (raw) => {
      raw.prepare("UPDATE outbox SET time_boot_id = 'b1', time_base_ms = 42 WHERE position = 8").run();
      raw.prepare("UPDATE transactions SET time_boot_id = 'b1', time_base_ms = 42 WHERE local_id = 'fixture-b'").run();
    });
    const store = new SqliteTransactionStore(db);
    expect(store.from(8, 1)[0]).toMatchObject({ kind: 'MeterValues', timeBase: { bootId: 'b1', wallMinusMonoMs: 42 } });
    expect(store.from(9, 1)[0]!.timeBase).toBeUndefined();
    expect(store.transaction('fixture-b')?.timeBase).toEqual({ bootId: 'b1', wallMinusMonoMs: 42 });
  });
});
