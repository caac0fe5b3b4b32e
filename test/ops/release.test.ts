// `npm run release` run once, in a temporary copy of the checkout (its node_modules linked to
// this one's, as a shared install would be), writing outside it: the production tree it makes is at most 25 MiB,
// holds no development dependency, no native build leftovers and no source maps, runs
// `charger-agent version`, says clearly that dev-csms is not in it, and installs with
// scripts/install.sh into a throwaway root with a config the release's own loader accepted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, realpathSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadAgentConfig } from '../../src/config/agent-config.js';
import { TempDirs } from '../helpers/temp-dirs.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const MAX_BYTES = 25 * 1024 * 1024;
const tempDirs = new TempDirs();
const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

let copy: string;
let release: string;
let made: { status: number | null; stdout: string; stderr: string };

/** Bytes on disk as du counts them. */
function diskUsage(path: string): number {
  const st = lstatSync(path);
  let total = st.blocks * 512;
  if (st.isDirectory()) for (const name of readdirSync(path)) total += diskUsage(join(path, name));
  return total;
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

beforeAll(() => {
  // A copy of the checkout's files as git knows them (tracked and new, not ignored), not of dist/.
  copy = tempDirs.make('ca-release-src-');
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: ROOT, encoding: 'utf8' })
    .split('\0')
    .filter((f) => f !== '' && f !== 'node_modules' && existsSync(join(ROOT, f)));
  for (const f of files) {
    mkdirSync(dirname(join(copy, f)), { recursive: true });
    cpSync(join(ROOT, f), join(copy, f));
  }
  symlinkSync(realpathSync(join(ROOT, 'node_modules')), join(copy, 'node_modules'));
  // Made outside the checkout, as on the board: inside it, Node would find the checkout's own
  // node_modules (with the development dependencies) by walking up from release/.
  release = join(tempDirs.make('ca-release-out-'), 'charger-agent');
  const r = spawnSync('npm', ['run', 'release', '--', '--out', release], { cwd: copy, encoding: 'utf8', timeout: 180_000 });
  made = { status: r.status, stdout: r.stdout, stderr: r.stderr };
}, 200_000);

afterAll(() => {
  tempDirs.removeAll();
});

describe('npm run release', () => {
  it('makes release/ and prints its size', () => {
    expect(made.stderr).not.toMatch(/error/i);
    expect(made.status).toBe(0);
    expect(made.stdout).toMatch(/release: size [0-9.]+ MiB/);
    for (const f of ['package.json', 'package-lock.json', 'dist/src/cli.js', 'node_modules', 'systemd/charger-agent.service', 'scripts/install.sh', 'scripts/install-config.mjs', 'hal/sim/pty-relay.py', 'LICENSE', 'config.example.json']) {
      expect(existsSync(join(release, f)), f).toBe(true);
    }
  });

  it('is at most 25 MiB (Node.js itself excluded)', () => {
    const bytes = diskUsage(release);
    // The figure, for the report beside the target.
    process.stdout.write(`release size: ${(bytes / 1048576).toFixed(1)} MiB (target <= 25 MiB)\n`);
    expect(bytes).toBeLessThanOrEqual(MAX_BYTES);
  });

  it('holds the production dependencies only, without build leftovers or source maps', () => {
    const pkg = JSON.parse(readFileSync(join(release, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    for (const dev of Object.keys(pkg.devDependencies)) expect(existsSync(join(release, 'node_modules', dev)), dev).toBe(false);
    for (const dep of Object.keys(pkg.dependencies)) expect(existsSync(join(release, 'node_modules', dep)), dep).toBe(true);
    const files = filesUnder(release);
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(existsSync(join(release, 'node_modules/better-sqlite3/deps'))).toBe(false);
    expect(readdirSync(join(release, 'node_modules/better-sqlite3/build/Release'))).toEqual(['better_sqlite3.node']);
    expect(readdirSync(join(release, 'node_modules/@serialport/bindings-cpp/prebuilds'))).toEqual([`${process.platform}-${process.arch}`]);
    // No link left pointing at a removed package (existsSync follows links).
    expect(files.filter((f) => lstatSync(f).isSymbolicLink() && !existsSync(f))).toEqual([]);
  });

  it('runs: version, --help, and SQLite opens', () => {
    const run = (args: string[]) => spawnSync(process.execPath, ['dist/src/cli.js', ...args], { cwd: release, encoding: 'utf8', timeout: 30_000 });
    const v = run(['version']);
    expect(v.status).toBe(0);
    expect(v.stdout.trim()).toBe(version);
    expect(run(['--help']).status).toBe(0);
    const sqlite = spawnSync(process.execPath, ['-e', "new (require('better-sqlite3'))(':memory:').prepare('select 1 as x').get().x === 1 || process.exit(1)"], { cwd: release, encoding: 'utf8' });
    expect(sqlite.stderr).toBe('');
    expect(sqlite.status).toBe(0);
  });

  it('runs the bundled start path, every chunk of which loads from the production node_modules', () => {
    expect(readFileSync(join(release, 'dist/src/cli.js'), 'utf8')).toMatch(/^(#!.*\n)?\/\/ Built by scripts\/build-start\.mjs/);
    const { files } = JSON.parse(readFileSync(join(release, 'dist/start-bundle.json'), 'utf8')) as { files: { file: string }[] };
    expect(files.length).toBeGreaterThan(5);
    // Importing a chunk runs its modules' top level only; a package the release lacks fails here.
    const loadAll = `for (const f of ${JSON.stringify(files.map((f) => `./dist/${f.file}`))}) await import(f); console.log('loaded');`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', loadAll], { cwd: release, encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('loaded');
  });

  it('dev-csms says it needs the development dependencies, without a stack trace', () => {
    const r = spawnSync(process.execPath, ['dist/src/cli.js', 'dev-csms', '--port', '0'], { cwd: release, encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe('charger-agent dev-csms: dev-csms needs the development dependencies: run from a source checkout with npm ci');
  });

  it('installs with its own install.sh, the config checked by its own loader', () => {
    const dest = tempDirs.make('ca-release-dest-');
    const r = spawnSync(
      'sh',
      [join(release, 'scripts/install.sh'), '--destdir', dest, '--node', '/usr/bin/node', '--charge-point-id', 'CP-REL', '--csms-url', 'ws://192.0.2.1:9000/ocpp', '--vendor', 'Acme', '--model', 'AC22'],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.stderr).not.toMatch(/error/);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`installed release ${version.replace(/\./g, '\\.')} in /opt/charger-agent/releases/\\S+ \\([0-9.]+ MiB\\)`));
    const installed = join(dest, 'opt/charger-agent/releases', version);
    expect(diskUsage(installed)).toBeLessThanOrEqual(MAX_BYTES);
    expect(loadAgentConfig(join(dest, 'etc/charger-agent/config.json'))).toMatchObject({ chargePointId: 'CP-REL', identity: { vendor: 'Acme', model: 'AC22' } });
    const v = spawnSync(process.execPath, [join(installed, 'dist/src/cli.js'), 'version'], { encoding: 'utf8' });
    expect(v.stdout.trim()).toBe(version);
  });
});
