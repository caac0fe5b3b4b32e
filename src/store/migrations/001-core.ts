// Schema 1: OCPP configuration values, connector availability, transactions and the
// ordered outbox of transaction messages (StartTransaction, MeterValues, StopTransaction).
import type { Migration } from './index.js';

export const m001Core: Migration = {
  version: 1,
  name: 'core',
  up(db) {
    db.exec(`
      CREATE TABLE configuration (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE connector_availability (
        connector INTEGER PRIMARY KEY,
        operative INTEGER NOT NULL CHECK (operative IN (0, 1))
      );

      -- One row per transaction: open (stopped_at NULL), stopped and queued, or reported.
      CREATE TABLE transactions (
        local_id            TEXT PRIMARY KEY,
        connector           INTEGER NOT NULL,
        id_tag              TEXT NOT NULL,
        parent_id_tag       TEXT,
        reservation_id      INTEGER,
        started_at          TEXT NOT NULL,
        meter_start_wh      REAL NOT NULL,
        boot_id             TEXT,
        csms_transaction_id INTEGER,
        stopped_at          TEXT,
        meter_stop_wh       REAL,
        stop_reason         TEXT,
        stop_id_tag         TEXT,
        reported            INTEGER NOT NULL DEFAULT 0
      ) WITHOUT ROWID;

      -- Transaction messages in the order they must reach the CSMS.
      CREATE TABLE outbox (
        position   INTEGER PRIMARY KEY,
        kind       TEXT NOT NULL CHECK (kind IN ('start', 'meter', 'stop')),
        local_id   TEXT NOT NULL,
        payload    TEXT NOT NULL,
        attempts   INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
      );
    `);
  },
};
