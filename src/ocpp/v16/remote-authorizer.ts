// The domain's RemoteAuthorizer over 1.6 Authorize.req (§4.1): sent only while the session
// allows (registered and connected); 'offline' when it cannot be sent or gets no answer. The
// decision order (local list, cache, offline rules) is the domain authorizer's.
import type { AuthorizationInfo } from '../../domain/model/authorization.js';
import type { IdToken } from '../../domain/model/id-token.js';
import type { RemoteAuthorizer } from '../../domain/ports.js';
import { fromIdTagInfo } from './id-tag-info.js';
import type { RpcCaller, SessionLogger } from './session.js';

export class Authorize16 implements RemoteAuthorizer {
  private canSend: () => boolean = () => false;

  constructor(
    private readonly rpc: RpcCaller,
    private readonly log: SessionLogger,
  ) {}

  /** The session tells when Authorize.req may go out (it owns the registration state). */
  sendWhen(canSend: () => boolean): void {
    this.canSend = canSend;
  }

  async authorizeRemote(idToken: IdToken): Promise<AuthorizationInfo | 'offline'> {
    if (!this.canSend()) return 'offline';
    try {
      const conf = await this.rpc.call('Authorize', { idTag: idToken.value });
      return fromIdTagInfo(conf.idTagInfo);
    } catch (err) {
      this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'Authorize failed; deciding offline');
      return 'offline';
    }
  }
}
