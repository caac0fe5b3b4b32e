// The install root's layout and the update state the launcher and the agent share:
//   <root>/releases/<version>/   complete releases (only ever created by an atomic rename)
//   <root>/current -> releases/<version>   the one that boots
//   <root>/state/update.json     the release on trial and the outcome of the last update
// update.json is small and always replaced atomically. Only one process writes it at a time:
// the installer (in the running agent) before it swaps `current`, the launcher while no agent
// runs (before a start, after a stop), and the agent when it marks itself healthy or takes
// the outcome (while the launcher only reads).
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from './durable.js';

export const MAX_TRIAL_STARTS = 3;

export interface DatabaseBackup {
  /** The live database file. */
  db: string;
  /** A complete copy taken before the trial release migrated it. */
  backup: string;
}

export interface Trial {
  version: string;
  /** The release to go back to. */
  previous: string;
  /** Starts of this release so far, counted by the launcher before each one. */
  starts: number;
  installedAt: string;
  database: DatabaseBackup | null;
  /** Set once a rollback began, so one cut short by a power loss is finished at the next start. */
  rollback: { reason: string } | null;
}

export type UpdateOutcomeKind = 'Installed' | 'InstallationFailed';

export interface UpdateOutcome {
  version: string;
  outcome: UpdateOutcomeKind;
  reason: string;
  at: string;
}

export interface UpdateState {
  trial: Trial | null;
  /** Not yet reported over OCPP; taken once. */
  outcome: UpdateOutcome | null;
}

export const releasesDir = (root: string): string => join(root, 'releases');
export const currentLink = (root: string): string => join(root, 'current');
export const stateDir = (root: string): string => join(root, 'state');
export const stateFile = (root: string): string => join(stateDir(root), 'update.json');
export const releaseDir = (root: string, version: string): string => join(releasesDir(root), version);
/** What `current` holds for a version: relative, so the root can be moved (or be a DESTDIR). */
export const currentTarget = (version: string): string => `releases/${version}`;

/** A version name that can only name a directory directly under releases/. */
function isPlainName(v: string): boolean {
  return /^[0-9A-Za-z][0-9A-Za-z.+-]{0,63}$/.test(v);
}

export function readState(root: string): UpdateState {
  let text: string;
  try {
    text = readFileSync(stateFile(root), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { trial: null, outcome: null };
    throw err;
  }
  // Written atomically, so a bad file is not a torn write but damage: start without a trial.
  try {
    const raw = JSON.parse(text) as Partial<UpdateState>;
    const trial = raw.trial && typeof raw.trial.version === 'string' && typeof raw.trial.previous === 'string' ? raw.trial : null;
    const outcome = raw.outcome && typeof raw.outcome.version === 'string' ? raw.outcome : null;
    return {
      trial: trial ? { ...trial, starts: Number(trial.starts) || 0, database: trial.database ?? null, rollback: trial.rollback ?? null } : null,
      outcome,
    };
  } catch {
    return { trial: null, outcome: null };
  }
}

export function writeState(root: string, state: UpdateState): void {
  mkdirSync(stateDir(root), { recursive: true, mode: 0o755 });
  writeFileAtomicSync(stateFile(root), `${JSON.stringify(state, null, 2)}\n`);
}

/** The version `current` points at, or null when it is missing or not a releases/<v> link. */
export function currentVersion(root: string): string | null {
  let target: string;
  try {
    target = readlinkSync(currentLink(root));
  } catch {
    return null;
  }
  const m = /^(?:.*\/)?releases\/([^/]+)\/?$/.exec(target);
  return m && isPlainName(m[1]!) ? m[1]! : null;
}

/** A release directory that can start: its entry point is there. */
export function isBootable(root: string, version: string): boolean {
  if (!isPlainName(version)) return false;
  try {
    return lstatSync(releaseDir(root, version)).isDirectory() && existsSync(join(releaseDir(root, version), 'dist/src/cli.js'));
  } catch {
    return false;
  }
}

/** Compares versions numerically part by part ("1.10.0" > "1.9.2"); a pre-release sorts lower. */
export function compareVersions(a: string, b: string): number {
  const split = (v: string): [number[], string] => {
    const [main = '', pre = ''] = v.split('+')[0]!.split(/-(.*)/s);
    return [main.split('.').map((n) => Number(n) || 0), pre];
  };
  const [am, ap] = split(a);
  const [bm, bp] = split(b);
  for (let i = 0; i < Math.max(am.length, bm.length); i++) {
    const d = (am[i] ?? 0) - (bm[i] ?? 0);
    if (d !== 0) return d;
  }
  if (ap === bp) return a < b ? -1 : a > b ? 1 : 0;
  if (ap === '') return 1;
  if (bp === '') return -1;
  return ap < bp ? -1 : 1;
}

/** Complete releases, newest first. Names starting with '.' are staging leftovers, never releases. */
export function listReleases(root: string): string[] {
  let names: string[];
  try {
    names = readdirSync(releasesDir(root));
  } catch {
    return [];
  }
  return names.filter((n) => isBootable(root, n)).sort((a, b) => compareVersions(b, a));
}
