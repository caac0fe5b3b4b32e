// What is queued: the stored rows and the in-memory tail (write-behind messages, and durable
// ones whose write failed), in one position order, with the writes that move messages from
// memory to storage and their failure handling. Delivery is outbox.ts's.
import type { Transaction } from '../../domain/model/transaction.js';
import type { Clock, TimerHandle } from '../../platform/clock.js';
import type { Acknowledgement, Commit, OutboxLogger, OutboxMessage, OutboxStore } from './ports.js';

/** After a storage error, the next attempt to write. */
export const STORAGE_RETRY_MS = 5_000;

export class MessageQueue {
  private memory: OutboxMessage[] = [];
  /** Messages in `memory` whose write failed, with the transaction row to close when written (null: none). */
  private readonly unrecorded = new Map<number, Transaction | null>();
  private nextPosition: number;
  private storedCount: number;
  private writeBehindTimer: TimerHandle | null = null;
  droppedMeterValues = 0;

  constructor(
    private readonly store: OutboxStore,
    private readonly clock: Clock,
    private readonly log: OutboxLogger,
    private readonly writeBehindMs: number,
    private readonly maxQueued: number,
    private readonly storageFailed: (err: unknown, msg: string) => void,
  ) {
    this.nextPosition = store.nextPosition();
    this.storedCount = store.size();
  }

  get depth(): number {
    return this.storedCount + this.memory.length;
  }

  get inMemory(): number {
    return this.memory.length;
  }

  newMessage(base: Omit<OutboxMessage, 'position' | 'attempts' | 'createdAt'>): OutboxMessage {
    return { ...base, position: this.nextPosition++, attempts: 0, createdAt: this.clock.now().toISOString() };
  }

  /** Writes the start with its transaction row (and what waits in memory) with fsync; throws, memory kept, if the store fails. */
  writeOpening(tx: Transaction, bootId: string | null, entry: OutboxMessage): void {
    // Durable messages still waiting for their write go first (their rows must close before this one opens).
    if (this.unrecorded.size > 0) this.flush();
    const pending = this.takeMemory();
    try {
      if (this.unrecorded.size > 0) throw new Error('an earlier durable message is still not written');
      const opened = entry.timeBase ? { tx, bootId, timeBase: entry.timeBase } : { tx, bootId };
      this.store.write({ messages: [...pending, entry], opened }, 'fsync');
    } catch (err) {
      this.memory = pending;
      this.armWriteBehind();
      throw err;
    }
    this.storedCount += pending.length + 1;
  }

  /** Writes a durable message (closing its row) with fsync; if the store fails it waits in memory and the write is retried. */
  writeDurable(entry: OutboxMessage, closes: Transaction | null): void {
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
  }

  /** Keeps a write-behind message in memory; past the bound, the oldest write-behind ones not in `inFlight` go. */
  addWriteBehind(entry: OutboxMessage, inFlight: ReadonlySet<number>): void {
    this.memory.push(entry);
    this.armWriteBehind();
    this.enforceBound(inFlight);
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

  /** The clock was set: what waits in memory gets real times (`message` rewrites one, `stopShiftMs` moves unwritten stop times). */
  correctMemory(message: (e: OutboxMessage) => void, stopShiftMs: number | null): void {
    for (const e of this.memory) message(e);
    if (stopShiftMs === null) return;
    // Ends whose write failed: their row is closed later with this stop time (made before the sync).
    for (const tx of this.unrecorded.values()) if (tx?.stoppedAt) tx.stoppedAt = new Date(tx.stoppedAt.getTime() + stopShiftMs);
  }

  stopTimer(): void {
    if (this.writeBehindTimer !== null) this.clock.clearTimeout(this.writeBehindTimer);
    this.writeBehindTimer = null;
  }

  head(): OutboxMessage | null {
    const stored = this.store.head();
    if (!stored) this.storedCount = 0; // the store is the truth for what is stored
    const mem = this.memory[0] ?? null;
    if (stored && mem) return stored.position < mem.position ? stored : mem;
    return stored ?? mem;
  }

  /** A stored message and the stored ones right behind it of the same kind and transaction, at most `max`. */
  storedRun(entry: OutboxMessage, max: number): OutboxMessage[] {
    if (max <= 1 || this.isInMemory(entry)) return [entry];
    const before = this.memory[0]?.position ?? Number.POSITIVE_INFINITY;
    const rows = this.store.from(entry.position, max);
    const end = rows.findIndex((r) => r.kind !== entry.kind || r.localId !== entry.localId || r.position >= before);
    const run = end < 0 ? rows : rows.slice(0, end);
    return run.length > 0 ? run : [entry];
  }

  isInMemory(entry: OutboxMessage): boolean {
    return this.memory.includes(entry);
  }

  /** True when the entry was in memory (delivered before the write-behind: it never touches the disk). */
  removeFromMemory(entry: OutboxMessage): boolean {
    const i = this.memory.indexOf(entry);
    if (i < 0) return false;
    this.memory.splice(i, 1);
    if (this.memory.length === 0) this.stopTimer();
    return true;
  }

  /** The row a durable message confirmed while still in memory must close (undefined: none). */
  takeUnrecorded(entry: OutboxMessage): Transaction | null | undefined {
    const closes = this.unrecorded.get(entry.position);
    this.unrecorded.delete(entry.position);
    return closes;
  }

  /** Removes stored messages and records what they left; throws when the store fails. */
  acknowledge(positions: readonly number[], ack: Acknowledgement, commit: Commit): void {
    this.storedCount -= this.store.acknowledge(positions, ack, commit);
  }

  /** Removes a message for good, from memory or from storage. */
  discard(entry: OutboxMessage, ack: Acknowledgement): void {
    if (this.removeFromMemory(entry)) {
      this.unrecorded.delete(entry.position);
      return;
    }
    this.acknowledge([entry.position], ack, 'fsync');
  }

  private takeMemory(): OutboxMessage[] {
    const pending = this.memory;
    this.memory = [];
    this.stopTimer();
    return pending;
  }

  private armWriteBehind(ms = this.writeBehindMs): void {
    if (this.writeBehindTimer !== null || this.memory.length === 0) return;
    this.writeBehindTimer = this.clock.setTimeout(() => {
      this.writeBehindTimer = null;
      this.flush();
    }, ms);
  }

  private enforceBound(inFlight: ReadonlySet<number>): void {
    let excess = this.depth - this.maxQueued;
    if (excess <= 0) return;
    let fromStore = 0;
    try {
      fromStore = this.store.dropOldestWriteBehind(excess, inFlight);
    } catch (err) {
      this.storageFailed(err, 'dropping the oldest MeterValues failed');
    }
    this.storedCount -= fromStore;
    excess -= fromStore;
    let fromMemory = 0;
    for (let i = 0; i < this.memory.length && excess > 0; ) {
      const e = this.memory[i]!;
      if (e.durability === 'write-behind' && !inFlight.has(e.position)) {
        this.memory.splice(i, 1);
        fromMemory++;
        excess--;
      } else i++;
    }
    const dropped = fromStore + fromMemory;
    if (dropped > 0) {
      this.droppedMeterValues += dropped;
      this.log.warn({ dropped, total: this.droppedMeterValues, bound: this.maxQueued }, 'transaction queue full: oldest MeterValues dropped');
    }
  }
}
