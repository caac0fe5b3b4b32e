// OCPP 1.6 §4.2 BootNotification: the charger's identity on every (re)connection.
// The answer sets the clock (currentTime) and, when Accepted, HeartbeatInterval (interval);
// Pending/Rejected make interval the least wait before the next one. The registration state
// machine (retries, what Accepted releases) stays in session.ts, which also triggers it.
import type { RequestOf, ResponseOf } from '../actions/types.js';
import { errorText } from '../../../platform/errors.js';
import { type OutgoingAction, type OutgoingContext } from './context.js';

export interface BootIdentity {
  chargePointVendor: string;
  chargePointModel: string;
  chargePointSerialNumber?: string;
  chargeBoxSerialNumber?: string;
  firmwareVersion?: string;
  meterSerialNumber?: string;
}

export type RegistrationStatus = 'Unknown' | 'Pending' | 'Accepted' | 'Rejected';

/** Without a usable interval (no answer, or 0), the next BootNotification after this many seconds. */
export const RETRY_BOOT_DEFAULT_S = 30;

export interface BootOutcome {
  status: Exclude<RegistrationStatus, 'Unknown'>;
  /** Pending/Rejected: seconds before the next BootNotification. */
  retryAfterS: number;
}

export function bootNotificationRequest(identity: BootIdentity): RequestOf<'BootNotification'> {
  return { ...identity };
}

/** Applies the answer (clock; HeartbeatInterval when Accepted) and says what registration it gives. */
export function onBootNotificationAnswer(ctx: Pick<OutgoingContext, 'config' | 'csmsTime' | 'log'>, conf: ResponseOf<'BootNotification'>): BootOutcome {
  const csmsTime = new Date(conf.currentTime);
  if (!Number.isNaN(csmsTime.getTime())) ctx.csmsTime(csmsTime);
  ctx.log.info({ status: conf.status, interval: conf.interval }, 'BootNotification answered');
  if (conf.status === 'Accepted' && conf.interval > 0) ctx.config.setInternal('HeartbeatInterval', String(conf.interval));
  return { status: conf.status, retryAfterS: conf.interval > 0 ? conf.interval : RETRY_BOOT_DEFAULT_S };
}

/** Sends it and applies the answer; null when it got no answer (the caller retries). */
export async function sendBootNotification(ctx: OutgoingContext, identity: BootIdentity): Promise<BootOutcome | null> {
  let conf: ResponseOf<'BootNotification'>;
  try {
    conf = await ctx.rpc.call('BootNotification', bootNotificationRequest(identity));
  } catch (err) {
    ctx.log.warn({ err: errorText(err) }, 'BootNotification failed; retrying');
    return null;
  }
  return onBootNotificationAnswer(ctx, conf);
}

export const BootNotification: OutgoingAction<'BootNotification'> = {
  action: 'BootNotification',
  // §5.17: allowed in every registration state; a triggered one that is Accepted registers at once.
  trigger: (ctx) => ctx.boot(),
};
