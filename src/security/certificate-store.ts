// Certificates under <dataDir>/certs/ (OCPP 1.6 Security Whitepaper §3 certificate management):
//   central-system-root/<sha256>.pem   CentralSystemRootCertificate(s): trust anchors for the CSMS (TLS)
//   manufacturer-root/<sha256>.pem     ManufacturerRootCertificate(s): firmware signing
//   charge-point.pem                   the charge-point certificate chain + its private key (0600)
//   charge-point.next.pem              the same, signed for a time not reached yet: replaces it then
//   pending/<id>.key                   private keys of CSRs sent with SignCertificate (0600)
// Every write is atomic (atomic-file.ts). Keys are never logged nor returned except for TLS.
import { createPrivateKey, randomBytes, type X509Certificate } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { moveFileDurably, removeFileDurably, removeLeftoverTemps, writeFileAtomic } from './atomic-file.js';
import { certificateHashData, sameHashData, type CertificateHashData } from './certificate-hash.js';
import { CertificateCheckError, checkPolicy, EKU, matchesPrivateKey, parsePemChain, verifyChain } from './certificate-validation.js';
import { flooredNow } from './clock-floor.js';
import type { AgentLogger } from '../platform/logger.js';

export type CertificateUse = 'CentralSystemRootCertificate' | 'ManufacturerRootCertificate';
export const CERTIFICATE_USES: readonly CertificateUse[] = ['CentralSystemRootCertificate', 'ManufacturerRootCertificate'];

export type InstallResult = { status: 'Accepted' } | { status: 'Rejected' | 'Failed'; reason: string };
export type DeleteStatus = 'Accepted' | 'Failed' | 'NotFound';
/** `activatesAt`: the certificate is not valid yet; it replaces the one in use at that time (activateNext). */
export type SignedResult = { status: 'Accepted'; activatesAt?: Date } | { status: 'Rejected'; reason: string };

export interface CertificateExpiry {
  readonly use: CertificateUse | 'ChargePointCertificate';
  readonly subject: string;
  readonly serialNumber: string;
  readonly validTo: string;
  readonly daysLeft: number;
}

export interface CertificateStoreOptions {
  /** The agent's data dir; certificates live in <dataDir>/certs. */
  readonly dataDir: string;
  /** System time source; certificate checks use max(now, build date). */
  readonly now?: () => Date;
  /** CertificateStoreMaxLength: installed root certificates of both kinds together. Default 20. */
  readonly maxCertificates?: number;
  /** Pending CSR keys kept (the newest); older ones are deleted. Default 3. */
  readonly maxPendingKeys?: number;
  readonly logger?: AgentLogger;
}

const KIND_DIR: Record<CertificateUse, string> = {
  CentralSystemRootCertificate: 'central-system-root',
  ManufacturerRootCertificate: 'manufacturer-root',
};
const PRIVATE = 0o600;
const PUBLIC = 0o644;
const DAY_MS = 86_400_000;
const PEM_KEY = /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----[\s\S]*?-----END (?:[A-Z]+ )?PRIVATE KEY-----/;

interface Installed {
  readonly file: string;
  readonly cert: X509Certificate;
}

export class CertificateStore {
  readonly dir: string;
  readonly #now: () => Date;
  readonly #max: number;
  readonly #maxPending: number;
  readonly #log: AgentLogger | undefined;

  constructor(o: CertificateStoreOptions) {
    this.dir = join(o.dataDir, 'certs');
    this.#now = o.now ?? (() => new Date());
    this.#max = o.maxCertificates ?? 20;
    this.#maxPending = o.maxPendingKeys ?? 3;
    this.#log = o.logger;
    for (const d of [this.dir, ...Object.values(KIND_DIR).map((k) => join(this.dir, k))]) mkdirSync(d, { recursive: true });
    mkdirSync(this.#pendingDir, { recursive: true, mode: 0o700 });
    chmodSync(this.#pendingDir, 0o700);
    for (const d of [this.dir, this.#pendingDir, ...Object.values(KIND_DIR).map((k) => join(this.dir, k))]) removeLeftoverTemps(d);
    this.#prunePending();
  }

  get #pendingDir(): string {
    return join(this.dir, 'pending');
  }

  get #chargePointFile(): string {
    return join(this.dir, 'charge-point.pem');
  }

  get #nextChargePointFile(): string {
    return join(this.dir, 'charge-point.next.pem');
  }

  /** The time to check validity at: never before the build date. */
  now(): Date {
    return flooredNow(this.#now());
  }

  /** InstallCertificate: a self-signed CA certificate, valid now, strong key, no SHA-1. Idempotent. */
  install(use: CertificateUse, pem: string): InstallResult {
    let cert: X509Certificate;
    try {
      const certs = parsePemChain(pem);
      if (certs.length !== 1) return { status: 'Rejected', reason: `expected one certificate, got ${certs.length}` };
      cert = certs[0]!;
      if (!cert.ca) return { status: 'Rejected', reason: 'not a CA certificate (basicConstraints CA:TRUE)' };
      // The hash data needs the issuer's key: a root must be self-signed (and its signature must verify).
      if (!cert.checkIssued(cert) || !cert.verify(cert.publicKey)) return { status: 'Rejected', reason: 'not a self-signed root certificate' };
      checkPolicy(cert, this.now());
    } catch (err) {
      if (err instanceof CertificateCheckError) return { status: 'Rejected', reason: err.message };
      throw err;
    }
    const file = join(this.dir, KIND_DIR[use], `${cert.fingerprint256.replace(/:/g, '').toLowerCase()}.pem`);
    if (this.#installed(use).some((i) => i.file === file)) return { status: 'Accepted' };
    const count = CERTIFICATE_USES.reduce((n, u) => n + this.#installed(u).length, 0);
    if (count >= this.#max) return { status: 'Rejected', reason: `certificate store full (${this.#max})` };
    try {
      writeFileAtomic(file, cert.toString(), PUBLIC);
    } catch (err) {
      this.#log?.warn({ use, err: (err as Error).message }, 'certificate install failed');
      return { status: 'Failed', reason: `cannot write: ${(err as Error).message}` };
    }
    this.#log?.info({ use, subject: cert.subject, validTo: cert.validTo }, 'certificate installed');
    return { status: 'Accepted' };
  }

  /** GetInstalledCertificateIds. */
  list(use: CertificateUse): CertificateHashData[] {
    return this.#installed(use).map((i) => certificateHashData(i.cert, i.cert));
  }

  /** The installed roots of one kind (trust anchors for TLS or firmware). */
  roots(use: CertificateUse): X509Certificate[] {
    return this.#installed(use).map((i) => i.cert);
  }

  /**
   * DeleteCertificate; the last CentralSystemRootCertificate is kept (Failed) while TLS depends on it
   * (security profiles 2-3: without it no connection); `keepLastCentralSystemRoot: false` lets it go.
   */
  delete(hash: CertificateHashData, opts: { keepLastCentralSystemRoot?: boolean } = {}): DeleteStatus {
    for (const use of CERTIFICATE_USES) {
      const installed = this.#installed(use);
      const hit = installed.find((i) => sameHashData(certificateHashData(i.cert, i.cert, hash.hashAlgorithm), hash));
      if (hit === undefined) continue;
      if (use === 'CentralSystemRootCertificate' && installed.length === 1 && opts.keepLastCentralSystemRoot !== false) return 'Failed';
      try {
        removeFileDurably(hit.file);
      } catch (err) {
        this.#log?.warn({ use, err: (err as Error).message }, 'certificate delete failed');
        return 'Failed';
      }
      this.#log?.info({ use, subject: hit.cert.subject }, 'certificate deleted');
      return 'Accepted';
    }
    return 'NotFound';
  }

  /** Keep the private key of a CSR until CertificateSigned brings its certificate. Returns its id. */
  savePendingKey(keyPem: string): string {
    createPrivateKey(keyPem); // refuse garbage before it is stored
    const id = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
    writeFileAtomic(join(this.#pendingDir, `${id}.key`), keyPem, PRIVATE);
    this.#prunePending();
    return id;
  }

  pendingKeyIds(): string[] {
    return this.#pendingFiles().map((f) => f.name.slice(0, -'.key'.length));
  }

  /**
   * CertificateSigned: `chainPem` (leaf first) must belong to a pending key, chain to an installed
   * CentralSystemRootCertificate and pass the policy. Then leaf chain + key replace the old pair in one
   * atomic write, and the pending keys are deleted. A leaf whose validity has not begun (the CA's
   * clock ahead of ours, or a certificate issued in advance) is checked as of its start and kept
   * beside the one in use, which it replaces at that time (whitepaper: switch at "not valid before").
   */
  installChargePointCertificate(chainPem: string, opts: { commonName?: string } = {}): SignedResult {
    let chain: X509Certificate[];
    let startsMs: number;
    try {
      chain = parsePemChain(chainPem);
      startsMs = Date.parse(chain[0]!.validFrom);
      const at = new Date(Math.max(this.now().getTime(), startsMs));
      verifyChain(chain, this.roots('CentralSystemRootCertificate'), { at, purpose: EKU.clientAuth });
    } catch (err) {
      if (err instanceof CertificateCheckError) return { status: 'Rejected', reason: err.message };
      throw err;
    }
    const leaf = chain[0]!;
    // Whitepaper: the charge-point certificate's CN is the charge point's identity.
    const cn = commonNameOf(leaf);
    if (opts.commonName !== undefined && cn !== opts.commonName) {
      return { status: 'Rejected', reason: `certificate CN ${JSON.stringify(cn ?? '')} is not the charge point identity ${JSON.stringify(opts.commonName)}` };
    }
    const pending = this.#pendingFiles().find((f) => matchesPrivateKey(leaf, readFileSync(f.path, 'utf8')));
    if (pending === undefined) return { status: 'Rejected', reason: 'certificate does not match any pending CSR key' };
    const key = readFileSync(pending.path, 'utf8');
    const later = startsMs > this.now().getTime();
    writeFileAtomic(later ? this.#nextChargePointFile : this.#chargePointFile, `${chain.map((c) => c.toString()).join('')}${key.trim()}\n`, PRIVATE);
    // A certificate waiting for its time is superseded by this one either way.
    if (!later) removeFileDurably(this.#nextChargePointFile);
    for (const f of this.#pendingFiles()) removeFileDurably(f.path);
    this.#log?.info({ subject: leaf.subject, validFrom: leaf.validFrom, validTo: leaf.validTo, later }, 'charge point certificate installed');
    return later ? { status: 'Accepted', activatesAt: new Date(startsMs) } : { status: 'Accepted' };
  }

  /** When the certificate waiting for its "not valid before" starts; undefined when none waits. */
  nextActivation(): Date | undefined {
    const next = this.#readPair(this.#nextChargePointFile);
    return next === undefined ? undefined : new Date(parsePemChain(next.cert)[0]!.validFrom);
  }

  /** The waiting certificate replaces the one in use once its time has come (one rename). True when it did. */
  activateNext(): boolean {
    const at = this.nextActivation();
    if (at === undefined || at.getTime() > this.now().getTime()) return false;
    moveFileDurably(this.#nextChargePointFile, this.#chargePointFile);
    this.#log?.info({ validFrom: at.toISOString() }, 'charge point certificate switched to the one signed in advance');
    return true;
  }

  /** The charge-point certificate chain and key for TLS (profile 3); undefined when none is installed. */
  chargePointCertificate(): { cert: string; key: string } | undefined {
    // Whoever asks for the certificate gets the newest whose time has come.
    this.activateNext();
    return this.#readPair(this.#chargePointFile);
  }

  /** The certificate waiting for its time, if any (renewal treats it as the one in use). */
  nextChargePointCertificate(): { cert: string; key: string } | undefined {
    return this.#readPair(this.#nextChargePointFile);
  }

  #readPair(file: string): { cert: string; key: string } | undefined {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const key = PEM_KEY.exec(text)?.[0];
    const certs = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g);
    if (key === undefined || certs === null) return undefined;
    return { cert: `${certs.join('\n')}\n`, key: `${key}\n` };
  }

  /** For diagnostics: every installed certificate with its expiry, soonest first. */
  certificateExpiry(): CertificateExpiry[] {
    const now = this.now().getTime();
    const entry = (use: CertificateExpiry['use'], c: X509Certificate): CertificateExpiry => ({
      use,
      subject: c.subject.replace(/\n/g, ', '),
      serialNumber: c.serialNumber.toLowerCase(),
      validTo: new Date(c.validTo).toISOString(),
      daysLeft: Math.floor((Date.parse(c.validTo) - now) / DAY_MS),
    });
    const out = CERTIFICATE_USES.flatMap((u) => this.roots(u).map((c) => entry(u, c)));
    const cp = this.chargePointCertificate();
    if (cp !== undefined) out.push(entry('ChargePointCertificate', parsePemChain(cp.cert)[0]!));
    return out.sort((a, b) => a.daysLeft - b.daysLeft);
  }

  /** How many root certificates of one kind are installed (diagnostics). */
  count(use: CertificateUse): number {
    return this.#installed(use).length;
  }

  #installed(use: CertificateUse): Installed[] {
    const dir = join(this.dir, KIND_DIR[use]);
    const out: Installed[] = [];
    for (const name of readdirSync(dir).sort()) {
      if (!name.endsWith('.pem') || name.startsWith('.')) continue;
      const file = join(dir, name);
      try {
        out.push({ file, cert: parsePemChain(readFileSync(file, 'utf8'))[0]! });
      } catch (err) {
        // A file someone put there by hand that does not parse: skipped, said once per read.
        this.#log?.warn({ file, err: (err as Error).message }, 'unreadable certificate skipped');
      }
    }
    return out;
  }

  #pendingFiles(): { name: string; path: string; mtimeMs: number }[] {
    return readdirSync(this.#pendingDir)
      .filter((n) => n.endsWith('.key') && !n.startsWith('.'))
      .map((name) => {
        const path = join(this.#pendingDir, name);
        return { name, path, mtimeMs: statSync(path).mtimeMs };
      })
      .sort((a, b) => b.mtimeMs - a.mtimeMs || b.name.localeCompare(a.name));
  }

  #prunePending(): void {
    for (const f of this.#pendingFiles().slice(this.#maxPending)) removeFileDurably(f.path);
  }
}

/** The subject's CN (the last one when there are several), as Node prints the subject. */
export function commonNameOf(cert: X509Certificate): string | undefined {
  const cns = cert.subject.split('\n').filter((l) => l.startsWith('CN='));
  return cns.at(-1)?.slice(3);
}
