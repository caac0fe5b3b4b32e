// The charge-point certificate's renewal (security whitepaper, "charge point initiated" certificate
// update) and the CSRs the CSMS asks for (ExtendedTriggerMessage SignChargePointCertificate): a new
// key pair and CSR (CN = the charge point's identity, O = CpoName), its key kept pending in the
// certificate store, and SignCertificate. Checked after the first accepted BootNotification and
// every 12 h: a certificate that expires within the configured threshold is renewed. A renewal the
// CSMS refuses, or that no CertificateSigned answers in time, is tried again with back-off.
import type { X509Certificate } from 'node:crypto';
import type { Clock, TimerHandle } from '../../platform/clock.js';
import type { AgentLogger } from '../../platform/logger.js';
import { errorText } from '../../platform/errors.js';
import type { CertificateStore } from '../../security/certificate-store.js';
import type { CsrKeyType } from '../../security/csr.js';
import type { ConfigurationStore } from './configuration-store.js';
import type { RpcCaller } from './outgoing/context.js';
import { sendSignCertificate } from './outgoing/SignCertificate.js';

export interface RenewalSettings {
  readonly chargePointId: string;
  readonly keyType: CsrKeyType;
  /** Renew when the certificate expires within this many days. */
  readonly renewBeforeDays: number;
  readonly checkEveryMs?: number;
  /** First retry after a refusal (doubling each time, up to maxRetryMs). */
  readonly firstRetryMs?: number;
  readonly maxRetryMs?: number;
  /** How long an accepted SignCertificate waits for its CertificateSigned before it is tried again. */
  readonly waitSignedMs?: number;
}

export interface RenewalDeps {
  readonly rpc: RpcCaller;
  readonly certificates: CertificateStore;
  readonly config: ConfigurationStore;
  readonly clock: Clock;
  readonly log: AgentLogger;
  /** Registered and connected. */
  canSend(): boolean;
  /** Connected, and Accepted or Pending: what a CSMS trigger may send (OCPP 1.6 §4.2). */
  canSendTriggered(): boolean;
  /** The charge-point certificate in use (the store's, else a factory-provisioned one); undefined when there is none. */
  current(): X509Certificate | undefined;
}

export type CsrOutcome = 'Accepted' | 'Rejected' | 'Failed';

export const RENEWAL_CHECK_MS = 12 * 3600_000;
export const DEFAULT_RENEW_BEFORE_DAYS = 30;
const DAY_MS = 86_400_000;

export class CertificateRenewal {
  private checkTimer: TimerHandle | null = null;
  private retryTimer: TimerHandle | null = null;
  private waitTimer: TimerHandle | null = null;
  private activationTimer: TimerHandle | null = null;
  private failures = 0;
  private inFlight: Promise<CsrOutcome> | null = null;
  private stopped = false;
  readonly stats = { requests: 0, accepted: 0, rejected: 0, failed: 0 };

  constructor(
    private readonly deps: RenewalDeps,
    private readonly settings: RenewalSettings,
  ) {}

  /** After the first accepted BootNotification: check now, then every 12 h. Later calls do nothing. */
  start(): void {
    if (this.checkTimer !== null || this.stopped) return;
    this.checkTimer = this.deps.clock.setInterval(() => void this.check(), this.settings.checkEveryMs ?? RENEWAL_CHECK_MS);
    void this.check();
  }

  stop(): void {
    this.stopped = true;
    if (this.checkTimer !== null) this.deps.clock.clearInterval(this.checkTimer);
    if (this.activationTimer !== null) this.deps.clock.clearTimeout(this.activationTimer);
    this.checkTimer = null;
    this.activationTimer = null;
    this.clearPending();
  }

  /** When the certificate in use expires; null without one. */
  expiry(): Date | null {
    const c = this.deps.current();
    return c === undefined ? null : new Date(c.validTo);
  }

  /** A certificate exists and expires within the threshold (a charger without one is not asked to get one). */
  due(): boolean {
    const expiry = this.expiry();
    return expiry !== null && expiry.getTime() - this.deps.clock.now().getTime() <= this.settings.renewBeforeDays * DAY_MS;
  }

  /** Waiting for a CertificateSigned or for a retry. */
  get renewing(): boolean {
    return this.retryTimer !== null || this.waitTimer !== null || this.inFlight !== null;
  }

  async check(): Promise<void> {
    if (this.stopped || this.renewing || !this.due()) return;
    this.deps.log.info({ expires: this.expiry()?.toISOString(), renewBeforeDays: this.settings.renewBeforeDays }, 'charge point certificate due for renewal');
    await this.request('renewal');
  }

  /**
   * A new CSR now. 'renewal' is tried again with back-off when it fails or is not answered by a
   * CertificateSigned; 'triggered' (ExtendedTriggerMessage) is sent once, as asked.
   */
  request(kind: 'renewal' | 'triggered'): Promise<CsrOutcome> {
    if (this.inFlight !== null) return this.inFlight;
    this.clearPending();
    this.inFlight = this.send(kind).finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  /**
   * CertificateSigned installed a certificate: nothing left to wait for or retry. One signed for a
   * later time (`later`) replaces the one in use at `later.at` (the store switches, then `activated`).
   */
  signed(later?: { at: Date; activated: () => void }): void {
    this.clearPending();
    this.failures = 0;
    if (this.activationTimer !== null) this.deps.clock.clearTimeout(this.activationTimer);
    this.activationTimer = null;
    if (later !== undefined) this.armActivation(later.at, later.activated);
  }

  private armActivation(at: Date, activated: () => void): void {
    // Node's timers take at most 2^31-1 ms: a start further away is waited for in steps of a day.
    const delay = Math.min(Math.max(at.getTime() - this.deps.clock.now().getTime(), 0) + 1_000, DAY_MS);
    this.activationTimer = this.deps.clock.setTimeout(() => {
      this.activationTimer = null;
      if (this.deps.certificates.activateNext()) activated();
      else {
        const next = this.deps.certificates.nextActivation();
        if (next !== undefined) this.armActivation(next, activated); // not yet (or our clock moved)
      }
    }, delay);
  }

  private async send(kind: 'renewal' | 'triggered'): Promise<CsrOutcome> {
    const { log } = this.deps;
    const may = kind === 'triggered' ? this.deps.canSendTriggered() : this.deps.canSend();
    if (!may) return this.failed(kind, 'not registered with the CSMS');
    this.stats.requests++;
    let csrPem: string;
    try {
      // Loaded on the first CSR: key generation and DER encoding are not needed to start.
      const { createCsr } = await import('../../security/csr.js');
      const csr = await createCsr({ commonName: this.settings.chargePointId, organization: this.deps.config.get('CpoName'), keyType: this.settings.keyType });
      this.deps.certificates.savePendingKey(csr.keyPem);
      csrPem = csr.csrPem;
    } catch (err) {
      return this.failed(kind, `cannot make the CSR: ${errorText(err)}`);
    }
    let status: 'Accepted' | 'Rejected';
    try {
      status = await sendSignCertificate(this.deps.rpc, csrPem);
    } catch (err) {
      return this.failed(kind, `SignCertificate not answered: ${errorText(err)}`);
    }
    log.info({ kind, status, keyType: this.settings.keyType }, 'SignCertificate answered');
    if (status === 'Rejected') {
      this.stats.rejected++;
      if (kind === 'renewal') this.retry('the CSMS rejected the CSR');
      return 'Rejected';
    }
    this.stats.accepted++;
    if (kind === 'renewal') {
      const waitMs = this.settings.waitSignedMs ?? 3600_000;
      this.waitTimer = this.deps.clock.setTimeout(() => {
        this.waitTimer = null;
        this.retry(`no CertificateSigned within ${Math.round(waitMs / 1000)} s`);
      }, waitMs);
    }
    return 'Accepted';
  }

  private failed(kind: 'renewal' | 'triggered', why: string): CsrOutcome {
    this.stats.failed++;
    this.deps.log.warn({ kind, why }, 'certificate signing request failed');
    if (kind === 'renewal') this.retry(why);
    return 'Failed';
  }

  private retry(why: string): void {
    if (this.stopped) return;
    this.failures++;
    const first = this.settings.firstRetryMs ?? 60_000;
    const delay = Math.min(first * 2 ** (this.failures - 1), this.settings.maxRetryMs ?? 6 * 3600_000);
    this.deps.log.info({ why, retryInS: Math.round(delay / 1000), failures: this.failures }, 'certificate renewal retried later');
    if (this.retryTimer !== null) this.deps.clock.clearTimeout(this.retryTimer);
    this.retryTimer = this.deps.clock.setTimeout(() => {
      this.retryTimer = null;
      void this.request('renewal');
    }, delay);
  }

  private clearPending(): void {
    if (this.retryTimer !== null) this.deps.clock.clearTimeout(this.retryTimer);
    if (this.waitTimer !== null) this.deps.clock.clearTimeout(this.waitTimer);
    this.retryTimer = null;
    this.waitTimer = null;
  }
}
