// Schema 2: the local authorization list (OCPP 1.6 §3.5.2) with its version, and the
// authorization cache (§3.5.1). Compact rows keyed by the normalized idTag, no rowid:
// a lookup is one B-tree descent, ~40 such rows fit a 1 KiB page.
import type { Migration } from './index.js';

export const m002Authorization: Migration = {
  version: 2,
  name: 'authorization',
  up(db) {
    db.exec(`
      -- status: 0 Accepted, 1 Blocked, 2 Expired, 3 Invalid, 4 ConcurrentTx; expires_at: ms since the epoch.
      CREATE TABLE local_list (
        id_tag     TEXT PRIMARY KEY,
        status     INTEGER NOT NULL CHECK (status BETWEEN 0 AND 4),
        expires_at INTEGER,
        parent     TEXT
      ) WITHOUT ROWID;

      CREATE TABLE local_list_version (
        id      INTEGER PRIMARY KEY CHECK (id = 1),
        version INTEGER NOT NULL
      );

      -- used_at: ms since the epoch of the last change; the LRU order after a restart.
      CREATE TABLE auth_cache (
        id_tag     TEXT PRIMARY KEY,
        status     INTEGER NOT NULL CHECK (status BETWEEN 0 AND 4),
        expires_at INTEGER,
        parent     TEXT,
        used_at    INTEGER NOT NULL
      ) WITHOUT ROWID;
    `);
  },
};
