// The stored side of the timestamp correction (ocpp/outbox/time-correction.ts): which records
// still carry provisional times (queued messages, transactions, security log entries), rewriting
// them in one commit, and each boot's sync. Queued payloads are opaque: the protocol adapter's
// restamper rewrites the times inside them.
import type { PayloadRestamper, RestampPlan, TimeBase, TimeBaseStore } from '../ocpp/outbox/time-correction.js';
import { shiftIso } from '../ocpp/outbox/time-correction.js';
import type { AgentDatabase } from './database.js';

interface ProvisionalEntry {
  position: number;
  payload: string;
  created_at: string;
  time_boot_id: string | null;
  time_base_ms: number;
}

interface ProvisionalTx {
  local_id: string;
  started_at: string;
  stopped_at: string | null;
  last_alive_at: string | null;
  time_boot_id: string | null;
  time_base_ms: number;
}

interface ProvisionalLogEntry {
  seq: number;
  at_ms: number;
  time_boot_id: string | null;
  time_base_ms: number;
}

interface LatestRow {
  time_boot_id: string | null;
  time_base_ms: number;
  latest: string;
}

export class SqliteTimeBaseRepo implements TimeBaseStore {
  private readonly s;

  constructor(
    private readonly store: AgentDatabase,
    private readonly shiftPayload: PayloadRestamper,
  ) {
    const db = store.db;
    this.s = {
      // ISO-8601 UTC strings of years 0000-9999 order as text.
      entryBases: db.prepare(
        'SELECT time_boot_id, time_base_ms, MAX(created_at) AS latest FROM outbox WHERE time_base_ms IS NOT NULL GROUP BY time_boot_id, time_base_ms',
      ),
      txBases: db.prepare(
        `SELECT time_boot_id, time_base_ms, MAX(MAX(started_at, COALESCE(stopped_at, ''), COALESCE(last_alive_at, ''))) AS latest
         FROM transactions WHERE time_base_ms IS NOT NULL GROUP BY time_boot_id, time_base_ms`,
      ),
      logBases: db.prepare('SELECT time_boot_id, time_base_ms, MAX(at_ms) AS latest FROM security_log WHERE time_base_ms IS NOT NULL GROUP BY time_boot_id, time_base_ms'),
      entries: db.prepare('SELECT position, payload, created_at, time_boot_id, time_base_ms FROM outbox WHERE time_base_ms IS NOT NULL'),
      logs: db.prepare('SELECT seq, at_ms, time_boot_id, time_base_ms FROM security_log WHERE time_base_ms IS NOT NULL'),
      setLog: db.prepare('UPDATE security_log SET at_ms = ?, time_boot_id = ?, time_base_ms = ? WHERE seq = ?'),
      txs: db.prepare(
        'SELECT local_id, started_at, stopped_at, last_alive_at, time_boot_id, time_base_ms FROM transactions WHERE time_base_ms IS NOT NULL',
      ),
      setEntry: db.prepare('UPDATE outbox SET payload = ?, created_at = ?, time_boot_id = ?, time_base_ms = ? WHERE position = ?'),
      setTx: db.prepare(
        'UPDATE transactions SET started_at = ?, stopped_at = ?, last_alive_at = ?, time_boot_id = ?, time_base_ms = ? WHERE local_id = ?',
      ),
      sync: db.prepare('SELECT wall_minus_mono_ms AS ms FROM clock_sync WHERE boot_id = ?'),
      lastSync: db.prepare('SELECT MAX(synced_at) AS at FROM clock_sync'),
      recordSync: db.prepare('INSERT OR REPLACE INTO clock_sync (boot_id, wall_minus_mono_ms, synced_at) VALUES (?, ?, ?)'),
      pruneSyncs: db.prepare('DELETE FROM clock_sync WHERE boot_id NOT IN (SELECT boot_id FROM clock_sync ORDER BY synced_at DESC LIMIT 20)'),
    };
  }

  /** A message is made when its latest time is stamped, so its created_at bounds the times it carries. */
  provisionalBases(): Array<{ base: TimeBase; latestMs: number }> {
    const latest = new Map<string, { base: TimeBase; latestMs: number }>();
    const logLatest = (this.s.logBases.all() as Array<Omit<LatestRow, 'latest'> & { latest: number }>).map((r) => ({ ...r, latest: new Date(r.latest).toISOString() }));
    for (const r of [...this.s.entryBases.all(), ...this.s.txBases.all(), ...logLatest] as LatestRow[]) {
      const ms = Date.parse(r.latest);
      const key = `${r.time_boot_id ?? ''}\u0000${r.time_base_ms}`;
      const cur = latest.get(key);
      if (Number.isFinite(ms) && (!cur || cur.latestMs < ms)) latest.set(key, { base: { bootId: r.time_boot_id, wallMinusMonoMs: r.time_base_ms }, latestMs: ms });
    }
    return [...latest.values()];
  }

  restamp(plan: RestampPlan, sync: { bootId: string; wallMinusMonoMs: number; at: Date } | null): number {
    const entries = this.s.entries.all() as ProvisionalEntry[];
    const txs = this.s.txs.all() as ProvisionalTx[];
    const logs = this.s.logs.all() as ProvisionalLogEntry[];
    if (entries.length === 0 && txs.length === 0 && logs.length === 0 && sync === null) return 0; // no commit at every start
    return this.store.durable(() => {
      let changed = 0;
      for (const e of entries) {
        const r = plan({ bootId: e.time_boot_id, wallMinusMonoMs: e.time_base_ms });
        if (!r) continue;
        const shift = (ms: number) => ms + r.shiftMs;
        this.s.setEntry.run(this.shiftPayload(e.payload, shift), shiftIso(e.created_at, shift), r.to?.bootId ?? null, r.to?.wallMinusMonoMs ?? null, e.position);
        changed++;
      }
      for (const t of txs) {
        const r = plan({ bootId: t.time_boot_id, wallMinusMonoMs: t.time_base_ms });
        if (!r) continue;
        const shift = (ms: number) => ms + r.shiftMs;
        const opt = (at: string | null) => (at === null ? null : shiftIso(at, shift));
        this.s.setTx.run(shiftIso(t.started_at, shift), opt(t.stopped_at), opt(t.last_alive_at), r.to?.bootId ?? null, r.to?.wallMinusMonoMs ?? null, t.local_id);
        changed++;
      }
      for (const l of logs) {
        const r = plan({ bootId: l.time_boot_id, wallMinusMonoMs: l.time_base_ms });
        if (!r) continue;
        this.s.setLog.run(l.at_ms + r.shiftMs, r.to?.bootId ?? null, r.to?.wallMinusMonoMs ?? null, l.seq);
        changed++;
      }
      if (sync) {
        this.s.recordSync.run(sync.bootId, sync.wallMinusMonoMs, sync.at.toISOString());
        this.s.pruneSyncs.run();
      }
      return changed;
    });
  }

  knownSync(bootId: string): number | null {
    const row = this.s.sync.get(bootId) as { ms: number } | undefined;
    return row ? row.ms : null;
  }

  lastSyncAt(): Date | null {
    const row = this.s.lastSync.get() as { at: string | null };
    return row.at === null ? null : new Date(row.at);
  }
}
