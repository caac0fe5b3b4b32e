// Schema 9: the security log of the OCPP security whitepaper (every security event with its time
// and detail, critical or not). Bounded by the repository (security-log-repo.ts): it keeps the
// newest entries and deletes older ones in the commit that appends. No index on the time: a time
// range (GetLog) scans at most the bound's rows, rarely, while an index would be written on
// every append (flash wear).
import type { Migration } from './index.js';

export const m009SecurityLog: Migration = {
  version: 9,
  name: 'security-log',
  up(db) {
    db.exec(`
      CREATE TABLE security_log (
        seq       INTEGER PRIMARY KEY,
        at_ms     INTEGER NOT NULL,
        type      TEXT NOT NULL,
        tech_info TEXT,
        -- Set while at_ms is provisional (recorded before the clock was set): see time-base-repo.ts.
        time_boot_id TEXT,
        time_base_ms REAL
      );
    `);
  },
};
