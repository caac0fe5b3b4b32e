// OCPP 1.6 §4.1 Authorize: asks the CSMS about an identifier for the domain's authorizer,
// whose decision order (local list, cache, offline rules) is domain/authorization/authorizer.ts's.
// The answer's idTagInfo becomes the domain's AuthorizationInfo (id-tag-info.ts).
import type { AuthorizationInfo } from '../../../domain/ports.js';
import type { RequestOf, ResponseOf } from '../actions/types.js';
import { fromIdTagInfo } from '../id-tag-info.js';
import { errText, type OutgoingAction, type OutgoingContext } from './context.js';

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
    ctx.log.warn({ err: errText(err) }, 'Authorize failed; deciding offline');
    return 'offline';
  }
}

// Not in §5.17's MessageTrigger: only a presented identifier causes one.
export const Authorize: OutgoingAction<'Authorize'> = { action: 'Authorize' };
