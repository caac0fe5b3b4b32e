// Security profiles switched over OCPP (security whitepaper §2, A05), the real agent against the dev
// CSMS with real TLS (one port for ws:// and wss://, dev PKI from certs/make-dev-pki.sh) and strict
// admission: the Basic password must be the key the CSMS set, the client certificate must carry the
// charge point id, and once a profile was used it is required. Roots and the charge-point certificate
// are put in the agent's certificate store directly here (the certificate actions have their own tests).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signCsr } from '../../src/devtools/dev-csms-security.js';
import { CertificateStore } from '../../src/security/certificate-store.js';
import { useAgentFixture } from '../helpers/action-fixture.js';
import type { Harness } from '../helpers/agent-harness.js';
import { waitFor } from '../helpers/wait.js';

const ROOT = new URL('../..', import.meta.url).pathname;
let pki: string;
let strangerRoot: string;

beforeAll(() => {
  pki = mkdtempSync(join(tmpdir(), 'sp-pki-'));
  execFileSync('bash', [join(ROOT, 'certs/make-dev-pki.sh'), pki], { stdio: 'ignore' });
  // A root that signed nothing the CSMS presents: trusting only it must refuse the server.
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(pki, 'stranger.key'),
    '-out', join(pki, 'stranger.crt'), '-days', '30', '-subj', '/CN=Stranger Root', '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], { stdio: 'ignore' });
  strangerRoot = readFileSync(join(pki, 'stranger.crt'), 'utf8');
});
afterAll(() => rmSync(pki, { recursive: true, force: true }));

const fx = useAgentFixture();

function start(extra: { securitySwitchTimeoutS?: number; logLevel?: 'debug' } = {}): Promise<Harness> {
  return fx.start({ csms: { security: { pkiDir: pki } }, ...extra });
}

const change = async (h: Harness, key: string, value: string): Promise<string> => (await h.call('ChangeConfiguration', { key, value })).status;

function store(h: Harness): CertificateStore {
  return new CertificateStore({ dataDir: h.dataDir });
}

function installRoot(h: Harness, pem = readFileSync(join(pki, 'csms-root-ca.crt'), 'utf8')): void {
  expect(store(h).install('CentralSystemRootCertificate', pem)).toEqual({ status: 'Accepted' });
}

/** A key and CSR made here, signed by the dev CSMS's CA, and installed as CertificateSigned would. */
async function installChargePointCertificate(h: Harness, cn = h.cpId): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sp-csr-'));
  try {
    execFileSync('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'k'), '-out', join(dir, 'csr'), '-subj', `/CN=${cn}`], { stdio: 'ignore' });
    const chain = await signCsr(pki, readFileSync(join(dir, 'csr'), 'utf8'));
    const s = store(h);
    s.savePendingKey(readFileSync(join(dir, 'k'), 'utf8'));
    expect(s.installChargePointCertificate(chain)).toEqual({ status: 'Accepted' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Waits until the agent is registered again over a connection the CSMS admitted with `profile`. */
async function connectedWith(h: Harness, profile: number, since: number): Promise<void> {
  await waitFor(
    () => h.csms.admissions.slice(since).some((a) => a.identity === h.cpId && a.profile === profile && a.refused === undefined) && h.agent.csms.isConnected && h.csms.isConnected(h.cpId),
    20_000,
    `a connection with profile ${profile}`,
  );
  await waitFor(() => h.agent.session.registrationStatus === 'Accepted', 10_000, 'Accepted');
}

/** The security events the agent recorded (its security log writes one log line per event). */
function securityEvents(h: Harness, type?: string): Array<{ type: string; techInfo?: string }> {
  return h.logs
    .filter((l) => l.msg === 'security event' && (type === undefined || l['securityEvent'] === type))
    .map((l) => ({ type: String(l['securityEvent']), ...(typeof l['techInfo'] === 'string' ? { techInfo: l['techInfo'] } : {}) }));
}

describe('SecurityProfile over OCPP (security whitepaper A05)', () => {
  it('goes 0 -> 1 -> 2 -> 3 with the preconditions checked at each step, keeps profile 3 over a restart, and never leaks the key', async () => {
    const h = await start({ logLevel: 'debug' });
    let key = randomBytes(20).toString('hex');
    expect(await change(h, 'SecurityProfile', '1')).toBe('Rejected'); // no AuthorizationKey yet
    expect(await change(h, 'AuthorizationKey', key)).toBe('Accepted');
    expect(await change(h, 'SecurityProfile', '0')).toBe('Rejected'); // the same value
    expect(await change(h, 'SecurityProfile', '2')).toBe('Rejected'); // no CentralSystemRootCertificate

    let mark = h.csms.admissions.length;
    expect(await change(h, 'SecurityProfile', '1')).toBe('Accepted');
    await connectedWith(h, 1, mark);
    expect(await change(h, 'SecurityProfile', '0')).toBe('Rejected'); // lowering
    // A new key while profile 1 uses it: the charger reconnects with it (the CSMS admits only the new one).
    const oldKey = key;
    key = randomBytes(16).toString('hex');
    mark = h.csms.admissions.length;
    expect(await change(h, 'AuthorizationKey', key)).toBe('Accepted');
    await connectedWith(h, 1, mark);

    installRoot(h);
    expect(await change(h, 'SecurityProfile', '3')).toBe('Rejected'); // no charge-point certificate
    mark = h.csms.admissions.length;
    expect(await change(h, 'SecurityProfile', '2')).toBe('Accepted');
    await connectedWith(h, 2, mark);
    expect(h.csms.admissions.at(-1)).toMatchObject({ tls: true, profile: 2 });

    await installChargePointCertificate(h);
    mark = h.csms.admissions.length;
    expect(await change(h, 'SecurityProfile', '3')).toBe('Accepted');
    await connectedWith(h, 3, mark);
    expect(await change(h, 'SecurityProfile', '2')).toBe('Rejected');

    const conf = await h.call('GetConfiguration', { key: ['SecurityProfile', 'AuthorizationKey'] });
    expect(conf.configurationKey).toEqual([{ key: 'SecurityProfile', readonly: false, value: '3' }]);
    expect(conf.unknownKey).toEqual(['AuthorizationKey']);
    expect(securityEvents(h, 'ReconfigurationOfSecurityParameters').map((e) => e.techInfo)).toEqual([
      'AuthorizationKey changed',
      'SecurityProfile 0 -> 1',
      'AuthorizationKey changed',
      'SecurityProfile 1 -> 2',
      'SecurityProfile 2 -> 3',
    ]);

    mark = h.csms.admissions.length;
    await h.restart();
    await connectedWith(h, 3, mark);
    expect(h.agent.config.get('SecurityProfile')).toBe('3');

    // The key, and the Basic credentials made from it, appear in no log line and no frame the agent sent.
    const logged = h.logs.map((l) => JSON.stringify(l)).join('\n');
    const sent = h.frames.filter((f) => f.direction === 'out').map((f) => f.text).join('\n');
    const secrets = [key, oldKey].flatMap((k) => [k, k.toUpperCase(), Buffer.from(`${h.cpId}:${k}`).toString('base64'), Buffer.from(k).toString('base64')]);
    for (const secret of secrets) {
      expect(logged).not.toContain(secret);
      expect(sent).not.toContain(secret);
    }
    // The frame log (debug) was there to search, with the ChangeConfiguration in it.
    expect(h.logs.some((l) => l.level === 20 && JSON.stringify(l).includes('AuthorizationKey'))).toBe(true);
  }, 90_000);

  it('falls back to the previous profile when the new one cannot connect, reports it once per outage, and keeps the fallback over a restart', async () => {
    const h = await start({ securitySwitchTimeoutS: 5 });
    expect(await change(h, 'AuthorizationKey', randomBytes(16).toString('hex'))).toBe('Accepted');
    let mark = h.csms.admissions.length;
    expect(await change(h, 'SecurityProfile', '1')).toBe('Accepted');
    await connectedWith(h, 1, mark);

    // The only installed root did not sign the CSMS's certificate: profile 2 cannot connect.
    installRoot(h, strangerRoot);
    mark = h.csms.admissions.length;
    expect(await change(h, 'SecurityProfile', '2')).toBe('Accepted');
    await waitFor(() => securityEvents(h, 'ReconfigurationOfSecurityParameters').some((e) => /fallback/.test(e.techInfo ?? '')), 20_000, 'the fallback');
    await connectedWith(h, 1, mark);
    expect(h.agent.config.get('SecurityProfile')).toBe('1');
    // Several attempts failed within the 5 s, one event said so (whitepaper: once per outage).
    expect(securityEvents(h, 'InvalidCentralSystemCertificate')).toHaveLength(1);
    const fallback = securityEvents(h, 'ReconfigurationOfSecurityParameters').at(-1)!;
    expect(fallback.techInfo).toMatch(/fallback to SecurityProfile 1: SecurityProfile 1 -> 2 did not connect within 5 s/);
    // The CSMS never saw a TLS upgrade: the refused server got no HTTP byte.
    expect(h.csms.admissions.slice(mark).every((a) => !a.tls)).toBe(true);

    await h.restart();
    expect(h.agent.config.get('SecurityProfile')).toBe('1');
  }, 90_000);

  it('a new AuthorizationKey the CSMS refuses (401) falls back to the previous key', async () => {
    const h = await start({ securitySwitchTimeoutS: 5 });
    const key = randomBytes(16).toString('hex');
    expect(await change(h, 'AuthorizationKey', key)).toBe('Accepted');
    let mark = h.csms.admissions.length;
    expect(await change(h, 'SecurityProfile', '1')).toBe('Accepted');
    await connectedWith(h, 1, mark);
    // Set on the charger only (as `diag config set` would): the CSMS still expects the old key.
    mark = h.csms.admissions.length;
    expect(h.agent.config.change('AuthorizationKey', randomBytes(16).toString('hex')).result).toBe('Accepted');
    await waitFor(() => securityEvents(h, 'ReconfigurationOfSecurityParameters').some((e) => /fallback/.test(e.techInfo ?? '')), 20_000, 'the fallback');
    await connectedWith(h, 1, mark);
    expect(h.agent.config.get('AuthorizationKey')).toBe(key);
    expect(securityEvents(h, 'FailedToAuthenticateAtCentralSystem')).toHaveLength(1);
    expect(h.csms.admissions.slice(mark).filter((a) => a.refused !== undefined).length).toBeGreaterThan(0);
  }, 90_000);

  it('a restart in the middle of a switch still falls back when the new profile cannot connect', async () => {
    const h = await start({ securitySwitchTimeoutS: 5 });
    expect(await change(h, 'AuthorizationKey', randomBytes(16).toString('hex'))).toBe('Accepted');
    let mark = h.csms.admissions.length;
    expect(await change(h, 'SecurityProfile', '1')).toBe('Accepted');
    await connectedWith(h, 1, mark);
    installRoot(h, strangerRoot);
    expect(await change(h, 'SecurityProfile', '2')).toBe('Accepted');
    mark = h.csms.admissions.length;
    await h.restart(); // waits for Accepted: only the fallback to profile 1 can get there
    await connectedWith(h, 1, mark);
    expect(h.agent.config.get('SecurityProfile')).toBe('1');
    expect(securityEvents(h, 'ReconfigurationOfSecurityParameters').at(-1)?.techInfo).toMatch(/^fallback to SecurityProfile 1: switch interrupted by a restart/);
  }, 90_000);

  it('once on TLS, never a plain connection: a failed raise to 3 falls back to 2, and an outage reconnects over TLS', async () => {
    const h = await start({ securitySwitchTimeoutS: 5 });
    expect(await change(h, 'AuthorizationKey', randomBytes(16).toString('hex'))).toBe('Accepted');
    installRoot(h);
    let mark = h.csms.admissions.length;
    expect(await change(h, 'SecurityProfile', '2')).toBe('Accepted');
    await connectedWith(h, 2, mark);
    const plainBefore = h.csms.connectionCounts.plain;

    // A certificate for another charge point: valid, so the raise is Accepted, but the CSMS refuses it (401).
    await installChargePointCertificate(h, 'SOMEONE-ELSE');
    mark = h.csms.admissions.length;
    expect(await change(h, 'SecurityProfile', '3')).toBe('Accepted');
    await waitFor(() => securityEvents(h, 'ReconfigurationOfSecurityParameters').some((e) => /fallback/.test(e.techInfo ?? '')), 20_000, 'the fallback');
    await connectedWith(h, 2, mark);
    expect(securityEvents(h, 'FailedToAuthenticateAtCentralSystem')).toHaveLength(1);

    mark = h.csms.admissions.length;
    await h.csms.disconnect(h.cpId);
    await connectedWith(h, 2, mark);
    expect(h.csms.connectionCounts.plain).toBe(plainBefore);
  }, 90_000);
});
