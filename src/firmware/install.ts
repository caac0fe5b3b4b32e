// Installing a verified bundle beside the running release, in steps that each survive a power
// cut (at worst the previous release boots):
//   1. pruned     releases other than the running one moved into staging/ and removed
//   2. extracted  the bundle verified while extracted into staging/<version>-<random>/, every
//                 file and directory fsync'd
//   3. renamed    staging dir renamed to releases/<version> (a release directory is complete
//                 or absent, never half there)
//   4. trial-recorded  state/update.json names the new release on trial, the running one as previous
//   5. switched   `current` swapped to the new release (symlink beside it, renamed over it)
// A cut before 5 leaves `current` on the running release; one between 4 and 5 leaves a trial the
// launcher drops at the next start (and records as InstallationFailed). The caller restarts the
// agent afterwards (the launcher, or systemd's Restart=always, then starts the new release on trial).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fsyncDirSync, swapSymlinkSync } from '../launcher/durable.js';
import { currentLink, currentTarget, currentVersion, isBootable, readState, releaseDir, releasesDir, writeState } from '../launcher/state.js';
import { extractBundle, type BundleInfo, type ReadBundleOptions } from './bundle.js';
import { BundleError } from './manifest.js';

export type InstallStep = 'pruned' | 'extracted' | 'renamed' | 'trial-recorded' | 'switched';
export const INSTALL_STEPS: readonly InstallStep[] = ['pruned', 'extracted', 'renamed', 'trial-recorded', 'switched'];

export interface InstallOptions extends ReadBundleOptions {
  installRoot: string;
  /** Called after each durable step (tests cut the power here). */
  onStep?: (step: InstallStep) => void;
}

export interface InstallResult extends BundleInfo {
  version: string;
  previous: string;
}

export const stagingDir = (root: string): string => join(root, 'staging');

/** Removes a directory tree so that no half-removed release is ever seen under releases/. */
function discard(root: string, path: string): void {
  const trash = join(stagingDir(root), `.trash-${randomBytes(4).toString('hex')}`);
  renameSync(path, trash);
  fsyncDirSync(join(path, '..'));
  rmSync(trash, { recursive: true, force: true });
}

/** Installs `bundlePath` as the next release, on trial. Throws BundleError with the reason when refused. */
export async function installBundle(bundlePath: string, opts: InstallOptions): Promise<InstallResult> {
  const root = opts.installRoot;
  const step = (s: InstallStep): void => opts.onStep?.(s);
  const previous = currentVersion(root);
  if (previous === null || !isBootable(root, previous)) {
    throw new BundleError('io', `no running release under ${root}/current to fall back to: install with scripts/install.sh first`);
  }
  const state = readState(root);
  if (state.trial !== null) {
    throw new BundleError('unsupported', `release ${state.trial.version} is still on trial: it must mark itself healthy (or be rolled back) before another update`);
  }

  // 1. Room: leftovers of interrupted installs and every release but the running one go.
  mkdirSync(stagingDir(root), { recursive: true, mode: 0o755 });
  for (const name of readdirSync(stagingDir(root))) rmSync(join(stagingDir(root), name), { recursive: true, force: true });
  for (const name of readdirSync(releasesDir(root))) {
    if (name === previous) continue;
    try {
      discard(root, join(releasesDir(root), name));
    } catch (err) {
      // The release install.sh put there is root's: the service cannot move it, and keeps it.
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EACCES' && code !== 'EPERM') throw err;
    }
  }
  fsyncDirSync(releasesDir(root));
  step('pruned');

  // 2. Verified and extracted aside.
  const stage = join(stagingDir(root), `${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(stage, { mode: 0o755 });
  let info: BundleInfo;
  try {
    info = await extractBundle(bundlePath, stage, opts);
    const version = info.manifest.version;
    if (version === previous) throw new BundleError('unsupported', `version ${version} is the one running`);
    if (!existsSync(join(stage, 'dist/src/cli.js'))) throw new BundleError('corrupt', 'the release in the bundle has no dist/src/cli.js');
  } catch (err) {
    rmSync(stage, { recursive: true, force: true });
    throw err;
  }
  const version = info.manifest.version;
  step('extracted');

  // 3. In place, whole.
  renameSync(stage, releaseDir(root, version));
  fsyncDirSync(releasesDir(root));
  fsyncDirSync(stagingDir(root));
  step('renamed');

  // 4. On trial before it can boot: the launcher must know what to go back to.
  writeState(root, {
    trial: { version, previous, starts: 0, installedAt: new Date().toISOString(), database: null, rollback: null },
    outcome: state.outcome,
  });
  step('trial-recorded');

  // 5. The switch.
  swapSymlinkSync(currentLink(root), currentTarget(version));
  step('switched');
  return { ...info, version, previous };
}
