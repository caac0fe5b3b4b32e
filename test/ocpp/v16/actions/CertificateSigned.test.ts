// Security whitepaper CertificateSigned, the whole path against the real agent and the strict
// DevCsms: ExtendedTriggerMessage -> SignCertificate (the agent's CSR) -> the test's CA signs it with
// `openssl x509 -req` -> CertificateSigned (leaf + CA) -> Accepted, installed (key 0600, pending keys
// gone) and a reconnect asked for; one valid from a later time is switched to then (injected clock). Rejected, with an InvalidChargePointCertificate security event and
// nothing installed: a CN that is not the charge point, a chain to a root not installed, a
// certificate for a key we never generated, and text that is no certificate.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { useAgentFixture } from '../../../helpers/action-fixture.js';
import type { Harness } from '../../../helpers/agent-harness.js';
import { signCsr } from '../../../helpers/csr-signer.js';
import { TestPki } from '../../../helpers/test-pki.js';
import { waitFor } from '../../../helpers/wait.js';
import { FakeClock } from '../../../helpers/fake-clock.js';
import { commonNameOf } from '../../../../src/security/certificate-store.js';
import { parsePemChain } from '../../../../src/security/certificate-validation.js';

const fx = useAgentFixture();
const pki = new TestPki();
afterAll(() => pki.cleanup());
const root = pki.root('CSMS Root');
const cpCa = pki.issue('Charge Point CA', root, { ca: true });

/** An agent trusting `root`, with a fresh CSR sent; returns the CSR the CSMS received. */
async function agentWithCsr(): Promise<{ h: Harness; csr: string; reconnects: string[] }> {
  const h = await fx.start({ ocppConfig: { CpoName: 'Example CPO' }, csms: { answers: { SignCertificate: () => ({ status: 'Accepted' }) } } });
  const reconnects: string[] = [];
  h.agent.security.reconnect.implement((why) => reconnects.push(why));
  expect(await h.call('InstallCertificate', { certificateType: 'CentralSystemRootCertificate', certificate: root.cert })).toEqual({ status: 'Accepted' });
  const m = h.mark();
  expect(await h.call('ExtendedTriggerMessage', { requestedMessage: 'SignChargePointCertificate' })).toEqual({ status: 'Accepted' });
  const [call] = await h.waitCalls(m, 'SignCertificate');
  await waitFor(() => h.agent.security.certificates.pendingKeyIds().length === 1, 10_000, 'pending key');
  return { h, csr: String(call!.params.csr), reconnects };
}

const invalidEvents = (h: Harness) => h.agent.security.log.entries().filter((e) => e.type === 'InvalidChargePointCertificate');

describe('CertificateSigned (security whitepaper)', () => {
  it('our CSR signed by a CA under an installed root: Accepted, installed atomically, pending keys gone, reconnect asked', async () => {
    const { h, csr, reconnects } = await agentWithCsr();
    const leaf = signCsr(pki, csr, cpCa);
    expect(await h.call('CertificateSigned', { certificateChain: `${leaf}${cpCa.cert}` })).toEqual({ status: 'Accepted' });
    const installed = h.agent.security.certificates.chargePointCertificate()!;
    const chain = parsePemChain(installed.cert);
    expect(chain.map((c) => commonNameOf(c))).toEqual([h.cpId, 'Charge Point CA']);
    expect(chain[0]!.checkPrivateKey(await import('node:crypto').then((c) => c.createPrivateKey(installed.key)))).toBe(true);
    expect(statSync(join(h.dataDir, 'certs', 'charge-point.pem')).mode & 0o777).toBe(0o600);
    expect(h.agent.security.certificates.pendingKeyIds()).toEqual([]);
    await waitFor(() => reconnects.length === 1, 10_000, 'reconnect requested');
    expect(invalidEvents(h)).toEqual([]);
    expect(h.csms.strictFailures).toEqual([]);
  });

  it('a certificate valid from a later time: Accepted, kept beside the one in use, switched to (and reconnected) at its start', async () => {
    const clock = new FakeClock();
    const h = await fx.start({ clock, csms: { heartbeatIntervalS: 0, answers: { SignCertificate: () => ({ status: 'Accepted' }) } } });
    const reconnects: string[] = [];
    h.agent.security.reconnect.implement((why) => reconnects.push(why));
    await h.call('InstallCertificate', { certificateType: 'CentralSystemRootCertificate', certificate: root.cert });
    const m = h.mark();
    await h.call('ExtendedTriggerMessage', { requestedMessage: 'SignChargePointCertificate' });
    const [call] = await h.waitCalls(m, 'SignCertificate');
    await waitFor(() => h.agent.security.certificates.pendingKeyIds().length === 1, 10_000, 'pending key');
    const start = new Date(Math.ceil((clock.now().getTime() + 2 * 3600_000) / 1000) * 1000);
    const leaf = signCsr(pki, String(call!.params.csr), cpCa, { start });
    expect(await h.call('CertificateSigned', { certificateChain: `${leaf}${cpCa.cert}` })).toEqual({ status: 'Accepted' });
    const store = h.agent.security.certificates;
    expect(store.chargePointCertificate()).toBeUndefined();
    expect(store.nextActivation()).toEqual(start);
    expect(store.pendingKeyIds()).toEqual([]);
    await clock.advanceAsync(2 * 3600_000 - 60_000);
    expect(reconnects).toEqual([]);
    await clock.advanceAsync(62_000);
    expect(reconnects).toEqual(['charge point certificate signed in advance now valid']);
    expect(commonNameOf(parsePemChain(store.chargePointCertificate()!.cert)[0]!)).toBe(h.cpId);
    expect(store.nextActivation()).toBeUndefined();
  });

  it.each([
    ['a CN that is not the charge point', (csr: string) => signCsr(pki, csr, cpCa, { subj: '/O=Example CPO/CN=SOMEONE-ELSE' }) + cpCa.cert, /CN "SOMEONE-ELSE"/],
    ['a chain to a root that is not installed', (csr: string) => {
      const stranger = pki.root('Stranger Root');
      return signCsr(pki, csr, stranger);
    }, /no installed root/],
    ['a certificate for a key we never generated', (_csr: string, cpId: string) => pki.issue(cpId, cpCa, { eku: 'clientAuth' }).cert + cpCa.cert, /pending CSR key/],
    ['text that is no certificate', () => 'hello', /no PEM certificate/],
  ])('%s: Rejected, InvalidChargePointCertificate, nothing installed', async (_what, chainOf, reason) => {
    const { h, csr, reconnects } = await agentWithCsr();
    expect(await h.call('CertificateSigned', { certificateChain: chainOf(csr, h.cpId) })).toEqual({ status: 'Rejected' });
    expect(invalidEvents(h)).toHaveLength(1);
    expect(invalidEvents(h)[0]!.techInfo).toMatch(reason);
    expect(h.agent.security.certificates.chargePointCertificate()).toBeUndefined();
    expect(h.agent.security.certificates.pendingKeyIds()).toHaveLength(1);
    expect(reconnects).toEqual([]);
  });
});
