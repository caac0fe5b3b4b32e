// Config keys csms.clientCertFile / csms.clientKeyFile (a factory-provisioned charge-point certificate):
// checked at start like every key, one line naming the field, the compiled CLI exits 2; never echoes the key.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadAgentConfig, parseAgentConfig } from '../../src/config/agent-config.js';
import { TestPki, type Issued } from '../helpers/test-pki.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const CLI = join(ROOT, 'dist/src/cli.js');

let pki: TestPki;
let cp: Issued;
let other: Issued;
beforeAll(() => {
  pki = new TestPki();
  const ca = pki.root('Provisioning CA');
  cp = pki.issue('CP-0001', ca, { eku: 'clientAuth' });
  other = pki.issue('CP-0002', ca, { eku: 'clientAuth', key: 'rsa2048' });
});
afterAll(() => pki.cleanup());

const BASE = {
  chargePointId: 'CP-0001',
  csms: { url: 'wss://127.0.0.1:9/ocpp', securityProfile: 3 },
  controller: { port: '/dev/ttyS1' },
  identity: { vendor: 'Acme', model: 'AC22' },
};
const withFiles = (files: Record<string, string>) => ({ ...BASE, csms: { ...BASE.csms, ...files } });

function problem(value: unknown): string {
  try {
    parseAgentConfig(value);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  return 'accepted';
}

describe('csms.clientCertFile / csms.clientKeyFile', () => {
  it('accepts a matching pair, resolving relative paths against the config file', () => {
    const cfg = parseAgentConfig(withFiles({ clientCertFile: cp.certPath, clientKeyFile: cp.keyPath }));
    expect(cfg.csms).toMatchObject({ clientCertFile: cp.certPath, clientKeyFile: cp.keyPath });
    const site = join(pki.dir, 'site');
    mkdirSync(site, { recursive: true });
    writeFileSync(join(site, 'cp.crt'), cp.cert);
    writeFileSync(join(site, 'cp.key'), cp.key);
    writeFileSync(join(site, 'agent.json'), JSON.stringify(withFiles({ clientCertFile: 'cp.crt', clientKeyFile: 'cp.key' })));
    expect(loadAgentConfig(join(site, 'agent.json')).csms.clientKeyFile).toBe(join(site, 'cp.key'));
  });

  it('names the field for each bad pair, one line, never the key text', () => {
    const garbage = join(pki.dir, 'garbage.pem');
    writeFileSync(garbage, 'not a pem');
    const unreadable = join(pki.dir, 'unreadable.key');
    writeFileSync(unreadable, cp.key);
    chmodSync(unreadable, 0o000);
    const cases: [Record<string, string>, string][] = [
      [{ clientCertFile: cp.certPath }, 'csms.clientKeyFile: required when csms.clientCertFile is set'],
      [{ clientKeyFile: cp.keyPath }, 'csms.clientCertFile: required when csms.clientKeyFile is set'],
      [{ clientCertFile: join(pki.dir, 'nope.crt'), clientKeyFile: cp.keyPath }, 'csms.clientCertFile: '],
      [{ clientCertFile: garbage, clientKeyFile: cp.keyPath }, 'csms.clientCertFile: '],
      [{ clientCertFile: cp.certPath, clientKeyFile: garbage }, 'csms.clientKeyFile: '],
      [{ clientCertFile: cp.certPath, clientKeyFile: cp.certPath }, 'csms.clientKeyFile: '],
      [{ clientCertFile: cp.certPath, clientKeyFile: other.keyPath }, 'does not belong to the certificate'],
    ];
    if (process.getuid?.() !== 0) cases.push([{ clientCertFile: cp.certPath, clientKeyFile: unreadable }, 'permission denied']);
    for (const [files, expected] of cases) {
      const msg = problem(withFiles(files));
      expect(msg, JSON.stringify(files)).toContain(expected);
      expect(msg).not.toContain('\n');
      expect(msg).not.toContain('PRIVATE KEY');
    }
  });

  it('security profile 3 without the pair: one line saying what to set; profile 2 does not need it', () => {
    const msg = problem(BASE);
    expect(msg).toMatch(/^config error: csms\.clientCertFile: security profile 3 requires a client certificate: set csms\.clientCertFile and csms\.clientKeyFile/);
    expect(msg).not.toContain('\n');
    expect(problem({ ...BASE, csms: { ...BASE.csms, securityProfile: 2 } })).toBe('accepted');
    if (!existsSync(CLI)) throw new Error('run `npm run build` first (npm test does)');
    const file = join(pki.dir, 'profile3-no-cert.json');
    writeFileSync(file, JSON.stringify(BASE));
    const r = spawnSync(process.execPath, [CLI, 'run', '--config', file], { encoding: 'utf8', timeout: 15_000 });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([msg]);
  });

  it('the compiled CLI exits 2 with that one line', () => {
    if (!existsSync(CLI)) throw new Error('run `npm run build` first (npm test does)');
    const file = join(pki.dir, 'mismatch.json');
    writeFileSync(file, JSON.stringify(withFiles({ clientCertFile: cp.certPath, clientKeyFile: other.keyPath })));
    const r = spawnSync(process.execPath, [CLI, 'run', '--config', file], { encoding: 'utf8', timeout: 15_000 });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/csms\.clientKeyFile: .*does not belong/);
  });
});
