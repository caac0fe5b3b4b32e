// Security whitepaper LogStatusNotification: the state of a GetLog upload, with the request's
// requestId: Uploading, then Uploaded or one of the failures (UploadFailure, BadMessage,
// NotSupportedOperation, PermissionDenied). Triggered (ExtendedTriggerMessage): Uploading with
// the running request's id, or Idle when no GetLog upload runs.
import type { RequestOf } from '../actions/types.js';
import type { UploadLogStatusEnumType } from '../generated/types.js';
import type { OutgoingAction, OutgoingContext } from './context.js';
import { inOrder } from './in-order.js';

export function logStatusNotificationRequest(status: UploadLogStatusEnumType, requestId?: number): RequestOf<'LogStatusNotification'> {
  return requestId === undefined ? { status } : { status, requestId };
}

/** A sender for one GetLog upload, its statuses in order. */
export function logStatusSender(ctx: OutgoingContext, requestId: number): (status: UploadLogStatusEnumType) => void {
  return inOrder(ctx, 'LogStatusNotification', (status: UploadLogStatusEnumType) => logStatusNotificationRequest(status, requestId), `LogStatusNotification:${requestId}`);
}

export const LogStatusNotification: OutgoingAction<'LogStatusNotification'> = {
  action: 'LogStatusNotification',
  trigger: async (ctx) => {
    const requestId = ctx.uploads?.current()?.requestId;
    const request = requestId === undefined ? logStatusNotificationRequest('Idle') : logStatusNotificationRequest('Uploading', requestId);
    await ctx.rpc.call('LogStatusNotification', request).catch(() => undefined);
  },
};
