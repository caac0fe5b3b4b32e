// A PKI for certificate tests, made with the `openssl` CLI so that every certificate comes from an
// independent implementation: roots, intermediates and leaves with chosen keys (EC P-256, RSA of any
// size), digests (sha1 for the refusal tests), validity windows and extensions. Test-only.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Issued {
  readonly name: string;
  readonly certPath: string;
  readonly keyPath: string;
  readonly cert: string;
  readonly key: string;
}

export interface IssueOptions {
  /** 'ec' (P-256, default), 'ec384', or an RSA size such as 'rsa2048', 'rsa1024'. */
  readonly key?: 'ec' | 'ec384' | `rsa${number}`;
  readonly md?: 'sha256' | 'sha384' | 'sha1';
  /** openssl date form YYYYMMDDHHMMSSZ; default: one hour ago. */
  readonly start?: string;
  /** Default: start + 30 days. */
  readonly end?: string;
  readonly ca?: boolean;
  /** subjectAltName value, e.g. 'DNS:localhost,IP:127.0.0.1'. */
  readonly san?: string;
  readonly eku?: 'serverAuth' | 'clientAuth';
  readonly o?: string;
  /** Serial number in hex (openssl's serial file form, even number of digits). */
  readonly serial?: string;
}

export function opensslDate(d: Date): string {
  return `${d.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

export function openssl(args: readonly string[], opts: { cwd?: string; input?: string | Buffer } = {}): Buffer {
  try {
    return execFileSync('openssl', args, { cwd: opts.cwd, input: opts.input, stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT') throw new Error('test-pki: the `openssl` CLI is required (apt-get install -y openssl)');
    throw new Error(`openssl ${args.join(' ')} failed: ${e.stderr?.toString() ?? e.message}`);
  }
}

/** stdout + stderr of an openssl run, whatever its exit status (`req -verify` exits 0 on failure in 3.0). */
export function opensslOutput(args: readonly string[]): string {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  if (r.error !== undefined) throw r.error;
  return `${r.stdout}${r.stderr}`;
}

const CA_CONFIG = `[ ca ]
default_ca = dflt
[ dflt ]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any
unique_subject = no
email_in_dn = no
[ any ]
organizationName = optional
commonName = supplied
`;

export class TestPki {
  readonly dir = mkdtempSync(join(tmpdir(), 'test-pki-'));
  #n = 0;

  constructor() {
    writeFileSync(join(this.dir, 'ca.cnf'), CA_CONFIG);
    writeFileSync(join(this.dir, 'index.txt'), '');
    writeFileSync(join(this.dir, 'serial'), '1000\n');
  }

  /** A certificate for `cn`, signed by `issuer` or self-signed when issuer is undefined. */
  issue(cn: string, issuer: Issued | undefined, o: IssueOptions = {}): Issued {
    const name = `c${++this.#n}`;
    const keyPath = join(this.dir, `${name}.key`);
    const key = o.key ?? 'ec';
    const keyArgs =
      key === 'ec' || key === 'ec384'
        ? ['-newkey', 'ec', '-pkeyopt', `ec_paramgen_curve:${key === 'ec' ? 'prime256v1' : 'secp384r1'}`]
        : ['-newkey', `rsa:${key.slice(3)}`];
    const subject = `${o.o !== undefined ? `/O=${o.o}` : ''}/CN=${cn}`;
    openssl(['req', '-new', ...keyArgs, '-nodes', '-keyout', keyPath, '-out', `${name}.csr`, '-subj', subject], { cwd: this.dir });
    const ext = [
      o.ca === true ? 'basicConstraints=critical,CA:TRUE' : 'basicConstraints=CA:FALSE',
      o.ca === true ? 'keyUsage=critical,keyCertSign,cRLSign' : 'keyUsage=critical,digitalSignature,keyEncipherment,keyAgreement',
      'subjectKeyIdentifier=hash',
      ...(issuer !== undefined ? ['authorityKeyIdentifier=keyid'] : []),
      ...(o.san !== undefined ? [`subjectAltName=${o.san}`] : []),
      ...(o.eku !== undefined ? [`extendedKeyUsage=${o.eku}`] : []),
    ];
    writeFileSync(join(this.dir, `${name}.ext`), `${ext.join('\n')}\n`);
    if (o.serial !== undefined) writeFileSync(join(this.dir, 'serial'), `${o.serial}\n`);
    const start = o.start ?? opensslDate(new Date(Date.now() - 3600_000));
    const end = o.end ?? opensslDate(new Date(Date.parse(`${start.slice(0, 4)}-${start.slice(4, 6)}-${start.slice(6, 8)}T00:00:00Z`) + 30 * 86400_000));
    openssl(
      [
        'ca', '-batch', '-config', 'ca.cnf', '-notext', '-md', o.md ?? 'sha256', '-in', `${name}.csr`, '-out', `${name}.crt`,
        '-startdate', start, '-enddate', end, '-extfile', `${name}.ext`,
        ...(issuer === undefined ? ['-selfsign', '-keyfile', keyPath] : ['-cert', issuer.certPath, '-keyfile', issuer.keyPath]),
      ],
      { cwd: this.dir },
    );
    const certPath = join(this.dir, `${name}.crt`);
    return { name, certPath, keyPath, cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8') };
  }

  root(cn: string, o: IssueOptions = {}): Issued {
    return this.issue(cn, undefined, { ...o, ca: true });
  }

  /** A server certificate for localhost / 127.0.0.1. */
  server(issuer: Issued | undefined, o: IssueOptions = {}): Issued {
    return this.issue('localhost', issuer, { san: 'DNS:localhost,IP:127.0.0.1', eku: 'serverAuth', ...o });
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
