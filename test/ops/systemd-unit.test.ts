// The systemd unit: `systemd-analyze verify` accepts it, and it holds what
// a charger needs: own user with the serial and GPIO groups, Restart=always, Type=notify with a
// watchdog, hardening, StateDirectory/RuntimeDirectory, ExecStart at the installed release; and
// the admin group apart from the service's own (review finding: diag users could read the config).
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_GROUP } from '../../src/diagnostics/protocol.js';
import { TempDirs } from '../helpers/temp-dirs.js';

const ROOT = new URL('../..', import.meta.url).pathname;

/** Temp dirs made by this file, removed at the end. */
const tempDirs = new TempDirs();
const tempDir = (prefix: string): string => tempDirs.make(prefix);
const UNIT = join(ROOT, 'systemd/charger-agent.service');
const text = readFileSync(UNIT, 'utf8');

/** systemd-analyze verify on a copy; ExecStart must name an existing node, as install.sh makes it do. */
function verify(unitText: string): { status: number | null; output: string } {
  const dir = tempDir('ca-unit-');
  const file = join(dir, 'charger-agent.service');
  const node = existsSync('/usr/bin/node') ? '/usr/bin/node' : process.execPath;
  writeFileSync(file, unitText.replace(/^ExecStart=\/usr\/bin\/node /m, `ExecStart=${node} `));
  const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw new Error(`systemd-analyze not available (${r.error.message}): install the systemd package`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Values of `Key=` in the unit, in order (comments skipped). */
function values(key: string): string[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${key}=`))
    .map((l) => l.slice(key.length + 1));
}

describe('systemd/charger-agent.service', () => {
  it('passes systemd-analyze verify without a warning', () => {
    expect(verify(text)).toEqual({ status: 0, output: '' });
  });

  it('(the verify check does catch mistakes)', () => {
    const broken = verify(text.replace(/^Restart=always$/m, 'Restart=sometimes').replace(/^Type=notify$/m, 'Type=notify\nWatchdogSecs=1'));
    expect(broken.output).toMatch(/restart specifier/);
    expect(broken.output).toMatch(/Unknown key 'WatchdogSecs'/);
  });

  it('runs the installed release as its own user with the serial and GPIO groups', () => {
    expect(values('ExecStart')).toEqual(['/usr/bin/node /opt/charger-agent/bin/launcher.js run --config /etc/charger-agent/config.json']);
    // The launcher starts the package's own entry point inside current/.
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(readFileSync(join(ROOT, 'src/launcher/launcher.ts'), 'utf8')).toContain(`'${pkg.bin['charger-agent']}'`);
    expect(values('User')).toEqual(['charger-agent']);
    expect(values('Group')).toEqual(['charger-agent']);
    expect(values('SupplementaryGroups')[0]!.split(' ').sort()).toEqual(['charger-agent-admin', 'dialout', 'gpio']);
  });

  it('has the admin group only as a supplementary group: sysusers creates it with no members, apart from the service group', () => {
    const sysusers = readFileSync(join(ROOT, 'systemd/charger-agent.sysusers.conf'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith('#'))
      .map((l) => l.split(/\s+/));
    expect(sysusers).toContainEqual(['g', 'charger-agent-admin', '-']);
    // No `m` line puts anyone (the service included) into it; the unit gives it to the service.
    expect(sysusers.filter((f) => f[0] === 'm' && f[2] === 'charger-agent-admin')).toEqual([]);
    expect(values('Group')).toEqual(['charger-agent']);
    // The config directory belongs to the service group, not to the admins.
    const tmpfiles = readFileSync(join(ROOT, 'systemd/charger-agent.tmpfiles.conf'), 'utf8');
    expect(tmpfiles).toMatch(/^d \/etc\/charger-agent 0750 root charger-agent -$/m);
    // The server's default admin group is the same name.
    expect(ADMIN_GROUP).toBe('charger-agent-admin');
  });

  it('restarts always, and a watchdog fed by sd_notify restarts a hung event loop', () => {
    expect(values('Restart')).toEqual(['always']);
    expect(values('StartLimitIntervalSec')).toEqual(['0']);
    expect(values('Type')).toEqual(['notify']);
    expect(values('NotifyAccess')).toEqual(['all']); // WATCHDOG=1 comes from a systemd-notify child
    expect(Number(values('WatchdogSec')[0])).toBeGreaterThanOrEqual(10);
  });

  it('is hardened, with the data dir writable and the socket directory for the admin group', () => {
    for (const [key, value] of [
      ['NoNewPrivileges', 'yes'],
      ['ProtectSystem', 'strict'],
      ['PrivateTmp', 'yes'],
      ['ProtectHome', 'yes'],
      ['DevicePolicy', 'closed'],
      ['RestrictSUIDSGID', 'yes'],
      ['CapabilityBoundingSet', ''],
      ['StateDirectory', 'charger-agent'],
      ['StateDirectoryMode', '0700'],
      ['RuntimeDirectory', 'charger-agent'],
      // 0711: admins outside the service group reach the socket (0660, their group) by name.
      ['RuntimeDirectoryMode', '0711'],
      ['UMask', '0077'],
    ] as const) {
      expect(values(key), key).toEqual([value]);
    }
    // The data dir, and the install root where the service installs firmware updates (its launcher read-only).
    expect(values('ReadWritePaths')).toEqual(['/var/lib/charger-agent', '/opt/charger-agent']);
    expect(values('ReadOnlyPaths')).toEqual(['/opt/charger-agent/bin']);
    expect(values('DeviceAllow')).toEqual(expect.arrayContaining(['char-tty* rw', 'char-pts rw', '/dev/ptmx rw']));
    // The default diagnostics socket lives in the RuntimeDirectory.
    expect(readFileSync(join(ROOT, 'src/config/agent-config.ts'), 'utf8')).toContain("diagnosticsSocket: '/run/charger-agent/diag.sock'");
  });
});

afterAll(() => {
  tempDirs.removeAll();
});
