// Schema 4: what restart recovery needs to know of an open transaction: the idTag status
// the CSMS answered its StartTransaction with (a refused one stays suspended or capped after
// a restart) and a coarse "still alive" time (the best stop time after a power loss).
import type { Migration } from './index.js';

export const m004TransactionRecovery: Migration = {
  version: 4,
  name: 'transaction-recovery',
  up(db) {
    db.exec(`
      ALTER TABLE transactions ADD COLUMN id_tag_status TEXT;
      ALTER TABLE transactions ADD COLUMN last_alive_at TEXT;
    `);
  },
};
