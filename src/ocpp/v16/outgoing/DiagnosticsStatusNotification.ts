// OCPP 1.6 §4.4 DiagnosticsStatusNotification: the state of a GetDiagnostics upload (Uploading,
// then Uploaded or UploadFailed), sent in that order; triggered (§5.17): Uploading while a
// GetDiagnostics upload runs, Idle otherwise.
import type { RequestOf } from '../actions/types.js';
import type { DiagnosticsStatus } from '../generated/types.js';
import type { OutgoingAction, OutgoingContext } from './context.js';
import { inOrder } from './in-order.js';

export function diagnosticsStatusNotificationRequest(status: DiagnosticsStatus): RequestOf<'DiagnosticsStatusNotification'> {
  return { status };
}

/** A sender for one upload: each status goes out after the previous one was answered (or failed). */
export function diagnosticsStatusSender(ctx: OutgoingContext): (status: DiagnosticsStatus) => void {
  return inOrder(ctx, 'DiagnosticsStatusNotification', (status: DiagnosticsStatus) => diagnosticsStatusNotificationRequest(status));
}

export const DiagnosticsStatusNotification: OutgoingAction<'DiagnosticsStatusNotification'> = {
  action: 'DiagnosticsStatusNotification',
  trigger: async (ctx) => {
    // A GetLog upload has a requestId; a GetDiagnostics one has none.
    const running = ctx.uploads?.current();
    const status: DiagnosticsStatus = running && running.requestId === undefined ? 'Uploading' : 'Idle';
    await ctx.rpc.call('DiagnosticsStatusNotification', diagnosticsStatusNotificationRequest(status)).catch(() => undefined);
  },
};
