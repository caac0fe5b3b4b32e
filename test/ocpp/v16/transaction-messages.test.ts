// The transaction-message outbox over a real SQLite file with a driven clock: strict
// order, write-behind of MeterValues (none written while the CSMS acknowledges them),
// durability across a restart, §4.10 attempts/retry interval, the queue bound.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentDatabase } from '../../../src/store/database.js';
import { SqliteTransactionStore } from '../../../src/store/transaction-store.js';
import { TransactionMessenger, type MessengerOptions } from '../../../src/ocpp/v16/transaction-messages.js';
import type { RpcCaller } from '../../../src/ocpp/v16/session.js';
import type { CpAction, RequestOf, ResponseOf } from '../../../src/ocpp/v16/actions/types.js';
import type { MeterValue } from '../../../src/ocpp/v16/generated/types.js';
import type { Transaction } from '../../../src/domain/model/transaction.js';
import { ConnectionClosedError, RemoteCallError } from '../../../src/ocpp/rpc/rpc-errors.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { SILENT_LOGGER } from '../../../hal/log.js';

/** A scripted CSMS at the RPC port: records calls, answers or fails them as told. */
class ScriptedCsms implements RpcCaller {
  readonly calls: Array<{ action: string; payload: Record<string, unknown> }> = [];
  failNext: Array<'callerror' | 'closed'> = [];
  nextTransactionId = 100;
  idTagStatus: 'Accepted' | 'Invalid' = 'Accepted';

  async call<A extends CpAction>(action: A, payload: RequestOf<A>): Promise<ResponseOf<A>> {
    const failure = this.failNext.shift();
    if (failure === 'callerror') throw new RemoteCallError(action, 'InternalError', 'boom', {});
    if (failure === 'closed') throw new ConnectionClosedError(action, false);
    this.calls.push({ action, payload: payload as unknown as Record<string, unknown> });
    const answer = action === 'StartTransaction' ? { transactionId: this.nextTransactionId++, idTagInfo: { status: this.idTagStatus } } : {};
    return answer as ResponseOf<A>;
  }

  actions(): string[] {
    return this.calls.map((c) => c.action);
  }
}

const dirs: string[] = [];
const dbs: AgentDatabase[] = [];
afterEach(() => {
  for (const d of dbs.splice(0)) d.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(opts: MessengerOptions = {}, dir = mkdtempSync(join(tmpdir(), 'ca-outbox-'))) {
  if (!dirs.includes(dir)) dirs.push(dir);
  const db = new AgentDatabase(join(dir, 'agent.db'));
  dbs.push(db);
  const store = new SqliteTransactionStore(db);
  const clock = new FakeClock({ systemTime: Date.UTC(2026, 0, 1, 10) });
  const csms = new ScriptedCsms();
  const answered: string[] = [];
  const settings = { attempts: 3, retryS: 60 };
  const messenger = new TransactionMessenger(
    csms,
    store,
    { transactionMessageAttempts: () => settings.attempts, transactionMessageRetryIntervalS: () => settings.retryS },
    clock,
    (process.env.DEBUG_OUTBOX ? { info: console.log, warn: console.log, error: console.log, debug: console.log } : SILENT_LOGGER) as never,
    { startAnswered: (localId, _tag, info) => answered.push(`${localId}:${info.status}`) },
    { meterWriteBehindMs: 30_000, ...opts },
  );
  return { dir, db, store, clock, csms, messenger, answered, settings };
}

const tx = (localId: string): Transaction => ({ localId, evseId: 1, idToken: { value: 'TAG', type: 'ISO14443' }, startedAt: new Date('2026-01-01T10:00:00Z'), meterStartWh: 10 });
const mv = (wh: number): MeterValue[] => [{ timestamp: new Date(Date.UTC(2026, 0, 1, 10, 0, wh)).toISOString(), sampledValue: [{ value: String(wh) }] }];
const stopped = (t: Transaction, wh: number): Transaction => ({ ...t, stoppedAt: new Date('2026-01-01T11:00:00Z'), meterStopWh: wh, stopReason: 'LocalStop' });
/** The energy values of each MeterValues.req received, in order. */
function meterValuesSent(csms: ScriptedCsms): string[][] {
  return csms.calls.filter((c) => c.action === 'MeterValues').map((c) => (c.payload['meterValue'] as MeterValue[]).map((v) => v.sampledValue[0]!.value));
}
const settle = () => new Promise<void>((r) => setImmediate(r));

async function drained(m: TransactionMessenger): Promise<void> {
  for (let i = 0; i < 50; i++) {
    await m.drain();
    await settle();
  }
}

describe('TransactionMessenger online', () => {
  it('delivers Start, MeterValues, Stop in order with the CSMS transactionId, writing no MeterValues', async () => {
    const { csms, messenger, db, answered } = setup();
    messenger.setOnline(true);
    const t = tx('a');
    // Each message is answered before the next is due, as on a healthy link.
    messenger.started(t);
    await drained(messenger);
    messenger.meter(t, mv(20));
    await drained(messenger);
    messenger.meter(t, mv(30));
    await drained(messenger);
    messenger.stopped(stopped(t, 40), mv(40));
    await drained(messenger);
    expect(csms.actions()).toEqual(['StartTransaction', 'MeterValues', 'MeterValues', 'StopTransaction']);
    expect(csms.calls[1]!.payload['transactionId']).toBe(100);
    expect(csms.calls[3]!.payload).toMatchObject({ transactionId: 100, meterStop: 40, reason: 'Local' });
    expect(answered).toEqual(['a:Accepted']);
    expect(messenger.queueDepth).toBe(0);
    // Start, its ack, Stop, its ack: four durable commits and no write for MeterValues at all.
    expect(db.stats()).toMatchObject({ durableCommits: 4, lazyCommits: 0 });
  });
});

describe('TransactionMessenger offline and across a restart', () => {
  it('writes undelivered MeterValues behind in one batch and replays everything in order after a restart', async () => {
    const first = setup();
    const t = tx('a');
    first.messenger.started(t);
    first.messenger.meter(t, mv(20));
    first.messenger.meter(t, mv(30));
    expect(first.db.stats().lazyCommits).toBe(0);
    first.clock.advance(30_000);
    expect(first.db.stats().lazyCommits).toBe(1);
    first.messenger.meter(t, mv(50)); // still in memory: lost by a crash (within the grace period)
    first.messenger.stopped(stopped(t, 60), []); // the Stop takes the pending MeterValues with it
    expect(first.messenger.queueDepth).toBe(5);
    first.db.close();

    const second = setup({}, first.dir);
    expect(second.messenger.queueDepth).toBe(5);
    second.messenger.setOnline(true);
    await drained(second.messenger);
    // Stored MeterValues of one transaction are replayed together: one message, one commit.
    expect(second.csms.actions()).toEqual(['StartTransaction', 'MeterValues', 'StopTransaction']);
    expect(meterValuesSent(second.csms)).toEqual([['20', '30', '50']]);
    expect(second.csms.calls[1]!.payload['transactionId']).toBe(100);
    expect(second.csms.calls[2]!.payload['transactionId']).toBe(100);
    expect(second.store.size()).toBe(0);
  });

  it('a connection loss is not an attempt: delivery resumes as soon as the link is back', async () => {
    const { csms, messenger } = setup();
    messenger.setOnline(true);
    csms.failNext = ['closed'];
    messenger.started(tx('a'));
    await drained(messenger);
    expect(csms.calls).toHaveLength(0);
    messenger.setOnline(false);
    messenger.setOnline(true);
    await drained(messenger);
    expect(csms.actions()).toEqual(['StartTransaction']);
  });
});

describe('TransactionMessenger §4.10 error answers', () => {
  it('retries a refused message after RetryInterval × attempt, then discards it after the last attempt', async () => {
    const { csms, messenger, clock, settings } = setup();
    settings.attempts = 3;
    settings.retryS = 10;
    messenger.setOnline(true);
    const t = tx('a');
    messenger.started(t);
    await drained(messenger);
    csms.failNext = ['callerror', 'callerror', 'callerror'];
    messenger.meter(t, mv(20));
    messenger.stopped(stopped(t, 30), []);
    await drained(messenger);
    expect(csms.actions()).toEqual(['StartTransaction']);
    await clock.advanceAsync(9_000);
    await drained(messenger);
    expect(csms.failNext).toHaveLength(2); // not retried before 10 s
    await clock.advanceAsync(1_000);
    await drained(messenger);
    expect(csms.failNext).toHaveLength(1); // second attempt at 10 s
    await clock.advanceAsync(20_000); // third attempt after 2 × 10 s: the last one
    await drained(messenger);
    expect(csms.failNext).toHaveLength(0);
    expect(csms.actions()).toEqual(['StartTransaction', 'StopTransaction']);
    expect(messenger.statistics().discardedAfterAttempts).toBe(1);
  });

  it('tells the station when the CSMS refuses the idTag in its StartTransaction answer', async () => {
    const { csms, messenger, answered } = setup();
    csms.idTagStatus = 'Invalid';
    messenger.setOnline(true);
    messenger.started(tx('a'));
    await drained(messenger);
    expect(answered).toEqual(['a:Invalid']);
  });
});

describe('TransactionMessenger queue bound', () => {
  it('drops the oldest MeterValues past the bound, never a Start or a Stop, and counts the drops', async () => {
    const { messenger, csms } = setup({ maxQueuedMessages: 4 });
    const t = tx('a');
    messenger.started(t);
    for (let wh = 1; wh <= 6; wh++) messenger.meter(t, mv(wh));
    messenger.stopped(stopped(t, 7), []);
    expect(messenger.statistics().droppedMeterValues).toBe(3);
    messenger.setOnline(true);
    await drained(messenger);
    expect(csms.actions()).toEqual(['StartTransaction', 'MeterValues', 'StopTransaction']);
    expect(meterValuesSent(csms)).toEqual([['4', '5', '6']]);
  });
});

describe('TransactionMessenger replay batching', () => {
  it('replays at most MAX_METER_VALUES_PER_REPLAY stored MeterValues per message, never across transactions, one commit each', async () => {
    const { csms, messenger, db, clock } = setup();
    const a = tx('a');
    const b = { ...tx('b'), evseId: 2 };
    messenger.started(a);
    for (let i = 1; i <= 25; i++) messenger.meter(a, mv(i));
    clock.advance(30_000); // written behind: 25 stored MeterValues of a
    messenger.started(b);
    messenger.meter(b, mv(100));
    messenger.stopped(stopped(a, 200), []);
    clock.advance(30_000);
    const lazyBefore = db.stats().lazyCommits;
    messenger.setOnline(true);
    await drained(messenger);
    expect(csms.actions()).toEqual(['StartTransaction', 'MeterValues', 'MeterValues', 'StartTransaction', 'MeterValues', 'StopTransaction']);
    expect(meterValuesSent(csms).map((v) => v.length)).toEqual([20, 5, 1]);
    expect(csms.calls[4]!.payload).toMatchObject({ connectorId: 2, transactionId: 101 });
    // Three acknowledgement commits for 26 MeterValues.
    expect(db.stats().lazyCommits - lazyBefore).toBe(3);
    expect(messenger.queueDepth).toBe(0);
  });
});

describe('TransactionMessenger alive stamp', () => {
  it('writes a coarse alive time while a transaction is open (its stop time after a power loss), nothing when idle', async () => {
    const { messenger, store, clock, db } = setup({ aliveStampMs: 30 * 60_000 });
    clock.advance(2 * 3_600_000);
    expect(db.stats().lazyCommits).toBe(0); // idle: nothing
    const t = tx('a');
    messenger.started(t);
    clock.advance(30 * 60_000);
    expect(store.lastKnownAlive('a')?.getTime()).toBe(clock.now().getTime());
    expect(db.stats().lazyCommits).toBe(1);
    messenger.stopped(stopped(t, 40), []);
    const commits = db.stats().lazyCommits;
    clock.advance(2 * 3_600_000);
    expect(db.stats().lazyCommits).toBe(commits); // closed: no more stamps
  });
});
