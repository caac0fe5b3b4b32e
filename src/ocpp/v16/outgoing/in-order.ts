// The status notifications of one upload (DiagnosticsStatusNotification, LogStatusNotification)
// in the order they happened: each CALL waits for the previous one's answer, so a quick upload
// cannot have its Uploaded overtake its Uploading. One that cannot go out (offline, not Accepted,
// or the connection lost while it was sent) is kept, the latest only, and sent after the next
// accepted BootNotification; a newer status sent meanwhile supersedes it. One the CSMS refuses
// is logged and dropped.
import { errorText } from '../../../platform/errors.js';
import type { CpAction, RequestOf } from '../actions/types.js';
import type { OutgoingContext } from './context.js';

/** `key` names the request (one kept status per key): the action, with the requestId for GetLog. */
export function inOrder<A extends CpAction, S extends string>(ctx: OutgoingContext, action: A, request: (status: S) => RequestOf<A>, key: string = action): (status: S) => void {
  let chain: Promise<void> = Promise.resolve();
  let unsent: S | null = null;
  const then = (step: () => Promise<void>): void => {
    chain = chain.then(step);
  };
  const keep = (status: S): void => {
    unsent = status;
    ctx.log.info({ action, status }, 'upload status notification kept until the CSMS accepts the charger again');
    ctx.whenAccepted(key, () =>
      then(async () => {
        const status = unsent;
        unsent = null;
        if (status !== null) await send(status);
      }),
    );
  };
  const send = async (status: S): Promise<void> => {
    // §4.2: unprompted messages only while Accepted (and connected).
    if (!ctx.canSend()) return keep(status);
    try {
      await ctx.rpc.call(action, request(status));
    } catch (err) {
      if (!ctx.canSend()) return keep(status);
      ctx.log.warn({ action, status, err: errorText(err) }, 'upload status notification refused by the CSMS; not sent again');
    }
  };
  return (status) =>
    then(async () => {
      unsent = null;
      await send(status);
    });
}
