// OCPP 1.6 §4.1 Authorize: asks the CSMS about an identifier for the domain's authorizer,
// whose decision order (local list, cache, offline rules) is domain/authorization/authorizer.ts's.
// The answer's idTagInfo becomes the domain's AuthorizationInfo (id-tag-info.ts).
import type { AuthorizationInfo } from '../../../domain/model/authorization.js';
import type { IdToken } from '../../../domain/model/id-token.js';
import type { RemoteAuthorizer } from '../../../domain/ports.js';
import type { RequestOf, ResponseOf } from '../actions/types.js';
import { fromIdTagInfo } from '../id-tag-info.js';
import { errorText } from '../../../platform/errors.js';
import { type OutgoingAction, type OutgoingContext } from './context.js';

export function authorizeRequest(idTag: string): RequestOf<'Authorize'> {
  return { idTag };
}

export function authorizationFromAnswer(conf: ResponseOf<'Authorize'>): AuthorizationInfo {
  return fromIdTagInfo(conf.idTagInfo);
}

/** The CSMS's answer; 'offline' when it cannot be sent (not connected, not Accepted) or gets none. */
export async function authorize(ctx: OutgoingContext, idTag: string): Promise<AuthorizationInfo | 'offline'> {
  if (!ctx.canSend()) return 'offline';
  try {
    return authorizationFromAnswer(await ctx.rpc.call('Authorize', authorizeRequest(idTag)));
  } catch (err) {
    ctx.log.warn({ err: errorText(err) }, 'Authorize failed; deciding offline');
    return 'offline';
  }
}

/**
 * The domain's RemoteAuthorizer port over Authorize.req (1.6 sends only the identifier's value).
 * Built before the session (the authorizer needs it first); the session binds its context,
 * which says when a message may go out. Unbound: 'offline'.
 */
export class RemoteAuthorize implements RemoteAuthorizer {
  private ctx: OutgoingContext | null = null;

  bind(ctx: OutgoingContext): void {
    this.ctx = ctx;
  }

  authorizeRemote(idToken: IdToken): Promise<AuthorizationInfo | 'offline'> {
    return this.ctx ? authorize(this.ctx, idToken.value) : Promise.resolve('offline');
  }
}

// Not in §5.17's MessageTrigger: only a presented identifier causes one.
export const Authorize: OutgoingAction<'Authorize'> = { action: 'Authorize' };
