// Security whitepaper InstallCertificate against the real agent and the strict DevCsms, with
// certificates made by the openssl CLI: a valid root of either kind is Accepted (and listed);
// expired, not yet valid, RSA-1024, SHA-1, non-CA and garbage are Rejected; past
// CertificateStoreMaxLength a new one is Rejected.
import { afterAll, describe, expect, it } from 'vitest';
import { useAgentFixture } from '../../../helpers/action-fixture.js';
import { opensslDate, TestPki } from '../../../helpers/test-pki.js';

const fx = useAgentFixture();
const pki = new TestPki();
afterAll(() => pki.cleanup());

const DAY = 86_400_000;

describe('InstallCertificate (security whitepaper)', () => {
  it('a valid root of either kind: Accepted, and GetInstalledCertificateIds lists it', async () => {
    const h = await fx.start();
    const csmsRoot = pki.root('CSMS Root');
    const makerRoot = pki.root('Maker Root', { key: 'rsa2048' });
    expect(await h.call('InstallCertificate', { certificateType: 'CentralSystemRootCertificate', certificate: csmsRoot.cert })).toEqual({ status: 'Accepted' });
    expect(await h.call('InstallCertificate', { certificateType: 'ManufacturerRootCertificate', certificate: makerRoot.cert })).toEqual({ status: 'Accepted' });
    // Installing the same one again changes nothing.
    expect(await h.call('InstallCertificate', { certificateType: 'CentralSystemRootCertificate', certificate: csmsRoot.cert })).toEqual({ status: 'Accepted' });
    const listed = await h.call('GetInstalledCertificateIds', { certificateType: 'CentralSystemRootCertificate' });
    expect(listed.certificateHashData).toHaveLength(1);
    expect(h.agent.security.certificates.roots('ManufacturerRootCertificate')).toHaveLength(1);
    expect(h.csms.strictFailures).toEqual([]);
  });

  it.each([
    ['expired', () => pki.root('Old Root', { start: opensslDate(new Date(Date.now() - 40 * DAY)), end: opensslDate(new Date(Date.now() - DAY)) })],
    ['not yet valid', () => pki.root('Future Root', { start: opensslDate(new Date(Date.now() + 400 * DAY)), end: opensslDate(new Date(Date.now() + 800 * DAY)) })],
    ['RSA-1024', () => pki.root('Weak Root', { key: 'rsa1024' })],
    ['SHA-1 signed', () => pki.root('Sha1 Root', { key: 'rsa2048', md: 'sha1' })],
    ['not a CA', () => pki.issue('leaf.example', undefined)],
  ])('%s: Rejected, nothing installed', async (_what, make) => {
    const h = await fx.start();
    const cert = make().cert;
    expect(await h.call('InstallCertificate', { certificateType: 'CentralSystemRootCertificate', certificate: cert })).toEqual({ status: 'Rejected' });
    expect(h.agent.security.certificates.roots('CentralSystemRootCertificate')).toEqual([]);
  });

  it('text that is no certificate: Rejected', async () => {
    const h = await fx.start();
    expect(await h.call('InstallCertificate', { certificateType: 'ManufacturerRootCertificate', certificate: '-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n' })).toEqual({ status: 'Rejected' });
  });

  it('past CertificateStoreMaxLength (both kinds together): Rejected', async () => {
    const h = await fx.start();
    const max = Number(h.agent.config.get('CertificateStoreMaxLength'));
    expect(max).toBe(20);
    for (let i = 0; i < max; i++) {
      const type = i % 2 === 0 ? 'CentralSystemRootCertificate' : 'ManufacturerRootCertificate';
      expect(await h.call('InstallCertificate', { certificateType: type, certificate: pki.root(`Root ${i}`).cert })).toEqual({ status: 'Accepted' });
    }
    expect(await h.call('InstallCertificate', { certificateType: 'CentralSystemRootCertificate', certificate: pki.root('One Too Many').cert })).toEqual({ status: 'Rejected' });
    const key = await h.call('GetConfiguration', { key: ['CertificateStoreMaxLength'] });
    expect(key.configurationKey).toEqual([{ key: 'CertificateStoreMaxLength', readonly: true, value: '20' }]);
  });
});
