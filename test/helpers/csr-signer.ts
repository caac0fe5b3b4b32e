// The CSMS side of SignCertificate in tests: a CA (from TestPki) signs the agent's CSR with the
// openssl CLI (`x509 -req`), an implementation independent of the agent's, as a CSMS's CA would.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openssl, type Issued, type TestPki } from './test-pki.js';

let n = 0;

export interface SignOptions {
  /** Overrides the CSR's subject (e.g. '/CN=SOMEONE-ELSE'), as a careless CA would. */
  readonly subj?: string;
  readonly days?: number;
}

/** The certificate for `csrPem`, signed by `ca` for client authentication (PEM). */
export function signCsr(pki: TestPki, csrPem: string, ca: Issued, o: SignOptions = {}): string {
  const name = `csr${++n}`;
  writeFileSync(join(pki.dir, `${name}.csr`), csrPem);
  writeFileSync(join(pki.dir, `${name}.ext`), 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyAgreement,keyEncipherment\nextendedKeyUsage=clientAuth\n');
  return openssl(
    [
      'x509', '-req', '-sha256', '-in', `${name}.csr`, '-CA', ca.certPath, '-CAkey', ca.keyPath, '-set_serial', `0x${(0x5000 + n).toString(16)}`,
      '-days', String(o.days ?? 30), '-extfile', `${name}.ext`, ...(o.subj !== undefined ? ['-subj', o.subj] : []),
    ],
    { cwd: pki.dir },
  ).toString();
}
