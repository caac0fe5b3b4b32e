// CSRs checked by the openssl CLI (`openssl req -verify`), then signed by an openssl CA and matched
// back to the key: the SignCertificate -> CertificateSigned round trip without a CSMS.
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchesPrivateKey } from '../../src/security/certificate-validation.js';
import { createCsr } from '../../src/security/csr.js';
import { openssl, opensslOutput, TestPki } from '../helpers/test-pki.js';

let pki: TestPki;
beforeAll(() => {
  pki = new TestPki();
});
afterAll(() => pki.cleanup());

describe('createCsr', () => {
  for (const keyType of ['rsa2048', 'ec-p256'] as const) {
    it(`makes a ${keyType} request that openssl verifies, with CN and O`, async () => {
      const { csrPem, keyPem } = await createCsr({ commonName: 'CP-Ü-1', organization: 'Example CPO', keyType });
      const file = join(pki.dir, `${keyType}.csr`);
      writeFileSync(file, csrPem);
      const out = opensslOutput(['req', '-in', file, '-verify', '-noout', '-subject', '-nameopt', 'utf8,sep_comma_plus']);
      expect(out).toContain('self-signature verify OK');
      expect(out).toContain('subject=O=Example CPO,CN=CP-Ü-1');
      // The same request with one subject byte changed must fail openssl's signature check.
      const der = Buffer.from(csrPem.replace(/-----[^-]+-----/g, ''), 'base64');
      const at = der.indexOf(Buffer.from('Example'));
      der[at] = der[at]! ^ 0x01;
      const tampered = join(pki.dir, `${keyType}-tampered.csr`);
      writeFileSync(tampered, der);
      expect(opensslOutput(['req', '-inform', 'DER', '-in', tampered, '-verify', '-noout'])).toContain('verify failure');
      const text = openssl(['req', '-in', file, '-noout', '-text']).toString();
      expect(text).toContain(keyType === 'ec-p256' ? 'ecdsa-with-SHA256' : 'sha256WithRSAEncryption');
      expect(text).toContain(keyType === 'ec-p256' ? 'prime256v1' : '(2048 bit)');

      const ca = pki.root(`CSR CA ${keyType}`);
      const certFile = join(pki.dir, `${keyType}.crt`);
      openssl(['x509', '-req', '-in', file, '-CA', ca.certPath, '-CAkey', ca.keyPath, '-CAcreateserial', '-days', '1', '-out', certFile]);
      const cert = new X509Certificate(openssl(['x509', '-in', certFile]));
      expect(matchesPrivateKey(cert, keyPem)).toBe(true);
      expect(keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    });
  }

  it('refuses an empty or over-long subject field', async () => {
    await expect(createCsr({ commonName: '', organization: 'O' })).rejects.toThrow(/commonName/);
    await expect(createCsr({ commonName: 'CP', organization: 'x'.repeat(65) })).rejects.toThrow(/organization/);
  });
});
