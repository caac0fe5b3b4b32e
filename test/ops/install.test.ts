// scripts/install.sh in a throwaway root: installs a built release to
// /opt/charger-agent/releases/<version> with `current` pointing at it, creates the user, the
// directories and a valid config, enables the unit; a second run changes nothing (same files,
// modes, owners and mtimes); --uninstall keeps the data dir. Also: the separate
// charger-agent-admin group, and the node path for ExecStart resolved and checked (no home
// directory hidden by ProtectHome=, no relative path, nothing sed or systemd would misread).
// The real system is not touched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { loadAgentConfig } from '../../src/config/agent-config.js';
import { TempDirs } from '../helpers/temp-dirs.js';

const ROOT = new URL('../..', import.meta.url).pathname;

/** Temp dirs made by this file, removed at the end. */
const tempDirs = new TempDirs();
const tempDir = (prefix: string): string => tempDirs.make(prefix);
const SCRIPT = join(ROOT, 'scripts/install.sh');

function install(args: string[], env: Record<string, string> = {}, cwd?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('sh', [SCRIPT, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env }, ...(cwd ? { cwd } : {}) });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A small built release: the layout install.sh copies (the real node_modules would be 100+ MB). */
function makeRelease(version: string): string {
  const dir = tempDir('ca-release-');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'charger-agent', version }));
  mkdirSync(join(dir, 'dist/src'), { recursive: true });
  writeFileSync(join(dir, 'dist/src/cli.js'), `// charger-agent ${version}\n`);
  mkdirSync(join(dir, 'dist/src/launcher'), { recursive: true });
  writeFileSync(join(dir, 'dist/src/launcher/launcher.js'), `// launcher ${version}\n`);
  writeFileSync(join(dir, 'dist/src/launcher/state.js'), '// state\n');
  mkdirSync(join(dir, 'node_modules/pino'), { recursive: true });
  writeFileSync(join(dir, 'node_modules/pino/index.js'), 'module.exports = {};\n');
  mkdirSync(join(dir, 'hal/sim'), { recursive: true });
  writeFileSync(join(dir, 'hal/sim/pty-relay.py'), '# relay\n');
  cpSync(join(ROOT, 'systemd'), join(dir, 'systemd'), { recursive: true });
  cpSync(join(ROOT, 'scripts/install.sh'), join(dir, 'scripts/install.sh'));
  writeFileSync(join(dir, 'README.md'), '# charger-agent\n');
  return dir;
}

/** Every path under root with type, mode, owner, size, mtime, link target and content hash. */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const st = lstatSync(p);
      const rel = relative(root, p);
      const base = `${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.size} ${st.mtimeMs}`;
      if (st.isSymbolicLink()) out[rel] = `${base} -> ${readlinkSync(p)}`;
      else if (st.isDirectory()) {
        out[rel] = base;
        walk(p);
      } else out[rel] = `${base} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
    }
  };
  walk(root);
  return out;
}

function passwdEntry(root: string, user: string): string[] | undefined {
  return readFileSync(join(root, 'etc/passwd'), 'utf8')
    .split('\n')
    .map((l) => l.split(':'))
    .find((f) => f[0] === user);
}

function groupEntry(root: string, group: string): string[] | undefined {
  return readFileSync(join(root, 'etc/group'), 'utf8')
    .split('\n')
    .map((l) => l.split(':'))
    .find((f) => f[0] === group);
}

function groupMembers(root: string, group: string): string[] {
  return groupEntry(root, group)?.[3]?.split(',').filter(Boolean) ?? [];
}

function execStartOf(root: string): string {
  const unit = readFileSync(join(root, 'etc/systemd/system/charger-agent.service'), 'utf8');
  return /^ExecStart=(.*)$/m.exec(unit)![1]!;
}

const hostHadUser = readFileSync('/etc/passwd', 'utf8').includes('\ncharger-agent:');
const hostHadUnit = existsSync('/etc/systemd/system/charger-agent.service');
const hostHadOpt = existsSync('/opt/charger-agent');

let dest: string;
let release: string;
let first: ReturnType<typeof install>;

beforeAll(() => {
  dest = tempDir('ca-destdir-');
  release = makeRelease('1.2.3');
  // DESTDIR from the environment, as packaging tools set it.
  first = install(['--from', release, '--node', '/usr/bin/node', '--charge-point-id', 'CP-0042', '--csms-url', 'wss://csms.example.com/ocpp'], { DESTDIR: dest });
}, 60_000);

describe('install.sh into a throwaway root', () => {
  it('installs the release and points current at it', () => {
    expect(first.stderr).not.toMatch(/error/);
    expect(first.status).toBe(0);
    const rel = join(dest, 'opt/charger-agent/releases/1.2.3');
    expect(readFileSync(join(rel, 'dist/src/cli.js'), 'utf8')).toBe('// charger-agent 1.2.3\n');
    for (const f of ['package.json', 'node_modules/pino/index.js', 'hal/sim/pty-relay.py', 'systemd/charger-agent.service', 'scripts/install.sh', 'README.md']) {
      expect(existsSync(join(rel, f)), f).toBe(true);
    }
    expect(readlinkSync(join(dest, 'opt/charger-agent/current'))).toBe('releases/1.2.3');
    expect(statSync(join(rel, 'dist/src/cli.js')).uid).toBe(0);
    // Firmware updates: the service writes releases/, staging/, state/ and swaps `current`; bin/ stays root's.
    const svc = passwdEntry(dest, 'charger-agent')!;
    const [svcUid, svcGid] = [Number(svc[2]), Number(svc[3])];
    const opt = (p: string): number[] => {
      const st = statSync(join(dest, 'opt/charger-agent', p));
      return [st.mode & 0o777, st.uid, st.gid];
    };
    expect(opt('.')).toEqual([0o775, 0, svcGid]);
    expect(opt('releases')).toEqual([0o775, 0, svcGid]);
    expect(opt('staging')).toEqual([0o750, svcUid, svcGid]);
    expect(opt('state')).toEqual([0o750, svcUid, svcGid]);
    expect(opt('bin')[1]).toBe(0);
    // The launcher ExecStart names lives outside the releases, as an ES module.
    expect(readFileSync(join(dest, 'opt/charger-agent/bin/launcher.js'), 'utf8')).toBe('// launcher 1.2.3\n');
    expect(existsSync(join(dest, 'opt/charger-agent/bin/state.js'))).toBe(true);
    expect(JSON.parse(readFileSync(join(dest, 'opt/charger-agent/bin/package.json'), 'utf8'))).toEqual({ type: 'module' });
  });

  it('installs and enables the unit', () => {
    const unit = readFileSync(join(dest, 'etc/systemd/system/charger-agent.service'), 'utf8');
    expect(unit).toBe(readFileSync(join(ROOT, 'systemd/charger-agent.service'), 'utf8'));
    expect(readlinkSync(join(dest, 'etc/systemd/system/multi-user.target.wants/charger-agent.service'))).toBe('/etc/systemd/system/charger-agent.service');
  });

  it('creates the service user with the serial and GPIO groups', () => {
    const user = passwdEntry(dest, 'charger-agent');
    expect(user).toBeDefined();
    expect(user![5]).toBe('/var/lib/charger-agent');
    expect(user![6]).toMatch(/nologin$/);
    expect(Number(user![2])).toBeGreaterThan(0);
    expect(groupMembers(dest, 'dialout')).toContain('charger-agent');
    expect(groupMembers(dest, 'gpio')).toContain('charger-agent');
  });

  it('creates the charger-agent-admin group, empty and apart from the service group that reads the config', () => {
    const admin = groupEntry(dest, 'charger-agent-admin');
    expect(admin).toBeDefined();
    expect(groupMembers(dest, 'charger-agent-admin')).toEqual([]);
    const serviceGid = Number(passwdEntry(dest, 'charger-agent')![3]);
    expect(Number(admin![2])).not.toBe(serviceGid);
    expect(groupMembers(dest, 'charger-agent')).toEqual([]);
    expect(statSync(join(dest, 'etc/charger-agent/config.json')).gid).toBe(serviceGid);
    expect(first.stdout).toMatch(/usermod -aG charger-agent-admin USER/);
  });

  it('creates the directories and a first config the agent accepts, readable by the service group only', () => {
    const uid = Number(passwdEntry(dest, 'charger-agent')![2]);
    const gid = Number(passwdEntry(dest, 'charger-agent')![3]);
    const data = statSync(join(dest, 'var/lib/charger-agent'));
    expect([data.mode & 0o777, data.uid, data.gid]).toEqual([0o700, uid, gid]);
    const etc = statSync(join(dest, 'etc/charger-agent'));
    expect([etc.mode & 0o777, etc.uid, etc.gid]).toEqual([0o750, 0, gid]);
    const file = join(dest, 'etc/charger-agent/config.json');
    const st = statSync(file);
    expect([st.mode & 0o777, st.uid, st.gid]).toEqual([0o640, 0, gid]);
    const cfg = loadAgentConfig(file);
    expect(cfg).toMatchObject({ chargePointId: 'CP-0042', csms: { url: 'wss://csms.example.com/ocpp' }, diagnosticsSocket: '/run/charger-agent/diag.sock', dataDir: '/var/lib/charger-agent' });
  });

  it('a second run changes nothing at all', () => {
    const before = snapshot(dest);
    const again = install(['--destdir', dest, '--from', release, '--node', '/usr/bin/node']);
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/release 1\.2\.3 already installed/);
    expect(again.stdout).toMatch(/kept \/etc\/charger-agent\/config\.json/);
    expect(snapshot(dest)).toEqual(before);
  });

  it('never changes an existing config', () => {
    const file = join(dest, 'etc/charger-agent/config.json');
    const edited = `${readFileSync(file, 'utf8').replace('CP-0042', 'CP-EDITED')}`;
    writeFileSync(file, edited);
    expect(install(['--destdir', dest, '--from', release, '--node', '/usr/bin/node', '--charge-point-id', 'CP-OTHER']).status).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(edited);
  });

  it('a new version goes beside the old one and current moves to it', () => {
    const next = makeRelease('1.3.0');
    const r = install(['--destdir', dest, '--from', next, '--node', '/usr/bin/node']);
    expect(r.status).toBe(0);
    expect(readlinkSync(join(dest, 'opt/charger-agent/current'))).toBe('releases/1.3.0');
    expect(readdirSync(join(dest, 'opt/charger-agent/releases')).sort()).toEqual(['1.2.3', '1.3.0']);
    // The switch replaced the link; nothing landed inside the old release.
    expect(readdirSync(join(dest, 'opt/charger-agent/releases/1.2.3')).sort()).toEqual(['README.md', 'dist', 'hal', 'node_modules', 'package.json', 'scripts', 'systemd']);
  });

  it('the same version with different files is replaced whole, leaving no staging directory', () => {
    const changed = makeRelease('1.3.0');
    writeFileSync(join(changed, 'dist/src/cli.js'), '// rebuilt\n');
    const r = install(['--destdir', dest, '--from', changed, '--node', '/usr/bin/node']);
    expect(r.status).toBe(0);
    expect(readFileSync(join(dest, 'opt/charger-agent/releases/1.3.0/dist/src/cli.js'), 'utf8')).toBe('// rebuilt\n');
    expect(readdirSync(join(dest, 'opt/charger-agent/releases')).sort()).toEqual(['1.2.3', '1.3.0']);
  });

  it('writes the board node path into ExecStart', () => {
    const other = tempDir('ca-destdir-node-');
    expect(install(['--destdir', other, '--from', release, '--node', '/usr/local/bin/node']).status).toBe(0);
    const unit = readFileSync(join(other, 'etc/systemd/system/charger-agent.service'), 'utf8');
    expect(unit).toMatch(/^ExecStart=\/usr\/local\/bin\/node \/opt\/charger-agent\/bin\/launcher\.js run --config /m);
  });

  it('adds the admin group to an install made before it existed', () => {
    const old = tempDir('ca-destdir-upgrade-');
    expect(install(['--destdir', old, '--from', release, '--node', '/usr/bin/node']).status).toBe(0);
    // As a release without the admin group left it.
    for (const file of ['etc/group', 'etc/gshadow'].map((f) => join(old, f)).filter((f) => existsSync(f))) {
      writeFileSync(file, readFileSync(file, 'utf8').split('\n').filter((l) => !l.startsWith('charger-agent-admin:')).join('\n'));
    }
    expect(groupEntry(old, 'charger-agent-admin')).toBeUndefined();
    expect(install(['--destdir', old, '--from', release, '--node', '/usr/bin/node']).status).toBe(0);
    expect(groupEntry(old, 'charger-agent-admin')).toBeDefined();
    expect(groupMembers(old, 'charger-agent-admin')).toEqual([]);
  });

  it('resolves node found on PATH through its symlinks (nvm and alternatives link it)', () => {
    const bin = tempDir('ca-path-');
    const real = realpathSync(process.execPath);
    symlinkSync(process.execPath, join(bin, 'node'));
    const other = tempDir('ca-destdir-path-');
    const r = install(['--destdir', other, '--from', release], { PATH: `${bin}:${process.env['PATH'] ?? ''}` });
    expect(r.stderr).not.toMatch(/error/);
    expect(r.status).toBe(0);
    expect(execStartOf(other)).toBe(`${real} /opt/charger-agent/bin/launcher.js run --config /etc/charger-agent/config.json`);
  });

  it('refuses node where ProtectHome=yes hides it from the service (nvm in a home directory)', () => {
    for (const node of ['/root/.nvm/versions/node/v20.11.0/bin/node', '/home/alice/.nvm/versions/node/v20.11.0/bin/node', '/run/user/1000/fnm/node', '/usr/../home/alice/node']) {
      const target = tempDir('ca-destdir-home-');
      const r = install(['--destdir', target, '--from', release, '--node', node]);
      expect(r.status, node).toBe(1);
      expect(r.stderr, node).toMatch(/^install: error: node .*(ProtectHome=yes hides from the service|has \. or \.\. in it)/m);
      expect(existsSync(join(target, 'etc/systemd/system/charger-agent.service')), node).toBe(false);
    }
  });

  it('refuses a relative node path, and one with characters sed or a unit file would misread', () => {
    for (const [node, why] of [
      ['bin/node', /is not an absolute path/],
      ['/opt/node 20/bin/node', /has characters a unit's ExecStart cannot take/],
      ['/opt/node#20/bin/node', /has characters a unit's ExecStart cannot take/],
      ['/opt/node%i/bin/node', /has characters a unit's ExecStart cannot take/],
      ['/opt/node&/bin/node', /has characters a unit's ExecStart cannot take/],
    ] as const) {
      const target = tempDir('ca-destdir-badnode-');
      const r = install(['--destdir', target, '--from', release, '--node', node]);
      expect(r.status, node).toBe(1);
      expect(r.stderr, node).toMatch(why);
      expect(existsSync(join(target, 'etc/systemd/system/charger-agent.service')), node).toBe(false);
    }
  });

  it('makes node found through a relative PATH entry absolute', () => {
    const cwd = tempDir('ca-cwd-');
    mkdirSync(join(cwd, 'relbin'));
    symlinkSync(process.execPath, join(cwd, 'relbin/node'));
    const other = tempDir('ca-destdir-rel-');
    const r = install(['--destdir', other, '--from', release], { PATH: `relbin:${process.env['PATH'] ?? ''}` }, cwd);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.status).toBe(0);
    expect(execStartOf(other).split(' ')[0]).toBe(realpathSync(process.execPath));
  });

  it('refuses a directory that is not a built release, naming what is missing', () => {
    const empty = tempDir('ca-not-release-');
    writeFileSync(join(empty, 'package.json'), '{"version":"9.9.9"}');
    const r = install(['--destdir', tempDir('ca-destdir-bad-'), '--from', empty]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/not a built release: dist\/src\/cli\.js is missing/);
  });
});

describe('install.sh --uninstall', () => {
  it('removes releases, unit and links but keeps the data dir, the config and the user; twice is fine', () => {
    writeFileSync(join(dest, 'var/lib/charger-agent/agent.db'), 'precious');
    const config = readFileSync(join(dest, 'etc/charger-agent/config.json'), 'utf8');
    const r = install(['--destdir', dest, '--uninstall']);
    expect(r.status).toBe(0);
    expect(existsSync(join(dest, 'opt/charger-agent'))).toBe(false);
    expect(existsSync(join(dest, 'etc/systemd/system/charger-agent.service'))).toBe(false);
    expect(existsSync(join(dest, 'etc/systemd/system/multi-user.target.wants/charger-agent.service'))).toBe(false);
    expect(readFileSync(join(dest, 'var/lib/charger-agent/agent.db'), 'utf8')).toBe('precious');
    expect(readFileSync(join(dest, 'etc/charger-agent/config.json'), 'utf8')).toBe(config);
    expect(passwdEntry(dest, 'charger-agent')).toBeDefined();

    const before = snapshot(dest);
    expect(install(['--destdir', dest, '--uninstall']).status).toBe(0);
    expect(snapshot(dest)).toEqual(before);

    // And back: the kept data and config are used as they are.
    expect(install(['--destdir', dest, '--from', release, '--node', '/usr/bin/node']).status).toBe(0);
    expect(readFileSync(join(dest, 'var/lib/charger-agent/agent.db'), 'utf8')).toBe('precious');
    expect(readFileSync(join(dest, 'etc/charger-agent/config.json'), 'utf8')).toBe(config);
  });
});

describe('the real system', () => {
  it('was not touched', () => {
    expect(readFileSync('/etc/passwd', 'utf8').includes('\ncharger-agent:')).toBe(hostHadUser);
    expect(existsSync('/etc/systemd/system/charger-agent.service')).toBe(hostHadUnit);
    expect(existsSync('/opt/charger-agent')).toBe(hostHadOpt);
  });
});

afterAll(() => {
  tempDirs.removeAll();
});
