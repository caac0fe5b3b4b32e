// Schema 5: timestamps made before the clock was set (see ocpp/v16/time-correction.ts). A
// record stamped provisionally keeps the base it was stamped in (boot id, wall - monotonic),
// NULL once its times are real; each boot's sync is kept so a restart in that boot, or the
// records it left, are corrected exactly.
import type { Migration } from './index.js';

export const m005TimeBases: Migration = {
  version: 5,
  name: 'time-bases',
  up(db) {
    db.exec(`
      ALTER TABLE outbox ADD COLUMN time_boot_id TEXT;
      ALTER TABLE outbox ADD COLUMN time_base_ms REAL;
      ALTER TABLE transactions ADD COLUMN time_boot_id TEXT;
      ALTER TABLE transactions ADD COLUMN time_base_ms REAL;

      CREATE TABLE clock_sync (
        boot_id      TEXT PRIMARY KEY,
        wall_minus_mono_ms REAL NOT NULL,
        synced_at    TEXT NOT NULL
      ) WITHOUT ROWID;
    `);
  },
};
