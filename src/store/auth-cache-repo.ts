// The authorization cache (OCPP 1.6 §3.5.1) in SQLite: the AuthCachePersistence port. The
// domain cache lives in memory and hands over batches; each batch is ONE transaction, without
// fsync (a cache lost on a power cut only costs Authorize.req calls) except for ClearCache.
import type { Statement } from 'better-sqlite3';
import type { AuthCachePersistence, CacheBatch, CacheRecord } from '../domain/authorization/authorization-cache.js';
import type { AgentDatabase } from './database.js';
import { infoToValues, rowToInfo, type AuthorizationRow } from './authorization-rows.js';

export class SqliteAuthCacheRepo implements AuthCachePersistence {
  private readonly upsertStmt: Statement<[string, number, number | null, string | null, number]>;
  private readonly deleteStmt: Statement<[string]>;

  constructor(private readonly store: AgentDatabase) {
    this.upsertStmt = store.db.prepare(
      'INSERT INTO auth_cache (id_tag, status, expires_at, parent, used_at) VALUES (?, ?, ?, ?, ?) ' +
        'ON CONFLICT (id_tag) DO UPDATE SET status = excluded.status, expires_at = excluded.expires_at, parent = excluded.parent, used_at = excluded.used_at',
    );
    this.deleteStmt = store.db.prepare('DELETE FROM auth_cache WHERE id_tag = ?');
  }

  loadAll(): CacheRecord[] {
    const rows = this.store.db.prepare('SELECT id_tag, status, expires_at, parent, used_at FROM auth_cache ORDER BY used_at, id_tag').all() as Array<
      AuthorizationRow & { id_tag: string; used_at: number }
    >;
    return rows.map((r) => ({ key: r.id_tag, info: rowToInfo(r), usedAt: r.used_at }));
  }

  writeBatch(batch: CacheBatch, durable: boolean): void {
    const apply = (): void => {
      if (batch.clear) this.store.db.exec('DELETE FROM auth_cache');
      for (const key of batch.deletes) this.deleteStmt.run(key);
      for (const r of batch.upserts) this.upsertStmt.run(r.key, ...infoToValues(r.info), r.usedAt);
    };
    if (durable) this.store.durable(apply);
    else this.store.lazy(apply);
  }
}
