// Firmware test fixtures: stand-in releases whose cli.js is a small script (marks itself
// healthy, exits 1 at start, or hangs without marking), an install root laid out as
// install.sh makes it with the compiled launcher in bin/, hand-made (hostile) bundles, and the
// launcher run as a real child process.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { createGzip } from 'node:zlib';
import { TarWriter } from '../../src/firmware/tar.js';
import { makeBundle } from '../../src/firmware/make-bundle.js';
import type { TempDirs } from '../helpers/temp-dirs.js';

export const ROOT = new URL('../..', import.meta.url).pathname;
const DIST = join(ROOT, 'dist/src');

export type StandInMode = 'healthy' | 'fail' | 'hang';

/** The stand-in agent: logs each start (and its stop) as a JSON line to $STANDIN_LOG. */
function standInCli(mode: StandInMode): string {
  const health = pathToFileURL(join(DIST, 'firmware/health.js')).href;
  const requireFrom = join(ROOT, 'package.json');
  return `import { appendFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { backupBeforeMigration, markReleaseHealthy } from ${JSON.stringify(health)};
const root = process.env.CHARGER_AGENT_INSTALL_ROOT;
const version = process.env.CHARGER_AGENT_RELEASE;
const log = (event) => appendFileSync(process.env.STANDIN_LOG, JSON.stringify({ event, version, mode: ${JSON.stringify(mode)}, argv: process.argv.slice(2), watchdogPid: process.env.WATCHDOG_PID ?? null }) + '\\n');
process.on('SIGTERM', () => { log('stop'); process.exit(0); });
log('start');
const dbPath = process.env.STANDIN_DB;
if (dbPath && root) {
  // As the agent will: copy the database before this release migrates it.
  await backupBeforeMigration(root, version, dbPath);
  const Database = createRequire(${JSON.stringify(requireFrom)})('better-sqlite3');
  const db = new Database(dbPath);
  db.exec('CREATE TABLE IF NOT EXISTS v' + version.replace(/\\W/g, '_') + ' (x)');
  db.close();
}
if (${JSON.stringify(mode)} === 'fail') process.exit(1);
if (${JSON.stringify(mode)} === 'healthy' && root) {
  try { markReleaseHealthy(root, version); } catch (err) { log('mark-failed'); }
}
setInterval(() => {}, 1000);
`;
}

/**
 * A stand-in that can run in the launcher's process, as the real cli.js: it exports main(argv),
 * does nothing on import, and logs its pid with each start; main resolves 0 on SIGTERM.
 */
function standInInProcessCli(): string {
  return `import { appendFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
export function main(argv) {
  const log = (event) => appendFileSync(process.env.STANDIN_LOG, JSON.stringify({ event, version: process.env.CHARGER_AGENT_RELEASE, root: process.env.CHARGER_AGENT_INSTALL_ROOT, pid: process.pid, argv, watchdogPid: process.env.WATCHDOG_PID ?? null }) + '\\n');
  const keepAlive = setInterval(() => {}, 1000);
  // The handler is in place before the start is logged: a test stops it once it sees the start.
  const stopped = new Promise((resolve) => process.once('SIGTERM', () => { log('stop'); clearInterval(keepAlive); resolve(0); }));
  log('start');
  return stopped;
}
// Started as a program (a trial start), it runs main itself.
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) main(process.argv.slice(2)).then((code) => process.exit(code));
`;
}

/** A production-like tree: package.json, dist/src/cli.js, a node_modules with a .bin symlink. */
export function makeStandInTree(dir: string, version: string, mode: StandInMode | 'in-process'): string {
  mkdirSync(join(dir, 'dist/src'), { recursive: true });
  // 'in-process': it says, as the real package.json does, that it can run in the launcher's process.
  const launcher = mode === 'in-process' ? { launcher: { inProcess: 'dist/src/cli.js' } } : {};
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'charger-agent', version, type: 'module', ...launcher }));
  writeFileSync(join(dir, 'dist/src/cli.js'), mode === 'in-process' ? standInInProcessCli() : standInCli(mode));
  mkdirSync(join(dir, 'node_modules/tool/bin'), { recursive: true });
  mkdirSync(join(dir, 'node_modules/.bin'), { recursive: true });
  writeFileSync(join(dir, 'node_modules/tool/bin/tool.js'), '#!/usr/bin/env node\n', { mode: 0o755 });
  writeFileSync(join(dir, 'node_modules/tool/package.json'), '{"name":"tool"}');
  symlinkSync('../tool/bin/tool.js', join(dir, 'node_modules/.bin/tool'));
  return dir;
}

export async function standInBundle(temp: TempDirs, version: string, mode: StandInMode | 'in-process'): Promise<string> {
  const tree = makeStandInTree(join(temp.make('fw-tree-'), 'release'), version, mode);
  const out = join(temp.make('fw-bundle-'), `charger-agent-${version}.tar.gz`);
  await makeBundle({ from: tree, version, out });
  return out;
}

/** The compiled launcher as install.sh puts it: <root>/bin/*.js with a package.json for ESM. */
export function installLauncher(root: string): void {
  mkdirSync(join(root, 'bin'), { recursive: true });
  for (const f of readdirSync(join(DIST, 'launcher')).filter((n) => n.endsWith('.js'))) cpSync(join(DIST, 'launcher', f), join(root, 'bin', f));
  writeFileSync(join(root, 'bin/package.json'), '{ "type": "module" }\n');
}

/** An install root with `version` installed and current (the layout install.sh makes). */
export function layOutRoot(temp: TempDirs, version: string, mode: StandInMode): string {
  const root = temp.make('fw-root-');
  makeStandInTree(join(root, 'releases', version), version, mode);
  symlinkSync(`releases/${version}`, join(root, 'current'));
  installLauncher(root);
  return root;
}

export interface BundleEntry {
  path: string;
  type?: 'file' | 'directory' | 'symlink';
  data?: string;
  target?: string;
}

export const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/** A manifest listing `entries` under release/ as they are (for crafting hostile bundles). */
export function manifestFor(version: string, entries: BundleEntry[]): Record<string, unknown> {
  const rel = (p: string): string => p.replace(/^release\//, '');
  return {
    format: 'charger-agent-firmware',
    formatVersion: 1,
    name: 'charger-agent',
    version,
    platform: `${process.platform}-${process.arch}`,
    nodeAbi: process.versions.modules,
    createdAt: new Date(0).toISOString(),
    directories: entries.filter((e) => e.type === 'directory').map((e) => rel(e.path)),
    files: entries.filter((e) => (e.type ?? 'file') === 'file').map((e) => ({ path: rel(e.path), size: Buffer.byteLength(e.data ?? ''), sha256: sha256(e.data ?? ''), mode: 0o644 })),
    symlinks: entries.filter((e) => e.type === 'symlink').map((e) => ({ path: rel(e.path), target: e.target })),
    controllerImage: null,
  };
}

/** Writes a bundle by hand: the manifest (as given), then the entries (as given). */
export async function craftBundle(out: string, manifest: Record<string, unknown> | null, entries: BundleEntry[], extra: { signature?: string } = {}): Promise<string> {
  const gzip = createGzip();
  const done = pipeline(gzip, createWriteStream(out));
  const tar = new TarWriter(gzip);
  if (manifest !== null) await tar.addBuffer('manifest.json', Buffer.from(JSON.stringify(manifest)));
  if (extra.signature !== undefined) await tar.addBuffer('manifest.sig', Buffer.from(extra.signature));
  for (const e of entries) {
    if (e.type === 'directory') await tar.addDirectory(e.path);
    else if (e.type === 'symlink') await tar.addSymlink(e.path, e.target ?? '');
    else await tar.addBuffer(e.path, Buffer.from(e.data ?? ''));
  }
  await tar.finish();
  gzip.end();
  await done;
  return out;
}

export interface StandInEvent {
  event: 'start' | 'stop' | 'mark-failed';
  version: string;
  mode?: StandInMode;
  argv: string[];
  watchdogPid: string | null;
  /** The in-process stand-in's: its process and the install root it was given. */
  pid?: number;
  root?: string;
}

export function readLog(log: string): StandInEvent[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as StandInEvent);
}

export interface LauncherRun {
  child: ChildProcess;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts <root>/bin/launcher.js as a real process (no systemd: INVOCATION_ID removed unless given). */
export function startLauncher(root: string, args: string[], env: Record<string, string>): LauncherRun {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  if (env['INVOCATION_ID'] === undefined) delete childEnv['INVOCATION_ID'];
  const child = spawn(process.execPath, [join(root, 'bin/launcher.js'), ...args], { env: childEnv, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  return { child, stderr: () => err, exit };
}
