// The launcher's decisions before each start of the agent: finish a rollback a power cut
// interrupted, drop a trial whose install never switched `current`, count a trial start, roll
// back a trial that used up its starts, and fall back to a bootable release when `current`
// is missing or broken. Every step is a single atomic write or rename, ordered so that a cut
// between any two leaves a state this same function resolves at the next start.
import { copyFileSync, existsSync, openSync, fsyncSync, closeSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { fsyncDirSync, swapSymlinkSync, tempNameBeside } from './durable.js';
import {
  MAX_TRIAL_STARTS,
  currentLink,
  currentTarget,
  currentVersion,
  isBootable,
  listReleases,
  readState,
  writeState,
  type DatabaseBackup,
  type Trial,
} from './state.js';

export type Say = (message: string) => void;

export interface StartPlan {
  version: string;
  /** True when this start is a trial start (the release has not marked itself healthy yet). */
  trial: boolean;
}

/** Puts the pre-trial copy back in place of the database the failed release migrated. */
export function restoreDatabase(b: DatabaseBackup): void {
  if (!existsSync(b.backup)) return;
  // A stale WAL from the failed release would be replayed onto the restored file: remove it first.
  for (const suffix of ['-wal', '-shm', '-journal']) rmSync(b.db + suffix, { force: true });
  const tmp = tempNameBeside(b.db);
  copyFileSync(b.backup, tmp);
  const fd = openSync(tmp, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, b.db);
  fsyncDirSync(dirname(b.db));
}

/**
 * Goes back to the trial's previous release and records InstallationFailed. Marks the rollback
 * as begun first, so a cut anywhere in it is finished (from the start, each step idempotent).
 */
export function rollBack(root: string, trial: Trial, reason: string, say: Say): string {
  const why = trial.rollback?.reason ?? reason;
  if (trial.rollback === null) writeState(root, { ...readState(root), trial: { ...trial, rollback: { reason: why } } });
  say(`release ${trial.version} failed its trial (${why}): going back to ${trial.previous}`);
  if (trial.database !== null) {
    try {
      restoreDatabase(trial.database);
      say(`restored the database from the copy taken before ${trial.version} migrated it`);
    } catch (err) {
      say(`could not restore the database (${(err as Error).message}); keeping it as it is`);
    }
  }
  let back = trial.previous;
  if (!isBootable(root, back)) {
    const other = listReleases(root).find((v) => v !== trial.version);
    if (other === undefined) throw new Error(`cannot roll back: previous release ${trial.previous} is gone and there is no other`);
    say(`previous release ${trial.previous} is not bootable; using ${other}`);
    back = other;
  }
  swapSymlinkSync(currentLink(root), currentTarget(back));
  writeState(root, { trial: null, outcome: { version: trial.version, outcome: 'InstallationFailed', reason: why, at: new Date().toISOString() } });
  return back;
}

/** Resolves the update state and says which release to start now. Throws when none can start. */
export function planStart(root: string, say: Say): StartPlan {
  const state = readState(root);
  let trial = state.trial;
  if (trial !== null && trial.rollback !== null) {
    rollBack(root, trial, trial.rollback.reason, say);
    trial = null;
  }
  const current = currentVersion(root);
  if (trial !== null && current !== trial.version) {
    // The installer writes the trial before it swaps `current`: a cut in between lands here.
    say(`install of ${trial.version} was interrupted before the switch; staying on ${current ?? 'the previous release'}`);
    writeState(root, {
      trial: null,
      outcome: { version: trial.version, outcome: 'InstallationFailed', reason: 'installation interrupted before the switch to the new release', at: new Date().toISOString() },
    });
    trial = null;
  }
  if (trial !== null) {
    if (!isBootable(root, trial.version)) {
      rollBack(root, trial, `release ${trial.version} is incomplete`, say);
    } else if (trial.starts >= MAX_TRIAL_STARTS) {
      rollBack(root, trial, `not marked healthy after ${trial.starts} starts`, say);
    } else {
      writeState(root, { ...readState(root), trial: { ...trial, starts: trial.starts + 1 } });
      say(`starting ${trial.version} on trial (start ${trial.starts + 1} of ${MAX_TRIAL_STARTS})`);
      return { version: trial.version, trial: true };
    }
  }
  const now = currentVersion(root);
  if (now !== null && isBootable(root, now)) return { version: now, trial: false };
  const fallback = listReleases(root)[0];
  if (fallback === undefined) throw new Error(`no bootable release under ${root}/releases`);
  say(`current (${now ?? 'missing'}) is not bootable: switching to ${fallback}`);
  swapSymlinkSync(currentLink(root), currentTarget(fallback));
  return { version: fallback, trial: false };
}

/**
 * When the update state cannot be dealt with (unreadable state dir, a write refused): start
 * whatever can start, without trial bookkeeping, rather than not at all.
 */
export function fallbackPlan(root: string): StartPlan | null {
  const now = currentVersion(root);
  if (now !== null && isBootable(root, now)) return { version: now, trial: false };
  const newest = listReleases(root)[0];
  return newest === undefined ? null : { version: newest, trial: false };
}

/** True while `version` is on trial and has not marked itself healthy. */
export function stillOnTrial(root: string, version: string): boolean {
  let t: Trial | null;
  try {
    t = readState(root).trial;
  } catch {
    return true;
  }
  return t !== null && t.version === version && t.rollback === null;
}
