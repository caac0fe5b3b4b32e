// OCPP 1.6 §4.6 Heartbeat: every HeartbeatInterval seconds once Accepted (the
// timer is session.ts's); the answer's currentTime sets the clock.
import type { ResponseOf } from '../actions/types.js';
import { errorText } from '../../../platform/errors.js';
import { type OutgoingAction, type OutgoingContext } from './context.js';

export function onHeartbeatAnswer(ctx: Pick<OutgoingContext, 'csmsTime'>, conf: ResponseOf<'Heartbeat'>): void {
  const t = new Date(conf.currentTime);
  if (!Number.isNaN(t.getTime())) ctx.csmsTime(t);
}

/** Sends one; a failure is logged (the next one is due at the interval anyway). */
export async function sendHeartbeat(ctx: OutgoingContext): Promise<void> {
  try {
    onHeartbeatAnswer(ctx, await ctx.rpc.call('Heartbeat', {}));
  } catch (err) {
    ctx.log.warn({ err: errorText(err) }, 'Heartbeat failed');
  }
}

export const Heartbeat: OutgoingAction<'Heartbeat'> = {
  action: 'Heartbeat',
  // §4.2: a triggered Heartbeat may go out while Pending too.
  trigger: async (ctx) => {
    if (ctx.canSendTriggered()) await sendHeartbeat(ctx);
  },
};
