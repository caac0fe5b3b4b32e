// Staging and installing a bundle into an install root: the new release lands whole beside the
// running one, on trial, with `current` switched; a refused bundle installs nothing. Power cuts:
// a child process doing the install is SIGKILLed during the extraction and after each step;
// `current` then always names a complete release, and the launcher starts one (the new one
// only when the switch happened, on trial) and reports the interrupted install.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { installBundle, INSTALL_STEPS } from '../../src/firmware/install.js';
import { takeUpdateOutcome } from '../../src/firmware/health.js';
import { verifyBundle } from '../../src/firmware/bundle.js';
import { BundleError } from '../../src/firmware/manifest.js';
import { readState } from '../../src/launcher/state.js';
import { waitFor } from '../helpers/wait.js';
import { TempDirs } from '../helpers/temp-dirs.js';
import { ROOT, layOutRoot, readLog, sha256, standInBundle, startLauncher } from './fixtures.js';

const temp = new TempDirs();
afterAll(() => temp.removeAll());

/** Every file of the release directory matches the bundle's manifest (nothing half-written). */
async function expectComplete(root: string, version: string, bundle: string): Promise<void> {
  const { manifest } = await verifyBundle(bundle);
  for (const f of manifest.files) expect(sha256(readFileSync(join(root, 'releases', version, f.path))), f.path).toBe(f.sha256);
}

describe('installBundle', () => {
  it('installs the new release beside the running one, on trial, and switches current', async () => {
    const root = layOutRoot(temp, '1.0.0', 'healthy');
    const bundle = await standInBundle(temp, '1.1.0', 'healthy');
    const steps: string[] = [];
    const r = await installBundle(bundle, { installRoot: root, onStep: (s) => steps.push(s) });
    expect(r).toMatchObject({ version: '1.1.0', previous: '1.0.0' });
    expect(steps).toEqual([...INSTALL_STEPS]);
    expect(readlinkSync(join(root, 'current'))).toBe('releases/1.1.0');
    expect(readdirSync(join(root, 'releases')).sort()).toEqual(['1.0.0', '1.1.0']);
    expect(readdirSync(join(root, 'staging'))).toEqual([]);
    await expectComplete(root, '1.1.0', bundle);
    expect(readState(root).trial).toMatchObject({ version: '1.1.0', previous: '1.0.0', starts: 0 });
    // One update at a time: the trial must end first.
    const again = await installBundle(await standInBundle(temp, '1.2.0', 'healthy'), { installRoot: root }).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(BundleError);
    expect((again as Error).message).toMatch(/1\.1\.0 is still on trial/);
  });

  it('a refused bundle (truncated, wrong platform, the running version) installs nothing', async () => {
    const root = layOutRoot(temp, '1.0.0', 'healthy');
    const truncated = await standInBundle(temp, '1.1.0', 'healthy');
    truncateSync(truncated, statSync(truncated).size - 100);
    await expect(installBundle(truncated, { installRoot: root })).rejects.toThrow(/corrupt or truncated/);
    await expect(installBundle(await standInBundle(temp, '1.1.0', 'healthy'), { installRoot: root, platform: 'linux-mips' })).rejects.toThrow(/this charger is linux-mips/);
    await expect(installBundle(await standInBundle(temp, '1.0.0', 'healthy'), { installRoot: root })).rejects.toThrow(/1\.0\.0 is the one running/);
    await expect(installBundle(join(root, 'no-such.tar.gz'), { installRoot: root })).rejects.toThrow(/cannot (read the bundle|stage the release).*ENOENT/);
    expect(readdirSync(join(root, 'releases'))).toEqual(['1.0.0']);
    expect(readdirSync(join(root, 'staging'))).toEqual([]);
    expect(readlinkSync(join(root, 'current'))).toBe('releases/1.0.0');
    expect(existsSync(join(root, 'state/update.json'))).toBe(false);
  });

  it('refuses to install without a running release to fall back to', async () => {
    const root = temp.make('fw-empty-');
    await expect(installBundle(await standInBundle(temp, '1.1.0', 'healthy'), { installRoot: root })).rejects.toThrow(/no running release/);
  });
});

/** Runs installBundle in a child and SIGKILLs it at `at` ('file-N' = after N verified files, or a step). */
function installAndCut(root: string, bundle: string, at: string): { signal: NodeJS.Signals | null; stderr: string } {
  const lib = pathToFileURL(join(ROOT, 'dist/src/firmware/install.js')).href;
  const script = `
    const { installBundle } = await import(${JSON.stringify(lib)});
    const at = ${JSON.stringify(at)};
    const cut = () => process.kill(process.pid, 'SIGKILL');
    await installBundle(${JSON.stringify(bundle)}, {
      installRoot: ${JSON.stringify(root)},
      onStep: (s) => { if (s === at) cut(); },
      onFile: (_p, _b) => { globalThis.files = (globalThis.files ?? 0) + 1; if (at === 'file-' + globalThis.files) cut(); },
    });
    console.error('not cut');`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  return { signal: r.signal, stderr: r.stderr };
}

describe('a power cut during the install', () => {
  const cuts = ['file-2', ...INSTALL_STEPS];
  it.each(cuts)('cut at %s: current names a complete release and the launcher starts one', async (at) => {
    const root = layOutRoot(temp, '1.0.0', 'healthy');
    const bundle = await standInBundle(temp, '1.1.0', 'healthy');
    const r = installAndCut(root, bundle, at);
    expect(r.stderr).not.toMatch(/not cut|Error/);
    expect(r.signal).toBe('SIGKILL');

    const switched = at === 'switched';
    expect(readlinkSync(join(root, 'current'))).toBe(switched ? 'releases/1.1.0' : 'releases/1.0.0');
    // A release directory is there whole or not at all.
    const releases = readdirSync(join(root, 'releases')).sort();
    expect(releases).toEqual(['file-2', 'pruned', 'extracted'].includes(at) ? ['1.0.0'] : ['1.0.0', '1.1.0']);
    if (releases.includes('1.1.0')) await expectComplete(root, '1.1.0', bundle);

    const log = join(temp.make('fw-log-'), 'log');
    const launcher = startLauncher(root, ['--foreground', '--restart-delay', '50', 'run', '--config', '/dev/null'], { STANDIN_LOG: log });
    try {
      await waitFor(() => readLog(log).some((e) => e.event === 'start'), 15_000, 'a release to start');
      expect(readLog(log)[0]!.version).toBe(switched ? '1.1.0' : '1.0.0');
      if (switched) {
        // Started on trial, it marks itself healthy: the update is complete.
        await waitFor(() => readState(root).outcome !== null, 15_000, 'the trial to end');
        expect(readState(root)).toMatchObject({ trial: null, outcome: { version: '1.1.0', outcome: 'Installed' } });
      } else if (at === 'trial-recorded') {
        expect(takeUpdateOutcome(root)).toMatchObject({ version: '1.1.0', outcome: 'InstallationFailed', reason: expect.stringMatching(/interrupted before the switch/) });
      } else {
        expect(readState(root)).toEqual({ trial: null, outcome: null });
      }
    } finally {
      launcher.child.kill('SIGTERM');
      await launcher.exit;
    }
    // The next install clears what the cut left behind and succeeds.
    if (!switched) {
      const r2 = await installBundle(bundle, { installRoot: root });
      expect(r2.version).toBe('1.1.0');
      expect(readdirSync(join(root, 'staging'))).toEqual([]);
      await expectComplete(root, '1.1.0', bundle);
    }
  }, 60_000);
});
