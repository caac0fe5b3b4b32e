// The launcher as a real process over a real install root (install.sh into a throwaway root,
// or the same layout made here), with stand-in releases: an update that marks itself healthy
// is kept (Installed, reported once); one that exits at start is rolled back after 3 starts, one
// that hangs when its trial time runs out (InstallationFailed, the database the failed release
// migrated restored); under systemd it exits with the agent's code and lets Restart= count; a
// rollback cut short is finished at the next start; signals reach the agent.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { installBundle } from '../../src/firmware/install.js';
import { backupDatabase, takeUpdateOutcome } from '../../src/firmware/health.js';
import { readState, writeState } from '../../src/launcher/state.js';
import { waitFor } from '../helpers/wait.js';
import { TempDirs } from '../helpers/temp-dirs.js';
import { ROOT, installLauncher, layOutRoot, makeStandInTree, readLog, standInBundle, startLauncher, type LauncherRun } from '../firmware/fixtures.js';

const temp = new TempDirs();
afterAll(() => temp.removeAll());

const FOREGROUND = ['--foreground', '--restart-delay', '50'];
const AGENT_ARGS = ['run', '--config', '/etc/charger-agent/config.json'];

async function stop(run: LauncherRun): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  run.child.kill('SIGTERM');
  return run.exit;
}

const starts = (log: string, version: string): number => readLog(log).filter((e) => e.event === 'start' && e.version === version).length;

function tableNames(dbPath: string): string[] {
  const db = new Database(dbPath, { readonly: true });
  try {
    return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>).map((r) => r.name);
  } finally {
    db.close();
  }
}

function makeDb(dir: string): string {
  const path = join(dir, 'agent.db');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE sessions (id INTEGER PRIMARY KEY, energy REAL)');
  db.prepare('INSERT INTO sessions (energy) VALUES (?)').run(12.5);
  db.close();
  return path;
}

describe('launcher', () => {
  it('installed by install.sh: an update that marks itself healthy is kept and reported Installed once', async () => {
    // The built project's launcher, installed by install.sh into a throwaway root.
    const from = makeStandInTree(join(temp.make('fw-from-'), 'release'), '1.0.0', 'healthy');
    cpSync(join(ROOT, 'dist/src/launcher'), join(from, 'dist/src/launcher'), { recursive: true });
    cpSync(join(ROOT, 'systemd'), join(from, 'systemd'), { recursive: true });
    const dest = temp.make('fw-destdir-');
    const inst = spawnSync('sh', [join(ROOT, 'scripts/install.sh'), '--destdir', dest, '--from', from, '--node', '/usr/bin/node'], { encoding: 'utf8', timeout: 60_000 });
    expect(inst.stderr).not.toMatch(/error/);
    expect(inst.status).toBe(0);
    const root = join(dest, 'opt/charger-agent');

    const dbDir = temp.make('fw-db-');
    const db = makeDb(dbDir);
    await installBundle(await standInBundle(temp, '1.1.0', 'healthy'), { installRoot: root });
    const log = join(temp.make('fw-log-'), 'log');
    // systemd names the launcher in WATCHDOG_PID: the agent must not see it.
    const run = startLauncher(root, [...FOREGROUND, ...AGENT_ARGS], { STANDIN_LOG: log, STANDIN_DB: db, WATCHDOG_PID: '1' });
    await waitFor(() => readState(root).outcome !== null, 15_000, 'the trial to end');
    expect(readLog(log)[0]).toMatchObject({ event: 'start', version: '1.1.0', argv: AGENT_ARGS, watchdogPid: null });
    expect(readlinkSync(join(root, 'current'))).toBe('releases/1.1.0');
    expect(takeUpdateOutcome(root)).toMatchObject({ version: '1.1.0', outcome: 'Installed' });
    expect(takeUpdateOutcome(root)).toBeNull();
    // Healthy: the pre-update copy of the database is gone, the migration stays.
    expect(tableNames(db)).toEqual(['sessions', 'v1_1_0']);
    expect(existsSync(join(root, 'state/database-before-1.1.0.sqlite'))).toBe(false);
    // SIGTERM goes to the agent, which stops cleanly; the launcher exits with its code, no restart.
    expect(await stop(run)).toEqual({ code: 0, signal: null });
    expect(readLog(log).map((e) => `${e.event} ${e.version}`)).toEqual(['start 1.1.0', 'stop 1.1.0']);
  }, 60_000);

  it('an update that exits at start is rolled back after 3 starts; its migration is undone', async () => {
    const root = layOutRoot(temp, '1.0.0', 'healthy');
    const db = makeDb(temp.make('fw-db-'));
    await installBundle(await standInBundle(temp, '1.1.0', 'fail'), { installRoot: root });
    const log = join(temp.make('fw-log-'), 'log');
    const run = startLauncher(root, [...FOREGROUND, ...AGENT_ARGS], { STANDIN_LOG: log, STANDIN_DB: db });
    try {
      await waitFor(() => starts(log, '1.0.0') > 0, 20_000, 'the previous release to start');
      expect(starts(log, '1.1.0')).toBe(3);
      expect(readlinkSync(join(root, 'current'))).toBe('releases/1.0.0');
      expect(takeUpdateOutcome(root)).toMatchObject({ version: '1.1.0', outcome: 'InstallationFailed', reason: 'not marked healthy after 3 starts' });
      // The database is the one from before 1.1.0 migrated it, rows included (1.0.0 may be adding its own table).
      expect(tableNames(db)).toContain('sessions');
      expect(tableNames(db)).not.toContain('v1_1_0');
      const conn = new Database(db, { readonly: true });
      expect(conn.prepare('SELECT energy FROM sessions').all()).toEqual([{ energy: 12.5 }]);
      conn.close();
      expect(run.stderr()).toMatch(/release 1\.1\.0 failed its trial \(not marked healthy after 3 starts\): going back to 1\.0\.0/);
    } finally {
      await stop(run);
    }
  }, 60_000);

  it('an update that hangs without marking itself healthy is rolled back when its trial time runs out', async () => {
    const root = layOutRoot(temp, '1.0.0', 'healthy');
    await installBundle(await standInBundle(temp, '1.1.0', 'hang'), { installRoot: root });
    const log = join(temp.make('fw-log-'), 'log');
    const run = startLauncher(root, [...FOREGROUND, '--trial-timeout', '1', ...AGENT_ARGS], { STANDIN_LOG: log });
    try {
      await waitFor(() => starts(log, '1.0.0') > 0, 20_000, 'the previous release to start');
      // Stopped with SIGTERM (it logged its stop), then the previous release.
      expect(readLog(log).map((e) => `${e.event} ${e.version}`)).toEqual(['start 1.1.0', 'stop 1.1.0', 'start 1.0.0']);
      expect(readlinkSync(join(root, 'current'))).toBe('releases/1.0.0');
      expect(takeUpdateOutcome(root)).toMatchObject({ version: '1.1.0', outcome: 'InstallationFailed', reason: 'not marked healthy within 1 s' });
    } finally {
      await stop(run);
    }
  }, 60_000);

  it('under systemd: exits with the agent\'s code each time, and the 4th start goes back', async () => {
    const root = layOutRoot(temp, '1.0.0', 'healthy');
    await installBundle(await standInBundle(temp, '1.1.0', 'fail'), { installRoot: root });
    const log = join(temp.make('fw-log-'), 'log');
    const env = { STANDIN_LOG: log, INVOCATION_ID: 'test' };
    for (let i = 1; i <= 3; i++) {
      const run = startLauncher(root, AGENT_ARGS, env);
      expect(await run.exit).toEqual({ code: 1, signal: null });
      expect(readState(root).trial?.starts).toBe(i);
    }
    const run = startLauncher(root, AGENT_ARGS, env);
    await waitFor(() => starts(log, '1.0.0') > 0, 15_000, 'the previous release to start');
    expect(readState(root).outcome).toMatchObject({ version: '1.1.0', outcome: 'InstallationFailed' });
    expect(await stop(run)).toEqual({ code: 0, signal: null });
  }, 60_000);

  it('finishes a rollback a power cut interrupted, and falls back when current is broken', async () => {
    const root = layOutRoot(temp, '1.0.0', 'healthy');
    await installBundle(await standInBundle(temp, '1.1.0', 'hang'), { installRoot: root });
    const trial = readState(root).trial!;
    // As the launcher left it when the power went: rollback begun, current still on 1.1.0.
    writeState(root, { trial: { ...trial, starts: 3, rollback: { reason: 'not marked healthy after 3 starts' } }, outcome: null });
    const log = join(temp.make('fw-log-'), 'log');
    let run = startLauncher(root, [...FOREGROUND, ...AGENT_ARGS], { STANDIN_LOG: log });
    await waitFor(() => starts(log, '1.0.0') > 0, 15_000, 'the previous release to start');
    await stop(run);
    expect(readState(root)).toMatchObject({ trial: null, outcome: { version: '1.1.0', outcome: 'InstallationFailed', reason: 'not marked healthy after 3 starts' } });
    expect(starts(log, '1.1.0')).toBe(0);

    // current gone (or pointing at nothing): the newest complete release starts.
    rmSync(join(root, 'current'));
    run = startLauncher(root, [...FOREGROUND, ...AGENT_ARGS], { STANDIN_LOG: log });
    await waitFor(() => starts(log, '1.1.0') > 0, 15_000, 'a release to start');
    await stop(run);
    expect(readlinkSync(join(root, 'current'))).toBe('releases/1.1.0');
    expect(run.stderr()).toMatch(/current \(missing\) is not bootable: switching to 1\.1\.0/);
  }, 60_000);

  it('starts the current release even when the update state cannot be read', async () => {
    const root = layOutRoot(temp, '1.0.0', 'healthy');
    // A directory where the state file should be: reading it fails (not "no state").
    mkdirSync(join(root, 'state/update.json'), { recursive: true });
    const log = join(temp.make('fw-log-'), 'log');
    const run = startLauncher(root, [...FOREGROUND, ...AGENT_ARGS], { STANDIN_LOG: log });
    await waitFor(() => starts(log, '1.0.0') > 0, 15_000, 'the release to start');
    expect(await stop(run)).toEqual({ code: 0, signal: null });
    expect(run.stderr()).toMatch(/update state not handled: .*EISDIR.*; starting 1\.0\.0 as it is/);
  });

  it('under systemd with no trial, runs the agent in its own process (no second Node start); a trial start is still a supervised child', async () => {
    const root = layOutRoot(temp, '1.0.0', 'healthy');
    rmSync(join(root, 'releases/1.0.0'), { recursive: true });
    makeStandInTree(join(root, 'releases/1.0.0'), '1.0.0', 'in-process');
    const log = join(temp.make('fw-log-'), 'log');
    const env = { STANDIN_LOG: log, INVOCATION_ID: 'test', WATCHDOG_PID: 'launcher' };
    let run = startLauncher(root, AGENT_ARGS, env);
    await waitFor(() => readLog(log).length > 0, 15_000, 'the agent to start');
    expect(readLog(log)[0]).toMatchObject({ event: 'start', version: '1.0.0', root, pid: run.child.pid, argv: AGENT_ARGS, watchdogPid: 'launcher' });
    // The agent's own SIGTERM handling stops it; its exit code is the launcher's.
    expect(await stop(run)).toEqual({ code: 0, signal: null });
    expect(readLog(log).map((e) => e.event)).toEqual(['start', 'stop']);

    // An update on trial runs as a child the launcher watches, then in-process once healthy.
    await installBundle(await standInBundle(temp, '1.1.0', 'in-process'), { installRoot: root });
    run = startLauncher(root, AGENT_ARGS, env);
    await waitFor(() => readLog(log).length > 2, 15_000, 'the update to start');
    const trialStart = readLog(log)[2]!;
    expect(trialStart).toMatchObject({ event: 'start', version: '1.1.0' });
    expect(trialStart.pid).not.toBe(run.child.pid);
    expect(trialStart.watchdogPid).toBeNull();
    expect(await stop(run)).toEqual({ code: 0, signal: null });
  }, 60_000);

  it('with no release at all: says so and exits 1 (under systemd); in the foreground a stop request ends any back-off wait at once', async () => {
    const root = temp.make('fw-root-');
    installLauncher(root);
    mkdirSync(join(root, 'releases'));
    const run = startLauncher(root, AGENT_ARGS, { INVOCATION_ID: 'test' });
    expect(await run.exit).toEqual({ code: 1, signal: null });
    expect(run.stderr()).toMatch(/cannot start: no bootable release under/);
    // In the foreground it waits for a release with a growing back-off, and a stop request
    // (an installer's Ctrl-C, systemctl stop) ends that wait at once.
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      const waiting = startLauncher(root, ['--foreground', '--restart-delay', '60000', ...AGENT_ARGS], {});
      await waitFor(() => /cannot start: no bootable release under/.test(waiting.stderr()), 15_000, 'the launcher to find no release');
      waiting.child.kill(sig);
      expect(await waiting.exit).toEqual({ code: 1, signal: null });
    }
    // Also while it waits to restart an agent that exited: the back-off is cut short.
    const failing = join(root, 'releases/1.0.0');
    makeStandInTree(failing, '1.0.0', 'fail');
    symlinkSync('releases/1.0.0', join(root, 'current'));
    const log = join(temp.make('fw-log-'), 'log');
    const restarting = startLauncher(root, ['--foreground', '--restart-delay', '60000', ...AGENT_ARGS], { STANDIN_LOG: log });
    await waitFor(() => /restarting in 60000 ms/.test(restarting.stderr()), 15_000, 'the agent to exit and the back-off to start');
    restarting.child.kill('SIGTERM');
    expect((await restarting.exit).signal).toBeNull();
    const bad = startLauncher(root, ['--trial-timeout', 'soon', ...AGENT_ARGS], {});
    expect(await bad.exit).toEqual({ code: 2, signal: null });
    expect(bad.stderr()).toMatch(/--trial-timeout needs a positive number\nusage: launcher\.js/);
  });
});

describe('backupDatabase', () => {
  it('copies a WAL database with its latest commits into a self-contained file', async () => {
    const dir = temp.make('fw-db-');
    const path = makeDb(dir);
    const live = new Database(path);
    live.pragma('wal_autocheckpoint = 0');
    live.prepare('INSERT INTO sessions (energy) VALUES (?)').run(7);
    await backupDatabase(path, join(dir, 'copy.sqlite'));
    live.close();
    const copy = new Database(join(dir, 'copy.sqlite'), { readonly: true });
    expect(copy.prepare('SELECT energy FROM sessions ORDER BY id').all()).toEqual([{ energy: 12.5 }, { energy: 7 }]);
    expect(copy.pragma('journal_mode', { simple: true })).toBe('delete');
    copy.close();
    await expect(backupDatabase(join(dir, 'missing.db'), join(dir, 'x.sqlite'))).rejects.toThrow();
    expect(existsSync(join(dir, 'x.sqlite'))).toBe(false);
  });
});
