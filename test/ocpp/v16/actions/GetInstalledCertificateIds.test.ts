// Security whitepaper GetInstalledCertificateIds against the real agent: NotFound with none; the
// hash data of each installed root equals the CertID openssl builds for an OCSP request
// (`openssl ocsp -sha256`: SHA-256 of the issuer's DER Name and public key bits, the serial),
// with the serial's leading zeroes dropped.
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { useAgentFixture } from '../../../helpers/action-fixture.js';
import { opensslOutput, TestPki, type Issued } from '../../../helpers/test-pki.js';

const fx = useAgentFixture();
const pki = new TestPki();
afterAll(() => pki.cleanup());

/** openssl's own CertID of a self-signed root (issuer = itself), as the OCSP request text prints it. */
function opensslCertId(root: Issued): { issuerNameHash: string; issuerKeyHash: string; serialNumber: string } {
  const req = join(pki.dir, `${root.name}.ocsp`);
  opensslOutput(['ocsp', '-sha256', '-issuer', root.certPath, '-cert', root.certPath, '-no_nonce', '-reqout', req]);
  const text = opensslOutput(['ocsp', '-reqin', req, '-req_text']);
  const field = (label: string) => new RegExp(`${label}:\\s*([0-9A-Fa-f]+)`).exec(text)![1]!;
  return { issuerNameHash: field('Issuer Name Hash').toLowerCase(), issuerKeyHash: field('Issuer Key Hash').toLowerCase(), serialNumber: field('Serial Number') };
}

describe('GetInstalledCertificateIds (security whitepaper)', () => {
  it('NotFound when none of the type is installed', async () => {
    const h = await fx.start();
    expect(await h.call('GetInstalledCertificateIds', { certificateType: 'CentralSystemRootCertificate' })).toEqual({ status: 'NotFound' });
  });

  it('the hash data of every installed root, equal to openssl\'s OCSP CertID, serial without leading zeroes', async () => {
    const h = await fx.start();
    const a = pki.root('Root A', { serial: '00ab' });
    const b = pki.root('Root B', { key: 'rsa2048', serial: '0fedcba987' });
    for (const r of [a, b]) await h.call('InstallCertificate', { certificateType: 'CentralSystemRootCertificate', certificate: r.cert });
    const answer = await h.call('GetInstalledCertificateIds', { certificateType: 'CentralSystemRootCertificate' });
    expect(answer.status).toBe('Accepted');
    const expected = [a, b].map((r) => {
      const id = opensslCertId(r);
      return { hashAlgorithm: 'SHA256', issuerNameHash: id.issuerNameHash, issuerKeyHash: id.issuerKeyHash, serialNumber: id.serialNumber.toLowerCase().replace(/^0+/, '') };
    });
    expect(expected.map((e) => e.serialNumber)).toEqual(['ab', 'fedcba987']);
    expect([...answer.certificateHashData!].sort((x, y) => x.serialNumber.localeCompare(y.serialNumber))).toEqual(expected.sort((x, y) => x.serialNumber.localeCompare(y.serialNumber)));
    expect(await h.call('GetInstalledCertificateIds', { certificateType: 'ManufacturerRootCertificate' })).toEqual({ status: 'NotFound' });
    expect(h.csms.strictFailures).toEqual([]);
  });
});
