// The status notifications of one upload (DiagnosticsStatusNotification, LogStatusNotification)
// in the order they happened: each CALL waits for the previous one's answer, so a quick upload
// cannot have its Uploaded overtake its Uploading. One that cannot go out (offline, not Accepted)
// is logged and dropped.
import { errorText } from '../../../platform/errors.js';
import type { CpAction, RequestOf } from '../actions/types.js';
import type { OutgoingContext } from './context.js';

export function inOrder<A extends CpAction, S extends string>(ctx: OutgoingContext, action: A, request: (status: S) => RequestOf<A>): (status: S) => void {
  let chain: Promise<void> = Promise.resolve();
  return (status) => {
    chain = chain.then(async () => {
      // §4.2: unprompted messages only while Accepted (and connected).
      if (!ctx.canSend()) {
        ctx.log.warn({ action, status }, 'upload status notification not sent: not connected and accepted');
        return;
      }
      try {
        await ctx.rpc.call(action, request(status));
      } catch (err) {
        ctx.log.warn({ action, status, err: errorText(err) }, 'upload status notification not delivered');
      }
    });
  };
}
