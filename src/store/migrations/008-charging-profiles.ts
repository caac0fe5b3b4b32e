// Schema 8: the installed charging profiles as one row (the set, the restart envelope and when it
// was written), so a coalesced write is one small UPSERT: the persistence policy decides when.
import type { Migration } from './index.js';

export const m008ChargingProfiles: Migration = {
  version: 8,
  name: 'charging-profiles',
  up(db) {
    db.exec(`
      CREATE TABLE charging_profiles (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        profiles TEXT NOT NULL,
        envelope_a REAL,
        written_at_ms INTEGER NOT NULL
      );
    `);
  },
};
