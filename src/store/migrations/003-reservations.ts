// Schema 3: reservations (OCPP 1.6 §5.13), kept across reboots until used, cancelled or expired.
import type { Migration } from './index.js';

export const m003Reservations: Migration = {
  version: 3,
  name: 'reservations',
  up(db) {
    db.exec(`
      -- connector 0: any one connector; expires_at: ms since the epoch.
      CREATE TABLE reservations (
        id            INTEGER PRIMARY KEY,
        connector     INTEGER NOT NULL CHECK (connector >= 0),
        id_tag        TEXT NOT NULL,
        parent_id_tag TEXT,
        expires_at    INTEGER NOT NULL
      );
    `);
  },
};
