// OCPP 1.6 §4.3 DataTransfer, charger to CSMS: a charger maker's own message for its vendorId.
// Nothing in the agent sends one on its own yet; vendor code calls sendDataTransfer.
// (The CSMS-to-charger direction is actions/DataTransfer.ts.)
import type { RequestOf, ResponseOf } from '../actions/types.js';
import { errorText } from '../../../platform/errors.js';
import { type OutgoingAction, type OutgoingContext } from './context.js';

export function dataTransferRequest(vendorId: string, messageId?: string, data?: string): RequestOf<'DataTransfer'> {
  const req: RequestOf<'DataTransfer'> = { vendorId };
  if (messageId !== undefined) req.messageId = messageId;
  if (data !== undefined) req.data = data;
  return req;
}

/** The CSMS's answer; 'offline' when it cannot be sent (not connected, not Accepted) or gets none. */
export async function sendDataTransfer(ctx: OutgoingContext, vendorId: string, messageId?: string, data?: string): Promise<ResponseOf<'DataTransfer'> | 'offline'> {
  if (!ctx.canSend()) return 'offline';
  try {
    return await ctx.rpc.call('DataTransfer', dataTransferRequest(vendorId, messageId, data));
  } catch (err) {
    ctx.log.warn({ err: errorText(err), vendorId }, 'DataTransfer failed');
    return 'offline';
  }
}

// Not in §5.17's MessageTrigger.
export const DataTransfer: OutgoingAction<'DataTransfer'> = { action: 'DataTransfer' };
