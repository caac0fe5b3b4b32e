// The one SQLite database in the data dir: opened with flash-sparing settings
// (WAL, 1 KiB pages, exclusive lock, memory temp store), migrated through numbered
// migrations, with two commit levels: durable (fsync) and lazy (survives a crash
// of the process, not a power cut). See README "Storage and flash wear".
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { MIGRATIONS, type Migration } from './migrations/index.js';

export type SqliteDatabase = Database.Database;

export interface StoreLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface StoreStats {
  /** Commits with fsync (Start/Stop and their acknowledgements, configuration). */
  durableCommits: number;
  /** Commits without fsync (batched MeterValues, their acknowledgements). */
  lazyCommits: number;
  /** Bytes this process caused to be written to storage (/proc/self/io write_bytes), null where unavailable. */
  processWriteBytes: number | null;
  /** Schema version after migrations. */
  schemaVersion: number;
}

export class StoreError extends Error {}

/**
 * Page size 1 KiB: a commit touches 2-3 small pages, so the WAL grows by ~3 KiB instead of
 * ~12 KiB per commit (measured: 24 KiB vs 44 KiB of write_bytes per online session).
 */
const PAGE_SIZE = 1024;
/** Page cache: 512 KiB is plenty for our tables and small on a 512 MB board. */
const CACHE_KIB = 512;

export class AgentDatabase {
  readonly db: SqliteDatabase;
  private durableCommits = 0;
  private lazyCommits = 0;
  private syncLevel: 'FULL' | 'NORMAL' = 'FULL';
  readonly schemaVersion: number;

  constructor(
    readonly path: string,
    private readonly log: StoreLogger | null = null,
    migrations: readonly Migration[] = MIGRATIONS,
  ) {
    try {
      this.db = new Database(path);
    } catch (err) {
      throw new StoreError(`cannot open database ${path}: ${errText(err)}`);
    }
    try {
      this.db.pragma(`page_size = ${PAGE_SIZE}`); // only takes effect on a new database
      // Exclusive: no -shm file (no mmap writes), and a second agent on the same data dir fails fast.
      this.db.pragma('locking_mode = EXCLUSIVE');
      const mode = String(this.db.pragma('journal_mode = WAL', { simple: true }));
      if (mode.toLowerCase() !== 'wal') throw new StoreError(`journal_mode WAL refused (got ${mode})`);
      this.db.pragma('synchronous = FULL');
      this.db.pragma(`cache_size = -${CACHE_KIB}`);
      this.db.pragma('temp_store = MEMORY');
      this.db.pragma('foreign_keys = ON');
      // Take the exclusive lock now, so a second instance fails here and not mid-session.
      this.db.exec('BEGIN IMMEDIATE; COMMIT');
      const check = String(this.db.pragma('quick_check', { simple: true }));
      if (check !== 'ok') this.log?.error({ check }, 'database quick_check failed');
      this.schemaVersion = this.migrate(migrations);
    } catch (err) {
      this.db.close();
      if (err instanceof StoreError) throw err;
      const busy = /locked|busy/i.test(errText(err));
      throw new StoreError(busy ? `database ${path} is in use by another process` : `database ${path}: ${errText(err)}`);
    }
  }

  /** Runs fn in one transaction committed with fsync: survives a power cut once it returns. */
  durable<T>(fn: () => T): T {
    this.setSync('FULL');
    const result = this.db.transaction(fn)();
    this.durableCommits++;
    return result;
  }

  /** Runs fn in one transaction committed without fsync: survives kill -9, may be lost on a power cut. */
  lazy<T>(fn: () => T): T {
    this.setSync('NORMAL');
    const result = this.db.transaction(fn)();
    this.lazyCommits++;
    return result;
  }

  stats(): StoreStats {
    return {
      durableCommits: this.durableCommits,
      lazyCommits: this.lazyCommits,
      processWriteBytes: processWriteBytes(),
      schemaVersion: this.schemaVersion,
    };
  }

  integrityCheck(): string {
    return String(this.db.pragma('integrity_check', { simple: true }));
  }

  close(): void {
    if (!this.db.open) return;
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch (err) {
      this.log?.warn({ err: errText(err) }, 'checkpoint at close failed');
    }
    this.db.close();
  }

  private setSync(level: 'FULL' | 'NORMAL'): void {
    if (this.syncLevel === level) return;
    this.db.pragma(`synchronous = ${level}`);
    this.syncLevel = level;
  }

  /** Applies the migrations above PRAGMA user_version, each in its own transaction. */
  private migrate(migrations: readonly Migration[]): number {
    const current = Number(this.db.pragma('user_version', { simple: true }));
    const latest = migrations.reduce((max, m) => Math.max(max, m.version), 0);
    if (current > latest) {
      throw new StoreError(`database schema version ${current} is newer than this agent knows (${latest}); refusing to touch it`);
    }
    const pending = [...migrations].filter((m) => m.version > current).sort((a, b) => a.version - b.version);
    for (const m of pending) {
      this.db.transaction(() => {
        m.up(this.db);
        this.db.pragma(`user_version = ${m.version}`);
      })();
      this.log?.info({ version: m.version, name: m.name }, 'database migrated');
    }
    return Math.max(current, latest);
  }
}

export function processWriteBytes(pid: number | 'self' = 'self'): number | null {
  try {
    const m = /write_bytes:\s*(\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
