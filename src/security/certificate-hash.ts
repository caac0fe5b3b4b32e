// OCPP CertificateHashDataType (Security Whitepaper: GetInstalledCertificateIds, DeleteCertificate),
// computed as an OCSP CertID (RFC 6960 §4.1.1): SHA-256 of the issuer's DER Name, SHA-256 of the
// issuer's public key bits, and the serial number in hex without leading zeroes.
import { createHash, type X509Certificate } from 'node:crypto';
import { x509Fields } from './x509-fields.js';

export type HashAlgorithm = 'SHA256' | 'SHA384' | 'SHA512';

export interface CertificateHashData {
  readonly hashAlgorithm: HashAlgorithm;
  readonly issuerNameHash: string;
  readonly issuerKeyHash: string;
  readonly serialNumber: string;
}

/** Lower-case hex without leading zeroes ("0" for zero): the one form this agent sends and compares. */
export function normalizeSerial(hex: string): string {
  const stripped = hex.toLowerCase().replace(/^0+/, '');
  return stripped === '' ? '0' : stripped;
}

/**
 * Hash data of `cert`; `issuer` is the certificate that signed it (the certificate itself for a
 * self-signed root). Throws when `issuer` is not `cert`'s issuer.
 */
export function certificateHashData(cert: X509Certificate, issuer: X509Certificate, algorithm: HashAlgorithm = 'SHA256'): CertificateHashData {
  if (!cert.checkIssued(issuer)) throw new Error('certificateHashData: issuer did not issue this certificate');
  const own = x509Fields(cert.raw);
  const theirs = x509Fields(issuer.raw);
  const hash = (b: Buffer) => createHash(algorithm.toLowerCase()).update(b).digest('hex');
  return {
    hashAlgorithm: algorithm,
    issuerNameHash: hash(own.issuerNameDer),
    issuerKeyHash: hash(theirs.publicKeyBits),
    serialNumber: normalizeSerial(cert.serialNumber),
  };
}

/** Same certificate id? Hex case and serial leading zeroes are ignored (CSMSs differ in both). */
export function sameHashData(a: CertificateHashData, b: CertificateHashData): boolean {
  return (
    a.hashAlgorithm === b.hashAlgorithm &&
    a.issuerNameHash.toLowerCase() === b.issuerNameHash.toLowerCase() &&
    a.issuerKeyHash.toLowerCase() === b.issuerKeyHash.toLowerCase() &&
    normalizeSerial(a.serialNumber) === normalizeSerial(b.serialNumber)
  );
}
