// scripts/install.sh settings for the first config, in a throwaway root: every setting an
// installer needs lands in a config the agent's loader accepts; the Basic Auth password comes on
// stdin and never appears in any program's argument list or in the output; bad values are one
// line and a non-zero exit before anything is installed; a tree with development dependencies
// is refused. The real system is not touched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAgentConfig, parseAgentConfig } from '../../src/config/agent-config.js';
import { makeDevCerts, type DevCerts } from '../helpers/dev-certs.js';
import { TempDirs } from '../helpers/temp-dirs.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const SCRIPT = join(ROOT, 'scripts/install.sh');
const PASSWORD = 'S3cret-Basic-Auth-Pw42';
const tempDirs = new TempDirs();
let certs: DevCerts;

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

function install(args: string[], input = '', env: Record<string, string> = {}): Result {
  const r = spawnSync('sh', [SCRIPT, '--node', '/usr/bin/node', ...args], { encoding: 'utf8', input, timeout: 60_000, env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A small production release (as in install.test.ts): no development dependency inside. */
function makeRelease(devDependencies: Record<string, string> = {}): string {
  const dir = tempDirs.make('ca-settings-release-');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'charger-agent', version: '2.0.0', devDependencies }));
  mkdirSync(join(dir, 'dist/src'), { recursive: true });
  writeFileSync(join(dir, 'dist/src/cli.js'), '// charger-agent\n');
  mkdirSync(join(dir, 'dist/src/launcher'), { recursive: true });
  writeFileSync(join(dir, 'dist/src/launcher/launcher.js'), '// launcher\n');
  mkdirSync(join(dir, 'node_modules/pino'), { recursive: true });
  cpSync(join(ROOT, 'systemd'), join(dir, 'systemd'), { recursive: true });
  return dir;
}

/**
 * A PATH where every program install.sh may start is a wrapper writing its arguments to a log
 * first, so a test can see every argument list the script produced.
 */
function argvRecorder(): { env: Record<string, string>; log: string } {
  const bin = tempDirs.make('ca-argv-');
  const log = join(bin, 'argv.log');
  const programs = ['node', 'sed', 'awk', 'grep', 'tr', 'cp', 'mv', 'rm', 'ln', 'chmod', 'chown', 'cmp', 'mkdir', 'du', 'diff', 'readlink', 'cat', 'tee', 'mktemp', 'dirname', 'cut', 'id', 'stty', 'systemd-sysusers', 'systemd-tmpfiles'];
  for (const p of programs) {
    const real = spawnSync('sh', ['-c', `command -v ${p}`], { encoding: 'utf8' }).stdout.trim();
    if (!real) continue;
    const wrapper = join(bin, p);
    writeFileSync(wrapper, `#!/bin/sh\nprintf '%s\\n' "${p} $*" >>'${log}'\nexec '${real}' "$@"\n`);
    chmodSync(wrapper, 0o755);
  }
  return { env: { PATH: `${bin}:${process.env['PATH'] ?? ''}` }, log };
}

beforeAll(() => {
  certs = makeDevCerts();
});

afterAll(() => {
  certs.cleanup();
  tempDirs.removeAll();
});

describe('install.sh: the settings an installer passes', () => {
  it('writes every setting into a config the agent accepts, the password from stdin, and the CA beside it', () => {
    const dest = tempDirs.make('ca-settings-dest-');
    const recorder = argvRecorder();
    const r = install(
      ['--destdir', dest, '--from', makeRelease(), '--charge-point-id', 'CP-0042', '--csms-url', 'wss://csms.example.com/ocpp', '--security-profile', '2', '--password-stdin', '--ca-file', certs.ca.certPath, '--serial-port', '/dev/ttyUSB0', '--max-current', '16', '--vendor', 'Acme', '--model', 'AC22', '--serial-number', 'SN0042'],
      `${PASSWORD}\n`,
      recorder.env,
    );
    expect(r.stderr).not.toMatch(/error/);
    expect(r.status).toBe(0);

    const file = join(dest, 'etc/charger-agent/config.json');
    const st = statSync(file);
    expect([st.mode & 0o777, st.uid]).toEqual([0o640, 0]);
    const cfg = loadAgentConfig(file);
    expect(cfg).toMatchObject({
      chargePointId: 'CP-0042',
      csms: { url: 'wss://csms.example.com/ocpp', securityProfile: 2, basicAuthPassword: PASSWORD, caFile: '/etc/charger-agent/csms-ca.pem' },
      controller: { port: '/dev/ttyUSB0', maxCurrentA: 16, simulated: false },
      identity: { vendor: 'Acme', model: 'AC22', serialNumber: 'SN0042' },
    });
    expect(readFileSync(join(dest, 'etc/charger-agent/csms-ca.pem'), 'utf8')).toBe(certs.ca.cert);

    // Everything passed was used: no "edit this" for any of it.
    expect(r.stdout).toMatch(/^install: wrote \/etc\/charger-agent\/config\.json$/m);
    expect(r.stdout).not.toMatch(/default|placeholder|edit/i);
    expect(r.stdout).toMatch(/installed release 2\.0\.0 in \/opt\/charger-agent\/releases\/2\.0\.0 \([0-9.]+ MiB\)/);

    // The password is in no argument list and no output.
    const argvLog = readFileSync(recorder.log, 'utf8');
    expect(argvLog).toMatch(/^node .*install-config\.mjs/m); // the recorder saw the checker start
    expect(argvLog).not.toContain(PASSWORD);
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
  });

  it('on a terminal, prompts for the password without echoing it', () => {
    const dest = tempDirs.make('ca-settings-tty-');
    // python3's pty module gives install.sh a real terminal; the password is typed after the prompt.
    const driver = [
      'import os, pty, sys',
      'pid, fd = pty.fork()',
      'if pid == 0: os.execvp(sys.argv[1], sys.argv[1:])',
      'out = b""',
      'while b"password: " not in out: out += os.read(fd, 1024)',
      `os.write(fd, b"${PASSWORD}\\n")`,
      'while True:',
      '    try: chunk = os.read(fd, 4096)',
      '    except OSError: break',
      '    if not chunk: break',
      '    out += chunk',
      'sys.stdout.write(out.decode())',
      'sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))',
    ].join('\n');
    const r = spawnSync('python3', ['-c', driver, 'sh', SCRIPT, '--node', '/usr/bin/node', '--destdir', dest, '--from', makeRelease(), '--csms-url', 'wss://c.example/ocpp', '--security-profile', '2', '--password-stdin'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Basic Auth password: /);
    expect(r.stdout).not.toContain(PASSWORD);
    expect(loadAgentConfig(join(dest, 'etc/charger-agent/config.json')).csms.basicAuthPassword).toBe(PASSWORD);
  });

  it('names only the settings not given when it writes a config with defaults', () => {
    const dest = tempDirs.make('ca-settings-dest-');
    const r = install(['--destdir', dest, '--from', makeRelease(), '--charge-point-id', 'CP-7', '--csms-url', 'ws://10.0.0.1:9000/ocpp']);
    expect(r.status).toBe(0);
    const line = r.stdout.split('\n').find((l) => l.includes('wrote /etc/charger-agent/config.json'))!;
    expect(line).toMatch(/controller\.port, identity\.vendor, identity\.model/);
    expect(line).not.toMatch(/chargePointId|csms\.url/);
  });

  it('leaves an existing config alone and says the settings given were not applied', () => {
    const dest = tempDirs.make('ca-settings-dest-');
    const release = makeRelease();
    expect(install(['--destdir', dest, '--from', release, '--charge-point-id', 'CP-1']).status).toBe(0);
    const before = readFileSync(join(dest, 'etc/charger-agent/config.json'), 'utf8');
    const r = install(['--destdir', dest, '--from', release, '--charge-point-id', 'CP-2']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/kept \/etc\/charger-agent\/config\.json as it is \(the config settings given, if any, are not applied/);
    expect(readFileSync(join(dest, 'etc/charger-agent/config.json'), 'utf8')).toBe(before);
  });

  it('security profile 3: copies the client certificate and its key (0640 root:charger-agent), the config names the copies', () => {
    const dest = tempDirs.make('ca-settings-p3-');
    // The compiled loader in the release: it checks the pair as given, before the copies exist.
    const release = makeRelease();
    cpSync(join(ROOT, 'dist'), join(release, 'dist'), { recursive: true });
    rmSync(join(release, 'node_modules'), { recursive: true });
    symlinkSync(realpathSync(join(ROOT, 'node_modules')), join(release, 'node_modules')); // the loader imports pino
    writeFileSync(join(release, 'package.json'), JSON.stringify({ name: 'charger-agent', version: '2.0.0', type: 'module' }));
    const recorder = argvRecorder();
    const r = install(
      ['--destdir', dest, '--from', release, '--charge-point-id', 'CP-TLS-1', '--csms-url', 'wss://csms.example.com/ocpp', '--security-profile', '3', '--ca-file', certs.ca.certPath, '--client-cert', certs.client.certPath, '--client-key', certs.client.keyPath],
      '',
      recorder.env,
    );
    expect(r.stderr).not.toMatch(/error/);
    expect(r.status).toBe(0);
    expect(readFileSync(recorder.log, 'utf8')).toMatch(/^node .*install-config\.mjs .*--loader /m);

    const etc = join(dest, 'etc/charger-agent');
    const cfg = JSON.parse(readFileSync(join(etc, 'config.json'), 'utf8')) as { csms: Record<string, unknown> };
    expect(cfg.csms).toMatchObject({ securityProfile: 3, clientCertFile: '/etc/charger-agent/client-cert.pem', clientKeyFile: '/etc/charger-agent/client-key.pem' });
    expect(readFileSync(join(etc, 'client-cert.pem'), 'utf8')).toBe(certs.client.cert);
    expect(readFileSync(join(etc, 'client-key.pem'), 'utf8')).toBe(certs.client.key);
    const gid = Number(/^charger-agent:[^:]*:(\d+):/m.exec(readFileSync(join(dest, 'etc/group'), 'utf8'))?.[1]);
    const key = statSync(join(etc, 'client-key.pem'));
    expect([key.mode & 0o777, key.uid, key.gid]).toEqual([0o640, 0, gid]);
    const config = statSync(join(etc, 'config.json'));
    expect([config.mode & 0o777, config.uid, config.gid]).toEqual([0o640, 0, gid]);
    expect(r.stdout).toMatch(/^install: wrote \/etc\/charger-agent\/client-key\.pem$/m);
    expect(r.stdout + r.stderr).not.toContain('PRIVATE KEY');

    // The agent's loader accepts the installed config with the paths inside the throwaway root.
    const inRoot = (p: unknown): string => join(dest, String(p));
    const agent = parseAgentConfig({ ...cfg, csms: { ...cfg.csms, caFile: inRoot(cfg.csms['caFile']), clientCertFile: inRoot(cfg.csms['clientCertFile']), clientKeyFile: inRoot(cfg.csms['clientKeyFile']) } });
    expect(agent.csms.securityProfile).toBe(3);
  });

  it('refuses bad values with one line naming the option, before installing anything', () => {
    const P3 = ['--security-profile', '3', '--csms-url', 'wss://c.example/ocpp'];
    const notPem = join(tempDirs.make('ca-notpem-'), 'ca.pem');
    writeFileSync(notPem, 'not a certificate\n');
    const cases: Array<[string[], string, RegExp]> = [
      [['--security-profile', '7'], '', /--security-profile: expected 0, 1, 2 or 3, got "7"/],
      [['--security-profile', '3', '--csms-url', 'wss://c.example/ocpp'], '', /--security-profile: profile 3 needs the charge point's client certificate: give --client-cert FILE and --client-key FILE$/],
      [[...P3, '--client-cert', certs.client.certPath], '', /--client-key: needed with --client-cert/],
      [[...P3, '--client-key', certs.client.keyPath], '', /--client-cert: needed with --client-key/],
      [['--security-profile', '2', '--csms-url', 'wss://c.example/ocpp', '--client-cert', certs.client.certPath, '--client-key', certs.client.keyPath], '', /--client-cert: a client certificate is for security profile 3/],
      [[...P3, '--client-cert', '/nonexistent/cp.pem', '--client-key', certs.client.keyPath], '', /--client-cert: cannot read \/nonexistent\/cp\.pem \(ENOENT\)/],
      [[...P3, '--client-cert', notPem, '--client-key', certs.client.keyPath], '', /--client-cert: .* holds no PEM certificate/],
      [[...P3, '--client-cert', certs.client.certPath, '--client-key', certs.client.certPath], '', /--client-key: .* holds no unencrypted PEM private key/],
      [[...P3, '--client-cert', certs.client.certPath, '--client-key', certs.strangerClient.keyPath], '', /--client-key: .* is not the key of the certificate in /],
      [['--security-profile', '2'], '', /--csms-url: expected a wss:\/\/ URL for security profile 2/],
      [['--csms-url', 'http://c.example/ocpp'], '', /--csms-url: expected a ws:\/\/ or wss:\/\/ URL/],
      [['--csms-url', 'wss://user:pw@c.example/ocpp'], '', /--csms-url: must not contain credentials/],
      [['--charge-point-id', 'CP 1'], '', /--charge-point-id: expected 1\.\.48 characters/],
      [['--vendor', 'V'.repeat(21)], '', /--vendor: expected 1\.\.20 characters/],
      [['--model', ''], '', /--model: expected 1\.\.20 characters/],
      [['--serial-number', 'S'.repeat(26)], '', /--serial-number: expected 1\.\.25 characters/],
      [['--serial-port', 'ttyS1'], '', /--serial-port: expected an absolute device path/],
      [['--max-current', '100'], '', /--max-current: expected a current in A from 6 to 80/],
      [['--max-current', '16.25'], '', /--max-current: expected a current in A from 6 to 80/],
      [['--password-stdin'], `${PASSWORD}\n`, /--password-stdin: a Basic Auth password is for security profiles 1 and 2/],
      [['--security-profile', '1', '--password-stdin'], 'short\n', /--password-stdin: expected 16\.\.40 printable ASCII characters, got 5 characters/],
      [['--security-profile', '1', '--password-stdin'], '', /--password-stdin: expected 16\.\.40 printable ASCII characters, got nothing/],
      [['--ca-file', certs.ca.certPath], '', /--ca-file: a CA certificate is for wss:\/\/ URLs/],
      [['--csms-url', 'wss://c.example/ocpp', '--ca-file', '/nonexistent/ca.pem'], '', /--ca-file: cannot read \/nonexistent\/ca\.pem \(ENOENT\)/],
      [['--csms-url', 'wss://c.example/ocpp', '--ca-file', notPem], '', /--ca-file: .* holds no PEM certificate/],
    ];
    const release = makeRelease();
    for (const [args, input, pattern] of cases) {
      const dest = tempDirs.make('ca-settings-bad-');
      const r = install(['--destdir', dest, '--from', release, ...args], input);
      const what = args.join(' ');
      expect(r.status, what).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines, what).toHaveLength(1);
      expect(lines[0], what).toMatch(/^install: error: /);
      expect(lines[0], what).toMatch(pattern);
      if (input.startsWith(PASSWORD)) expect(r.stderr, what).not.toContain(PASSWORD);
      expect(r.stderr, what).not.toContain('PRIVATE KEY');
      expect(readdirSync(dest), what).toEqual([]);
    }
  }, 120_000);

  it('refuses a tree that still holds development dependencies, pointing at npm run release', () => {
    const release = makeRelease({ vitest: '^4.0.0', typescript: '^7.0.0' });
    mkdirSync(join(release, 'node_modules/vitest'), { recursive: true });
    const dest = tempDirs.make('ca-settings-dev-');
    const r = install(['--destdir', dest, '--from', release]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(/^install: error: .*node_modules holds development dependencies \(vitest\): make the production tree with npm run release/);
    expect(existsSync(join(dest, 'opt'))).toBe(false);
  });
});
