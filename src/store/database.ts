// The one SQLite database in the data dir: opened with flash-sparing settings
// (WAL, 1 KiB pages, exclusive lock, memory temp store), migrated through numbered
// migrations, with two commit levels: durable (fsync) and lazy (survives a crash
// of the process, not a power cut). See docs/storage.md.
import type BetterSqlite3 from 'better-sqlite3';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { MIGRATIONS, type Migration } from './migrations/index.js';
import { errorText } from '../platform/errors.js';
import type { AgentLogger } from '../platform/logger.js';

// Required, not imported: an ESM import of a CommonJS package makes Node lex it for named exports
// first, start-up CPU a slow board feels (docs/benchmarks.md, start-up).
const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;

export type SqliteDatabase = BetterSqlite3.Database;

/** The old name, kept while main.ts (being slimmed) still imports it. */
export type StoreLogger = AgentLogger;

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

  /** Set when the file failed its integrity check at open and was moved aside (path of the copy kept). */
  readonly quarantinedAs: string | null = null;

  constructor(
    readonly path: string,
    private readonly log: AgentLogger | null = null,
    migrations: readonly Migration[] = MIGRATIONS,
  ) {
    let db = this.openConfigured(path);
    const check = db === 'not-a-database' ? 'not a database' : quickCheck(db);
    if (check !== 'ok') {
      // A charger that refuses to start charges nobody: keep the damaged file for analysis, start afresh.
      if (db !== 'not-a-database') db.close();
      const aside = `${path}.corrupt-${Date.now()}`;
      for (const suffix of ['', '-wal', '-journal']) {
        if (existsSync(path + suffix)) renameSync(path + suffix, aside + suffix);
      }
      this.log?.error({ check, movedTo: aside }, 'database failed its integrity check: moved aside, starting with an empty one');
      this.quarantinedAs = aside;
      db = this.openConfigured(path);
    }
    if (db === 'not-a-database') throw new StoreError(`database ${path}: cannot create a new database`);
    this.db = db;
    try {
      this.schemaVersion = this.migrate(migrations);
    } catch (err) {
      this.db.close();
      throw err instanceof StoreError ? err : new StoreError(`database ${path}: ${errorText(err)}`);
    }
  }

  private openConfigured(path: string): SqliteDatabase | 'not-a-database' {
    let db: SqliteDatabase;
    try {
      // timeout 0: with an exclusive lock nobody else should ever hold it; a second agent fails at once.
      db = new Database(path, { timeout: 0 });
    } catch (err) {
      throw new StoreError(`cannot open database ${path}: ${errorText(err)}`);
    }
    try {
      db.pragma(`page_size = ${PAGE_SIZE}`); // only takes effect on a new database
      // Exclusive: no -shm file (no mmap writes), and a second agent on the same data dir fails fast.
      db.pragma('locking_mode = EXCLUSIVE');
      const mode = String(db.pragma('journal_mode = WAL', { simple: true }));
      if (mode.toLowerCase() !== 'wal') throw new StoreError(`journal_mode WAL refused (got ${mode})`);
      db.pragma('synchronous = FULL');
      db.pragma(`cache_size = -${CACHE_KIB}`);
      db.pragma('temp_store = MEMORY');
      db.pragma('foreign_keys = ON');
      // Take the exclusive lock now, so a second instance fails here and not mid-session.
      db.exec('BEGIN IMMEDIATE; COMMIT');
      return db;
    } catch (err) {
      db.close();
      if (err instanceof StoreError) throw err;
      const text = errorText(err);
      if (/locked|busy/i.test(text)) throw new StoreError(`database ${path} is in use by another process`);
      // Not a database at all (garbage header): let the integrity path move it aside.
      if (/not a database|malformed|corrupt/i.test(text)) return 'not-a-database';
      throw new StoreError(`database ${path}: ${text}`);
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
      this.log?.warn({ err: errorText(err) }, 'checkpoint at close failed');
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

function quickCheck(db: SqliteDatabase): string {
  try {
    return String(db.pragma('quick_check', { simple: true }));
  } catch (err) {
    return errorText(err);
  }
}
