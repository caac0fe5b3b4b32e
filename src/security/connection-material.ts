// The TLS material of the CSMS connection, read again before each attempt (profile 2-3):
// trust roots = the CentralSystemRootCertificates installed over OCPP plus the config file's CA file;
// client certificate (profile 3) = the one installed by CertificateSigned, else the factory-provisioned
// files. Also answers the SecurityProfile raise preconditions on the same sources.
import { readFileSync } from 'node:fs';
import type { CertificateStore } from './certificate-store.js';
import { checkPolicy, matchesPrivateKey, parsePemChain } from './certificate-validation.js';
import { flooredNow } from './clock-floor.js';

export interface ProvisionedFiles {
  readonly caFile: string | null;
  readonly clientCertFile: string | null;
  readonly clientKeyFile: string | null;
}

export class ConnectionMaterial {
  constructor(
    private readonly store: CertificateStore,
    private readonly files: ProvisionedFiles,
    private readonly now: () => Date = () => flooredNow(),
  ) {}

  /** PEM trust roots; undefined when none is configured (the system CAs then apply). */
  ca(): string[] | undefined {
    const pems = this.store.roots('CentralSystemRootCertificate').map((c) => c.toString());
    if (this.files.caFile !== null) pems.push(readFileSync(this.files.caFile, 'utf8'));
    return pems.length > 0 ? pems : undefined;
  }

  hasCentralSystemRoot(): boolean {
    return this.store.roots('CentralSystemRootCertificate').length > 0;
  }

  /** The store's certificate when it has one, else the provisioned files (read now, so a replaced file counts). */
  clientCertificate(): { cert: string; key: string } | undefined {
    const stored = this.store.chargePointCertificate();
    if (stored !== undefined) return stored;
    if (this.files.clientCertFile === null || this.files.clientKeyFile === null) return undefined;
    return { cert: readFileSync(this.files.clientCertFile, 'utf8'), key: readFileSync(this.files.clientKeyFile, 'utf8') };
  }

  /** A client certificate that is valid now (at the floored time), strong enough, and matches its key. */
  hasValidChargePointCertificate(): boolean {
    try {
      const pair = this.clientCertificate();
      if (pair === undefined) return false;
      const leaf = parsePemChain(pair.cert)[0];
      if (leaf === undefined || !matchesPrivateKey(leaf, pair.key)) return false;
      checkPolicy(leaf, this.now());
      return true;
    } catch {
      return false;
    }
  }
}
