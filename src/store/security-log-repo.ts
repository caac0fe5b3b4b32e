// The security log (OCPP security whitepaper: every security event, critical or not, with its time
// and detail) in SQLite, bounded: an append deletes what falls past the newest `maxEntries` in the
// same commit, so the table never grows and the delete is one range on the primary key.
// Appends are lazy commits (a crash of the process loses nothing; a power cut may lose the last
// ones): the critical events also go to the outbox, which is fsynced.
import { isSecurityEventType, type ProvisionalTimeBase, type SecurityLogEntry, type SecurityLogReader, type SecurityLogWriter } from '../security/security-events.js';
import type { AgentDatabase } from './database.js';

export const DEFAULT_SECURITY_LOG_ENTRIES = 10_000;

interface Row {
  seq: number;
  at_ms: number;
  type: string;
  tech_info: string | null;
}

export class SqliteSecurityLog implements SecurityLogReader, SecurityLogWriter {
  private readonly s;

  constructor(
    private readonly store: AgentDatabase,
    private readonly maxEntries = DEFAULT_SECURITY_LOG_ENTRIES,
  ) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError(`security log bound must be a positive integer, got ${maxEntries}`);
    const db = store.db;
    this.s = {
      insert: db.prepare('INSERT INTO security_log (at_ms, type, tech_info, time_boot_id, time_base_ms) VALUES (?, ?, ?, ?, ?)'),
      trim: db.prepare('DELETE FROM security_log WHERE seq <= ?'),
      range: db.prepare('SELECT * FROM security_log WHERE at_ms >= ? AND at_ms <= ? ORDER BY seq'),
      clear: db.prepare('DELETE FROM security_log'),
      newest: db.prepare('SELECT * FROM security_log ORDER BY seq DESC LIMIT ?'),
      count: db.prepare('SELECT COUNT(*) AS n FROM security_log'),
    };
  }

  /** `timeBase`: the time is provisional (before the clock was set); corrected with the outbox at the sync. */
  append(entry: Omit<SecurityLogEntry, 'seq'>, timeBase?: ProvisionalTimeBase): number {
    return this.store.lazy(() => {
      const seq = Number(this.s.insert.run(Math.round(entry.atMs), entry.type, entry.techInfo, timeBase?.bootId ?? null, timeBase?.wallMinusMonoMs ?? null).lastInsertRowid);
      // A new rowid is the largest + 1 (no AUTOINCREMENT: one page less written per append), so
      // everything at or below seq - max is older than the newest max.
      this.s.trim.run(seq - this.maxEntries);
      return seq;
    });
  }

  clear(): number {
    return this.store.durable(() => this.s.clear.run().changes);
  }

  size(): number {
    return (this.s.count.get() as { n: number }).n;
  }

  entries(range: { fromMs?: number; toMs?: number } = {}): SecurityLogEntry[] {
    return this.toEntries(this.s.range.all(range.fromMs ?? Number.MIN_SAFE_INTEGER, range.toMs ?? Number.MAX_SAFE_INTEGER) as Row[]);
  }

  /** The newest `n` entries, oldest first. */
  tail(n: number): SecurityLogEntry[] {
    return this.toEntries((this.s.newest.all(n) as Row[]).reverse());
  }

  private toEntries(rows: readonly Row[]): SecurityLogEntry[] {
    const out: SecurityLogEntry[] = [];
    for (const r of rows) {
      // A type only a newer release knows (a downgrade): this one cannot name it, so it is not shown.
      if (isSecurityEventType(r.type)) out.push({ seq: r.seq, atMs: r.at_ms, type: r.type, techInfo: r.tech_info });
    }
    return out;
  }
}
