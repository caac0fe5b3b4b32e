// Who may charge (OCPP 1.6 §3.5 local authorization and offline behaviour, §4.1 Authorize):
// the decision order over the CSMS, the local authorization list and the authorization cache,
// steered by LocalPreAuthorize, LocalAuthorizeOffline and AllowOfflineTxForUnknownId.
import type { Authorizer, RemoteAuthorizer } from '../ports.js';
import type { Clock } from '../../platform/clock.js';
import type { AuthorizationInfo, AuthorizationResult } from '../model/authorization.js';
import type { IdToken } from '../model/id-token.js';
import type { AuthorizationCache } from './authorization-cache.js';
import type { LocalAuthorizationList } from './local-list.js';

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
  /** Asks the CSMS (the protocol adapter implements it). */
  remote: RemoteAuthorizer;
  list: LocalAuthorizationList;
  cache: AuthorizationCache;
  settings: AuthorizationSettings;
  clock: Clock;
}

export class AuthorizationService implements Authorizer {
  constructor(private readonly deps: AuthorizationServiceDeps) {}

  async authorize(idToken: IdToken): Promise<AuthorizationResult> {
    const d = await this.decide(idToken);
    const r: AuthorizationResult = { status: d.status };
    if (d.groupId !== undefined) r.groupId = d.groupId;
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
  async decide(idToken: IdToken): Promise<AuthorizationDecision> {
    const { settings } = this.deps;
    const local = settings.localPreAuthorize() ? this.lookupLocal(idToken.value) : null;
    if (local && local.status === 'Accepted') return local;
    const remote = await this.deps.remote.authorizeRemote(idToken);
    if (remote !== 'offline') {
      this.learn(idToken, remote);
      return withSource(remote, 'csms');
    }
    // Looked up again: the list may have changed while the CSMS was being asked.
    const known = this.lookupLocal(idToken.value);
    if (known && known.status !== 'Accepted') return known;
    if (known && settings.localAuthorizeOffline()) return known;
    return settings.allowOfflineTxForUnknownId() ? { status: 'Accepted', source: 'unknown-offline' } : { status: 'Invalid', source: 'offline' };
  }

  /**
   * An IdTagInfo from the CSMS (Authorize, StartTransaction, StopTransaction answers): updates
   * the cache, unless the identifier is in the local list (§3.5.3: never cached then).
   */
  learn(idToken: IdToken, info: AuthorizationInfo): void {
    if (!this.deps.settings.authorizationCacheEnabled()) return;
    if (this.deps.list.lookup(idToken.value)) return;
    this.deps.cache.put(idToken.value, info);
  }

  /** The local entry (by identifier value) with its effective status (an Accepted entry past its expiry is Expired); the list wins over the cache. */
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
  if (info.groupId !== undefined) d.groupId = info.groupId;
  return d;
}
