// Schema 6: the outbox and the transactions table no longer speak OCPP 1.6. Queued messages
// keep their order, payloads and attempts, and gain their durability class; the kind is the
// protocol adapter's message type (the 1.6 action name). The CSMS's transaction id (a 1.6
// integer) moves to a key/value table of references the protocol adapter owns; the idTag
// status of the start's answer becomes the neutral authorization status. An agent upgraded
// mid-transaction sends what was queued, in order, unchanged.
import type { Migration } from './index.js';

/** The reference key under which the 1.6 adapter keeps the CSMS's transactionId (ocpp/v16). */
const V16_TRANSACTION_ID = 'ocpp16.transactionId';

export const m006NeutralOutbox: Migration = {
  version: 6,
  name: 'neutral-outbox',
  up(db) {
    db.exec(`
      CREATE TABLE outbox_v6 (
        position   INTEGER PRIMARY KEY,
        kind       TEXT NOT NULL,
        local_id   TEXT NOT NULL,
        durability TEXT NOT NULL CHECK (durability IN ('durable', 'write-behind')),
        payload    TEXT NOT NULL,
        attempts   INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        time_boot_id TEXT,
        time_base_ms REAL
      );
      INSERT INTO outbox_v6 (position, kind, local_id, durability, payload, attempts, created_at, time_boot_id, time_base_ms)
        SELECT position,
               CASE kind WHEN 'start' THEN 'StartTransaction' WHEN 'meter' THEN 'MeterValues' ELSE 'StopTransaction' END,
               local_id,
               CASE kind WHEN 'meter' THEN 'write-behind' ELSE 'durable' END,
               payload, attempts, created_at, time_boot_id, time_base_ms
        FROM outbox;
      DROP TABLE outbox;
      ALTER TABLE outbox_v6 RENAME TO outbox;

      -- What the CSMS gave to correlate a transaction, keyed by the protocol adapter.
      CREATE TABLE transaction_refs (
        local_id TEXT NOT NULL REFERENCES transactions (local_id) ON DELETE CASCADE,
        key      TEXT NOT NULL,
        value    TEXT NOT NULL,
        PRIMARY KEY (local_id, key)
      ) WITHOUT ROWID;
      INSERT INTO transaction_refs (local_id, key, value)
        SELECT local_id, '${V16_TRANSACTION_ID}', CAST(csms_transaction_id AS TEXT)
        FROM transactions WHERE csms_transaction_id IS NOT NULL;
      ALTER TABLE transactions DROP COLUMN csms_transaction_id;
      ALTER TABLE transactions RENAME COLUMN id_tag_status TO authorization_status;
    `);
  },
};
