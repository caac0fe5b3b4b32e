// Schema 9: the security log of the OCPP security whitepaper (every security event with its time
// and detail, critical or not). Bounded by the repository (security-log-repo.ts): it keeps the
// newest entries and deletes older ones in the commit that appends.
import type { Migration } from './index.js';

export const m009SecurityLog: Migration = {
  version: 9,
  name: 'security-log',
  up(db) {
    db.exec(`
      CREATE TABLE security_log (
        seq       INTEGER PRIMARY KEY AUTOINCREMENT,
        at_ms     INTEGER NOT NULL,
        type      TEXT NOT NULL,
        tech_info TEXT
      );
      CREATE INDEX security_log_at ON security_log (at_ms);
    `);
  },
};
