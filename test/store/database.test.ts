// AgentDatabase (issue 4 "SQLite persistence", "Flash wear"): numbered migrations from an empty
// file and on top of an older one, refusal of a newer schema, the flash-sparing settings, a second
// open of a file in use failing with a clear message, quick_check at open, commit counters.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { AgentDatabase, StoreError, processWriteBytes } from '../../src/store/database.js';
import type { AgentLogger } from '../../src/platform/logger.js';
import { MIGRATIONS, type Migration } from '../../src/store/migrations/index.js';

const dirs: string[] = [];
const opened: AgentDatabase[] = [];
afterEach(() => {
  for (const db of opened.splice(0)) db.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempPath(): string {
  const d = mkdtempSync(join(tmpdir(), 'ca-db-'));
  dirs.push(d);
  return join(d, 'agent.db');
}

function open(path: string, log: AgentLogger | null = null, migrations?: readonly Migration[]): AgentDatabase {
  const db = migrations ? new AgentDatabase(path, log, migrations) : new AgentDatabase(path, log);
  opened.push(db);
  return db;
}

function close(db: AgentDatabase): void {
  db.close();
  opened.splice(opened.indexOf(db), 1);
}

/** Reads a closed database file with a plain connection. */
function inspect<T>(path: string, fn: (db: Database.Database) => T): T {
  const db = new Database(path);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

function recordingLog(): AgentLogger & { lines: Array<{ level: string; obj: object; msg?: string }> } {
  const lines: Array<{ level: string; obj: object; msg?: string }> = [];
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, obj, ...(msg !== undefined ? { msg } : {}) });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

const LATEST = Math.max(...MIGRATIONS.map((m) => m.version));

describe('AgentDatabase: migrations', () => {
  it('builds the whole schema in an empty file and records the version in user_version', () => {
    const path = tempPath();
    const log = recordingLog();
    const db = open(path, log);
    expect(db.schemaVersion).toBe(LATEST);
    expect(db.stats().schemaVersion).toBe(LATEST);
    expect(Number(db.db.pragma('user_version', { simple: true }))).toBe(LATEST);
    const tables = (db.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((r) => r.name);
    expect(tables).toEqual(expect.arrayContaining(['configuration', 'connector_availability', 'transactions', 'outbox']));
    // One log line per migration applied, in version order.
    const applied = log.lines.filter((l) => l.msg === 'database migrated').map((l) => (l.obj as { version: number }).version);
    expect(applied).toEqual([...MIGRATIONS].map((m) => m.version).sort((a, b) => a - b));
  });

  it('applies only the migrations above the stored version, in order, each once', () => {
    const path = tempPath();
    const calls: number[] = [];
    const m = (version: number, sql: string): Migration => ({ version, name: `m${version}`, up: (d) => (calls.push(version), d.exec(sql)) });
    const v1 = m(1, 'CREATE TABLE a (x INTEGER)');
    const v2 = m(2, 'ALTER TABLE a ADD COLUMN y TEXT');
    const v3 = m(3, 'CREATE TABLE b (z INTEGER)');
    close(open(path, null, [v1]));
    // Listed out of order on purpose: the version decides.
    const db = open(path, null, [v3, v1, v2]);
    expect(calls).toEqual([1, 2, 3]);
    expect(db.schemaVersion).toBe(3);
    close(db);
    close(open(path, null, [v1, v2, v3]));
    expect(calls).toEqual([1, 2, 3]);
    expect(inspect(path, (d) => d.pragma('table_info(a)') as Array<{ name: string }>).map((c) => c.name)).toEqual(['x', 'y']);
  });

  it('a failing migration is rolled back whole and leaves the version where it was', () => {
    const path = tempPath();
    const v1: Migration = { version: 1, name: 'one', up: (d) => d.exec('CREATE TABLE a (x INTEGER)') };
    const bad: Migration = { version: 2, name: 'bad', up: (d) => d.exec('CREATE TABLE half (x INTEGER); INSERT INTO nowhere VALUES (1)') };
    close(open(path, null, [v1]));
    expect(() => open(path, null, [v1, bad])).toThrow(StoreError);
    expect(inspect(path, (d) => Number(d.pragma('user_version', { simple: true })))).toBe(1);
    expect(inspect(path, (d) => d.prepare("SELECT name FROM sqlite_master WHERE name = 'half'").get())).toBeUndefined();
  });

  it('refuses a database written by a newer agent and leaves it untouched', () => {
    const path = tempPath();
    inspect(path, (d) => {
      d.exec('CREATE TABLE future (x INTEGER)');
      d.pragma(`user_version = ${LATEST + 5}`);
    });
    const attempt = (): AgentDatabase => open(path);
    expect(attempt).toThrow(StoreError);
    expect(attempt).toThrow(/newer/);
    expect(inspect(path, (d) => Number(d.pragma('user_version', { simple: true })))).toBe(LATEST + 5);
    expect(inspect(path, (d) => d.prepare("SELECT name FROM sqlite_master WHERE name = 'outbox'").get())).toBeUndefined();
  });
});

describe('AgentDatabase: settings and locking', () => {
  it('uses WAL with 1 KiB pages and exclusive locking (no -shm file), and truncates the WAL at close', () => {
    const path = tempPath();
    const db = open(path);
    expect(String(db.db.pragma('journal_mode', { simple: true })).toLowerCase()).toBe('wal');
    expect(Number(db.db.pragma('page_size', { simple: true }))).toBe(1024);
    expect(String(db.db.pragma('locking_mode', { simple: true })).toLowerCase()).toBe('exclusive');
    expect(existsSync(`${path}-shm`)).toBe(false);
    close(db);
    expect(existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0).toBe(0);
  });

  it('a second open of a file in use fails clearly with "in use"; after close it opens again', () => {
    const path = tempPath();
    const first = open(path);
    expect(() => open(path)).toThrow(/in use/);
    close(first);
    expect(open(path).schemaVersion).toBe(LATEST);
  });

  it('a file that is not a database is moved aside (kept for analysis) and a fresh one is used', () => {
    const path = tempPath();
    const garbage = 'this is not an SQLite database, just some text long enough to fill a header page '.repeat(40);
    writeFileSync(path, garbage);
    const log = recordingLog();
    const db = open(path, log);
    expect(db.quarantinedAs).not.toBeNull();
    expect(readFileSync(db.quarantinedAs!, 'utf8')).toBe(garbage);
    expect(db.schemaVersion).toBe(LATEST);
    expect(db.integrityCheck()).toBe('ok');
    expect(log.lines.some((l) => l.level === 'error' && /integrity check/.test(l.msg ?? ''))).toBe(true);
  });

  it('runs quick_check at open: a damaged database is never used, it is moved aside and logged', () => {
    const path = tempPath();
    const db = open(path);
    db.durable(() => {
      const ins = db.db.prepare('INSERT INTO configuration (key, value) VALUES (?, ?)');
      for (let i = 0; i < 200; i++) ins.run(`key-${String(i).padStart(4, '0')}`, 'v'.repeat(40));
    });
    close(db);
    const rootPage = inspect(path, (d) => (d.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'configuration'").get() as { rootpage: number }).rootpage);
    // Scribble over the middle of the table's root page (an interior page of the b-tree).
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(200, 0xa5), 0, 200, (rootPage - 1) * 1024 + 300);
    closeSync(fd);
    const log = recordingLog();
    const reopened = open(path, log);
    expect(reopened.quarantinedAs).toMatch(/\.corrupt-\d+$/);
    expect(existsSync(reopened.quarantinedAs!)).toBe(true);
    expect(reopened.integrityCheck()).toBe('ok');
    expect(reopened.db.prepare('SELECT COUNT(*) AS n FROM configuration').get()).toEqual({ n: 0 });
    expect(log.lines.some((l) => l.level === 'error' && /integrity check/.test(l.msg ?? ''))).toBe(true);
  });
});

describe('AgentDatabase: commits', () => {
  it('counts durable and lazy commits; a throwing body commits nothing and counts nothing', () => {
    const db = open(tempPath());
    const put = db.db.prepare('INSERT INTO configuration (key, value) VALUES (?, ?)');
    const base = db.stats();
    db.durable(() => put.run('a', '1'));
    db.lazy(() => put.run('b', '2'));
    db.lazy(() => put.run('c', '3'));
    expect(() =>
      db.durable(() => {
        put.run('d', '4');
        throw new Error('boom');
      }),
    ).toThrow('boom');
    const s = db.stats();
    expect(s.durableCommits - base.durableCommits).toBe(1);
    expect(s.lazyCommits - base.lazyCommits).toBe(2);
    expect((db.db.prepare('SELECT key FROM configuration ORDER BY key').all() as Array<{ key: string }>).map((r) => r.key)).toEqual(['a', 'b', 'c']);
  });

  it('lazy commits are in the file after close and reopen', () => {
    const path = tempPath();
    const db = open(path);
    db.lazy(() => db.db.prepare('INSERT INTO configuration (key, value) VALUES (?, ?)').run('k', 'v'));
    close(db);
    expect(open(path).db.prepare('SELECT value FROM configuration WHERE key = ?').get('k')).toEqual({ value: 'v' });
  });

  it('processWriteBytes reads /proc/<pid>/io: a number for this process, null for no such process', () => {
    expect(typeof processWriteBytes()).toBe('number');
    expect(processWriteBytes(process.pid)).toEqual(expect.any(Number));
    expect(processWriteBytes(2 ** 30)).toBeNull();
  });
});
