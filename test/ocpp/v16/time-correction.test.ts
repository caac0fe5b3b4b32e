// Timestamps made before the clock is set (time-correction.ts) over a real SQLite file, the real
// outbox and a driven clock: an offline session at 1970 reaches the CSMS with the times the CSMS
// clock had; an agent restarted in the same boot (before or after a sync) and a boot that never
// synced are handled as their monotonic time allows.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentDatabase } from '../../../src/store/database.js';
import { SqliteTransactionStore } from '../../../src/store/transaction-store.js';
import { SqliteTimeBaseRepo } from '../../../src/store/time-base-repo.js';
import { TimeCorrector } from '../../../src/ocpp/outbox/time-correction.js';
import { shiftPayload } from '../../../src/ocpp/v16/time-correction.js';
import { DEFAULT_ALIVE_STAMP_MS, TransactionMessenger } from '../../../src/ocpp/v16/transaction-messages.js';
import type { RpcCaller } from '../../../src/ocpp/v16/session.js';
import type { CpAction, RequestOf, ResponseOf } from '../../../src/ocpp/v16/actions/types.js';
import type { MeterValue } from '../../../src/ocpp/v16/generated/types.js';
import type { Transaction } from '../../../src/domain/model/transaction.js';
import { FakeClock } from '../../helpers/fake-clock.js';

class RecordingCsms implements RpcCaller {
  readonly calls: Array<{ action: string; payload: Record<string, unknown> }> = [];
  async call<A extends CpAction>(action: A, payload: RequestOf<A>): Promise<ResponseOf<A>> {
    this.calls.push({ action, payload: payload as unknown as Record<string, unknown> });
    return (action === 'StartTransaction' ? { transactionId: 7, idTagInfo: { status: 'Accepted' } } : {}) as ResponseOf<A>;
  }
  /** Every timestamp sent, in the order sent: [action, ISO]. */
  stamps(): Array<[string, string]> {
    return this.calls.flatMap((c): Array<[string, string]> => {
      const p = c.payload;
      if (c.action === 'MeterValues') return (p['meterValue'] as MeterValue[]).map((v) => [c.action, v.timestamp]);
      const data = ((p['transactionData'] ?? []) as MeterValue[]).map((v): [string, string] => ['transactionData', v.timestamp]);
      return [[c.action, String(p['timestamp'])], ...data];
    });
  }
}

interface LogLine {
  level: string;
  msg: string | undefined;
  obj: object;
}

const dirs: string[] = [];
const dbs: AgentDatabase[] = [];
afterEach(() => {
  for (const d of dbs.splice(0)) if (d.db.open) d.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** One agent process: its clock (boot id, monotonic time since boot, system time), store, outbox. */
function agentProcess(dir: string, bootId: string, systemTime: number, monoMs: number) {
  if (!dirs.includes(dir)) dirs.push(dir);
  const db = new AgentDatabase(join(dir, 'agent.db'));
  dbs.push(db);
  const store = new SqliteTransactionStore(db);
  const clock = new FakeClock({ systemTime, monotonicMs: monoMs });
  const logs: LogLine[] = [];
  const logAt = (level: string) => (obj: object, msg?: string) => logs.push({ level, msg, obj });
  const log = { info: logAt('info'), warn: logAt('warn'), error: logAt('error'), debug: logAt('debug') };
  const time = new TimeCorrector(clock, new SqliteTimeBaseRepo(db, shiftPayload), bootId, log);
  time.resume();
  const csms = new RecordingCsms();
  const settings = { transactionMessageAttempts: () => 3, transactionMessageRetryIntervalS: () => 60 };
  const messenger = new TransactionMessenger(csms, store, settings, clock, log, {}, { bootId, time, meterWriteBehindMs: 30_000 });
  /** What the session does on BootNotification.conf. */
  const sync = (csmsTime: number) => {
    clock.setOffsetFrom(new Date(csmsTime));
    return messenger.clockSynced();
  };
  const deliver = async () => {
    messenger.setOnline(true);
    for (let i = 0; i < 30; i++) {
      await messenger.drain();
      await new Promise((r) => setImmediate(r));
    }
  };
  return { db, store, clock, csms, messenger, logs, sync, deliver, time };
}

const BOOT_1970 = Date.UTC(1970, 0, 1, 0, 5, 0);
/** The CSMS time at the sync. */
const REAL = Date.UTC(2026, 11, 4, 12, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();
const sample = (at: Date, wh: number): MeterValue[] => [{ timestamp: at.toISOString(), sampledValue: [{ value: String(wh) }] }];

describe('timestamps made before the clock is set', () => {
  it('an offline session at 1970 reaches the CSMS with the CSMS times, stored and in-memory messages alike', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-time-'));
    const p = agentProcess(dir, 'boot-1', BOOT_1970, 60_000);
    const tx: Transaction = { localId: 'a', evseId: 1, idToken: { value: 'TAG', type: 'ISO14443' }, startedAt: p.clock.now(), meterStartWh: 0 };
    p.messenger.started(tx); // monotonic 60 s
    p.clock.advance(10_000);
    p.messenger.meter(tx, sample(p.clock.now(), 5)); // 70 s, written behind at 100 s
    p.clock.advance(50_000);
    p.messenger.meter(tx, sample(p.clock.now(), 9)); // 120 s, still in memory
    const stop = { ...tx, stoppedAt: p.clock.now(), meterStopWh: 9, stopReason: 'LocalStop' as const };
    p.messenger.stopped(stop, [...sample(tx.startedAt, 0), ...sample(stop.stoppedAt, 9)]);
    expect(p.csms.calls).toEqual([]);
    expect(tx.startedAt.toISOString()).toBe('1970-01-01T00:05:00.000Z');

    p.clock.advance(5_000);
    const corrected = p.sync(REAL); // 125 s: the CSMS says REAL
    expect(corrected?.shift(tx.startedAt.getTime())).toBe(REAL - 65_000);
    expect([...(corrected?.startedProvisionally ?? [])]).toEqual(['a']);
    expect(p.messenger.clockSynced()).toBeNull(); // a later Heartbeat corrects nothing again
    await p.deliver();
    expect(p.csms.stamps()).toEqual([
      ['StartTransaction', iso(REAL - 65_000)],
      ['MeterValues', iso(REAL - 55_000)],
      ['MeterValues', iso(REAL - 5_000)],
      ['StopTransaction', iso(REAL - 5_000)],
      ['transactionData', iso(REAL - 65_000)],
      ['transactionData', iso(REAL - 5_000)],
    ]);
    const row = p.store.transaction('a')!;
    expect(row.startedAt.toISOString()).toBe(iso(REAL - 65_000));
    expect(row.stoppedAt?.toISOString()).toBe(iso(REAL - 5_000));
    expect(row.timeBase).toBeNull();
  });

  it('an I/O error while correcting the store: logged, and each message is still corrected as it is sent', async () => {
    const p = agentProcess(mkdtempSync(join(tmpdir(), 'ca-time-')), 'boot-1', BOOT_1970, 60_000);
    const tx: Transaction = { localId: 'e', evseId: 1, idToken: { value: 'TAG', type: 'ISO14443' }, startedAt: p.clock.now(), meterStartWh: 0 };
    p.messenger.started(tx);
    p.clock.advance(1_000);
    p.messenger.stopped({ ...tx, stoppedAt: p.clock.now(), meterStopWh: 1, stopReason: 'LocalStop' }, []);
    p.db.db.exec("CREATE TEMP TRIGGER restamp_fails BEFORE UPDATE ON main.outbox BEGIN SELECT RAISE(FAIL, 'disk I/O error'); END");
    p.clock.advance(1_000);
    expect(p.sync(REAL)).not.toBeNull();
    expect(p.logs.some((l) => l.level === 'error' && l.msg === 'clock: stored timestamps not corrected')).toBe(true);
    await p.deliver();
    expect(p.csms.stamps()).toEqual([
      ['StartTransaction', iso(REAL - 2_000)],
      ['StopTransaction', iso(REAL - 1_000)],
    ]);
  });

  it('after the sync, a step of the system clock moves no timestamp', async () => {
    const p = agentProcess(mkdtempSync(join(tmpdir(), 'ca-time-')), 'boot-1', BOOT_1970, 60_000);
    p.sync(REAL);
    p.clock.setSystemTime(Date.UTC(2040, 0, 1));
    p.clock.advance(1_000);
    const tx: Transaction = { localId: 'b', evseId: 1, idToken: { value: 'TAG', type: 'ISO14443' }, startedAt: p.clock.now(), meterStartWh: 0 };
    p.messenger.started(tx);
    await p.deliver();
    expect(p.csms.stamps()).toEqual([['StartTransaction', iso(REAL + 1_000)]]);
  });

  it('an agent restarted in the same boot before any sync: the earlier process’s times are corrected exactly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-time-'));
    const first = agentProcess(dir, 'boot-1', BOOT_1970, 60_000);
    const tx: Transaction = { localId: 'c', evseId: 1, idToken: { value: 'TAG', type: 'ISO14443' }, startedAt: first.clock.now(), meterStartWh: 0 };
    first.messenger.started(tx); // monotonic 60 s
    first.clock.advance(10_000);
    first.messenger.meter(tx, sample(first.clock.now(), 5)); // 70 s
    first.messenger.stop(); // shutdown writes it
    first.db.close();

    // The new process reads the RTC again: another provisional base (here 3 s past 1970).
    const second = agentProcess(dir, 'boot-1', Date.UTC(1970, 0, 1, 0, 0, 3), 100_000);
    const row = second.store.transaction('c')!;
    expect(row.startedAt.getTime()).toBe(Date.UTC(1970, 0, 1, 0, 0, 3) - 40_000); // brought into this process's base
    second.messenger.stopped({ ...row, stoppedAt: second.clock.now(), meterStopWh: 5, stopReason: 'Reboot' }, []); // 100 s
    second.clock.advance(10_000);
    second.sync(REAL); // 110 s
    await second.deliver();
    expect(second.csms.stamps()).toEqual([
      ['StartTransaction', iso(REAL - 50_000)],
      ['MeterValues', iso(REAL - 40_000)],
      ['StopTransaction', iso(REAL - 10_000)],
    ]);
  });

  it('an agent restarted in a boot that already synced takes that sync again at start', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-time-'));
    const first = agentProcess(dir, 'boot-1', BOOT_1970, 60_000);
    first.sync(REAL);
    first.db.close();
    const second = agentProcess(dir, 'boot-1', BOOT_1970, 90_000);
    expect(second.clock.synced).toBe(true);
    expect(second.clock.now().toISOString()).toBe(iso(REAL + 30_000));
    second.db.close();
    // Another boot knows nothing of it.
    const other = agentProcess(dir, 'boot-2', BOOT_1970, 90_000);
    expect(other.clock.synced).toBe(false);
  });

  it('a boot that never synced: its last event is placed at this boot’s start, in order, and a log line says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-time-'));
    const first = agentProcess(dir, 'boot-1', BOOT_1970, 600_000);
    const tx: Transaction = { localId: 'd', evseId: 1, idToken: { value: 'TAG', type: 'ISO14443' }, startedAt: first.clock.now(), meterStartWh: 0 };
    first.messenger.started(tx); // 600 s into boot 1
    first.clock.advance(60_000);
    first.messenger.meter(tx, sample(first.clock.now(), 5)); // 660 s, then the power goes
    first.messenger.stop();
    first.db.close();

    const second = agentProcess(dir, 'boot-2', Date.UTC(1970, 0, 1, 0, 0, 10), 20_000);
    expect(second.logs.some((l) => l.level === 'warn' && l.msg?.startsWith('clock: events of an earlier boot that never synced'))).toBe(true);
    // What src/main.ts does with a transaction of another boot: stopped (PowerLoss) at its last known moment.
    const row = second.store.transaction('d')!;
    const endedAt = second.store.lastKnownAlive('d')!;
    second.messenger.stopped({ ...row, stoppedAt: endedAt, meterStopWh: 5, stopReason: 'PowerLoss' }, []);
    second.clock.advance(10_000);
    second.sync(REAL); // 30 s into boot 2: boot 2 began at REAL - 30 s
    await second.deliver();
    const bootStart = REAL - 30_000;
    expect(second.csms.stamps()).toEqual([
      ['StartTransaction', iso(bootStart - 60_000)],
      ['MeterValues', iso(bootStart)],
      ['StopTransaction', iso(bootStart)],
    ]);
  });

  it('a power loss after a synced boot: the stop at the stored alive time keeps its real time through this boot’s sync', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-time-'));
    const first = agentProcess(dir, 'boot-1', BOOT_1970, 60_000);
    first.sync(REAL);
    const tx: Transaction = { localId: 'f', evseId: 1, idToken: { value: 'TAG', type: 'ISO14443' }, startedAt: first.clock.now(), meterStartWh: 0 };
    first.messenger.started(tx);
    await first.deliver();
    first.clock.advance(DEFAULT_ALIVE_STAMP_MS); // the alive stamp is written, then the power goes
    const aliveAt = REAL + DEFAULT_ALIVE_STAMP_MS;
    first.messenger.stop();
    first.db.close();

    // A dead RTC: this boot starts at 1970, decades before the stored (real) times.
    const second = agentProcess(dir, 'boot-2', BOOT_1970, 20_000);
    const row = second.store.transaction('f')!;
    const endedAt = second.store.lastKnownAlive('f')!;
    expect(endedAt.toISOString()).toBe(iso(aliveAt));
    second.messenger.stopped({ ...row, stoppedAt: endedAt, meterStopWh: 5, stopReason: 'PowerLoss' }, []);
    second.clock.advance(10_000);
    const later = REAL + 3 * 3_600_000;
    second.sync(later);
    await second.deliver();
    expect(second.csms.stamps()).toEqual([['StopTransaction', iso(aliveAt)]]);
    expect(second.store.transaction('f')?.stoppedAt?.toISOString()).toBe(iso(aliveAt));
  });

  it('a power loss after a boot that never synced, ended after this boot’s sync: the stored time is still corrected', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-time-'));
    const first = agentProcess(dir, 'boot-1', BOOT_1970, 600_000);
    const tx: Transaction = { localId: 'g', evseId: 1, idToken: { value: 'TAG', type: 'ISO14443' }, startedAt: first.clock.now(), meterStartWh: 0 };
    first.messenger.started(tx); // 600 s into boot 1, then the power goes
    first.messenger.stop();
    first.db.close();

    const second = agentProcess(dir, 'boot-2', Date.UTC(1970, 0, 1, 0, 0, 10), 20_000);
    const row = second.store.transaction('g')!;
    const endedAt = second.store.lastKnownAlive('g')!; // read at start (restart recovery), in this boot's provisional base
    second.clock.advance(10_000);
    second.sync(REAL); // 30 s into boot 2: boot 2 began at REAL - 30 s
    second.messenger.stopped({ ...row, stoppedAt: endedAt, meterStopWh: 0, stopReason: 'PowerLoss' }, []); // the EV was found gone after the sync
    await second.deliver();
    const bootStart = REAL - 30_000;
    expect(second.csms.stamps()).toEqual([
      ['StartTransaction', iso(bootStart)],
      ['StopTransaction', iso(bootStart)],
    ]);
    expect(second.store.transaction('g')?.stoppedAt?.toISOString()).toBe(iso(bootStart));
  });
});
