// The security whitepaper's whole path over OCPP alone (issue "Done when"): a charger goes from
// profile 0 to profile 3 and renews its certificate, end to end, against the strict dev CSMS
// (ocpp-rpc strict mode: every frame both ways schema-checked) with real TLS and strict admission
// (Basic password = the key the CSMS set, client certificate from the dev PKI with CN = the charge
// point id, never below a profile once used). Nothing is put in the agent's store directly: every
// step is a CSMS message, and the renewal comes from the agent by itself. The CSMS signs the first
// CSR for 10 days, inside the 30-day renewal threshold, so the agent's next check (after the first
// accepted BootNotification of a restart) asks for a new one.
import { execFileSync } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signCsr, type Admission } from '../../src/devtools/dev-csms-security.js';
import { useAgentFixture } from '../helpers/action-fixture.js';
import type { Harness } from '../helpers/agent-harness.js';
import { waitFor } from '../helpers/wait.js';

const ROOT = new URL('../..', import.meta.url).pathname;
let pki: string;

beforeAll(() => {
  pki = mkdtempSync(join(tmpdir(), 'sl-pki-'));
  execFileSync('bash', [join(ROOT, 'certs/make-dev-pki.sh'), pki], { stdio: 'ignore' });
});
afterAll(() => rmSync(pki, { recursive: true, force: true }));

const fx = useAgentFixture();

const change = async (h: Harness, key: string, value: string): Promise<string> => (await h.call('ChangeConfiguration', { key, value })).status;

/** The connections the CSMS admitted for this charge point since `since`. */
const admittedSince = (h: Harness, since: number): Admission[] => h.csms.admissions.slice(since).filter((a) => a.identity === h.cpId && a.refused === undefined);

/** Waits until the agent is registered again over a connection admitted since `since` with `profile`; returns that admission. */
async function connectedWith(h: Harness, profile: number, since: number): Promise<Admission> {
  await waitFor(
    () => admittedSince(h, since).some((a) => a.profile === profile) && h.agent.csms.isConnected && h.csms.isConnected(h.cpId),
    30_000,
    `a connection with profile ${profile}`,
  );
  await waitFor(() => h.agent.session.registrationStatus === 'Accepted', 10_000, 'Accepted');
  return admittedSince(h, since).filter((a) => a.profile === profile).at(-1)!;
}

/** openssl's own OCSP CertID of a self-signed root: what GetInstalledCertificateIds must answer for it. */
function opensslCertId(certPath: string): { hashAlgorithm: 'SHA256'; issuerNameHash: string; issuerKeyHash: string; serialNumber: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sl-ocsp-'));
  try {
    const req = join(dir, 'req');
    execFileSync('openssl', ['ocsp', '-sha256', '-issuer', certPath, '-cert', certPath, '-no_nonce', '-reqout', req], { stdio: 'ignore' });
    const text = execFileSync('openssl', ['ocsp', '-reqin', req, '-req_text'], { encoding: 'utf8' });
    const field = (label: string): string => new RegExp(`${label}:\\s*([0-9A-Fa-f]+)`).exec(text)![1]!.toLowerCase();
    return { hashAlgorithm: 'SHA256', issuerNameHash: field('Issuer Name Hash'), issuerKeyHash: field('Issuer Key Hash'), serialNumber: field('Serial Number').replace(/^0+/, '') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The CSR's subject as openssl reads it, after checking its self-signature. */
function csrSubject(csrPem: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sl-csr-'));
  try {
    writeFileSync(join(dir, 'csr'), csrPem);
    return execFileSync('openssl', ['req', '-in', join(dir, 'csr'), '-noout', '-verify', '-subject', '-nameopt', 'RFC2253'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const leafOf = (chain: string): X509Certificate => new X509Certificate(chain.slice(0, chain.indexOf('-----END CERTIFICATE-----') + 25));
const DAY_MS = 86_400_000;

describe('security lifecycle over OCPP alone (security whitepaper A05, A02, A03)', () => {
  it('profile 0 -> 3 with a CSR signed by the CSMS, then a renewal by itself, with real TLS and a strict CSMS', async () => {
    const h = await fx.start({
      // The CSMS side signs each CSR itself below, with the validity it chooses.
      csms: { security: { pkiDir: pki }, answers: { SignCertificate: () => ({ status: 'Accepted' }) } },
    });
    expect(admittedSince(h, 0).map((a) => a.profile)).toEqual([0]);

    // Profile 1: the AuthorizationKey, then the raise; the agent comes back with Basic auth.
    expect(await change(h, 'AuthorizationKey', randomBytes(20).toString('hex'))).toBe('Accepted');
    let mark = h.csms.admissions.length;
    expect(await change(h, 'SecurityProfile', '1')).toBe('Accepted');
    await connectedWith(h, 1, mark);

    // The CSMS's root, installed and listed with the hash data openssl computes for it.
    const rootPath = join(pki, 'csms-root-ca.crt');
    expect(await h.call('InstallCertificate', { certificateType: 'CentralSystemRootCertificate', certificate: readFileSync(rootPath, 'utf8') })).toEqual({ status: 'Accepted' });
    const installed = await h.call('GetInstalledCertificateIds', { certificateType: 'CentralSystemRootCertificate' });
    const rootId = opensslCertId(rootPath);
    expect(installed).toEqual({ status: 'Accepted', certificateHashData: [rootId] });

    // Profile 2: wss://, the server checked against that root, Basic auth, no client certificate yet.
    mark = h.csms.admissions.length;
    expect(await change(h, 'SecurityProfile', '2')).toBe('Accepted');
    const onTls = await connectedWith(h, 2, mark);
    expect(onTls).toMatchObject({ tls: true, profile: 2 });
    expect(onTls.clientCertificate).toBeUndefined();
    const plainBeforeTls = h.csms.connectionCounts.plain;

    // The CSMS asks for a CSR; the agent sends SignCertificate; the CSMS signs it for 10 days.
    let m = h.mark();
    expect(await h.call('ExtendedTriggerMessage', { requestedMessage: 'SignChargePointCertificate' })).toEqual({ status: 'Accepted' });
    await waitFor(() => h.callsSince(m, 'SignCertificate').length === 1, 30_000, 'the triggered SignCertificate');
    const firstCsr = String(h.callsSince(m, 'SignCertificate')[0]!.params.csr);
    expect(csrSubject(firstCsr)).toBe(`subject=CN=${h.cpId}`);
    const firstChain = await signCsr(pki, firstCsr, 10);
    const first = leafOf(firstChain);
    mark = h.csms.admissions.length;
    expect(await h.call('CertificateSigned', { certificateChain: firstChain })).toEqual({ status: 'Accepted' });
    // The agent reconnects to use the new certificate (still profile 2 until the CSMS raises it).
    await waitFor(() => admittedSince(h, mark).length > 0 && h.csms.isConnected(h.cpId) && h.agent.session.registrationStatus === 'Accepted', 30_000, 'the reconnect after CertificateSigned');

    // Profile 3: mutual TLS with exactly the certificate the CSMS signed.
    mark = h.csms.admissions.length;
    expect(await change(h, 'SecurityProfile', '3')).toBe('Accepted');
    const mtls = await connectedWith(h, 3, mark);
    expect(mtls.clientCertificate).toMatchObject({ serialNumber: first.serialNumber, fingerprint256: first.fingerprint256 });
    expect(await h.call('GetConfiguration', { key: ['SecurityProfile'] })).toEqual({ configurationKey: [{ key: 'SecurityProfile', readonly: false, value: '3' }] });

    // Renewal: the first check after an accepted BootNotification (here a restart on the same data
    // dir) finds the certificate expiring within 30 days and sends SignCertificate unasked.
    m = h.mark();
    mark = h.csms.admissions.length;
    const sentBefore = h.frames.length;
    await h.restart();
    expect((await connectedWith(h, 3, mark)).clientCertificate?.serialNumber).toBe(first.serialNumber);
    await waitFor(() => h.callsSince(m, 'SignCertificate').length === 1, 30_000, 'the renewal SignCertificate');
    // Nothing from the CSMS asked for it.
    expect(h.frames.slice(sentBefore).filter((f) => f.direction === 'in' && f.text.startsWith('[2,'))).toEqual([]);
    const renewalCsr = String(h.callsSince(m, 'SignCertificate')[0]!.params.csr);
    expect(renewalCsr).not.toBe(firstCsr);
    expect(csrSubject(renewalCsr)).toBe(`subject=CN=${h.cpId}`);
    const secondChain = await signCsr(pki, renewalCsr, 365);
    const second = leafOf(secondChain);
    expect(new Date(second.validTo).getTime() - new Date(first.validTo).getTime()).toBeGreaterThan(300 * DAY_MS);
    mark = h.csms.admissions.length;
    expect(await h.call('CertificateSigned', { certificateChain: secondChain })).toEqual({ status: 'Accepted' });
    // The agent reconnects by itself and the CSMS now sees the new certificate.
    const renewed = await connectedWith(h, 3, mark);
    expect(renewed.clientCertificate?.serialNumber).toBe(second.serialNumber);
    expect(renewed.clientCertificate?.serialNumber).not.toBe(first.serialNumber);
    expect(renewed.clientCertificate?.fingerprint256).toBe(second.fingerprint256);
    // What `diag status` shows as certificateExpiry; the CSR keys are gone, the key file is private.
    expect(h.agent.security.renewal?.expiry()?.toISOString()).toBe(new Date(second.validTo).toISOString());
    expect(h.agent.security.renewal?.renewing).toBe(false); // no retry of the renewal left armed
    const certs = join(h.dataDir, 'certs');
    expect(existsSync(join(certs, 'pending')) ? readdirSync(join(certs, 'pending')) : []).toEqual([]);
    expect(statSync(join(certs, 'charge-point.pem')).mode & 0o777).toBe(0o600);

    // The last CentralSystemRootCertificate cannot go while profile 3 needs it.
    expect(await h.call('DeleteCertificate', { certificateHashData: rootId })).toEqual({ status: 'Failed' });
    expect(await h.call('GetInstalledCertificateIds', { certificateType: 'CentralSystemRootCertificate' })).toEqual({ status: 'Accepted', certificateHashData: [rootId] });

    // Every connection was admitted, profiles only went up, and once on TLS never a plain one again.
    expect(h.csms.admissions.filter((a) => a.refused !== undefined)).toEqual([]);
    // Boot, Basic, wss, the reconnect after CertificateSigned, mTLS, the restart, the reconnect after the renewal.
    expect(admittedSince(h, 0).map((a) => [a.profile, a.clientCertificate?.serialNumber])).toEqual([
      [0, undefined],
      [1, undefined],
      [2, undefined],
      [2, undefined],
      [3, first.serialNumber],
      [3, first.serialNumber],
      [3, second.serialNumber],
    ]);
    expect(h.csms.connectionCounts.plain).toBe(plainBeforeTls);

    // The security events: all in the agent's security log, in order; the CSMS got them as
    // SecurityEventNotification (one per type per minute: the repeats wait in the log).
    const logged = h.logs.filter((l) => l.msg === 'security event').map((l) => [l['securityEvent'], l['techInfo']]);
    expect(logged).toEqual([
      ['StartupOfTheDevice', expect.anything()],
      ['ReconfigurationOfSecurityParameters', 'AuthorizationKey changed'],
      ['ReconfigurationOfSecurityParameters', 'SecurityProfile 0 -> 1'],
      ['ReconfigurationOfSecurityParameters', 'SecurityProfile 1 -> 2'],
      ['ReconfigurationOfSecurityParameters', 'SecurityProfile 2 -> 3'],
      ['StartupOfTheDevice', expect.anything()],
    ]);
    await waitFor(() => h.agent.messenger.queueDepth === 0, 10_000, 'the notifications delivered');
    expect(h.csms.callsOf('SecurityEventNotification').map((c) => [c.params.type, c.params.techInfo])).toEqual([
      ['StartupOfTheDevice', expect.anything()],
      ['ReconfigurationOfSecurityParameters', 'AuthorizationKey changed'],
      ['StartupOfTheDevice', expect.anything()],
    ]);
    const times = h.csms.callsOf('SecurityEventNotification').map((c) => Date.parse(String(c.params.timestamp)));
    expect(times).toEqual([...times].sort((a, b) => a - b));

    expect(h.csms.strictFailures).toEqual([]);
  }, 120_000);
});
