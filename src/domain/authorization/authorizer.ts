// Who may charge (OCPP 1.6 §3.5 local authorization and offline behaviour, §4.1 Authorize):
// the decision order over the CSMS, the local authorization list and the authorization cache,
// steered by LocalPreAuthorize, LocalAuthorizeOffline and AllowOfflineTxForUnknownId.
import type { AuthorizationInfo, AuthorizationResult, Authorizer, Clock } from '../ports.js';
import type { AuthorizationCache } from './authorization-cache.js';
import type { LocalAuthorizationList } from './local-list.js';

/** Asks the CSMS; 'offline' when it cannot be asked now or did not answer. */
export type RemoteAuthorize = (idTag: string) => Promise<AuthorizationInfo | 'offline'>;

export interface AuthorizationSettings {
  localPreAuthorize(): boolean;
  localAuthorizeOffline(): boolean;
  allowOfflineTxForUnknownId(): boolean;
  authorizationCacheEnabled(): boolean;
}

/** Where a decision came from (logs, tests). */
export type AuthorizationSource = 'csms' | 'local-list' | 'cache' | 'unknown-offline' | 'offline';

export interface AuthorizationDecision extends AuthorizationResult {
  source: AuthorizationSource;
}

export interface AuthorizationServiceDeps {
  remote: RemoteAuthorize;
  list: LocalAuthorizationList;
  cache: AuthorizationCache;
  settings: AuthorizationSettings;
  clock: Clock;
}

export class AuthorizationService implements Authorizer {
  constructor(private readonly deps: AuthorizationServiceDeps) {}

  async authorize(idTag: string): Promise<AuthorizationResult> {
    const d = await this.decide(idTag);
    const r: AuthorizationResult = { status: d.status };
    if (d.parentIdTag !== undefined) r.parentIdTag = d.parentIdTag;
    return r;
  }

  /**
   * 1. Online with LocalPreAuthorize: a valid Accepted local entry (list, else cache) starts at
   *    once, without Authorize.req.
   * 2. Otherwise the CSMS decides (Authorize.req); its answer refreshes the cache.
   * 3. Offline (or no answer): a local entry that is not valid Accepted refuses, whatever the
   *    settings (§3.5.4: list entries not Accepted MUST be rejected); a valid Accepted one
   *    authorizes when LocalAuthorizeOffline is on; anything else is unknown and charges only
   *    with AllowOfflineTxForUnknownId.
   */
  async decide(idTag: string): Promise<AuthorizationDecision> {
    const { settings } = this.deps;
    const local = settings.localPreAuthorize() ? this.lookupLocal(idTag) : null;
    if (local && local.status === 'Accepted') return local;
    const remote = await this.deps.remote(idTag);
    if (remote !== 'offline') {
      this.learn(idTag, remote);
      return withSource(remote, 'csms');
    }
    // Looked up again: the list may have changed while the CSMS was being asked.
    const known = this.lookupLocal(idTag);
    if (known && known.status !== 'Accepted') return known;
    if (known && settings.localAuthorizeOffline()) return known;
    return settings.allowOfflineTxForUnknownId() ? { status: 'Accepted', source: 'unknown-offline' } : { status: 'Invalid', source: 'offline' };
  }

  /**
   * An IdTagInfo from the CSMS (Authorize, StartTransaction, StopTransaction answers): updates
   * the cache, unless the identifier is in the local list (§3.5.3: never cached then).
   */
  learn(idTag: string, info: AuthorizationInfo): void {
    if (!this.deps.settings.authorizationCacheEnabled()) return;
    if (this.deps.list.lookup(idTag)) return;
    this.deps.cache.put(idTag, info);
  }

  /** The local entry with its effective status (an Accepted entry past its expiry is Expired); the list wins over the cache. */
  lookupLocal(idTag: string): AuthorizationDecision | null {
    const now = this.deps.clock.now().getTime();
    const listed = this.deps.list.lookup(idTag);
    if (listed) return effective(listed, now, 'local-list');
    if (!this.deps.settings.authorizationCacheEnabled()) return null;
    const cached = this.deps.cache.get(idTag);
    return cached ? effective(cached, now, 'cache') : null;
  }
}

function effective(info: AuthorizationInfo, nowMs: number, source: AuthorizationSource): AuthorizationDecision {
  const expired = info.status === 'Accepted' && info.expiresAt !== undefined && info.expiresAt.getTime() <= nowMs;
  return withSource({ ...info, status: expired ? 'Expired' : info.status }, source);
}

function withSource(info: AuthorizationInfo, source: AuthorizationSource): AuthorizationDecision {
  const d: AuthorizationDecision = { status: info.status, source };
  if (info.parentIdTag !== undefined) d.parentIdTag = info.parentIdTag;
  return d;
}
