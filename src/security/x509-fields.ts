// The few X.509 fields Node's X509Certificate does not expose, read from the DER (RFC 5280 §4.1):
// the issuer Name's DER, the subject public key bits, and the signature algorithm.
import { children, expectTag, oidText, readNode, TAG } from './der.js';

export interface X509Fields {
  /** DER of the issuer Name (tag and length included), as hashed for issuerNameHash. */
  readonly issuerNameDer: Buffer;
  /** DER of the subject Name. */
  readonly subjectNameDer: Buffer;
  /** Content of the subjectPublicKey BIT STRING without its unused-bits byte (hashed for issuerKeyHash). */
  readonly publicKeyBits: Buffer;
  /** Certificate.signatureAlgorithm OID (the outer one, which must equal the TBS one). */
  readonly signatureAlgorithm: string;
}

export function x509Fields(der: Buffer): X509Fields {
  const cert = expectTag(readNode(der, 0), TAG.SEQUENCE, 'Certificate');
  const [tbs, sigAlg] = children(der, cert);
  const tbsFields = children(der, expectTag(tbs, TAG.SEQUENCE, 'TBSCertificate'));
  const hasVersion = tbsFields[0]?.tag === 0xa0;
  const at = (i: number) => tbsFields[i + (hasVersion ? 1 : 0)];
  const innerAlg = children(der, expectTag(at(1), TAG.SEQUENCE, 'signature'));
  const issuer = expectTag(at(2), TAG.SEQUENCE, 'issuer');
  const subject = expectTag(at(4), TAG.SEQUENCE, 'subject');
  const spki = children(der, expectTag(at(5), TAG.SEQUENCE, 'subjectPublicKeyInfo'));
  const bits = expectTag(spki[1], TAG.BIT_STRING, 'subjectPublicKey');
  if (bits.end - bits.contentStart < 1 || der[bits.contentStart] !== 0) throw new Error('subjectPublicKey: unused bits');
  const outerAlg = oidText(der, expectTag(children(der, expectTag(sigAlg, TAG.SEQUENCE, 'signatureAlgorithm'))[0], TAG.OID, 'algorithm'));
  const innerOid = oidText(der, expectTag(innerAlg[0], TAG.OID, 'algorithm'));
  if (outerAlg !== innerOid) throw new Error('signature algorithm differs between TBSCertificate and Certificate');
  return {
    issuerNameDer: der.subarray(issuer.start, issuer.end),
    subjectNameDer: der.subarray(subject.start, subject.end),
    publicKeyBits: der.subarray(bits.contentStart + 1, bits.end),
    signatureAlgorithm: outerAlg,
  };
}
