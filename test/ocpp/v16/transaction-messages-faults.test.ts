// The transaction-message outbox under faults, over a real SQLite file: the queue bound
// while a batch is in flight, Reset waiting for delivery, disk full and I/O errors in
// timers and acknowledgements (never a crash, never a confirmed message sent again),
// an unreadable stored payload, a Start that cannot be made durable.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentDatabase } from '../../../src/store/database.js';
import { SqliteTransactionStore } from '../../../src/store/transaction-store.js';
import { StartNotRecordedError, TransactionMessenger, type MessengerOptions } from '../../../src/ocpp/v16/transaction-messages.js';
import type { RpcCaller } from '../../../src/ocpp/v16/session.js';
import type { CpAction, RequestOf, ResponseOf } from '../../../src/ocpp/v16/actions/types.js';
import type { MeterValue } from '../../../src/ocpp/v16/generated/types.js';
import type { Transaction } from '../../../src/domain/model/transaction.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { SILENT_LOGGER } from '../../../hal/log.js';

/** A CSMS whose answers to chosen actions are held until released. */
class HeldCsms implements RpcCaller {
  readonly calls: Array<{ action: string; payload: Record<string, unknown> }> = [];
  hold = new Set<string>();
  held: Array<() => void> = [];
  nextId = 100;
  async call<A extends CpAction>(action: A, payload: RequestOf<A>): Promise<ResponseOf<A>> {
    this.calls.push({ action, payload: payload as unknown as Record<string, unknown> });
    if (this.hold.has(action)) await new Promise<void>((r) => this.held.push(r));
    const answer = action === 'StartTransaction' ? { transactionId: this.nextId++, idTagInfo: { status: 'Accepted' } } : {};
    return answer as ResponseOf<A>;
  }
  actions(): string[] { return this.calls.map((c) => c.action); }
}

const dirs: string[] = [];
const dbs: AgentDatabase[] = [];
afterEach(() => {
  for (const d of dbs.splice(0)) if (d.db.open) d.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function setup(opts: MessengerOptions = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'rev-outbox-'));
  dirs.push(dir);
  const db = new AgentDatabase(join(dir, 'agent.db'));
  dbs.push(db);
  const store = new SqliteTransactionStore(db);
  const clock = new FakeClock({ systemTime: Date.UTC(2026, 0, 1, 10) });
  const csms = new HeldCsms();
  const messenger = new TransactionMessenger(csms, store,
    { transactionMessageAttempts: () => 3, transactionMessageRetryIntervalS: () => 60 },
    clock, SILENT_LOGGER as never, {}, { meterWriteBehindMs: 30_000, ...opts });
  return { db, store, clock, csms, messenger };
}
const tx = (localId: string): Transaction => ({ localId, evseId: 1, idToken: { value: 'TAG', type: 'ISO14443' }, startedAt: new Date('2026-01-01T10:00:00Z'), meterStartWh: 10 });
const mv = (wh: number): MeterValue[] => [{ timestamp: new Date(Date.UTC(2026, 0, 1, 10, 0, wh)).toISOString(), sampledValue: [{ value: String(wh) }] }];
const stoppedTx = (t: Transaction): Transaction => ({ ...t, stoppedAt: new Date('2026-01-01T11:00:00Z'), meterStopWh: 99, stopReason: 'LocalStop' });
const settle = async () => { for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r)); };

describe('TransactionMessenger under faults', () => {
  it('the queue bound never drops a MeterValues being sent; the Stop behind it goes out', async () => {
    const { csms, messenger, store } = setup({ maxQueuedMessages: 3 });
    const t = tx('a');
    messenger.started(t);              // offline: [S]
    messenger.meter(t, mv(1));
    messenger.meter(t, mv(2));
    messenger.flush();                 // stored [S, m1, m2] = the bound
    csms.hold.add('MeterValues');
    messenger.setOnline(true);
    await settle();                    // Start acked; batch [m1, m2] in flight
    expect(csms.actions()).toEqual(['StartTransaction', 'MeterValues']);
    messenger.meter(t, mv(3));         // depth 3
    messenger.meter(t, mv(4));         // depth 4 > 3: drops m1, which is in flight
    csms.hold.clear();
    csms.held.splice(0).forEach((r) => r());
    await settle();
    // m3, m4 delivered; now the transaction stops
    messenger.stopped(stoppedTx(t), []);
    await settle();
    await messenger.drain();
    await settle();
    expect(store.size()).toBe(0);
    expect(csms.actions().at(-1)).toBe('StopTransaction');  // ... and was never sent
  });

  it('drain() (Reset waits on it) resolves only once the Stop in flight is answered', async () => {
    const { csms, messenger } = setup();
    messenger.setOnline(true);
    const t = tx('a');
    messenger.started(t);
    await settle();
    csms.hold.add('StopTransaction');
    messenger.stopped(stoppedTx(t), []);   // kicks off a drain, Stop in flight
    let done = false;
    void messenger.drain().then(() => (done = true));
    await settle();
    expect(done).toBe(false);
  });

  it('disk full in the write-behind timer: logged and retried, never thrown out of the timer', () => {
    const { db, messenger, clock } = setup();
    const t = tx('a');
    messenger.started(t);
    const pages = Number(db.db.pragma('page_count', { simple: true }));
    db.db.pragma(`max_page_count = ${pages}`);
    for (let i = 0; i < 200; i++) messenger.meter(t, [{ timestamp: new Date().toISOString(), sampledValue: [{ value: 'x'.repeat(200) }] }]);
    expect(() => clock.advance(30_000)).not.toThrow();
    expect(messenger.statistics()).toMatchObject({ inMemory: 200, storageErrors: 1 });
    db.db.pragma('max_page_count = 1000000');
    clock.advance(5_000); // the write is retried
    expect(messenger.statistics().inMemory).toBe(0);
    expect(messenger.queueDepth).toBe(201);
  });

  it('an unreadable stored payload is discarded loudly; the Stop behind it is still sent', async () => {
    const { csms, messenger, db, clock } = setup();
    const t = tx('a');
    messenger.started(t);
    messenger.meter(t, mv(1));
    messenger.flush();
    db.db.prepare("UPDATE outbox SET payload = '{bad' WHERE kind = 'MeterValues'").run();
    messenger.stopped(stoppedTx(t), []);
    messenger.setOnline(true);
    for (let i = 0; i < 10; i++) { await settle(); await clock.advanceAsync(3_600_000); }
    await settle();
    expect(csms.actions()).toContain('StopTransaction');
  });

  it('a queued row of a kind this adapter does not know (another protocol) is discarded loudly; what follows is sent', async () => {
    const { csms, messenger, db } = setup();
    const t = tx('a');
    messenger.started(t);
    db.db.prepare("UPDATE outbox SET kind = 'TransactionEvent' WHERE kind = 'StartTransaction'").run();
    messenger.stopped(stoppedTx(t), []);
    messenger.setOnline(true);
    await settle();
    expect(csms.actions()).toEqual(['StopTransaction']);
    expect(messenger.statistics()).toMatchObject({ queued: 0, discardedAfterAttempts: 1 });
  });

  it('an acknowledgement that cannot be written is retried as a write: the confirmed Start is never sent again', async () => {
    const { csms, messenger, db, clock } = setup();
    messenger.started(tx('a'));
    db.db.exec("CREATE TEMP TRIGGER ack_fails BEFORE DELETE ON main.outbox BEGIN SELECT RAISE(FAIL, 'disk I/O error'); END");
    messenger.setOnline(true);
    await settle();
    db.db.exec('DROP TRIGGER temp.ack_fails');
    await clock.advanceAsync(60_000);
    await settle();
    expect(csms.actions().filter((a) => a === 'StartTransaction')).toHaveLength(1);
  });

  it('a Start that cannot be made durable throws StartNotRecordedError and nothing is sent for it', async () => {
    const { csms, messenger, db, store } = setup();
    messenger.setOnline(true);
    db.db.exec("CREATE TEMP TRIGGER full BEFORE INSERT ON main.transactions BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END");
    expect(() => messenger.started(tx('a'))).toThrow(StartNotRecordedError);
    db.db.exec('DROP TRIGGER temp.full');
    await settle();
    expect(csms.actions()).toEqual([]);
    expect(store.size()).toBe(0);
    // The store works again: the next transaction is recorded and sent.
    messenger.started(tx('b'));
    await settle();
    expect(csms.actions()).toEqual(['StartTransaction']);
  });

  it('a Stop whose write fails waits in memory, is written once the disk allows, and is sent once', async () => {
    const { csms, messenger, db, store, clock } = setup();
    const t = tx('a');
    messenger.started(t);
    db.db.exec("CREATE TEMP TRIGGER full BEFORE UPDATE ON main.transactions BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END");
    messenger.stopped(stoppedTx(t), []);
    expect(store.openTransactions().map((o) => o.localId)).toEqual(['a']);
    db.db.exec('DROP TRIGGER temp.full');
    clock.advance(5_000); // the retry of the write
    expect(store.openTransactions()).toEqual([]);
    messenger.setOnline(true);
    await settle();
    expect(csms.actions()).toEqual(['StartTransaction', 'StopTransaction']);
    expect(store.size()).toBe(0);
  });

  it('after drops at the bound, later Starts and Stops still go out in order', async () => {
    const { csms, messenger, store } = setup({ maxQueuedMessages: 3 });
    const t = tx('a');
    messenger.started(t); messenger.meter(t, mv(1)); messenger.meter(t, mv(2)); messenger.flush();
    csms.hold.add('MeterValues');
    messenger.setOnline(true); await settle();
    messenger.meter(t, mv(3)); messenger.meter(t, mv(4));
    csms.hold.clear(); csms.held.splice(0).forEach((r) => r()); await settle();
    messenger.stopped(stoppedTx(t), []); await settle();
    messenger.started(tx('b')); await settle(); await messenger.drain(); await settle();
    expect(csms.actions().slice(-2)).toEqual(['StopTransaction', 'StartTransaction']);
    expect(store.size()).toBe(0);
  });
});
