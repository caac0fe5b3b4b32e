// A charger whose clock reads 1970 (flat RTC cell) still reaches its CSMS over TLS (security profile 2)
// and learns the time: certificate validity is checked at max(system time, build date)
// (src/security/clock-floor.ts), never earlier. The compiled agent runs under libfaketime at 1970
// against the dev CSMS on wss:// with certificates issued before the build date.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DevCsms } from '../../src/devtools/dev-csms.js';
import { TestPki } from '../helpers/test-pki.js';
import { spawnInGroup, stopGroup } from '../helpers/process-group.js';
import { waitFor } from '../helpers/wait.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const CLI = join(ROOT, 'dist/src/cli.js');
const CP_ID = 'CP-1970';
const KEY = '0123456789abcdef0123456789abcdef';

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error('run `npm run build` first (npm test does)');
  try {
    execFileSync('sh', ['-c', 'command -v faketime'], { stdio: 'ignore' });
  } catch {
    throw new Error('this test needs libfaketime: install the `faketime` package (.ci/run does)');
  }
});

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('TLS with the system clock at 1970', () => {
  it('connects over wss:// and boots: validity is checked at the build date, not at 1970', async () => {
    const pki = new TestPki();
    cleanups.push(() => pki.cleanup());
    // Issued before any build date (the source floor is 2026-12-01), as a real CSMS certificate is.
    const window = { start: '20261101000000Z', end: '20361101000000Z' };
    const root = pki.root('Floor Test Root', window);
    const server = pki.server(root, window);
    const dir = mkdtempSync(join(tmpdir(), 'tls-1970-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    copyFileSync(server.certPath, join(dir, 'csms-server-chain.crt'));
    copyFileSync(server.keyPath, join(dir, 'csms-server.key'));
    copyFileSync(root.certPath, join(dir, 'csms-root-ca.crt'));

    const csms = new DevCsms({ security: { pkiDir: dir, authorizationKey: KEY, minimumProfile: 2 } });
    await csms.start();
    cleanups.push(() => csms.stop());

    const config = join(dir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        chargePointId: CP_ID,
        csms: { url: csms.wssUrl, securityProfile: 2, basicAuthPassword: KEY, caFile: root.certPath },
        controller: { simulated: true },
        dataDir: join(dir, 'data'),
        diagnosticsSocket: join(dir, 'diag.sock'),
        identity: { vendor: 'Acme', model: 'AC22' },
        logLevel: 'info',
      }),
    );
    const env = { ...process.env, FAKETIME_DONT_FAKE_MONOTONIC: '1' };
    const child: ChildProcess = spawnInGroup('faketime', ['1970-01-02 00:00:00', process.execPath, CLI, 'run', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'], env });
    const lines: string[] = [];
    for (const s of [child.stdout!, child.stderr!]) s.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
    // The group: faketime forks, and a signal to it alone would leave the agent running.
    cleanups.push(() => stopGroup(child));

    await waitFor(() => csms.callsOf('BootNotification').length > 0, 30_000, `BootNotification over wss (agent output:\n${lines.slice(-10).join('\n')})`).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${lines.slice(-15).join('\n')}`);
    });
    // The agent really ran at 1970, and the CSMS saw TLS with Basic auth (profile 2).
    expect(lines.some((l) => l.includes('"time":864'))).toBe(true);
    expect(csms.admissions.filter((a) => a.refused === undefined).map((a) => [a.profile, a.tls])).toEqual([[2, true]]);
  }, 60_000);
});
