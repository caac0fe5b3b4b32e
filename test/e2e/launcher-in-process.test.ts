// The systemd unit's start path with the real agent: the launcher from an install root's bin/,
// under systemd (INVOCATION_ID set), with the built release current and no trial. The agent
// runs in the launcher's own process (no second Node start on a slow board), registers, and
// stops cleanly on SIGTERM with the launcher's exit code 0.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DevCsms } from '../../src/devtools/dev-csms.js';
import { ROOT, installLauncher } from '../firmware/fixtures.js';
import { TempDirs } from '../helpers/temp-dirs.js';
import { waitFor } from '../helpers/wait.js';

const temp = new TempDirs();
const csms = new DevCsms();
afterAll(async () => {
  await csms.stop();
  temp.removeAll();
});

/** The command lines of a process's children. */
function childCommands(pid: number): string[] {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  return children.map((c) => {
    try {
      return readFileSync(`/proc/${c}/cmdline`, 'utf8').split('\0').join(' ');
    } catch {
      return '';
    }
  });
}

describe('the launcher under systemd with the real release', () => {
  it('runs the agent in its own process: it registers, and SIGTERM stops it with exit code 0', async () => {
    await csms.start();
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    // The install root's layout, its release made of this checkout's build.
    const root = temp.make('inproc-root-');
    const release = join(root, 'releases', version);
    mkdirSync(release, { recursive: true });
    for (const item of ['dist', 'node_modules', 'hal']) symlinkSync(join(ROOT, item), join(release, item));
    copyFileSync(join(ROOT, 'package.json'), join(release, 'package.json'));
    symlinkSync(`releases/${version}`, join(root, 'current'));
    installLauncher(root);
    const dir = temp.make('inproc-data-');
    const config = join(dir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        chargePointId: 'CP-INPROC',
        csms: { url: csms.url, securityProfile: 0, basicAuthPassword: null },
        controller: { simulated: true },
        identity: { vendor: 'Acme', model: 'AC22' },
        dataDir: join(dir, 'data'),
        diagnosticsSocket: join(dir, 'diag.sock'),
      }),
    );
    const env: NodeJS.ProcessEnv = { ...process.env, INVOCATION_ID: 'test' };
    delete env['NOTIFY_SOCKET'];
    const launcher = spawn(process.execPath, [join(root, 'bin/launcher.js'), 'run', '--config', config], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    launcher.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    launcher.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => launcher.on('exit', (code, signal) => r({ code, signal })));
    try {
      await waitFor(() => csms.callsOf('BootNotification').length > 0, 30_000, `BootNotification\n${output}`);
      expect(csms.callsOf('BootNotification')[0]!.params).toMatchObject({ firmwareVersion: version });
      // The simulated controller's pty relay is a child; no second agent process is.
      expect(childCommands(launcher.pid!).filter((c) => c.includes('cli.js'))).toEqual([]);
      await waitFor(() => output.includes('agent running'), 30_000, `agent running\n${output}`);
      launcher.kill('SIGTERM');
      expect(await exited).toEqual({ code: 0, signal: null });
      await waitFor(() => !csms.isConnected('CP-INPROC'), 10_000, 'the connection to close');
    } finally {
      if (launcher.exitCode === null && launcher.signalCode === null) launcher.kill('SIGKILL');
    }

    // systemctl stop while it is still starting: the launcher's handlers hold until the agent's
    // own take over, so a stop is never the default SIGTERM death (code null, signal SIGTERM).
    for (const afterMs of [0, 20, 60, 150]) {
      const early = spawn(process.execPath, [join(root, 'bin/launcher.js'), 'run', '--config', config], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      early.stderr!.on('data', (c: Buffer) => (err += c.toString()));
      const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => early.on('exit', (code, signal) => r({ code, signal })));
      await waitFor(() => err.includes(`launcher: starting ${version} in this process`), 30_000, `the in-process start\n${err}`);
      await new Promise((r) => setTimeout(r, afterMs));
      early.kill('SIGTERM');
      expect(await done, `SIGTERM ${afterMs} ms after the start line\n${err}`).toEqual({ code: 0, signal: null });
    }
  }, 90_000);
});
