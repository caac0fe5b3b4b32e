// CertificateHashDataType against OpenSSL's own OCSP CertID (`openssl ocsp -reqout`, RFC 6960 §4.1.1):
// an independent implementation computes issuerNameHash, issuerKeyHash and the serial number.
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateHashData, normalizeSerial, sameHashData } from '../../src/security/certificate-hash.js';
import { openssl, TestPki, type Issued } from '../helpers/test-pki.js';

let pki: TestPki;
beforeAll(() => {
  pki = new TestPki();
});
afterAll(() => pki.cleanup());

/** OpenSSL's CertID for `cert` issued by `issuer`, read back from the request text. */
function opensslCertId(cert: Issued, issuer: Issued, digest = 'sha256'): { name: string; key: string; serial: string } {
  const req = join(pki.dir, `${cert.name}.ocsp`);
  openssl(['ocsp', '-issuer', issuer.certPath, `-${digest}`, '-cert', cert.certPath, '-no_nonce', '-reqout', req]);
  // OpenSSL continues long hex values on the next line after a backslash.
  const text = openssl(['ocsp', '-reqin', req, '-req_text']).toString().replace(/\\\n/g, '');
  const field = (label: string) => new RegExp(`${label}: ([0-9A-F]+)`).exec(text)?.[1] ?? '';
  return { name: field('Issuer Name Hash'), key: field('Issuer Key Hash'), serial: field('Serial Number') };
}

describe('certificateHashData', () => {
  it('matches OpenSSL for a leaf under an RSA intermediate, for a self-signed root, and for SHA-384/512', () => {
    const root = pki.root('Hash Root', { o: 'Hash Org' });
    const mid = pki.issue('Hash Intermediate', root, { ca: true, key: 'rsa2048' });
    const leaf = pki.server(mid);
    for (const [cert, issuer] of [[leaf, mid], [mid, root], [root, root]] as const) {
      for (const [alg, digest] of [['SHA256', 'sha256'], ['SHA384', 'sha384'], ['SHA512', 'sha512']] as const) {
        const ours = certificateHashData(new X509Certificate(cert.cert), new X509Certificate(issuer.cert), alg);
        const theirs = opensslCertId(cert, issuer, digest);
        expect(ours.hashAlgorithm).toBe(alg);
        expect(ours.issuerNameHash).toBe(theirs.name.toLowerCase());
        expect(ours.issuerKeyHash).toBe(theirs.key.toLowerCase());
        expect(ours.serialNumber).toBe(normalizeSerial(theirs.serial));
      }
    }
  });

  it('writes the serial number in lower-case hex without leading zeroes', () => {
    const root = pki.root('Serial Root');
    const high = pki.issue('high-bit', root, { serial: '80ab' }); // DER INTEGER 00 80 AB
    const small = pki.issue('small', root, { serial: '0f' });
    const rootX = new X509Certificate(root.cert);
    expect(certificateHashData(new X509Certificate(high.cert), rootX).serialNumber).toBe('80ab');
    expect(certificateHashData(new X509Certificate(small.cert), rootX).serialNumber).toBe('f');
    expect(normalizeSerial('000')).toBe('0');
  });

  it('refuses an issuer that did not issue the certificate', () => {
    const a = pki.root('Root A');
    const b = pki.root('Root B');
    const leaf = pki.server(a);
    expect(() => certificateHashData(new X509Certificate(leaf.cert), new X509Certificate(b.cert))).toThrow(/did not issue/);
  });

  it('compares ignoring hex case and serial leading zeroes, not the algorithm', () => {
    const a = { hashAlgorithm: 'SHA256', issuerNameHash: 'ab', issuerKeyHash: 'cd', serialNumber: '0f' } as const;
    expect(sameHashData(a, { ...a, issuerNameHash: 'AB', serialNumber: 'F' })).toBe(true);
    expect(sameHashData(a, { ...a, hashAlgorithm: 'SHA384' })).toBe(false);
    expect(sameHashData(a, { ...a, issuerKeyHash: 'ce' })).toBe(false);
  });
});
