// The durable ordered outbox of transaction messages, whatever the OCPP version: messages
// reach the CSMS strictly in order, one at a time. A transaction's start and end are written
// with fsync before they are sent; write-behind messages wait in memory and are written, in
// one batch, only when the CSMS has not confirmed them within the grace period. Storage
// failures (disk full, I/O errors) are logged and retried; they never crash the agent, never
// make a confirmed message go out again, never reorder. What a message says and how it is
// sent is the protocol adapter's (ports.ts: OutboxProtocol).
import type { Transaction } from '../../domain/session/transaction.js';
import type { Clock, TimerHandle } from '../../platform/clock.js';
import type { Acknowledgement, Commit, Delivered, OutboxLogger, OutboxMessage, OutboxProtocol, OutboxSettings, OutboxStore } from './ports.js';

export interface OutboxOptions {
  /** Kernel boot id recorded with each start: tells a power loss from an agent restart. */
  bootId?: string | null;
  /** Longest an undelivered write-behind message waits in memory before it is written. */
  writeBehindMs?: number;
  /** Queue bound; past it the oldest write-behind messages are dropped (never a durable one). */
  maxQueuedMessages?: number;
  /** How often an open transaction's "alive" time is written (its stop time after a power loss). */
  aliveStampMs?: number;
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
/** After a storage error, the next attempt to write. */
const STORAGE_RETRY_MS = 5_000;

type Outcome = 'done' | 'later';

/** The CSMS confirmed the message, but the store could not record it: retry the write, never the send. */
class AcknowledgementNotRecorded extends Error {}

export class Outbox {
  /** Undelivered messages not yet written, in order: write-behind ones, and durable ones whose write failed. */
  private memory: OutboxMessage[] = [];
  /** Messages in `memory` whose write failed, with the transaction row to close when written (null: none). */
  private readonly unrecorded = new Map<number, Transaction | null>();
  private nextPosition: number;
  private storedCount: number;
  private readonly refsByTx = new Map<string, Readonly<Record<string, string>>>();
  private readonly openTransactions = new Set<string>();
  private readonly inFlight = new Set<number>();
  private online = false;
  private drainRun: Promise<void> | null = null;
  private drainRequested = false;
  private retryTimer: TimerHandle | null = null;
  /** True when the pending retry waits out a refusal, false when it waits for the link or the disk. */
  private retryAfterRefusal = false;
  private writeBehindTimer: TimerHandle | null = null;
  private aliveTimer: TimerHandle | null = null;
  /** A confirmed message's bookkeeping write that failed; done before anything else is sent. */
  private pendingAcknowledgement: (() => void) | null = null;
  private readonly stats = { droppedMeterValues: 0, discardedAfterAttempts: 0, delivered: 0, storageErrors: 0 };
  private readonly writeBehindMs: number;
  private readonly maxQueued: number;

  constructor(
    private readonly protocol: OutboxProtocol,
    private readonly store: OutboxStore,
    private readonly settings: OutboxSettings,
    private readonly clock: Clock,
    private readonly log: OutboxLogger,
    private readonly opts: OutboxOptions = {},
  ) {
    this.writeBehindMs = opts.writeBehindMs ?? DEFAULT_WRITE_BEHIND_MS;
    this.maxQueued = opts.maxQueuedMessages ?? DEFAULT_MAX_QUEUED_MESSAGES;
    this.nextPosition = store.nextPosition();
    this.storedCount = store.size();
    for (const tx of store.unreportedTransactions()) {
      if (Object.keys(tx.refs).length > 0) this.refsByTx.set(tx.localId, tx.refs);
      if (tx.stoppedAt === undefined) this.openTransactions.add(tx.localId);
    }
    this.armAliveStamp();
  }

  get queueDepth(): number {
    return this.storedCount + this.memory.length;
  }

  statistics(): OutboxStats {
    return { queued: this.queueDepth, inMemory: this.memory.length, ...this.stats };
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
    // Durable messages still waiting for their write go first (their rows must close before this one opens).
    if (this.unrecorded.size > 0) this.flush();
    const pending = this.takeMemory();
    try {
      if (this.unrecorded.size > 0) throw new Error('an earlier durable message is still not written');
      this.store.write({ messages: [...pending, entry], opened: { tx, bootId: this.opts.bootId ?? null } }, 'fsync');
    } catch (err) {
      this.memory = pending;
      this.armWriteBehind();
      this.storageFailed(err, `${msg.kind} not recorded: the transaction is refused`);
      throw new StartNotRecordedError(errText(err));
    }
    this.storedCount += pending.length + 1;
    this.openTransactions.add(tx.localId);
    this.armAliveStamp();
    void this.drain();
  }

  /** A message during the transaction: write-behind ones wait in memory, durable ones are written now. */
  update(localId: string, msg: NewMessage): void {
    if (this.protocol.traits(msg.kind).durability === 'durable') {
      this.queueDurable(this.entry(msg, localId), null);
      return;
    }
    this.memory.push(this.entry(msg, localId));
    this.armWriteBehind();
    this.enforceBound();
    void this.drain();
  }

  /** Closes the transaction's row and queues its end message, durably when the store allows; else it waits in memory and the write is retried. */
  close(tx: Transaction, msg: NewMessage): void {
    this.openTransactions.delete(tx.localId);
    this.queueDurable(this.entry(msg, tx.localId), { ...tx });
  }

  private queueDurable(entry: OutboxMessage, closes: Transaction | null): void {
    if (this.unrecorded.size > 0) this.flush();
    const pending = this.takeMemory();
    try {
      if (this.unrecorded.size > 0) throw new Error('an earlier durable message is still not written');
      this.store.write(closes ? { messages: [...pending, entry], closed: closes } : { messages: [...pending, entry] }, 'fsync');
      this.storedCount += pending.length + 1;
    } catch (err) {
      this.memory = [...pending, entry];
      this.unrecorded.set(entry.position, closes);
      this.armWriteBehind(STORAGE_RETRY_MS);
      this.storageFailed(err, `${entry.kind} not recorded yet: kept in memory, the write is retried`);
    }
    void this.drain();
  }

  /** Writes what waits in memory now (write-behind timer, shutdown); on a storage error it stays and is retried. */
  flush(): void {
    const pending = this.takeMemory();
    if (pending.length === 0) return;
    let written = 0;
    try {
      // Durable messages whose write failed go first with fsync (closing their rows), in queue order.
      let from = 0;
      for (let i = 0; i < pending.length; i++) {
        const e = pending[i]!;
        if (!this.unrecorded.has(e.position)) continue;
        const closes = this.unrecorded.get(e.position) ?? null;
        this.store.write(closes ? { messages: pending.slice(from, i + 1), closed: closes } : { messages: pending.slice(from, i + 1) }, 'fsync');
        this.unrecorded.delete(e.position);
        written = i + 1;
        from = i + 1;
      }
      if (from < pending.length) this.store.write({ messages: pending.slice(from) }, 'lazy');
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

  private entry(msg: NewMessage, localId: string): OutboxMessage {
    const durability = this.protocol.traits(msg.kind).durability;
    return { position: this.nextPosition++, kind: msg.kind, localId, durability, payload: msg.payload, attempts: 0, createdAt: this.clock.now().toISOString() };
  }

  private takeMemory(): OutboxMessage[] {
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
        this.store.touchOpenTransactions(this.clock.now());
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
      fromStore = this.store.dropOldestWriteBehind(excess, this.inFlight);
    } catch (err) {
      this.storageFailed(err, 'dropping the oldest MeterValues failed');
    }
    this.storedCount -= fromStore;
    excess -= fromStore;
    let fromMemory = 0;
    for (let i = 0; i < this.memory.length && excess > 0; ) {
      const e = this.memory[i]!;
      if (e.durability === 'write-behind' && !this.inFlight.has(e.position)) {
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

  private head(): OutboxMessage | null {
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

  /** A stored batchable message at the head takes the stored ones behind it of the same kind and transaction along (replay). */
  private batchFrom(entry: OutboxMessage): OutboxMessage[] {
    const max = this.protocol.traits(entry.kind).maxBatch;
    if (max <= 1 || this.memory.includes(entry)) return [entry];
    const before = this.memory[0]?.position ?? Number.POSITIVE_INFINITY;
    const rows = this.store.from(entry.position, max);
    const end = rows.findIndex((r) => r.kind !== entry.kind || r.localId !== entry.localId || r.position >= before);
    const run = end < 0 ? rows : rows.slice(0, end);
    return run.length > 0 ? run : [entry];
  }

  private async deliver(batch: OutboxMessage[]): Promise<Outcome> {
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
    const stored = batch.filter((e) => !this.removeFromMemory(e));
    if (stored.length === 0) {
      // Confirmed before its write ever succeeded: close the row now (a restart would otherwise resume it).
      const closes = this.unrecorded.get(entry.position);
      this.unrecorded.delete(entry.position);
      if (closes) this.recordAcknowledgement(() => this.store.write({ messages: [], closed: closes, reported: entry.localId }, 'fsync'));
      return;
    }
    const commit: Commit = entry.durability === 'durable' ? 'fsync' : 'lazy';
    this.recordAcknowledgement(() => {
      this.storedCount -= this.store.acknowledge(stored.map((e) => e.position), ack, commit);
    });
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

  /** True when the entry was in memory (delivered before the write-behind: it never touches the disk). */
  private removeFromMemory(entry: OutboxMessage): boolean {
    const i = this.memory.indexOf(entry);
    if (i < 0) return false;
    this.memory.splice(i, 1);
    if (this.memory.length === 0 && this.writeBehindTimer !== null) {
      this.clock.clearTimeout(this.writeBehindTimer);
      this.writeBehindTimer = null;
    }
    return true;
  }

  /** A refusal counts an attempt (settings: attempts, retry interval × attempt); no answer is not one. */
  private failed(batch: OutboxMessage[], err: unknown): Outcome {
    const entry = batch[0]!;
    const failure = this.protocol.classify(err);
    if (failure === 'undelivered') {
      // Offline or no answer: not the message's fault. Retry on reconnect, or after the interval.
      this.log.warn({ err: errText(err), kind: entry.kind, localId: entry.localId }, 'transaction message not delivered; will retry');
      if (this.online) this.scheduleRetry(this.settings.retryIntervalS(), false);
      return 'later';
    }
    const attempts = entry.attempts + 1;
    if (failure === 'unsendable' || attempts >= this.settings.attempts()) {
      for (const e of batch) this.discard(e);
      this.stats.discardedAfterAttempts += batch.length;
      this.log.error({ err: errText(err), kind: entry.kind, localId: entry.localId, attempts }, 'transaction message discarded after its last attempt');
      return 'done';
    }
    // The batch's head carries the count; the next try rebuilds the same batch from it.
    entry.attempts = attempts;
    if (!this.memory.includes(entry)) this.store.recordAttempt(entry.position, attempts);
    this.log.warn({ err: errText(err), kind: entry.kind, attempts }, 'transaction message refused by the CSMS; will retry');
    this.scheduleRetry(this.settings.retryIntervalS() * attempts, true);
    return 'later';
  }

  private discard(entry: OutboxMessage): void {
    if (this.removeFromMemory(entry)) {
      this.unrecorded.delete(entry.position);
      return;
    }
    // A message ending the transaction that the CSMS refused for good still ends its reporting here.
    const ack: Acknowledgement = { localId: entry.localId };
    if (this.protocol.traits(entry.kind).endsTransaction) ack.reported = true;
    this.storedCount -= this.store.acknowledge([entry.position], ack, 'fsync');
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

export function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
