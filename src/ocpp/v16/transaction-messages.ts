// OCPP 1.6 transaction messages (StartTransaction, transaction MeterValues,
// StopTransaction) delivered strictly in order through a durable outbox (§4.10,
// §3.16 offline behaviour). Start and Stop are written with fsync before they are
// sent; intermediate MeterValues wait in memory and are written behind, in one
// batch, only when the CSMS has not acknowledged them within the grace period.
// Storage failures (disk full, I/O errors) are logged and retried; they never
// crash the agent, never make a confirmed message go out again, never reorder.
import type { Clock } from '../../domain/ports.js';
import type { Transaction } from '../../domain/model/transaction.js';
import { RemoteCallError, InvalidResponseError, InvalidOutgoingPayloadError } from '../rpc/rpc-errors.js';
import type { IdTagInfo, MeterValue } from './generated/types.js';
import { shiftPayload, shiftIso, type RestampPlan, type TimeBase, type TimeCorrector } from './time-correction.js';
import type { RpcCaller, SessionLogger } from './outgoing/context.js';
import { startRecordOf, startTransactionRequest, type StartRecord } from './outgoing/StartTransaction.js';
import { meterValuesRequest } from './outgoing/MeterValues.js';
import { stopRecordOf, stopTransactionRequest, type StopRecord } from './outgoing/StopTransaction.js';

export type OutboxKind = 'start' | 'meter' | 'stop';

/** One queued message; `position` orders the queue (persisted or not). */
export interface OutboxEntry {
  position: number;
  kind: OutboxKind;
  localId: string;
  /** JSON, self-contained: start `{start}`, meter `{connector, values}`, stop `{stop, transactionData}`. */
  payload: string;
  attempts: number;
  createdAt: string;
  /** Set while the times in it are provisional (made before the clock was set): see time-correction.ts. */
  timeBase?: TimeBase;
}

export interface StoredTransaction extends Transaction {
  csmsTransactionId: number | null;
  bootId: string | null;
  reported: boolean;
  /** The idTagInfo status of the StartTransaction answer, once received. */
  idTagStatus: string | null;
  /** The base the row's times are in while provisional; null once they are real. */
  timeBase: TimeBase | null;
}

/** What the messenger needs from durable storage (the SQLite store implements it). */
export interface TransactionOutboxStore {
  nextPosition(): number;
  recordStart(tx: Transaction, bootId: string | null, entry: OutboxEntry, pending: readonly OutboxEntry[]): void;
  recordStop(tx: Transaction, entry: OutboxEntry, pending: readonly OutboxEntry[]): void;
  /** A transaction whose Stop the CSMS confirmed before the Stop could be written: closed and reported at once. */
  closeReported(tx: Transaction): void;
  persist(entries: readonly OutboxEntry[]): void;
  head(): OutboxEntry | null;
  meterRun(from: number, max: number): OutboxEntry[];
  acknowledgeStart(position: number, localId: string, csmsTransactionId: number, idTagStatus: string): number;
  acknowledgeStop(position: number, localId: string): number;
  acknowledgeMeters(positions: readonly number[]): number;
  recordAttempt(position: number, attempts: number): void;
  discard(position: number, localId: string, kind: OutboxKind): number;
  size(): number;
  dropOldestMeters(count: number, keep?: ReadonlySet<number>): number;
  transaction(localId: string): StoredTransaction | null;
  unreportedTransactions(): StoredTransaction[];
  /** Only rows whose times are in `base` (undefined: real times) take the stamp. */
  touchOpenTransactions(at: Date, base?: TimeBase): void;
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
  /** How often an open transaction's "alive" time is written (its stop time after a power loss). */
  aliveStampMs?: number;
  /** Corrects timestamps made before the clock was set; without it they are sent as made. */
  time?: TimeCorrector;
}

export interface MessengerStats {
  queued: number;
  inMemory: number;
  droppedMeterValues: number;
  discardedAfterAttempts: number;
  delivered: number;
  storageErrors: number;
}

/** The Start could not be made durable: the station must not start charging on it. */
export class StartNotRecordedError extends Error {}

export const DEFAULT_METER_WRITE_BEHIND_MS = 60_000;
export const DEFAULT_MAX_QUEUED_MESSAGES = 20_000;
export const DEFAULT_ALIVE_STAMP_MS = 30 * 60_000;
/** Stored MeterValues of one transaction replayed together in one MeterValues.req (meterValue is 1..*). */
export const MAX_METER_VALUES_PER_REPLAY = 20;
/** After a storage error, the next attempt to write. */
const STORAGE_RETRY_MS = 5_000;

type StartFields = StartRecord;
type StopFields = StopRecord;

type Outcome = 'done' | 'later';

/** The CSMS confirmed the message, but the store could not record it: retry the write, never the send. */
class AcknowledgementNotRecorded extends Error {}

export class TransactionMessenger {
  /** Undelivered messages not yet written, in order: MeterValues, and a Stop whose write failed. */
  private memory: OutboxEntry[] = [];
  /** Stops in `memory` that still need their transaction row closed when written. */
  private readonly unrecordedStops = new Map<number, Transaction>();
  private nextPosition: number;
  private storedCount: number;
  private readonly csmsIds = new Map<string, number>();
  private readonly openTransactions = new Set<string>();
  private readonly inFlight = new Set<number>();
  private online = false;
  private drainRun: Promise<void> | null = null;
  private drainRequested = false;
  private retryTimer: unknown = null;
  /** True when the pending retry waits out a CALLERROR (§4.10), false when it waits for the link or the disk. */
  private retryAfterRefusal = false;
  private writeBehindTimer: unknown = null;
  private aliveTimer: unknown = null;
  /** A confirmed message's bookkeeping write that failed; done before anything else is sent. */
  private pendingAcknowledgement: (() => void) | null = null;
  /** Once the clock is set: how a provisional timestamp becomes a real one. */
  private restampPlan: RestampPlan | null = null;
  /** Transactions whose start time is provisional (this process's base). */
  private readonly provisionalStarts = new Set<string>();
  private readonly stats = { droppedMeterValues: 0, discardedAfterAttempts: 0, delivered: 0, storageErrors: 0 };
  private readonly writeBehindMs: number;
  private readonly maxQueued: number;

  constructor(
    private readonly rpc: RpcCaller,
    private readonly store: TransactionOutboxStore,
    private readonly settings: MessengerSettings,
    private readonly clock: Clock,
    private readonly log: SessionLogger,
    private hooks: MessengerHooks = {},
    private readonly opts: MessengerOptions = {},
  ) {
    this.writeBehindMs = opts.meterWriteBehindMs ?? DEFAULT_METER_WRITE_BEHIND_MS;
    this.maxQueued = opts.maxQueuedMessages ?? DEFAULT_MAX_QUEUED_MESSAGES;
    this.nextPosition = store.nextPosition();
    this.storedCount = store.size();
    for (const tx of store.unreportedTransactions()) {
      if (tx.csmsTransactionId !== null) this.csmsIds.set(tx.localId, tx.csmsTransactionId);
      if (tx.stoppedAt === undefined) this.openTransactions.add(tx.localId);
      if (tx.timeBase !== null) this.provisionalStarts.add(tx.localId);
    }
    this.armAliveStamp();
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

  /** Registered and connected: deliver. Offline (or not Accepted): keep queueing. */
  setOnline(online: boolean): void {
    this.online = online;
    if (!online) return;
    if (this.retryTimer !== null && !this.retryAfterRefusal) {
      this.clock.clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    void this.drain();
  }

  /** Where the CSMS's answers go (a subscriber built after the messenger: the station it journals for). */
  onAnswers(hooks: MessengerHooks): void {
    this.hooks = hooks;
  }

  // --- enqueue ----------------------------------------------------------------

  /** Makes the Start durable, then queues it. Throws StartNotRecordedError when the store fails. */
  started(tx: Transaction): void {
    const entry = this.entry('start', tx.localId, { start: startRecordOf(tx) });
    // Stops still waiting for their write go first (their rows must close before this one opens).
    if (this.unrecordedStops.size > 0) this.flush();
    const pending = this.takeMemory();
    try {
      if (this.unrecordedStops.size > 0) throw new Error('earlier StopTransaction still not written');
      this.store.recordStart(tx, this.opts.bootId ?? null, entry, pending);
    } catch (err) {
      this.memory = pending;
      this.armWriteBehind();
      this.storageFailed(err, 'StartTransaction not recorded: the transaction is refused');
      throw new StartNotRecordedError(errText(err));
    }
    this.storedCount += pending.length + 1;
    this.openTransactions.add(tx.localId);
    if (entry.timeBase) this.provisionalStarts.add(tx.localId);
    this.armAliveStamp();
    void this.drain();
  }

  meter(tx: Transaction, values: MeterValue[]): void {
    this.memory.push(this.entry('meter', tx.localId, { connector: tx.evseId, values }));
    this.armWriteBehind();
    this.enforceBound();
    void this.drain();
  }

  /** Queues the Stop, durably when the store allows; otherwise it waits in memory and the write is retried. */
  stopped(tx: Transaction, transactionData: MeterValue[]): void {
    const entry = this.entry('stop', tx.localId, { stop: stopRecordOf(tx, this.clock.now()), transactionData });
    this.openTransactions.delete(tx.localId);
    if (this.unrecordedStops.size > 0) this.flush();
    const pending = this.takeMemory();
    try {
      if (this.unrecordedStops.size > 0) throw new Error('earlier StopTransaction still not written');
      this.store.recordStop(tx, entry, pending);
      this.storedCount += pending.length + 1;
    } catch (err) {
      this.memory = [...pending, entry];
      this.unrecordedStops.set(entry.position, { ...tx });
      this.armWriteBehind(STORAGE_RETRY_MS);
      this.storageFailed(err, 'StopTransaction not recorded yet: kept in memory, the write is retried');
    }
    void this.drain();
  }

  /** Writes what waits in memory now (write-behind timer, shutdown); on a storage error it stays and is retried. */
  flush(): void {
    const pending = this.takeMemory();
    if (pending.length === 0) return;
    let written = 0;
    try {
      // Stops whose write failed first close their transaction row, in queue order with the MeterValues.
      let from = 0;
      for (let i = 0; i < pending.length; i++) {
        const tx = this.unrecordedStops.get(pending[i]!.position);
        if (!tx) continue;
        this.store.recordStop(tx, pending[i]!, pending.slice(from, i));
        this.unrecordedStops.delete(pending[i]!.position);
        written = i + 1;
        from = i + 1;
      }
      this.store.persist(pending.slice(from));
      written = pending.length;
      this.log.debug({ count: pending.length }, 'undelivered transaction messages written');
    } catch (err) {
      this.memory = [...pending.slice(written), ...this.memory];
      this.armWriteBehind(STORAGE_RETRY_MS);
      this.storageFailed(err, 'writing undelivered transaction messages failed; retrying');
    } finally {
      this.storedCount += written;
    }
  }

  /**
   * Shutdown, before the connection closes: nothing new is sent, and the message already handed
   * to the connection may still be answered, so a confirmation the CSMS sends is committed rather
   * than lost with the socket (and the message sent again after the restart). Resolves once that
   * message is answered or has failed; the caller bounds the wait.
   */
  settleInFlight(): Promise<void> {
    this.online = false;
    return this.drainRun ?? Promise.resolve();
  }

  stop(): void {
    this.online = false;
    for (const timer of [this.retryTimer, this.writeBehindTimer, this.aliveTimer]) if (timer !== null) this.clock.clearTimeout(timer);
    this.retryTimer = null;
    this.writeBehindTimer = null;
    this.aliveTimer = null;
    this.flush();
  }

  /** Resolves when the queue is delivered, or delivery has to wait (offline, retry interval). */
  async deliverQueued(): Promise<void> {
    for (let round = 0; round < 10_000 && this.online && this.retryTimer === null && this.queueDepth > 0; round++) {
      await this.drain();
    }
  }

  private entry(kind: OutboxKind, localId: string, body: object): OutboxEntry {
    const e: OutboxEntry = { position: this.nextPosition++, kind, localId, payload: JSON.stringify(body), attempts: 0, createdAt: this.clock.now().toISOString() };
    const base = this.opts.time?.current();
    if (base) e.timeBase = base;
    return e;
  }

  /**
   * The clock was set (BootNotification.conf, Heartbeat.conf): the first time, queued messages
   * stamped before it are corrected, stored ones in one commit. Returns the shift for what the
   * caller stamped provisionally and still holds, and which transactions started provisionally
   * (null: nothing to correct).
   */
  clockSynced(): { shift: (ms: number) => number; startedProvisionally: ReadonlySet<string> } | null {
    const plan = this.opts.time?.synced() ?? null;
    if (!plan) return null;
    this.restampPlan = plan;
    for (const e of this.memory) this.correct(e);
    const own = plan(this.opts.time!.provisional);
    // Stops whose write failed: their row is closed later with this stop time (made before the sync).
    for (const tx of this.unrecordedStops.values()) if (own && tx.stoppedAt) tx.stoppedAt = new Date(tx.stoppedAt.getTime() + own.shiftMs);
    const startedProvisionally = new Set(this.provisionalStarts);
    this.provisionalStarts.clear();
    return own ? { shift: (ms) => ms + own.shiftMs, startedProvisionally } : null;
  }

  /** A message still carrying provisional times gets real ones (also when the store could not be corrected). */
  private correct(e: OutboxEntry): void {
    const r = e.timeBase && this.restampPlan ? this.restampPlan(e.timeBase) : null;
    if (!r) return;
    const shift = (ms: number) => ms + r.shiftMs;
    e.payload = shiftPayload(e.payload, shift);
    e.createdAt = shiftIso(e.createdAt, shift);
    if (r.to) e.timeBase = r.to;
    else delete e.timeBase;
  }

  private takeMemory(): OutboxEntry[] {
    const pending = this.memory;
    this.memory = [];
    if (this.writeBehindTimer !== null) this.clock.clearTimeout(this.writeBehindTimer);
    this.writeBehindTimer = null;
    return pending;
  }

  private armWriteBehind(ms = this.writeBehindMs): void {
    if (this.writeBehindTimer !== null || this.memory.length === 0) return;
    this.writeBehindTimer = this.clock.setTimeout(() => {
      this.writeBehindTimer = null;
      this.flush();
    }, ms);
  }

  /** While a transaction is open, a coarse "alive" time now and then; idle, nothing is written. */
  private armAliveStamp(): void {
    if (this.aliveTimer !== null || this.openTransactions.size === 0) return;
    const every = this.opts.aliveStampMs ?? DEFAULT_ALIVE_STAMP_MS;
    this.aliveTimer = this.clock.setTimeout(() => {
      this.aliveTimer = null;
      if (this.openTransactions.size === 0) return;
      try {
        this.store.touchOpenTransactions(this.clock.now(), this.opts.time?.current());
      } catch (err) {
        this.storageFailed(err, 'alive stamp not written');
      }
      this.armAliveStamp();
    }, every);
  }

  private enforceBound(): void {
    let excess = this.queueDepth - this.maxQueued;
    if (excess <= 0) return;
    let fromStore = 0;
    try {
      fromStore = this.store.dropOldestMeters(excess, this.inFlight);
    } catch (err) {
      this.storageFailed(err, 'dropping the oldest MeterValues failed');
    }
    this.storedCount -= fromStore;
    excess -= fromStore;
    let fromMemory = 0;
    for (let i = 0; i < this.memory.length && excess > 0; ) {
      const e = this.memory[i]!;
      if (e.kind === 'meter' && !this.inFlight.has(e.position)) {
        this.memory.splice(i, 1);
        fromMemory++;
        excess--;
      } else i++;
    }
    const dropped = fromStore + fromMemory;
    if (dropped > 0) {
      this.stats.droppedMeterValues += dropped;
      this.log.warn({ dropped, total: this.stats.droppedMeterValues, bound: this.maxQueued }, 'transaction queue full: oldest MeterValues dropped');
    }
  }

  private storageFailed(err: unknown, msg: string): void {
    this.stats.storageErrors++;
    this.log.error({ err: errText(err), storageErrors: this.stats.storageErrors }, msg);
  }

  // --- delivery ---------------------------------------------------------------

  private head(): OutboxEntry | null {
    const stored = this.store.head();
    if (!stored) this.storedCount = 0; // the store is the truth for what is stored
    const mem = this.memory[0] ?? null;
    if (stored && mem) return stored.position < mem.position ? stored : mem;
    return stored ?? mem;
  }

  /** Delivers in order, one at a time; stops at the first message that must wait. Concurrent callers share one run. */
  drain(): Promise<void> {
    // A call during a run asks for one more pass: the running pass may already have looked at an empty head.
    this.drainRequested = true;
    this.drainRun ??= (async () => {
      try {
        while (this.drainRequested) {
          this.drainRequested = false;
          await this.runDrain();
        }
      } finally {
        this.drainRun = null;
      }
    })();
    return this.drainRun;
  }

  private async runDrain(): Promise<void> {
    while (this.online && this.retryTimer === null) {
      try {
        if (this.pendingAcknowledgement) {
          this.pendingAcknowledgement();
          this.pendingAcknowledgement = null;
        }
        const entry = this.head();
        if (!entry) break;
        if ((await this.deliver(this.batchFrom(entry))) === 'later') break;
      } catch (err) {
        // Storage trouble reading the queue or recording an answer: wait, then try again; never resend.
        this.storageFailed(err, 'transaction queue storage error; delivery paused');
        this.scheduleRetry(STORAGE_RETRY_MS / 1000, false);
        break;
      }
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
    for (const e of batch) this.correct(e);
    for (const e of batch) this.inFlight.add(e.position);
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
      if (err instanceof AcknowledgementNotRecorded) throw err;
      return this.failed(batch, err);
    } finally {
      for (const e of batch) this.inFlight.delete(e.position);
    }
  }

  /** Runs a confirmed message's bookkeeping write; if the store fails, it is retried before anything is sent. */
  private recordAcknowledgement(write: () => void): void {
    try {
      write();
    } catch (err) {
      this.pendingAcknowledgement = write;
      throw new AcknowledgementNotRecorded(errText(err));
    }
  }

  private async sendStart(entry: OutboxEntry): Promise<void> {
    const start = this.decode<{ start?: StartFields }>(entry).start ?? this.startFromStore(entry.localId);
    const conf = await this.rpc.call('StartTransaction', startTransactionRequest(start));
    this.csmsIds.set(entry.localId, conf.transactionId);
    this.log.info({ connector: start.connector, transactionId: conf.transactionId, status: conf.idTagInfo.status }, 'StartTransaction confirmed');
    this.hooks.startAnswered?.(entry.localId, start.idTag, conf.idTagInfo);
    this.recordAcknowledgement(() => {
      this.storedCount -= this.store.acknowledgeStart(entry.position, entry.localId, conf.transactionId, conf.idTagInfo.status);
    });
  }

  private async sendMeter(batch: OutboxEntry[]): Promise<void> {
    const bodies = batch.map((e) => this.decode<{ connector?: number; values?: MeterValue[] }>(e));
    const values = bodies.flatMap((b) => b.values ?? []);
    const connector = bodies[0]!.connector;
    if (connector === undefined || values.length === 0) throw new InvalidOutgoingPayloadError('MeterValues', 'FormationViolation', 'unreadable stored MeterValues');
    await this.rpc.call('MeterValues', meterValuesRequest(connector, values, this.csmsIds.get(batch[0]!.localId)));
    const stored = batch.filter((e) => !this.removeFromMemory(e));
    if (stored.length > 0) {
      this.recordAcknowledgement(() => {
        this.storedCount -= this.store.acknowledgeMeters(stored.map((e) => e.position));
      });
    }
  }

  private async sendStop(entry: OutboxEntry): Promise<void> {
    const body = this.decode<{ stop?: StopFields; transactionData?: MeterValue[] }>(entry);
    const row = this.store.transaction(entry.localId);
    const stop = body.stop ?? this.stopFromRow(row, entry.localId);
    const transactionId = this.csmsIds.get(entry.localId) ?? row?.csmsTransactionId ?? null;
    // A Start the CSMS never confirmed has no id; -1 is never a real one (logged below).
    const req = stopTransactionRequest(stop, transactionId, body.transactionData);
    if (transactionId === null) this.log.error({ localId: entry.localId }, 'StopTransaction for a transaction the CSMS never confirmed: transactionId -1');
    const conf = await this.rpc.call('StopTransaction', req);
    this.csmsIds.delete(entry.localId);
    this.log.info({ transactionId: req.transactionId, reason: req.reason }, 'StopTransaction confirmed');
    if (conf.idTagInfo && stop.stopIdTag) this.hooks.stopAnswered?.(stop.stopIdTag, conf.idTagInfo);
    if (this.removeFromMemory(entry)) {
      // Confirmed before its write ever succeeded: close the row now (a restart would otherwise resume it).
      const tx = this.unrecordedStops.get(entry.position);
      this.unrecordedStops.delete(entry.position);
      if (tx) this.recordAcknowledgement(() => this.store.closeReported(tx));
      return;
    }
    this.recordAcknowledgement(() => {
      this.storedCount -= this.store.acknowledgeStop(entry.position, entry.localId);
    });
  }

  /** A payload that does not parse is a bug or corruption, never a reason to block the queue. */
  private decode<T extends object>(entry: OutboxEntry): Partial<T> {
    try {
      const v: unknown = JSON.parse(entry.payload);
      if (v !== null && typeof v === 'object') return v as Partial<T>;
    } catch {
      // fall through
    }
    this.log.error({ kind: entry.kind, localId: entry.localId, position: entry.position }, 'unreadable transaction message payload');
    return {};
  }

  private startFromStore(localId: string): StartFields {
    const tx = this.store.transaction(localId);
    if (!tx) throw new InvalidOutgoingPayloadError('StartTransaction', 'FormationViolation', `no stored transaction ${localId}`);
    return startRecordOf(tx);
  }

  private stopFromRow(row: StoredTransaction | null, localId: string): StopFields {
    if (!row) throw new InvalidOutgoingPayloadError('StopTransaction', 'FormationViolation', `no stored transaction ${localId}`);
    return stopRecordOf(row, this.clock.now());
  }

  /** True when the entry was in memory (delivered before the write-behind: it never touches the disk). */
  private removeFromMemory(entry: OutboxEntry): boolean {
    const i = this.memory.indexOf(entry);
    if (i < 0) return false;
    this.memory.splice(i, 1);
    if (this.memory.length === 0 && this.writeBehindTimer !== null) {
      this.clock.clearTimeout(this.writeBehindTimer);
      this.writeBehindTimer = null;
    }
    return true;
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
    if (this.removeFromMemory(entry)) {
      this.unrecordedStops.delete(entry.position);
      return;
    }
    this.storedCount -= this.store.discard(entry.position, entry.localId, entry.kind);
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
