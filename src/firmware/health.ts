// What the agent calls around an update (the OCPP side wires these):
//   backupBeforeMigration   at start, before opening the database: a release on trial first
//                           copies the database, which a rollback restores
//   markReleaseHealthy      once migrations ran and a BootNotification was Accepted: ends the trial
//   takeUpdateOutcome       once after start: the result of the last update, to report over OCPP
// The install root and the running version come from the launcher (CHARGER_AGENT_INSTALL_ROOT,
// CHARGER_AGENT_RELEASE in the environment); without a launcher there is no trial to deal with.
import type BetterSqlite3 from 'better-sqlite3';
import { createRequire } from 'node:module';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fsyncDirSync } from '../launcher/durable.js';
import { readState, stateDir, writeState, type UpdateOutcome } from '../launcher/state.js';

export type { UpdateOutcome } from '../launcher/state.js';

// require, not import: an ESM import of the package costs start-up time (docs/benchmarks.md).
const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;

/** The launcher's install root and this release's version, when started by the launcher. */
export function launcherContext(env: NodeJS.ProcessEnv = process.env): { installRoot: string; version: string } | null {
  const installRoot = env['CHARGER_AGENT_INSTALL_ROOT'];
  const version = env['CHARGER_AGENT_RELEASE'];
  return installRoot && version ? { installRoot, version } : null;
}

/** Ends the trial of `version` (no-op when it is not on trial). Returns true when it did. */
export function markReleaseHealthy(installRoot: string, version: string): boolean {
  const state = readState(installRoot);
  const t = state.trial;
  if (t === null || t.version !== version || t.rollback !== null) return false;
  writeState(installRoot, { trial: null, outcome: { version, outcome: 'Installed', reason: `release ${version} started and marked itself healthy`, at: new Date().toISOString() } });
  if (t.database !== null) rmSync(t.database.backup, { force: true });
  return true;
}

/** The outcome of the last update, once (null when there is none left to report). */
export function takeUpdateOutcome(installRoot: string): UpdateOutcome | null {
  const state = readState(installRoot);
  if (state.outcome === null) return null;
  writeState(installRoot, { trial: state.trial, outcome: null });
  return state.outcome;
}

/**
 * Copies `dbPath` to `destPath` with SQLite's online backup API (consistent even with a WAL),
 * through a temporary name and an fsync, so `destPath` is complete or absent.
 */
export async function backupDatabase(dbPath: string, destPath: string): Promise<void> {
  const tmp = `${destPath}.tmp-${process.pid}`;
  rmSync(tmp, { force: true });
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    await db.backup(tmp);
  } finally {
    db.close();
  }
  // better-sqlite3 writes the copy through SQLite; one more open with fsync makes it durable.
  const copy = new Database(tmp);
  try {
    copy.pragma('journal_mode = DELETE');
  } finally {
    copy.close();
  }
  const fd = openSync(tmp, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, destPath);
  fsyncDirSync(join(destPath, '..'));
}

/**
 * Before a release on trial migrates the database: copy it once (a later trial start finds the
 * copy recorded and keeps it, so the copy is always of the pre-update schema). Returns true when
 * a copy was made. Call before opening the database (the agent holds it with an exclusive lock).
 */
export async function backupBeforeMigration(installRoot: string, version: string, dbPath: string): Promise<boolean> {
  const t = readState(installRoot).trial;
  if (t === null || t.version !== version || t.database !== null || !existsSync(dbPath)) return false;
  mkdirSync(stateDir(installRoot), { recursive: true });
  const backup = join(stateDir(installRoot), `database-before-${version}.sqlite`);
  await backupDatabase(dbPath, backup);
  const now = readState(installRoot);
  if (now.trial === null || now.trial.version !== version) return false;
  writeState(installRoot, { ...now, trial: { ...now.trial, database: { db: dbPath, backup } } });
  return true;
}
