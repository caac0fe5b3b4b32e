// The compiled CLI as a real child process: configuration errors exit 2 with one
// line; `run` with the simulated controller boots against a real CSMS and SIGTERM
// stops it cleanly (exit 0).
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DevCsms } from '../../src/devtools/dev-csms.js';
import { waitFor } from '../helpers/wait.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const CLI = join(ROOT, 'dist/src/cli.js');

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error('run `npm run build` first (npm test does)');
});

function writeConfig(value: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'ca-cli-'));
  const file = join(dir, 'config.json');
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

function runCli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 15_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const GOOD = {
  chargePointId: 'CP-0001',
  csms: { url: 'ws://127.0.0.1:9/ocpp', securityProfile: 0, basicAuthPassword: null },
  controller: { port: '/dev/ttyS1', baudRate: 115200 },
  identity: { vendor: 'Acme', model: 'AC22', serialNumber: 'SN0042' },
};

describe('charger-agent run: configuration errors', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['missing file', null, /config error: .*(not found|cannot read|no such)/i],
    ['not JSON', '{"chargePointId": ', /config error: .*JSON/i],
    ['bad security profile', { ...GOOD, csms: { ...GOOD.csms, securityProfile: 7 } }, /csms\.securityProfile/],
    ['wrong type', { ...GOOD, controller: { port: 5 } }, /controller\.port/],
    ['unknown key', { ...GOOD, chargepointId: 'x' }, /chargepointId/],
  ];
  for (const [name, value, pattern] of cases) {
    it(`${name}: one line naming the field, exit 2`, () => {
      const file = value === null ? join(tmpdir(), 'does-not-exist.json') : writeConfig(value);
      const r = runCli(['run', '--config', file]);
      expect(r.status).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(pattern);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    });
  }

  it('no --config: usage error, exit 2', () => {
    expect(runCli(['run']).status).toBe(2);
  });

  it('unknown command: exit 2', () => {
    expect(runCli(['frobnicate']).status).toBe(2);
  });
});

describe('charger-agent run: lifecycle', () => {
  let child: ChildProcess | null = null;
  let csms: DevCsms | null = null;
  afterEach(async () => {
    child?.kill('SIGKILL');
    await csms?.stop();
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`boots against a real CSMS with the simulated controller; ${signal} exits 0`, async () => {
      csms = new DevCsms();
      await csms.start();
      const dir = mkdtempSync(join(tmpdir(), 'ca-run-'));
      const file = writeConfig({
        ...GOOD,
        csms: { url: csms.url, securityProfile: 0, basicAuthPassword: null },
        controller: { simulated: true },
        dataDir: dir,
        diagnosticsSocket: join(dir, 'diag.sock'),
      });
      child = spawn(process.execPath, [CLI, 'run', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((r) => child!.on('exit', (code) => r(code)));
      await waitFor(() => csms!.callsOf('StatusNotification').length >= 2, 15_000, 'boot and statuses');
      const boot = csms.callsOf('BootNotification')[0]!.params;
      expect(boot).toMatchObject({ chargePointVendor: 'Acme', chargePointModel: 'AC22', chargePointSerialNumber: 'SN0042' });
      expect(typeof boot.firmwareVersion).toBe('string');
      child.kill(signal);
      expect(await exited).toBe(0);
      // JSON log lines, one per line, with the module field.
      const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { msg?: string; module?: string });
      expect(lines.some((l) => l.msg === 'agent running')).toBe(true);
      expect(lines.some((l) => l.module === 'controller')).toBe(true);
    });
  }

  it('a SIGTERM while it is still starting (connecting to the CSMS) stops it cleanly once started: exit 0', async () => {
    csms = new DevCsms();
    await csms.start();
    const dir = mkdtempSync(join(tmpdir(), 'ca-run-'));
    const file = writeConfig({
      ...GOOD,
      csms: { url: csms.url, securityProfile: 0, basicAuthPassword: null },
      controller: { simulated: true },
      dataDir: dir,
      diagnosticsSocket: join(dir, 'diag.sock'),
    });
    child = spawn(process.execPath, [CLI, 'run', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let signalled = false;
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      // The connection opens before the diagnostics socket and `agent running`.
      if (!signalled && out.includes('"msg":"connecting"')) {
        signalled = true;
        child!.kill('SIGTERM');
      }
    });
    const exited = new Promise<[number | null, string | null]>((r) => child!.on('exit', (code, sig) => r([code, sig])));
    expect(await exited).toEqual([0, null]);
    expect(signalled).toBe(true);
    const msgs = out.trim().split('\n').map((l) => (JSON.parse(l) as { msg?: string }).msg);
    expect(msgs.indexOf('shutting down')).toBeGreaterThan(msgs.indexOf('agent running'));
  });
});
