// OCPP 1.6 §4.4 DiagnosticsStatusNotification: the state of a diagnostics upload. GetDiagnostics
// is not supported yet (actions/index.ts), so the charger is never uploading: only a
// TriggerMessage causes one, and it says Idle (§5.17).
import type { RequestOf } from '../actions/types.js';
import type { DiagnosticsStatus } from '../generated/types.js';
import type { OutgoingAction } from './context.js';

export function diagnosticsStatusNotificationRequest(status: DiagnosticsStatus): RequestOf<'DiagnosticsStatusNotification'> {
  return { status };
}

export const DiagnosticsStatusNotification: OutgoingAction<'DiagnosticsStatusNotification'> = {
  action: 'DiagnosticsStatusNotification',
  trigger: async (ctx) => void (await ctx.rpc.call('DiagnosticsStatusNotification', diagnosticsStatusNotificationRequest('Idle')).catch(() => undefined)),
};
