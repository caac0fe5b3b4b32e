// The durable ordered outbox of transaction messages, whatever the OCPP version: messages
// reach the CSMS strictly in order, one at a time. A transaction's start and end are written
// with fsync before they are sent; write-behind messages wait in memory and are written, in
// one batch, only when the CSMS has not confirmed them within the grace period. Storage
// failures (disk full, I/O errors) are logged and retried; they never crash the agent, never
// make a confirmed message go out again, never reorder. What a message says and how it is
// sent is the protocol adapter's (ports.ts: OutboxProtocol).
import type { Transaction } from '../../domain/model/transaction.js';
import type { Clock, TimerHandle } from '../../platform/clock.js';
import type { Acknowledgement, Delivered, OutboxLogger, OutboxMessage, OutboxProtocol, OutboxSettings, OutboxStore } from './ports.js';
import { MessageQueue, STORAGE_RETRY_MS } from './queue.js';
import { shiftIso, type RestampPlan, type TimeBase, type TimeCorrector } from './time-correction.js';
import { errorText } from '../../platform/errors.js';

export interface OutboxOptions {
  /** Kernel boot id recorded with each start: tells a power loss from an agent restart. */
  bootId?: string | null;
  /** Longest an undelivered write-behind message waits in memory before it is written. */
  writeBehindMs?: number;
  /** Queue bound; past it the oldest write-behind messages are dropped (never a durable one). */
  maxQueuedMessages?: number;
  /** How often an open transaction's "alive" time is written (its stop time after a power loss). */
  aliveStampMs?: number;
  /** Corrects timestamps made before the clock was set; without it they are sent as made. */
  time?: TimeCorrector;
}

export interface OutboxStats {
  queued: number;
  inMemory: number;
  /** Write-behind messages dropped at the queue bound (1.6: intermediate MeterValues). */
  droppedMeterValues: number;
  discardedAfterAttempts: number;
  delivered: number;
  storageErrors: number;
}

/** A new message, before the outbox gives it a position. */
export interface NewMessage {
  kind: string;
  payload: string;
}

/** The start could not be made durable: the station must not start charging on it. */
export class StartNotRecordedError extends Error {}

export const DEFAULT_WRITE_BEHIND_MS = 60_000;
export const DEFAULT_MAX_QUEUED_MESSAGES = 20_000;
export const DEFAULT_ALIVE_STAMP_MS = 30 * 60_000;
type Outcome = 'done' | 'later';

/** The CSMS confirmed the message, but the store could not record it: retry the write, never the send. */
class AcknowledgementNotRecorded extends Error {}

export class Outbox {
  private readonly queue: MessageQueue;
  private readonly refsByTx = new Map<string, Readonly<Record<string, string>>>();
  private readonly openTransactions = new Set<string>();
  private readonly inFlight = new Set<number>();
  private online = false;
  private drainRun: Promise<void> | null = null;
  private drainRequested = false;
  private retryTimer: TimerHandle | null = null;
  /** True when the pending retry waits out a refusal, false when it waits for the link or the disk. */
  private retryAfterRefusal = false;
  private aliveTimer: TimerHandle | null = null;
  /** A confirmed message's bookkeeping write that failed; done before anything else is sent. */
  private pendingAcknowledgement: (() => void) | null = null;
  private readonly stats = { discardedAfterAttempts: 0, delivered: 0, storageErrors: 0 };
  /** Once the clock is set: how a provisional timestamp becomes a real one. */
  private restampPlan: RestampPlan | null = null;
  /** Transactions whose start time is provisional (this process's base). */
  private readonly provisionalStarts = new Set<string>();
  /**
   * Transactions open when this process started: the times their rows hold (start, last alive)
   * and the base those are in. Recovery may end one at such a time (a power loss), which belongs
   * to the row's base, not to this process's.
   */
  private readonly storedTimes = new Map<string, { times: ReadonlySet<number>; base: TimeBase | null }>();

  constructor(
    private readonly protocol: OutboxProtocol,
    private readonly store: OutboxStore,
    private readonly settings: OutboxSettings,
    private readonly clock: Clock,
    private readonly log: OutboxLogger,
    private readonly opts: OutboxOptions = {},
  ) {
    const writeBehindMs = opts.writeBehindMs ?? DEFAULT_WRITE_BEHIND_MS;
    const maxQueued = opts.maxQueuedMessages ?? DEFAULT_MAX_QUEUED_MESSAGES;
    this.queue = new MessageQueue(store, clock, log, writeBehindMs, maxQueued, (err, msg) => this.storageFailed(err, msg));
    for (const tx of store.unreportedTransactions()) {
      if (Object.keys(tx.refs).length > 0) this.refsByTx.set(tx.localId, tx.refs);
      if (tx.stoppedAt === undefined) {
        this.openTransactions.add(tx.localId);
        const alive = store.lastKnownAlive(tx.localId);
        const times = new Set([tx.startedAt.getTime(), ...(alive ? [alive.getTime()] : [])]);
        this.storedTimes.set(tx.localId, { times, base: tx.timeBase });
      }
      if (tx.timeBase !== null) this.provisionalStarts.add(tx.localId);
    }
    this.armAliveStamp();
  }

  get queueDepth(): number {
    return this.queue.depth;
  }

  statistics(): OutboxStats {
    return { queued: this.queue.depth, inMemory: this.queue.inMemory, droppedMeterValues: this.queue.droppedMeterValues, ...this.stats };
  }

  /** What the CSMS gave to correlate a transaction not fully reported yet. */
  refs(localId: string): Readonly<Record<string, string>> | undefined {
    return this.refsByTx.get(localId);
  }

  /** The transaction whose refs hold `value` under `key`. */
  findByRef(key: string, value: string): string | undefined {
    for (const [local, refs] of this.refsByTx) if (refs[key] === value) return local;
    return undefined;
  }

  /** Registered and connected: deliver. Offline (or not accepted): keep queueing. */
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

  /** Records the transaction and its start message durably, then queues it. Throws StartNotRecordedError when the store fails. */
  open(tx: Transaction, msg: NewMessage): void {
    const entry = this.entry(msg, tx.localId);
    try {
      this.queue.writeOpening(tx, this.opts.bootId ?? null, entry);
    } catch (err) {
      this.storageFailed(err, `${msg.kind} not recorded: the transaction is refused`);
      throw new StartNotRecordedError(errorText(err));
    }
    this.openTransactions.add(tx.localId);
    if (entry.timeBase) this.provisionalStarts.add(tx.localId);
    this.armAliveStamp();
    void this.drain();
  }

  /** A message during the transaction: write-behind ones wait in memory, durable ones are written now. */
  update(localId: string, msg: NewMessage): void {
    const entry = this.entry(msg, localId);
    if (entry.durability === 'durable') this.queue.writeDurable(entry, null);
    else this.queue.addWriteBehind(entry, this.inFlight);
    void this.drain();
  }

  /** Closes the transaction's row and queues its end message, durably when the store allows; else it waits in memory and the write is retried. */
  close(tx: Transaction, msg: NewMessage): void {
    this.openTransactions.delete(tx.localId);
    const entry = this.entry(msg, tx.localId);
    this.queue.writeDurable(entry, this.keepStoredBase(entry, tx));
    void this.drain();
  }

  /**
   * A transaction restored from the store and ended at a time its row holds (a power loss: its
   * last alive time) keeps that time's base: real if the boot that stored it had synced, so this
   * boot's sync does not move it. Returns the transaction as its row is to be closed.
   */
  private keepStoredBase(e: OutboxMessage, tx: Transaction): Transaction {
    const stored = this.storedTimes.get(tx.localId);
    this.storedTimes.delete(tx.localId);
    const at = tx.stoppedAt?.getTime();
    if (!stored || at === undefined || !stored.times.has(at)) return { ...tx };
    if (stored.base) e.timeBase = stored.base;
    else delete e.timeBase;
    // Read before this process synced, ended after: corrected now, and so is the row's copy.
    const r = stored.base && this.restampPlan ? this.restampPlan(stored.base) : null;
    if (!r) return { ...tx };
    this.correct(e);
    return { ...tx, stoppedAt: new Date(at + r.shiftMs) };
  }

  /** Writes what waits in memory now (write-behind timer, shutdown); on a storage error it stays and is retried. */
  flush(): void {
    this.queue.flush();
  }

  /**
   * Shutdown, before the connection closes: nothing new is sent, and the message already handed
   * to the connection may still be answered, so a confirmation is committed rather than lost with
   * the socket (and the message sent again after the restart). Resolves once that message is
   * answered or has failed; the caller bounds the wait.
   */
  settleInFlight(): Promise<void> {
    this.online = false;
    return this.drainRun ?? Promise.resolve();
  }

  stop(): void {
    this.online = false;
    for (const timer of [this.retryTimer, this.aliveTimer]) if (timer !== null) this.clock.clearTimeout(timer);
    this.retryTimer = null;
    this.aliveTimer = null;
    this.queue.stopTimer();
    this.queue.flush();
  }

  /** Resolves when the queue is delivered, or delivery has to wait (offline, retry interval). */
  async deliverQueued(): Promise<void> {
    for (let round = 0; round < 10_000 && this.online && this.retryTimer === null && this.queueDepth > 0; round++) {
      await this.drain();
    }
  }

  private entry(msg: NewMessage, localId: string): OutboxMessage {
    const e = this.queue.newMessage({ kind: msg.kind, localId, durability: this.protocol.traits(msg.kind).durability, payload: msg.payload });
    const base = this.opts.time?.current();
    if (base) e.timeBase = base;
    return e;
  }

  /**
   * The clock was set (1.6: BootNotification.conf, Heartbeat.conf): the first time, queued
   * messages stamped before it are corrected, stored ones in one commit. Returns the shift for
   * what the caller stamped provisionally and still holds, and which transactions started
   * provisionally (null: nothing to correct).
   */
  clockSynced(): { shift: (ms: number) => number; startedProvisionally: ReadonlySet<string> } | null {
    const time = this.opts.time;
    const plan = time?.synced() ?? null;
    if (!time || !plan) return null;
    this.restampPlan = plan;
    const own = plan(time.provisional);
    this.queue.correctMemory((e) => this.correct(e), own ? own.shiftMs : null);
    const startedProvisionally = new Set(this.provisionalStarts);
    this.provisionalStarts.clear();
    return own ? { shift: (ms) => ms + own.shiftMs, startedProvisionally } : null;
  }

  /** A message still carrying provisional times gets real ones (also when the store could not be corrected). */
  private correct(e: OutboxMessage): void {
    const r = e.timeBase && this.restampPlan ? this.restampPlan(e.timeBase) : null;
    if (!r) return;
    const shift = (ms: number) => ms + r.shiftMs;
    e.payload = this.protocol.restampPayload(e.payload, shift);
    e.createdAt = shiftIso(e.createdAt, shift);
    if (r.to) e.timeBase = r.to;
    else delete e.timeBase;
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

  private storageFailed(err: unknown, msg: string): void {
    this.stats.storageErrors++;
    this.log.error({ err: errorText(err), storageErrors: this.stats.storageErrors }, msg);
  }

  // --- delivery ---------------------------------------------------------------

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
        const entry = this.queue.head();
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

  /** A stored batchable message at the head takes the stored ones behind it of the same kind and transaction along (replay). */
  private batchFrom(entry: OutboxMessage): OutboxMessage[] {
    return this.queue.storedRun(entry, this.protocol.traits(entry.kind).maxBatch);
  }

  private async deliver(batch: OutboxMessage[]): Promise<Outcome> {
    for (const e of batch) this.correct(e);
    for (const e of batch) this.inFlight.add(e.position);
    try {
      const delivered = await this.protocol.send(batch, { refs: (id) => this.refsByTx.get(id), transaction: (id) => this.store.transaction(id) });
      this.confirmed(batch, delivered);
      this.stats.delivered += batch.length;
      return 'done';
    } catch (err) {
      if (err instanceof AcknowledgementNotRecorded) throw err;
      return this.failed(batch, err);
    } finally {
      for (const e of batch) this.inFlight.delete(e.position);
    }
  }

  /** The CSMS confirmed the batch: what it taught is kept, the messages leave the queue. */
  private confirmed(batch: OutboxMessage[], delivered: Delivered): void {
    const entry = batch[0]!;
    const ends = this.protocol.traits(entry.kind).endsTransaction;
    if (delivered.refs) this.refsByTx.set(entry.localId, { ...this.refsByTx.get(entry.localId), ...delivered.refs });
    if (ends) this.refsByTx.delete(entry.localId);
    delivered.answered?.();
    const ack: Acknowledgement = { localId: entry.localId };
    if (delivered.refs) ack.refs = delivered.refs;
    if (delivered.authorizationStatus !== undefined) ack.authorizationStatus = delivered.authorizationStatus;
    if (ends) ack.reported = true;
    const stored = batch.filter((e) => !this.queue.removeFromMemory(e));
    if (stored.length === 0) {
      // Confirmed before its write ever succeeded: close the row now (a restart would otherwise resume it).
      const closes = this.queue.takeUnrecorded(entry);
      if (closes) this.recordAcknowledgement(() => this.store.write({ messages: [], closed: closes, reported: entry.localId }, 'fsync'));
      return;
    }
    const positions = stored.map((e) => e.position);
    this.recordAcknowledgement(() => this.queue.acknowledge(positions, ack, entry.durability === 'durable' ? 'fsync' : 'lazy'));
  }

  /** Runs a confirmed message's bookkeeping write; if the store fails, it is retried before anything is sent. */
  private recordAcknowledgement(write: () => void): void {
    try {
      write();
    } catch (err) {
      this.pendingAcknowledgement = write;
      throw new AcknowledgementNotRecorded(errorText(err));
    }
  }

  /** A refusal counts an attempt (settings: attempts, retry interval × attempt); no answer is not one. */
  private failed(batch: OutboxMessage[], err: unknown): Outcome {
    const entry = batch[0]!;
    const failure = this.protocol.classify(err);
    if (failure === 'undelivered') {
      // Offline or no answer: not the message's fault. Retry on reconnect, or after the interval.
      this.log.warn({ err: errorText(err), kind: entry.kind, localId: entry.localId }, 'transaction message not delivered; will retry');
      if (this.online) this.scheduleRetry(this.settings.retryIntervalS(), false);
      return 'later';
    }
    const attempts = entry.attempts + 1;
    if (failure === 'unsendable' || attempts >= this.settings.attempts()) {
      for (const e of batch) this.discard(e);
      this.stats.discardedAfterAttempts += batch.length;
      this.log.error({ err: errorText(err), kind: entry.kind, localId: entry.localId, attempts }, 'transaction message discarded after its last attempt');
      return 'done';
    }
    // The batch's head carries the count; the next try rebuilds the same batch from it.
    entry.attempts = attempts;
    if (!this.queue.isInMemory(entry)) this.store.recordAttempt(entry.position, attempts);
    this.log.warn({ err: errorText(err), kind: entry.kind, attempts }, 'transaction message refused by the CSMS; will retry');
    this.scheduleRetry(this.settings.retryIntervalS() * attempts, true);
    return 'later';
  }

  private discard(entry: OutboxMessage): void {
    // A message ending the transaction that the CSMS refused for good still ends its reporting here.
    const ack: Acknowledgement = { localId: entry.localId };
    if (this.protocol.traits(entry.kind).endsTransaction) ack.reported = true;
    this.queue.discard(entry, ack);
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

