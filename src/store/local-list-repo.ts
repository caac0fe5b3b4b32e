// The local authorization list (OCPP 1.6 §3.5.2) in SQLite: the LocalListStore port. Each
// update is one durable transaction (answered Accepted = survives a power cut); a refused
// update rolls back and leaves the old list whole.
import type { Statement } from 'better-sqlite3';
import type { AuthorizationInfo } from '../domain/model/authorization.js';
import type { LocalListStore } from '../domain/authorization/local-list.js';
import type { AgentDatabase } from './database.js';
import { infoToValues, rowToInfo, type AuthorizationRow } from './authorization-rows.js';

class ListTooLong extends Error {}

export class SqliteLocalListRepo implements LocalListStore {
  private readonly getStmt: Statement<[string], AuthorizationRow>;
  private readonly upsertStmt: Statement<[string, number, number | null, string | null]>;
  private readonly deleteStmt: Statement<[string]>;
  private readonly countStmt: Statement<[], { n: number }>;
  private readonly versionStmt: Statement<[], { version: number }>;
  private readonly setVersionStmt: Statement<[number]>;

  constructor(private readonly store: AgentDatabase) {
    const db = store.db;
    this.getStmt = db.prepare('SELECT status, expires_at, parent FROM local_list WHERE id_tag = ?');
    this.upsertStmt = db.prepare(
      'INSERT INTO local_list (id_tag, status, expires_at, parent) VALUES (?, ?, ?, ?) ' +
        'ON CONFLICT (id_tag) DO UPDATE SET status = excluded.status, expires_at = excluded.expires_at, parent = excluded.parent',
    );
    this.deleteStmt = db.prepare('DELETE FROM local_list WHERE id_tag = ?');
    this.countStmt = db.prepare('SELECT count(*) AS n FROM local_list');
    this.versionStmt = db.prepare('SELECT version FROM local_list_version WHERE id = 1');
    this.setVersionStmt = db.prepare('INSERT INTO local_list_version (id, version) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET version = excluded.version');
  }

  version(): number {
    return this.versionStmt.get()?.version ?? 0;
  }

  count(): number {
    return this.countStmt.get()?.n ?? 0;
  }

  get(key: string): AuthorizationInfo | null {
    const row = this.getStmt.get(key);
    return row ? rowToInfo(row) : null;
  }

  replace(version: number, entries: ReadonlyArray<readonly [string, AuthorizationInfo]>): void {
    this.store.durable(() => {
      this.store.db.exec('DELETE FROM local_list');
      for (const [key, info] of entries) this.upsertStmt.run(key, ...infoToValues(info));
      this.setVersionStmt.run(version);
    });
  }

  patch(version: number, upserts: ReadonlyArray<readonly [string, AuthorizationInfo]>, deletes: readonly string[], maxEntries: number): boolean {
    try {
      this.store.durable(() => {
        for (const key of deletes) this.deleteStmt.run(key);
        for (const [key, info] of upserts) this.upsertStmt.run(key, ...infoToValues(info));
        if (this.count() > maxEntries) throw new ListTooLong();
        this.setVersionStmt.run(version);
      });
      return true;
    } catch (err) {
      if (err instanceof ListTooLong) return false;
      throw err;
    }
  }
}
