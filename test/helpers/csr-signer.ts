// The CSMS side of SignCertificate in tests: a CA (from TestPki) signs the agent's CSR with the
// openssl CLI (`x509 -req`), an implementation independent of the agent's, as a CSMS's CA would.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openssl, opensslDate, type Issued, type TestPki } from './test-pki.js';

let n = 0;

export interface SignOptions {
  /** Validity from this time on (openssl `ca -startdate`), e.g. a certificate signed in advance. */
  readonly start?: Date;
  /** Overrides the CSR's subject (e.g. '/CN=SOMEONE-ELSE'), as a careless CA would. */
  readonly subj?: string;
  readonly days?: number;
}

/** The certificate for `csrPem`, signed by `ca` for client authentication (PEM). */
export function signCsr(pki: TestPki, csrPem: string, ca: Issued, o: SignOptions = {}): string {
  const name = `csr${++n}`;
  writeFileSync(join(pki.dir, `${name}.csr`), csrPem);
  writeFileSync(join(pki.dir, `${name}.ext`), 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyAgreement,keyEncipherment\nextendedKeyUsage=clientAuth\n');
  if (o.start !== undefined) {
    // `x509 -req` of OpenSSL 3.0 always starts now; `ca` takes a start date.
    const end = new Date(o.start.getTime() + (o.days ?? 30) * 86_400_000);
    openssl(
      ['ca', '-batch', '-config', 'ca.cnf', '-notext', '-md', 'sha256', '-in', `${name}.csr`, '-out', `${name}.crt`, '-cert', ca.certPath, '-keyfile', ca.keyPath,
        '-startdate', opensslDate(o.start), '-enddate', opensslDate(end), '-extfile', `${name}.ext`],
      { cwd: pki.dir },
    );
    return readFileSync(join(pki.dir, `${name}.crt`), 'utf8');
  }
  return openssl(
    [
      'x509', '-req', '-sha256', '-in', `${name}.csr`, '-CA', ca.certPath, '-CAkey', ca.keyPath, '-set_serial', `0x${(0x5000 + n).toString(16)}`,
      '-days', String(o.days ?? 30), '-extfile', `${name}.ext`, ...(o.subj !== undefined ? ['-subj', o.subj] : []),
    ],
    { cwd: pki.dir },
  ).toString();
}
