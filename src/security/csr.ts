// Key pair + PKCS#10 certificate signing request (RFC 2986) for SignCertificate (Security Whitepaper
// §3: CN = the charge point's identity, O = CpoName). Keys come from Node's crypto (OpenSSL), the
// request is assembled with the small DER writer and signed by Node's crypto: RSA 2048 or EC P-256.
import { generateKeyPair, sign, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { derElement, derOid, TAG } from './der.js';

export type CsrKeyType = 'rsa2048' | 'ec-p256';

export interface CsrOptions {
  /** Subject CN: the charge point's identity. */
  readonly commonName: string;
  /** Subject O: the CPO name (configuration key CpoName); left out when empty (CpoName not set yet). */
  readonly organization?: string;
  readonly keyType?: CsrKeyType;
}

export interface Csr {
  /** "-----BEGIN CERTIFICATE REQUEST-----" PEM, the SignCertificate.req csr field. */
  readonly csrPem: string;
  /** PKCS#8 PEM of the private key: store it with CertificateStore.savePendingKey, never log it. */
  readonly keyPem: string;
}

const OID = {
  commonName: '2.5.4.3',
  organizationName: '2.5.4.10',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
} as const;

const generate = promisify(generateKeyPair);

function pem(label: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** RDN value: UTF8String, 1..64 characters (X.520 ub-common-name / ub-organization-name). */
function attribute(oid: string, value: string, field: string): Buffer {
  if (value.length === 0 || value.length > 64) throw new Error(`CSR ${field} must be 1..64 characters, got ${value.length}`);
  return derElement(TAG.SET, derElement(TAG.SEQUENCE, derOid(oid), derElement(TAG.UTF8, Buffer.from(value, 'utf8'))));
}

async function keyPair(type: CsrKeyType): Promise<{ publicKey: KeyObject; privateKey: KeyObject }> {
  // Asynchronous: RSA key generation takes a noticeable time on a small ARM board.
  return type === 'ec-p256' ? generate('ec', { namedCurve: 'prime256v1' }) : generate('rsa', { modulusLength: 2048 });
}

export async function createCsr(o: CsrOptions): Promise<Csr> {
  const type = o.keyType ?? 'rsa2048';
  const rdns = [attribute(OID.commonName, o.commonName, 'commonName')];
  if (o.organization !== undefined && o.organization !== '') rdns.unshift(attribute(OID.organizationName, o.organization, 'organization'));
  const subject = derElement(TAG.SEQUENCE, ...rdns);
  const { publicKey, privateKey } = await keyPair(type);
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const info = derElement(TAG.SEQUENCE, derElement(TAG.INTEGER, Buffer.from([0])), subject, spki, derElement(0xa0));
  const algorithm =
    type === 'ec-p256'
      ? derElement(TAG.SEQUENCE, derOid(OID.ecdsaWithSHA256))
      : derElement(TAG.SEQUENCE, derOid(OID.sha256WithRSAEncryption), derElement(TAG.NULL));
  const signature = sign('sha256', info, privateKey); // ECDSA: DER-encoded (r, s), as X.509 wants
  const request = derElement(TAG.SEQUENCE, info, algorithm, derElement(TAG.BIT_STRING, Buffer.from([0]), signature));
  return { csrPem: pem('CERTIFICATE REQUEST', request), keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}
