// OCPP 1.6 transaction messages (StartTransaction, transaction MeterValues,
// StopTransaction) delivered strictly in order through a durable outbox (§4.10,
// §3.16 offline behaviour). Start and Stop are written with fsync before they are
// sent; intermediate MeterValues wait in memory and are written behind, in one
// batch, only when the CSMS has not acknowledged them within the grace period.
import type { Clock } from '../../domain/ports.js';
import type { Transaction } from '../../domain/session/transaction.js';
import { RemoteCallError, InvalidResponseError, InvalidOutgoingPayloadError } from '../rpc/rpc-errors.js';
import type { IdTagInfo, MeterValue } from './generated/types.js';
import type { RequestOf } from './actions/types.js';
import type { RpcCaller, SessionLogger } from './session.js';

export type OutboxKind = 'start' | 'meter' | 'stop';

/** One queued message; `position` orders the queue (persisted or not). */
export interface OutboxEntry {
  position: number;
  kind: OutboxKind;
  localId: string;
  /** JSON: meter `{connector, values}`, stop `{transactionData}`, start `{}`. */
  payload: string;
  attempts: number;
  createdAt: string;
}

export interface StoredTransaction extends Transaction {
  csmsTransactionId: number | null;
  bootId: string | null;
  reported: boolean;
}

/** What the messenger needs from durable storage (the SQLite store implements it). */
export interface TransactionOutboxStore {
  nextPosition(): number;
  recordStart(tx: Transaction, bootId: string | null, entry: OutboxEntry, pending: readonly OutboxEntry[]): void;
  recordStop(tx: Transaction, entry: OutboxEntry, pending: readonly OutboxEntry[]): void;
  persist(entries: readonly OutboxEntry[]): void;
  head(): OutboxEntry | null;
  acknowledgeStart(position: number, localId: string, csmsTransactionId: number): void;
  acknowledgeStop(position: number, localId: string): void;
  acknowledgeMeter(position: number): void;
  acknowledgeMeters(positions: readonly number[]): void;
  meterRun(from: number, max: number): OutboxEntry[];
  recordAttempt(position: number, attempts: number): void;
  discard(position: number, localId: string, kind: OutboxKind): void;
  size(): number;
  dropOldestMeters(count: number): number;
  transaction(localId: string): StoredTransaction | null;
  unreportedTransactions(): StoredTransaction[];
}

export interface MessengerSettings {
  transactionMessageAttempts(): number;
  transactionMessageRetryIntervalS(): number;
}

export interface MessengerHooks {
  /** The CSMS answered a StartTransaction (idTagInfo may refuse the tag: §4.8). */
  startAnswered?(localId: string, idTag: string, info: IdTagInfo): void;
  stopAnswered?(idTag: string, info: IdTagInfo): void;
}

export interface MessengerOptions {
  /** Kernel boot id recorded with each start: tells a power loss from an agent restart. */
  bootId?: string | null;
  /** Longest an undelivered intermediate MeterValues waits in memory before it is written. */
  meterWriteBehindMs?: number;
  /** Queue bound; past it the oldest intermediate MeterValues are dropped (never a Start or Stop). */
  maxQueuedMessages?: number;
}

export interface MessengerStats {
  queued: number;
  inMemory: number;
  droppedMeterValues: number;
  discardedAfterAttempts: number;
  delivered: number;
}

export const DEFAULT_METER_WRITE_BEHIND_MS = 60_000;
export const DEFAULT_MAX_QUEUED_MESSAGES = 20_000;
/** Stored MeterValues of one transaction replayed together in one MeterValues.req (meterValue is 1..*). */
export const MAX_METER_VALUES_PER_REPLAY = 20;

type Outcome = 'done' | 'later';

export class TransactionMessenger {
  /** Undelivered intermediate MeterValues not yet written, in order (all newer than the stored ones). */
  private memory: OutboxEntry[] = [];
  private nextPosition: number;
  private storedCount: number;
  private readonly csmsIds = new Map<string, number>();
  private online = false;
  private draining = false;
  private retryTimer: unknown = null;
  /** True when the pending retry waits out a CALLERROR (§4.10), false when it waits for the link. */
  private retryAfterRefusal = false;
  private writeBehindTimer: unknown = null;
  private readonly stats = { droppedMeterValues: 0, discardedAfterAttempts: 0, delivered: 0 };
  private readonly writeBehindMs: number;
  private readonly maxQueued: number;

  constructor(
    private readonly rpc: RpcCaller,
    private readonly store: TransactionOutboxStore,
    private readonly settings: MessengerSettings,
    private readonly clock: Clock,
    private readonly log: SessionLogger,
    private readonly hooks: MessengerHooks = {},
    private readonly opts: MessengerOptions = {},
  ) {
    this.writeBehindMs = opts.meterWriteBehindMs ?? DEFAULT_METER_WRITE_BEHIND_MS;
    this.maxQueued = opts.maxQueuedMessages ?? DEFAULT_MAX_QUEUED_MESSAGES;
    this.nextPosition = store.nextPosition();
    this.storedCount = store.size();
    for (const tx of store.unreportedTransactions()) {
      if (tx.csmsTransactionId !== null) this.csmsIds.set(tx.localId, tx.csmsTransactionId);
    }
  }

  get queueDepth(): number {
    return this.storedCount + this.memory.length;
  }

  statistics(): MessengerStats {
    return { queued: this.queueDepth, inMemory: this.memory.length, ...this.stats };
  }

  csmsTransactionId(localId: string): number | undefined {
    return this.csmsIds.get(localId);
  }

  localIdFor(transactionId: number): string | undefined {
    for (const [local, id] of this.csmsIds) if (id === transactionId) return local;
    return undefined;
  }

  /** Registered and connected: deliver. Offline: keep queueing. */
  setOnline(online: boolean): void {
    this.online = online;
    if (!online) return;
    if (this.retryTimer !== null && !this.retryAfterRefusal) {
      this.clock.clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    void this.drain();
  }

  // --- enqueue ----------------------------------------------------------------

  started(tx: Transaction): void {
    const entry = this.entry('start', tx.localId, {});
    const pending = this.takeMemory();
    this.store.recordStart(tx, this.opts.bootId ?? null, entry, pending);
    this.storedCount += pending.length + 1;
    void this.drain();
  }

  meter(tx: Transaction, values: MeterValue[]): void {
    this.memory.push(this.entry('meter', tx.localId, { connector: tx.connector, values }));
    if (this.writeBehindTimer === null) {
      this.writeBehindTimer = this.clock.setTimeout(() => {
        this.writeBehindTimer = null;
        this.flush();
      }, this.writeBehindMs);
    }
    this.enforceBound();
    void this.drain();
  }

  stopped(tx: Transaction, transactionData: MeterValue[]): void {
    const entry = this.entry('stop', tx.localId, { transactionData });
    const pending = this.takeMemory();
    this.store.recordStop(tx, entry, pending);
    this.storedCount += pending.length + 1;
    void this.drain();
  }

  /** Writes the in-memory MeterValues now (write-behind timer, shutdown). */
  flush(): void {
    const pending = this.takeMemory();
    if (pending.length === 0) return;
    this.store.persist(pending);
    this.storedCount += pending.length;
    this.log.debug({ count: pending.length }, 'undelivered MeterValues written');
  }

  stop(): void {
    this.online = false;
    if (this.retryTimer !== null) this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.writeBehindTimer !== null) this.clock.clearTimeout(this.writeBehindTimer);
    this.writeBehindTimer = null;
    this.flush();
  }

  private entry(kind: OutboxKind, localId: string, body: object): OutboxEntry {
    return { position: this.nextPosition++, kind, localId, payload: JSON.stringify(body), attempts: 0, createdAt: this.clock.now().toISOString() };
  }

  private takeMemory(): OutboxEntry[] {
    const pending = this.memory;
    this.memory = [];
    if (this.writeBehindTimer !== null) this.clock.clearTimeout(this.writeBehindTimer);
    this.writeBehindTimer = null;
    return pending;
  }

  private enforceBound(): void {
    let excess = this.queueDepth - this.maxQueued;
    if (excess <= 0) return;
    const fromStore = this.store.dropOldestMeters(excess);
    this.storedCount -= fromStore;
    excess -= fromStore;
    const fromMemory = excess > 0 ? this.memory.splice(0, excess).length : 0;
    const dropped = fromStore + fromMemory;
    if (dropped > 0) {
      this.stats.droppedMeterValues += dropped;
      this.log.warn({ dropped, total: this.stats.droppedMeterValues, bound: this.maxQueued }, 'transaction queue full: oldest MeterValues dropped');
    }
  }

  // --- delivery ---------------------------------------------------------------

  private head(): OutboxEntry | null {
    const stored = this.storedCount > 0 ? this.store.head() : null;
    const mem = this.memory[0] ?? null;
    if (stored && mem) return stored.position < mem.position ? stored : mem;
    return stored ?? mem;
  }

  /** Delivers in order, one at a time; stops at the first message that must wait. */
  async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.online && this.retryTimer === null) {
        const entry = this.head();
        if (!entry) break;
        if ((await this.deliver(this.batchFrom(entry))) === 'later') break;
      }
    } finally {
      this.draining = false;
    }
  }

  /** A stored MeterValues at the head takes the stored ones behind it of the same transaction along (replay). */
  private batchFrom(entry: OutboxEntry): OutboxEntry[] {
    if (entry.kind !== 'meter' || this.memory.includes(entry)) return [entry];
    const before = this.memory[0]?.position ?? Number.POSITIVE_INFINITY;
    const run = this.store.meterRun(entry.position, MAX_METER_VALUES_PER_REPLAY).filter((e) => e.position < before);
    return run.length > 0 ? run : [entry];
  }

  private async deliver(batch: OutboxEntry[]): Promise<Outcome> {
    const entry = batch[0]!;
    try {
      switch (entry.kind) {
        case 'start':
          await this.sendStart(entry);
          break;
        case 'meter':
          await this.sendMeter(batch);
          break;
        case 'stop':
          await this.sendStop(entry);
          break;
      }
      this.stats.delivered += batch.length;
      return 'done';
    } catch (err) {
      return this.failed(batch, err);
    }
  }

  private async sendStart(entry: OutboxEntry): Promise<void> {
    const tx = this.store.transaction(entry.localId);
    if (!tx) throw new InvalidOutgoingPayloadError('StartTransaction', 'FormationViolation', `no stored transaction ${entry.localId}`);
    const req: RequestOf<'StartTransaction'> = {
      connectorId: tx.connector,
      idTag: tx.idTag,
      meterStart: Math.round(tx.meterStartWh),
      timestamp: tx.startedAt.toISOString(),
    };
    if (tx.reservationId !== undefined) req.reservationId = tx.reservationId;
    const conf = await this.rpc.call('StartTransaction', req);
    this.store.acknowledgeStart(entry.position, entry.localId, conf.transactionId);
    this.storedCount--;
    this.csmsIds.set(entry.localId, conf.transactionId);
    this.log.info({ connector: tx.connector, transactionId: conf.transactionId, status: conf.idTagInfo.status }, 'StartTransaction confirmed');
    this.hooks.startAnswered?.(entry.localId, tx.idTag, conf.idTagInfo);
  }

  private async sendMeter(batch: OutboxEntry[]): Promise<void> {
    const bodies = batch.map((e) => JSON.parse(e.payload) as { connector: number; values: MeterValue[] });
    const req: RequestOf<'MeterValues'> = { connectorId: bodies[0]!.connector, meterValue: bodies.flatMap((b) => b.values) };
    const id = this.csmsIds.get(batch[0]!.localId);
    if (id !== undefined) req.transactionId = id;
    await this.rpc.call('MeterValues', req);
    if (batch.length === 1) {
      this.acknowledgeMeter(batch[0]!);
      return;
    }
    this.store.acknowledgeMeters(batch.map((e) => e.position));
    this.storedCount -= batch.length;
  }

  private async sendStop(entry: OutboxEntry): Promise<void> {
    const tx = this.store.transaction(entry.localId);
    if (!tx) throw new InvalidOutgoingPayloadError('StopTransaction', 'FormationViolation', `no stored transaction ${entry.localId}`);
    const body = JSON.parse(entry.payload) as { transactionData?: MeterValue[] };
    const transactionId = this.csmsIds.get(entry.localId) ?? tx.csmsTransactionId;
    const req: RequestOf<'StopTransaction'> = {
      // A Start the CSMS never confirmed has no id; -1 is never a real one (logged below).
      transactionId: transactionId ?? -1,
      meterStop: Math.round(tx.meterStopWh ?? tx.meterStartWh),
      timestamp: (tx.stoppedAt ?? this.clock.now()).toISOString(),
      reason: tx.stopReason ?? 'Other',
    };
    if (transactionId === null) this.log.error({ localId: entry.localId }, 'StopTransaction for a transaction the CSMS never confirmed: transactionId -1');
    if (tx.stopIdTag) req.idTag = tx.stopIdTag;
    if (body.transactionData && body.transactionData.length > 0) req.transactionData = body.transactionData;
    const conf = await this.rpc.call('StopTransaction', req);
    this.store.acknowledgeStop(entry.position, entry.localId);
    this.storedCount--;
    this.csmsIds.delete(entry.localId);
    this.log.info({ connector: tx.connector, transactionId: req.transactionId, reason: req.reason }, 'StopTransaction confirmed');
    if (conf.idTagInfo && tx.stopIdTag) this.hooks.stopAnswered?.(tx.stopIdTag, conf.idTagInfo);
  }

  private acknowledgeMeter(entry: OutboxEntry): void {
    const i = this.memory.indexOf(entry);
    if (i >= 0) {
      // Delivered before the write-behind: it never touches the disk.
      this.memory.splice(i, 1);
      if (this.memory.length === 0 && this.writeBehindTimer !== null) {
        this.clock.clearTimeout(this.writeBehindTimer);
        this.writeBehindTimer = null;
      }
      return;
    }
    this.store.acknowledgeMeter(entry.position);
    this.storedCount--;
  }

  /** §4.10: a CALLERROR answer counts an attempt (TransactionMessageAttempts, RetryInterval × attempt). */
  private failed(batch: OutboxEntry[], err: unknown): Outcome {
    const entry = batch[0]!;
    const answered = err instanceof RemoteCallError || err instanceof InvalidResponseError;
    const bug = err instanceof InvalidOutgoingPayloadError;
    if (!answered && !bug) {
      // Offline or no answer: not the message's fault. Retry on reconnect, or after the interval.
      this.log.warn({ err: errText(err), kind: entry.kind, localId: entry.localId }, 'transaction message not delivered; will retry');
      if (this.online) this.scheduleRetry(this.settings.transactionMessageRetryIntervalS(), false);
      return 'later';
    }
    const attempts = entry.attempts + 1;
    if (bug || attempts >= this.settings.transactionMessageAttempts()) {
      for (const e of batch) this.discard(e);
      this.stats.discardedAfterAttempts += batch.length;
      this.log.error({ err: errText(err), kind: entry.kind, localId: entry.localId, attempts }, 'transaction message discarded after its last attempt');
      return 'done';
    }
    // The batch's head carries the count; the next try rebuilds the same batch from it.
    entry.attempts = attempts;
    if (!this.memory.includes(entry)) this.store.recordAttempt(entry.position, attempts);
    this.log.warn({ err: errText(err), kind: entry.kind, attempts }, 'transaction message refused by the CSMS; will retry');
    this.scheduleRetry(this.settings.transactionMessageRetryIntervalS() * attempts, true);
    return 'later';
  }

  private discard(entry: OutboxEntry): void {
    const i = this.memory.indexOf(entry);
    if (i >= 0) {
      this.memory.splice(i, 1);
      return;
    }
    this.store.discard(entry.position, entry.localId, entry.kind);
    this.storedCount--;
  }

  private scheduleRetry(seconds: number, afterRefusal: boolean): void {
    if (this.retryTimer !== null) return;
    this.retryAfterRefusal = afterRefusal;
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = null;
      void this.drain();
    }, seconds * 1000);
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
