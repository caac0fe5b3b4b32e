// Security whitepaper §2 (profiles) and A05 (upgrading the profile): the SecurityProfile and
// AuthorizationKey configuration keys and the switch between connection settings.
// - SecurityProfile only goes up (lowering or the same value Rejected), and only when the new
//   profile's preconditions hold: an AuthorizationKey for 1-2, an installed CentralSystemRootCertificate
//   for 2-3, a valid charge-point certificate for 3.
// - An accepted raise or a new AuthorizationKey in use closes the connection once the CALLRESULT is
//   sent and reconnects with the new settings. If they cannot connect within the switch timeout,
//   the previous profile and key come back (persisted) and ReconfigurationOfSecurityParameters says so.
// - The values live in the configuration store (SQLite): they survive a restart. The config file's
//   csms.securityProfile and csms.basicAuthPassword are the factory values (see docs/security.md).
import type { AgentLogger } from '../../platform/logger.js';
import type { SecurityEventSink } from '../../security/security-events.js';
import type { TimerHandle, TimerPort } from '../transport/transport.js';
import type { ConnectionSettings, SecurityProfile } from '../transport/ws-transport.js';
import type { ConfigurationStore } from './configuration-store.js';

/** What the preconditions of a raise are checked against (the certificate store, the provisioned files). */
export interface ProfilePreconditions {
  hasCentralSystemRoot(): boolean;
  /** A charge-point certificate and key, valid now (floored time), from the store or the provisioned files. */
  hasValidChargePointCertificate(): boolean;
}

/** The connection the switch closes and reopens (CsmsConnection satisfies it). */
export interface SwitchableConnection {
  reconnect(reason: string): void;
  on(event: 'connected', listener: () => void): unknown;
}

/** The TLS material of the current settings: trust roots (PEM) and the client certificate, when any. */
export interface TlsMaterial {
  ca(): string[] | undefined;
  clientCertificate(): { cert: string; key: string } | undefined;
}

/** The settings to fall back to while a switch is being tried, kept across a restart (a crash mid-switch). */
export interface PendingSwitchStore {
  load(): { profile: SecurityProfile; storedKey: string } | undefined;
  save(previous: { profile: SecurityProfile; storedKey: string }): void;
  clear(): void;
}

export interface SecurityProfileOptions {
  config: ConfigurationStore;
  /** The config file's values: the profile at the factory, and a Basic password used while no key is stored. */
  factory: { url: string; securityProfile: SecurityProfile; basicAuthPassword: string | null };
  preconditions: ProfilePreconditions;
  events: SecurityEventSink;
  /** How long new settings may take to connect before the previous ones come back. */
  switchTimeoutMs: number;
  timers: TimerPort;
  logger: AgentLogger;
  pendingStore?: PendingSwitchStore;
}

interface Settings {
  readonly profile: SecurityProfile;
  /** The stored AuthorizationKey ('' when none: the factory password applies). */
  readonly storedKey: string;
}

export class SecurityProfileSwitch {
  readonly #o: SecurityProfileOptions;
  /** The settings last seen connected (or at start): what a failed switch falls back to. */
  #committed: Settings;
  #pending: { previous: Settings; timer: TimerHandle; what: string } | undefined;
  #connection: SwitchableConnection | undefined;
  /** Set while we write the keys ourselves (fallback, factory seed): not a CSMS change. */
  #internal = false;

  constructor(o: SecurityProfileOptions) {
    this.#o = o;
    const { config } = o;
    // A factory profile above the stored one wins (an installer raised it); the stored one never goes down.
    if (o.factory.securityProfile > config.getInt('SecurityProfile')) this.#setInternal('SecurityProfile', String(o.factory.securityProfile));
    this.#committed = this.#settings();
    // Restarted in the middle of a switch: the new settings get their time again, then the old ones come back.
    const interrupted = o.pendingStore?.load();
    if (interrupted !== undefined) this.#begin(interrupted, 'switch interrupted by a restart');
    config.guard('SecurityProfile', (value, current) => this.#refusal(Number(value), Number(current)));
    config.onChange((key) => {
      if (this.#internal || (key !== 'SecurityProfile' && key !== 'AuthorizationKey')) return;
      this.#changed(key);
    });
  }

  get profile(): SecurityProfile {
    return this.#o.config.getInt('SecurityProfile') as SecurityProfile;
  }

  /** The Basic-auth password: the stored AuthorizationKey, else the config file's password. */
  get authorizationKey(): string | undefined {
    return this.#o.config.get('AuthorizationKey') || this.#o.factory.basicAuthPassword || undefined;
  }

  /** The connection settings for the next attempt: ws:// becomes wss:// on the same host, port and path. */
  connectionSettings(tls: TlsMaterial): ConnectionSettings {
    const profile = this.profile;
    const url = new URL(this.#o.factory.url);
    if (profile >= 2) url.protocol = 'wss:';
    const key = this.authorizationKey;
    const ca = profile >= 2 ? tls.ca() : undefined;
    const client = profile === 3 ? tls.clientCertificate() : undefined;
    return {
      url: url.toString(),
      securityProfile: profile,
      ...(key !== undefined && (profile === 1 || profile === 2) ? { authorizationKey: key } : {}),
      ...(ca !== undefined ? { ca } : {}),
      ...(client !== undefined ? { clientCert: client.cert, clientKey: client.key } : {}),
    };
  }

  /** Bind the connection to switch; called once the CSMS link exists. */
  attach(connection: SwitchableConnection): void {
    this.#connection = connection;
    connection.on('connected', () => this.#connected());
  }

  stop(): void {
    if (this.#pending !== undefined) this.#o.timers.clearTimeout(this.#pending.timer);
    this.#pending = undefined;
  }

  #refusal(wanted: number, current: number): string | null {
    // A05.FR.01 (whitepaper edition 3): a lower or equal profile is Rejected.
    if (wanted <= current) return `can only be raised (now ${current}, asked ${wanted})`;
    if ((wanted === 1 || wanted === 2) && this.authorizationKey === undefined) return `profile ${wanted} needs an AuthorizationKey first`;
    if (wanted >= 2 && !this.#o.preconditions.hasCentralSystemRoot()) return `profile ${wanted} needs an installed CentralSystemRootCertificate`;
    if (wanted === 3 && !this.#o.preconditions.hasValidChargePointCertificate()) return 'profile 3 needs a valid charge-point certificate';
    return null;
  }

  #settings(): Settings {
    return { profile: this.profile, storedKey: this.#o.config.get('AuthorizationKey') };
  }

  #changed(key: 'SecurityProfile' | 'AuthorizationKey'): void {
    const previous = this.#pending?.previous ?? this.#committed;
    const now = this.#settings();
    const what = key === 'SecurityProfile' ? `SecurityProfile ${previous.profile} -> ${now.profile}` : 'AuthorizationKey changed';
    this.#o.events.report('ReconfigurationOfSecurityParameters', what);
    this.#o.logger.info({ securityProfile: now.profile, key }, 'security parameters changed');
    // A key not used by the current profile (0 or 3) needs no new connection: the next profile takes it.
    const keyInUse = now.profile === 1 || now.profile === 2;
    if (key === 'AuthorizationKey' && !keyInUse) {
      this.#committed = { ...this.#committed, storedKey: now.storedKey };
      return;
    }
    this.#begin(previous, what);
    // After the CALLRESULT: the handler returns first, the answer is sent in the same turn.
    setImmediate(() => this.#connection?.reconnect(what));
  }

  #begin(previous: Settings, what: string): void {
    if (this.#pending !== undefined) this.#o.timers.clearTimeout(this.#pending.timer);
    const timer = this.#o.timers.setTimeout(() => this.#fallBack(), this.#o.switchTimeoutMs);
    this.#pending = { previous, timer, what };
    this.#o.pendingStore?.save(previous);
  }

  #connected(): void {
    const pending = this.#pending;
    if (pending === undefined) return;
    this.#o.timers.clearTimeout(pending.timer);
    this.#pending = undefined;
    this.#o.pendingStore?.clear();
    this.#committed = this.#settings();
    this.#o.logger.info({ securityProfile: this.#committed.profile }, 'connected with the new security settings');
  }

  #fallBack(): void {
    const pending = this.#pending;
    if (pending === undefined) return;
    this.#pending = undefined;
    const failed = this.#settings();
    const back = pending.previous;
    this.#setInternal('SecurityProfile', String(back.profile));
    this.#setInternal('AuthorizationKey', back.storedKey);
    this.#o.pendingStore?.clear();
    const seconds = Math.round(this.#o.switchTimeoutMs / 1000);
    const info = `fallback to SecurityProfile ${back.profile}: ${pending.what} did not connect within ${seconds} s (profile ${failed.profile})`;
    this.#o.logger.warn({ from: failed.profile, to: back.profile }, 'new security settings did not connect: previous ones restored');
    this.#o.events.report('ReconfigurationOfSecurityParameters', info);
    this.#connection?.reconnect('security settings fallback');
  }

  #setInternal(key: 'SecurityProfile' | 'AuthorizationKey', value: string): void {
    this.#internal = true;
    try {
      this.#o.config.setInternal(key, value);
    } finally {
      this.#internal = false;
    }
  }
}
