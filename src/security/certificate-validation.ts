// Certificate checks done with Node's crypto (OpenSSL), never with a JavaScript parser:
// the whitepaper's policy for one certificate (validity at the floored time, RSA >= 2048, EC >= 256,
// no SHA-1), chain building from presented certificates to installed roots, host name, purpose,
// and "does this certificate belong to that private key" for CertificateSigned.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { x509Fields } from './x509-fields.js';

export type CertificateProblem =
  | 'unparsable'
  | 'expired'
  | 'not-yet-valid'
  | 'weak-key'
  | 'weak-signature'
  | 'not-a-ca'
  | 'untrusted'
  | 'host-mismatch'
  | 'wrong-purpose'
  | 'key-mismatch';

export class CertificateCheckError extends Error {
  override readonly name = 'CertificateCheckError';
  constructor(
    readonly problem: CertificateProblem,
    message: string,
  ) {
    super(message);
  }
}

/** Signature algorithms accepted (RFC 4055 / RFC 5758 / RFC 8410 OIDs); anything else, SHA-1 and MD5 included, is refused. */
const STRONG_SIGNATURES = new Map<string, string>([
  ['1.2.840.113549.1.1.11', 'sha256WithRSAEncryption'],
  ['1.2.840.113549.1.1.12', 'sha384WithRSAEncryption'],
  ['1.2.840.113549.1.1.13', 'sha512WithRSAEncryption'],
  ['1.2.840.10045.4.3.2', 'ecdsa-with-SHA256'],
  ['1.2.840.10045.4.3.3', 'ecdsa-with-SHA384'],
  ['1.2.840.10045.4.3.4', 'ecdsa-with-SHA512'],
  ['1.3.101.112', 'Ed25519'],
  ['1.3.101.113', 'Ed448'],
]);

const STRONG_CURVES = new Set(['prime256v1', 'secp384r1', 'secp521r1', 'brainpoolP256r1', 'brainpoolP384r1', 'brainpoolP512r1']);

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** Every certificate of a PEM text, in order; throws CertificateCheckError('unparsable') when there is none or one is bad. */
export function parsePemChain(pem: string): X509Certificate[] {
  const blocks = pem.match(PEM_CERT) ?? [];
  if (blocks.length === 0) throw new CertificateCheckError('unparsable', 'no PEM certificate found');
  return blocks.map((block, i) => {
    try {
      const cert = new X509Certificate(block);
      x509Fields(cert.raw); // the fields the hash data and the policy need must be readable
      return cert;
    } catch (err) {
      throw new CertificateCheckError('unparsable', `certificate ${i + 1} does not parse: ${(err as Error).message}`);
    }
  });
}

function describe(cert: X509Certificate): string {
  return cert.subject.replace(/\n/g, ', ');
}

/** Key size: RSA >= 2048 bits, EC on a >= 256-bit named curve, EdDSA. */
export function checkKeyStrength(cert: X509Certificate): void {
  const key = cert.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  const type = key.asymmetricKeyType;
  const ok =
    ((type === 'rsa' || type === 'rsa-pss') && (details.modulusLength ?? 0) >= 2048) ||
    (type === 'ec' && STRONG_CURVES.has(details.namedCurve ?? '')) ||
    type === 'ed25519' ||
    type === 'ed448';
  if (!ok) {
    const size = details.modulusLength !== undefined ? `${details.modulusLength}-bit ` : details.namedCurve !== undefined ? `${details.namedCurve} ` : '';
    throw new CertificateCheckError('weak-key', `${describe(cert)}: ${size}${type ?? 'unknown'} key is below the minimum (RSA 2048, EC 256)`);
  }
}

export function checkSignatureAlgorithm(cert: X509Certificate): void {
  const oid = x509Fields(cert.raw).signatureAlgorithm;
  if (!STRONG_SIGNATURES.has(oid)) {
    throw new CertificateCheckError('weak-signature', `${describe(cert)}: signature algorithm ${oid} is not accepted (SHA-256 or better)`);
  }
}

export function checkValidity(cert: X509Certificate, at: Date): void {
  if (at.getTime() < Date.parse(cert.validFrom)) {
    throw new CertificateCheckError('not-yet-valid', `${describe(cert)}: not valid before ${cert.validFrom}`);
  }
  if (at.getTime() > Date.parse(cert.validTo)) {
    throw new CertificateCheckError('expired', `${describe(cert)}: expired ${cert.validTo}`);
  }
}

/** The per-certificate policy: validity at `at`, key strength, and (unless a trust anchor's self-signature) the signature algorithm. */
export function checkPolicy(cert: X509Certificate, at: Date, opts: { selfSignatureOnly?: boolean } = {}): void {
  checkValidity(cert, at);
  checkKeyStrength(cert);
  if (opts.selfSignatureOnly !== true) checkSignatureAlgorithm(cert);
}

export interface ChainOptions {
  /** The floored time (clock-floor.ts). */
  readonly at: Date;
  /** Host name or IP address the leaf must be issued for. */
  readonly host?: string;
  /** Extended key usage the leaf must allow when it lists any (OID), e.g. serverAuth 1.3.6.1.5.5.7.3.1. */
  readonly purpose?: string;
  readonly maxIntermediates?: number;
}

export const EKU = { serverAuth: '1.3.6.1.5.5.7.3.1', clientAuth: '1.3.6.1.5.5.7.3.2' } as const;

function signedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  // checkIssued: names, key identifiers, issuer key usage; verify: the signature itself.
  return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
}

/**
 * Verify `presented` (leaf first, then intermediates in any order) up to one of `roots`.
 * Returns the path leaf..root; throws CertificateCheckError naming the first problem.
 */
export function verifyChain(presented: readonly X509Certificate[], roots: readonly X509Certificate[], opts: ChainOptions): X509Certificate[] {
  const leaf = presented[0];
  if (leaf === undefined) throw new CertificateCheckError('untrusted', 'no certificate presented');
  checkPolicy(leaf, opts.at);
  if (opts.purpose !== undefined) {
    const eku = leaf.keyUsage; // Node names the extended key usage list keyUsage
    if (eku !== undefined && eku.length > 0 && !eku.includes(opts.purpose) && !eku.includes('2.5.29.37.0')) {
      throw new CertificateCheckError('wrong-purpose', `${describe(leaf)}: extended key usage does not allow ${opts.purpose}`);
    }
  }
  if (opts.host !== undefined) {
    const match = isIP(opts.host) !== 0 ? leaf.checkIP(opts.host) : leaf.checkHost(opts.host);
    if (match === undefined) throw new CertificateCheckError('host-mismatch', `${describe(leaf)}: not issued for ${opts.host}`);
  }
  const path = [leaf];
  const unused = presented.slice(1);
  const limit = opts.maxIntermediates ?? 4;
  let current = leaf;
  for (;;) {
    const root = roots.find((r) => signedBy(current, r));
    if (root !== undefined) {
      if (!root.ca) throw new CertificateCheckError('not-a-ca', `${describe(root)}: trusted certificate is not a CA`);
      checkPolicy(root, opts.at, { selfSignatureOnly: true });
      path.push(root);
      return path;
    }
    const i = unused.findIndex((c) => signedBy(current, c));
    if (i < 0 || path.length > limit) {
      throw new CertificateCheckError('untrusted', `${describe(current)}: no installed root or presented CA issued it`);
    }
    const next = unused.splice(i, 1)[0]!;
    if (!next.ca) throw new CertificateCheckError('not-a-ca', `${describe(next)}: issuer is not a CA`);
    checkPolicy(next, opts.at);
    path.push(next);
    current = next;
  }
}

/** True when `keyPem` is the private key of `cert` (CertificateSigned answered our pending CSR). */
export function matchesPrivateKey(cert: X509Certificate, keyPem: string): boolean {
  try {
    return cert.checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}
