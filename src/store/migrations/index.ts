// Numbered schema migrations, applied in order above PRAGMA user_version. Adding one:
// a new file NNN-name.ts and one line here. Never edit a migration that has shipped.
import type Database from 'better-sqlite3';
import { m001Core } from './001-core.js';
import { m002Authorization } from './002-authorization.js';
import { m003Reservations } from './003-reservations.js';
import { m004TransactionRecovery } from './004-transaction-recovery.js';
import { m005TimeBases } from './005-time-bases.js';
import { m006NeutralOutbox } from './006-neutral-outbox.js';
import { m007DomainVocabulary } from './007-domain-vocabulary.js';
import { m008ChargingProfiles } from './008-charging-profiles.js';
import { m009SecurityLog } from './009-security-log.js';

export interface Migration {
  version: number;
  name: string;
  up(db: Database.Database): void;
}

export const MIGRATIONS: readonly Migration[] = [
  m001Core,
  m002Authorization,
  m003Reservations,
  m004TransactionRecovery,
  m005TimeBases,
  m006NeutralOutbox,
  m007DomainVocabulary,
  m008ChargingProfiles,
  m009SecurityLog,
];
