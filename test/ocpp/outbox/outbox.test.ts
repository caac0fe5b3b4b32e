// The outbox on its own, with no OCPP 1.6 in sight: a small 2.0.1-like protocol (one
// TransactionEvent kind per phase) over the real SQLite store and a driven clock. Messages are
// opaque; order, durability classes, batching, references, attempts and the end of a
// transaction's reporting come from the outbox and the traits the protocol declares.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentDatabase } from '../../../src/store/database.js';
import { SqliteTransactionStore } from '../../../src/store/transaction-store.js';
import { Outbox } from '../../../src/ocpp/outbox/outbox.js';
import type { DeliveryContext, Delivered, FailureClass, MessageTraits, OutboxMessage, OutboxProtocol } from '../../../src/ocpp/outbox/ports.js';
import type { Transaction } from '../../../src/domain/model/transaction.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { SILENT_LOGGER } from '../../../hal/log.js';

class Refused extends Error {}
class Offline extends Error {}

/** TransactionEvent-like: Started and Ended durable, Updated written behind, replayed up to 3 at a time. */
class EventProtocol implements OutboxProtocol {
  readonly sent: Array<{ kinds: string[]; payloads: string[]; refs: Record<string, string> | undefined }> = [];
  fail: Array<'refused' | 'offline'> = [];
  private seq = 0;

  traits(kind: string): MessageTraits {
    if (kind === 'Updated') return { durability: 'write-behind', endsTransaction: false, maxBatch: 3 };
    if (kind === 'Charging') return { durability: 'durable', endsTransaction: false, maxBatch: 1 };
    return { durability: 'durable', endsTransaction: kind === 'Ended', maxBatch: 1 };
  }

  /** Payloads here carry no times. */
  restampPayload(payload: string): string {
    return payload;
  }

  classify(err: unknown): FailureClass {
    return err instanceof Refused ? 'refused' : err instanceof Offline ? 'undelivered' : 'unsendable';
  }

  async send(batch: readonly OutboxMessage[], ctx: DeliveryContext): Promise<Delivered> {
    const failure = this.fail.shift();
    if (failure === 'refused') throw new Refused('CALLERROR');
    if (failure === 'offline') throw new Offline('closed');
    const refs = ctx.refs(batch[0]!.localId);
    this.sent.push({ kinds: batch.map((m) => m.kind), payloads: batch.map((m) => m.payload), refs: refs ? { ...refs } : undefined });
    return batch[0]!.kind === 'Started' ? { refs: { seqNo: String(++this.seq) }, authorizationStatus: 'Accepted' } : {};
  }
}

const dirs: string[] = [];
const dbs: AgentDatabase[] = [];
afterEach(() => {
  for (const d of dbs.splice(0)) if (d.db.open) d.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(dir = mkdtempSync(join(tmpdir(), 'ca-neutral-outbox-'))) {
  if (!dirs.includes(dir)) dirs.push(dir);
  const db = new AgentDatabase(join(dir, 'agent.db'));
  dbs.push(db);
  const store = new SqliteTransactionStore(db);
  const clock = new FakeClock({ systemTime: Date.UTC(2026, 0, 1, 10) });
  const protocol = new EventProtocol();
  const outbox = new Outbox(protocol, store, { attempts: () => 2, retryIntervalS: () => 10 }, clock, SILENT_LOGGER, { writeBehindMs: 30_000 });
  return { dir, db, store, clock, protocol, outbox };
}

const tx: Transaction = { localId: 'tx-1', evseId: 1, idToken: { value: 'EMAID1', type: 'eMAID' }, startedAt: new Date('2026-01-01T10:00:00Z'), meterStartWh: 0 };
const ended: Transaction = { ...tx, stoppedAt: new Date('2026-01-01T11:00:00Z'), meterStopWh: 900, stopReason: 'EVDisconnected' };
const settle = async () => { for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r)); };

describe('the version-neutral outbox', () => {
  it('online: durable start and end with fsync, updates never written, references kept until the end', async () => {
    const { outbox, protocol, db, store } = setup();
    outbox.setOnline(true);
    outbox.open(tx, { kind: 'Started', payload: 's' });
    await settle();
    outbox.update(tx.localId, { kind: 'Updated', payload: 'u1' });
    await settle();
    expect(outbox.refs(tx.localId)).toEqual({ seqNo: '1' });
    expect(outbox.findByRef('seqNo', '1')).toBe(tx.localId);
    outbox.close(ended, { kind: 'Ended', payload: 'e' });
    await settle();
    expect(protocol.sent.map((s) => s.kinds)).toEqual([['Started'], ['Updated'], ['Ended']]);
    expect(protocol.sent[2]!.refs).toEqual({ seqNo: '1' });
    expect(db.stats()).toMatchObject({ durableCommits: 4, lazyCommits: 0 });
    expect(outbox.refs(tx.localId)).toBeUndefined();
    expect(store.transaction(tx.localId)).toMatchObject({ reported: true, authorizationStatus: 'Accepted', refs: { seqNo: '1' }, meterStopWh: 900 });
  });

  it('offline: updates written behind in one batch; after a restart all is replayed in order, batched by the protocol\'s limit', async () => {
    const first = setup();
    first.outbox.open(tx, { kind: 'Started', payload: 's' });
    for (let i = 1; i <= 4; i++) first.outbox.update(tx.localId, { kind: 'Updated', payload: `u${i}` });
    expect(first.db.stats().lazyCommits).toBe(0);
    first.clock.advance(30_000);
    expect(first.db.stats().lazyCommits).toBe(1);
    first.outbox.close(ended, { kind: 'Ended', payload: 'e' });
    first.db.close();

    const second = setup(first.dir);
    expect(second.outbox.queueDepth).toBe(6);
    second.outbox.setOnline(true);
    await second.outbox.deliverQueued();
    expect(second.protocol.sent.map((s) => s.payloads)).toEqual([['s'], ['u1', 'u2', 'u3'], ['u4'], ['e']]);
    expect(second.store.size()).toBe(0);
  });

  it('a durable message during the transaction is written at once with fsync, in order with the write-behind ones', async () => {
    const { outbox, protocol, db } = setup();
    outbox.open(tx, { kind: 'Started', payload: 's' });
    outbox.update(tx.localId, { kind: 'Updated', payload: 'u1' });
    const before = db.stats();
    outbox.update(tx.localId, { kind: 'Charging', payload: 'c' });
    // One fsync commit, which takes the pending write-behind message along (order on disk).
    expect(db.stats().durableCommits).toBe(before.durableCommits + 1);
    expect(outbox.statistics()).toMatchObject({ queued: 3, inMemory: 0 });
    outbox.setOnline(true);
    await outbox.deliverQueued();
    expect(protocol.sent.map((s) => s.payloads)).toEqual([['s'], ['u1'], ['c']]);
  });

  it('a refusal is an attempt (discarded after the last, ending the reporting); no answer is not', async () => {
    const { outbox, protocol, clock, store } = setup();
    outbox.setOnline(true);
    outbox.open(tx, { kind: 'Started', payload: 's' });
    await settle();
    protocol.fail = ['offline', 'refused', 'refused'];
    outbox.close(ended, { kind: 'Ended', payload: 'e' });
    await settle();
    await clock.advanceAsync(10_000); // after no answer: retried, not counted
    await settle();
    await clock.advanceAsync(10_000); // first refusal counted: the retry waits 10 s × 1
    await settle();
    expect(protocol.fail).toEqual([]);
    expect(outbox.statistics().discardedAfterAttempts).toBe(1);
    expect(store.transaction(tx.localId)?.reported).toBe(true);
    expect(protocol.sent.map((s) => s.kinds)).toEqual([['Started']]);
  });
});
