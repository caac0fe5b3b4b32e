// Check of a factory-provisioned charge-point certificate and key (config csms.clientCertFile /
// csms.clientKeyFile) at start: both readable, the certificate PEM parses, the key is an unencrypted
// PEM private key and belongs to the certificate. Answers the problem as text, naming the field;
// never the key's content.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface ProvisionedProblem {
  readonly field: 'clientCertFile' | 'clientKeyFile';
  readonly problem: string;
}

function read(path: string): string | { error: string } {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { error: `${path}: file not found` };
    if (code === 'EACCES' || code === 'EPERM') return { error: `${path}: cannot read the file (permission denied)` };
    if (code === 'EISDIR') return { error: `${path}: is a directory, expected a PEM file` };
    return { error: `${path}: cannot read the file (${code ?? String(err)})` };
  }
}

/** undefined when the pair is usable. */
export function checkProvisionedCertificate(certPath: string, keyPath: string): ProvisionedProblem | undefined {
  const certText = read(certPath);
  if (typeof certText !== 'string') return { field: 'clientCertFile', problem: certText.error };
  const block = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(certText)?.[0];
  let cert: X509Certificate;
  try {
    if (block === undefined) throw new Error('no PEM certificate');
    cert = new X509Certificate(block);
  } catch {
    return { field: 'clientCertFile', problem: `${certPath}: expected a PEM certificate (-----BEGIN CERTIFICATE-----)` };
  }
  const keyText = read(keyPath);
  if (typeof keyText !== 'string') return { field: 'clientKeyFile', problem: keyText.error };
  let key: KeyObject;
  try {
    if (!keyText.includes('-----BEGIN')) throw new Error('not PEM');
    key = createPrivateKey(keyText);
  } catch {
    return { field: 'clientKeyFile', problem: `${keyPath}: expected an unencrypted PEM private key` };
  }
  if (!cert.checkPrivateKey(key)) {
    return { field: 'clientKeyFile', problem: `${keyPath}: the key does not belong to the certificate in csms.clientCertFile` };
  }
  return undefined;
}
