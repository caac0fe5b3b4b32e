// Schema 7: transactions in the domain's own vocabulary. Stop reasons stored with 1.6's words
// ('Local', 'Remote', 'DeAuthorized') become the neutral ones; identifiers keep how they were
// obtained (2.0.1 IdTokenType; rows from before read as a card, 1.6 needs only the value).
import type { Migration } from './index.js';

export const m007DomainVocabulary: Migration = {
  version: 7,
  name: 'domain-vocabulary',
  up(db) {
    db.exec(`
      UPDATE transactions SET stop_reason = 'LocalStop' WHERE stop_reason = 'Local';
      UPDATE transactions SET stop_reason = 'RemoteStop' WHERE stop_reason = 'Remote';
      UPDATE transactions SET stop_reason = 'Deauthorized' WHERE stop_reason = 'DeAuthorized';
      ALTER TABLE transactions ADD COLUMN id_token_type TEXT NOT NULL DEFAULT 'ISO14443';
      ALTER TABLE transactions ADD COLUMN stop_id_token_type TEXT;
    `);
  },
};
