// Signed firmware (OCPP 1.6 security whitepaper, "Secure firmware update"): the signing
// certificate must chain to an installed ManufacturerRootCertificate, and the signature (base64,
// RSA or ECDSA over SHA-256 of the whole downloaded file) must verify with its public key.
// The file is streamed through the verifier, never read into memory whole.
import { createReadStream } from 'node:fs';
import { createPrivateKey, createSign, createVerify, type X509Certificate } from 'node:crypto';
import { parsePemChain, verifyChain } from '../security/certificate-validation.js';

export class FirmwareSignatureError extends Error {
  override name = 'FirmwareSignatureError';
  constructor(
    readonly kind: 'InvalidCertificate' | 'InvalidSignature',
    message: string,
  ) {
    super(message);
  }
}

/** The signing certificate checked against the manufacturer roots; throws InvalidCertificate. */
export function checkSigningCertificate(pem: string, roots: readonly X509Certificate[], at: Date): X509Certificate {
  if (roots.length === 0) throw new FirmwareSignatureError('InvalidCertificate', 'no ManufacturerRootCertificate is installed');
  try {
    const chain = parsePemChain(pem);
    return verifyChain(chain, roots, { at })[0]!;
  } catch (err) {
    throw new FirmwareSignatureError('InvalidCertificate', `signing certificate refused: ${(err as Error).message}`);
  }
}

/** Verifies `signatureBase64` over the file with the certificate's key; throws InvalidSignature. */
export async function checkFileSignature(path: string, cert: X509Certificate, signatureBase64: string): Promise<void> {
  // Line breaks (a wrapped base64 text) are fine; anything else that is not base64 is not.
  const text = signatureBase64.replace(/\s+/g, '');
  const signature = Buffer.from(text, 'base64');
  if (signature.length === 0 || signature.toString('base64').replace(/=+$/, '') !== text.replace(/=+$/, '')) {
    throw new FirmwareSignatureError('InvalidSignature', 'the signature is not base64');
  }
  const verifier = createVerify('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 64 * 1024 })) verifier.update(chunk as Buffer);
  let ok: boolean;
  try {
    ok = verifier.verify(cert.publicKey, signature);
  } catch (err) {
    throw new FirmwareSignatureError('InvalidSignature', `the signature cannot be checked: ${(err as Error).message}`);
  }
  if (!ok) throw new FirmwareSignatureError('InvalidSignature', 'the signature does not match the downloaded file');
}

/** The signature the CSMS sends in SignedUpdateFirmware: base64 of SHA-256 with the key over the whole file. */
export async function signFile(path: string, keyPem: string): Promise<string> {
  const signer = createSign('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 64 * 1024 })) signer.update(chunk as Buffer);
  return signer.sign(createPrivateKey(keyPem)).toString('base64');
}
