// Throw-away PKI for TLS tests (Security Whitepaper profiles 2 and 3): a CA, a server certificate for
// 127.0.0.1/localhost, a client certificate, and an unrelated CA, made with the `openssl` CLI (EC P-256,
// fast) in a temp dir. Test-only: never use these for anything real.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CertPair {
  readonly certPath: string;
  readonly keyPath: string;
  readonly cert: string;
  readonly key: string;
}

export interface DevCerts {
  readonly dir: string;
  readonly ca: CertPair;
  readonly server: CertPair;
  readonly client: CertPair;
  /** A CA that signed nothing here: trusting only it must fail verification. */
  readonly otherCa: CertPair;
  /** A client certificate signed by otherCa: a server trusting `ca` must refuse it. */
  readonly strangerClient: CertPair;
  cleanup(): void;
}

function openssl(dir: string, args: string[]): void {
  try {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT') throw new Error('dev-certs: the `openssl` CLI is required (apt-get install -y openssl)');
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString() ?? e.message}`);
  }
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function pair(dir: string, name: string): CertPair {
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  return { certPath, keyPath, cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8') };
}

function makeCa(dir: string, name: string, cn: string): CertPair {
  openssl(dir, ['req', '-x509', ...EC, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${cn}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  return pair(dir, name);
}

function makeLeaf(dir: string, name: string, cn: string, ca: string, ext: string): CertPair {
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(dir, ['req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial',
    '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`]);
  return pair(dir, name);
}

/** Make the PKI; `clientCn` is the client certificate's CN (the charge point id in profile 3). */
export function makeDevCerts(clientCn = 'CP-TLS-1'): DevCerts {
  const dir = mkdtempSync(join(tmpdir(), 'dev-certs-'));
  const ca = makeCa(dir, 'ca', 'charger-agent test CA');
  const otherCa = makeCa(dir, 'other-ca', 'unrelated test CA');
  const server = makeLeaf(dir, 'server', 'localhost', 'ca',
    'basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  const client = makeLeaf(dir, 'client', clientCn, 'ca', 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n');
  const strangerClient = makeLeaf(dir, 'stranger', clientCn, 'other-ca',
    'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n');
  return { dir, ca, server, client, otherCa, strangerClient, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
