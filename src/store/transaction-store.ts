// Transactions and the ordered outbox of their messages in SQLite. A transaction's start and
// end are committed with fsync together with the outbox row that reports them; write-behind
// messages arrive here in batches (lazy commits) only when they could not be delivered
// promptly. Implements the outbox's port (ocpp/outbox/ports.ts); knows no OCPP version.
import type { Transaction } from '../domain/model/transaction.js';
import { isStopReason } from '../domain/model/stop-reason.js';
import { isIdTokenType, type IdToken } from '../domain/model/id-token.js';
import type { Acknowledgement, Commit, Durability, OutboxMessage, OutboxStore, OutboxWrite, StoredTransaction } from '../ocpp/outbox/ports.js';
import type { TimeBase } from '../ocpp/outbox/time-correction.js';
import type { AgentDatabase } from './database.js';

interface TransactionRow {
  local_id: string;
  connector: number;
  id_tag: string;
  parent_id_tag: string | null;
  reservation_id: number | null;
  started_at: string;
  meter_start_wh: number;
  boot_id: string | null;
  stopped_at: string | null;
  meter_stop_wh: number | null;
  stop_reason: string | null;
  stop_id_tag: string | null;
  reported: number;
  authorization_status: string | null;
  last_alive_at: string | null;
  time_boot_id: string | null;
  time_base_ms: number | null;
  id_token_type: string;
  stop_id_token_type: string | null;
}

interface OutboxRow {
  position: number;
  kind: string;
  local_id: string;
  durability: Durability;
  payload: string;
  attempts: number;
  created_at: string;
  time_boot_id: string | null;
  time_base_ms: number | null;
}

interface RefRow {
  local_id: string;
  key: string;
  value: string;
}

/** Reported transactions kept for diagnostics (`charger-agent diag transactions`). */
const KEEP_REPORTED = 50;

export class SqliteTransactionStore implements OutboxStore {
  private readonly s;

  constructor(private readonly store: AgentDatabase) {
    const db = store.db;
    this.s = {
      insertTx: db.prepare(
        `INSERT INTO transactions (local_id, connector, id_tag, id_token_type, parent_id_tag, reservation_id, started_at, meter_start_wh, boot_id, time_boot_id, time_base_ms)
         VALUES (@localId, @connector, @idTag, @idTokenType, @parentIdTag, @reservationId, @startedAt, @meterStartWh, @bootId, @timeBootId, @timeBaseMs)`,
      ),
      stopTx: db.prepare(
        `UPDATE transactions SET stopped_at = @stoppedAt, meter_stop_wh = @meterStopWh, stop_reason = @stopReason, stop_id_tag = @stopIdTag,
           stop_id_token_type = @stopIdTokenType
         WHERE local_id = @localId`,
      ),
      insertEntry: db.prepare(
        `INSERT OR IGNORE INTO outbox (position, kind, local_id, durability, payload, attempts, created_at, time_boot_id, time_base_ms)
         VALUES (@position, @kind, @localId, @durability, @payload, @attempts, @createdAt, @timeBootId, @timeBaseMs)`,
      ),
      head: db.prepare('SELECT * FROM outbox ORDER BY position LIMIT 1'),
      from: db.prepare('SELECT * FROM outbox WHERE position >= ? ORDER BY position LIMIT ?'),
      maxPosition: db.prepare('SELECT MAX(position) AS m FROM outbox'),
      deleteEntry: db.prepare('DELETE FROM outbox WHERE position = ?'),
      setAttempts: db.prepare('UPDATE outbox SET attempts = ? WHERE position = ?'),
      setRef: db.prepare('INSERT OR REPLACE INTO transaction_refs (local_id, key, value) VALUES (?, ?, ?)'),
      setAuthorization: db.prepare('UPDATE transactions SET authorization_status = ? WHERE local_id = ?'),
      touchAlive: db.prepare('UPDATE transactions SET last_alive_at = ? WHERE stopped_at IS NULL AND time_base_ms IS ?'),
      setReported: db.prepare('UPDATE transactions SET reported = 1 WHERE local_id = ?'),
      pruneReported: db.prepare(
        `DELETE FROM transactions WHERE reported = 1 AND local_id NOT IN
           (SELECT local_id FROM transactions WHERE reported = 1 ORDER BY started_at DESC LIMIT ${KEEP_REPORTED})`,
      ),
      getTx: db.prepare('SELECT * FROM transactions WHERE local_id = ?'),
      refsOf: db.prepare('SELECT * FROM transaction_refs WHERE local_id = ?'),
      openTx: db.prepare('SELECT * FROM transactions WHERE stopped_at IS NULL ORDER BY started_at'),
      unreportedTx: db.prepare('SELECT * FROM transactions WHERE reported = 0 ORDER BY started_at'),
      unreportedRefs: db.prepare('SELECT r.* FROM transaction_refs r JOIN transactions t USING (local_id) WHERE t.reported = 0'),
      recentTx: db.prepare('SELECT * FROM transactions ORDER BY started_at DESC LIMIT ?'),
      count: db.prepare('SELECT COUNT(*) AS n FROM outbox'),
      oldestWriteBehind: db.prepare("SELECT position FROM outbox WHERE durability = 'write-behind' ORDER BY position LIMIT ?"),
      lastWriteBehindOf: db.prepare("SELECT created_at FROM outbox WHERE durability = 'write-behind' AND local_id = ? ORDER BY position DESC LIMIT 1"),
    };
  }

  nextPosition(): number {
    const row = this.s.maxPosition.get() as { m: number | null };
    return (row.m ?? 0) + 1;
  }

  write(w: OutboxWrite, commit: Commit): void {
    this.commit(commit, () => {
      if (w.opened) this.insertRow(w.opened.tx, w.opened.bootId, w.opened.timeBase);
      if (w.closed) this.closeRow(w.closed);
      this.insertEntries(w.messages);
      if (w.reported !== undefined) {
        this.s.setReported.run(w.reported);
        this.s.pruneReported.run();
      }
    });
  }

  /** Returns the outbox rows removed, so the caller's count never drifts. */
  acknowledge(positions: readonly number[], ack: Acknowledgement, commit: Commit): number {
    return this.commit(commit, () => {
      for (const [key, value] of Object.entries(ack.refs ?? {})) this.s.setRef.run(ack.localId, key, value);
      if (ack.authorizationStatus !== undefined) this.s.setAuthorization.run(ack.authorizationStatus, ack.localId);
      if (ack.reported) this.s.setReported.run(ack.localId);
      let removed = 0;
      for (const p of positions) removed += this.s.deleteEntry.run(p).changes;
      if (ack.reported) this.s.pruneReported.run();
      return removed;
    });
  }

  head(): OutboxMessage | null {
    const row = this.s.head.get() as OutboxRow | undefined;
    return row ? toEntry(row) : null;
  }

  from(position: number, max: number): OutboxMessage[] {
    return (this.s.from.all(position, max) as OutboxRow[]).map(toEntry);
  }

  /**
   * Open transactions are still running at `at` (lazy: a coarse stop time for a power loss). Only
   * rows in the same time base: a real time never takes a provisional one, nor the reverse.
   */
  touchOpenTransactions(at: Date, base?: TimeBase): void {
    this.store.lazy(() => this.s.touchAlive.run(at.toISOString(), base?.wallMinusMonoMs ?? null));
  }

  recordAttempt(position: number, attempts: number): void {
    this.store.lazy(() => this.s.setAttempts.run(attempts, position));
  }

  size(): number {
    return (this.s.count.get() as { n: number }).n;
  }

  dropOldestWriteBehind(count: number, keep: ReadonlySet<number> = new Set()): number {
    if (count <= 0) return 0;
    const rows = (this.s.oldestWriteBehind.all(count + keep.size) as Array<{ position: number }>).filter((r) => !keep.has(r.position)).slice(0, count);
    if (rows.length === 0) return 0;
    return this.store.lazy(() => {
      let removed = 0;
      for (const r of rows) removed += this.s.deleteEntry.run(r.position).changes;
      return removed;
    });
  }

  transaction(localId: string): StoredTransaction | null {
    const row = this.s.getTx.get(localId) as TransactionRow | undefined;
    return row ? toStored(row, this.s.refsOf.all(localId) as RefRow[]) : null;
  }

  openTransactions(): StoredTransaction[] {
    return (this.s.openTx.all() as TransactionRow[]).map((r) => toStored(r, this.s.refsOf.all(r.local_id) as RefRow[]));
  }

  unreportedTransactions(): StoredTransaction[] {
    const refs = this.s.unreportedRefs.all() as RefRow[];
    return (this.s.unreportedTx.all() as TransactionRow[]).map((r) => toStored(r, refs.filter((x) => x.local_id === r.local_id)));
  }

  recentTransactions(limit: number): StoredTransaction[] {
    return (this.s.recentTx.all(limit) as TransactionRow[]).map((r) => toStored(r, this.s.refsOf.all(r.local_id) as RefRow[]));
  }

  /** The newest durable moment of an open transaction: its alive stamp, its last stored sample, or its start. */
  lastKnownAlive(localId: string): Date | null {
    const tx = this.s.getTx.get(localId) as TransactionRow | undefined;
    if (!tx) return null;
    const sample = this.s.lastWriteBehindOf.get(localId) as { created_at: string } | undefined;
    const times = [tx.started_at, tx.last_alive_at, sample?.created_at].filter((t): t is string => !!t).map((t) => new Date(t).getTime());
    return new Date(Math.max(...times));
  }

  private commit<T>(commit: Commit, fn: () => T): T {
    return commit === 'fsync' ? this.store.durable(fn) : this.store.lazy(fn);
  }

  /** The row's times are in its start message's base (provisional until the clock is set). */
  private insertRow(tx: Transaction, bootId: string | null, timeBase: TimeBase | undefined): void {
    this.s.insertTx.run({
      localId: tx.localId,
      connector: tx.evseId,
      idTag: tx.idToken.value,
      idTokenType: tx.idToken.type,
      parentIdTag: tx.groupId?.value ?? null,
      reservationId: tx.reservationId ?? null,
      startedAt: tx.startedAt.toISOString(),
      meterStartWh: tx.meterStartWh,
      bootId,
      timeBootId: timeBase?.bootId ?? null,
      timeBaseMs: timeBase?.wallMinusMonoMs ?? null,
    });
  }

  private closeRow(tx: Transaction): void {
    this.s.stopTx.run({
      localId: tx.localId,
      stoppedAt: (tx.stoppedAt ?? new Date()).toISOString(),
      meterStopWh: tx.meterStopWh ?? tx.meterStartWh,
      stopReason: tx.stopReason ?? 'Other',
      stopIdTag: tx.stopIdToken?.value ?? null,
      stopIdTokenType: tx.stopIdToken?.type ?? null,
    });
  }

  private insertEntries(entries: readonly OutboxMessage[]): void {
    for (const e of entries) {
      this.s.insertEntry.run({
        position: e.position,
        kind: e.kind,
        localId: e.localId,
        durability: e.durability,
        payload: e.payload,
        attempts: e.attempts,
        createdAt: e.createdAt,
        timeBootId: e.timeBase?.bootId ?? null,
        timeBaseMs: e.timeBase?.wallMinusMonoMs ?? null,
      });
    }
  }
}

function toEntry(r: OutboxRow): OutboxMessage {
  const e: OutboxMessage = { position: r.position, kind: r.kind, localId: r.local_id, durability: r.durability, payload: r.payload, attempts: r.attempts, createdAt: r.created_at };
  if (r.time_base_ms !== null) e.timeBase = { bootId: r.time_boot_id, wallMinusMonoMs: r.time_base_ms };
  return e;
}

function toStored(r: TransactionRow, refs: readonly RefRow[]): StoredTransaction {
  const tx: StoredTransaction = {
    localId: r.local_id,
    evseId: r.connector,
    idToken: token(r.id_tag, r.id_token_type),
    startedAt: new Date(r.started_at),
    meterStartWh: r.meter_start_wh,
    bootId: r.boot_id,
    reported: r.reported === 1,
    authorizationStatus: r.authorization_status,
    refs: Object.fromEntries(refs.map((x) => [x.key, x.value])),
    timeBase: r.time_base_ms === null ? null : { bootId: r.time_boot_id, wallMinusMonoMs: r.time_base_ms },
  };
  // Groups come from the CSMS.
  if (r.parent_id_tag !== null) tx.groupId = { value: r.parent_id_tag, type: 'Central' };
  if (r.reservation_id !== null) tx.reservationId = r.reservation_id;
  if (r.stopped_at !== null) tx.stoppedAt = new Date(r.stopped_at);
  if (r.meter_stop_wh !== null) tx.meterStopWh = r.meter_stop_wh;
  // A reason this version does not know (a newer agent wrote it) reads as Other.
  if (r.stop_reason !== null) tx.stopReason = isStopReason(r.stop_reason) ? r.stop_reason : 'Other';
  if (r.stop_id_tag !== null) tx.stopIdToken = token(r.stop_id_tag, r.stop_id_token_type ?? 'ISO14443');
  return tx;
}

function token(value: string, type: string): IdToken {
  return { value, type: isIdTokenType(type) ? type : 'ISO14443' };
}
