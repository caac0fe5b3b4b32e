// OCPP 1.6 §4.5 FirmwareStatusNotification: the state of a firmware update. UpdateFirmware is
// not supported yet (actions/index.ts), so no update is ever running: only a TriggerMessage
// causes one, and it says Idle (§5.17).
import type { RequestOf } from '../actions/types.js';
import type { FirmwareStatus } from '../generated/types.js';
import type { OutgoingAction } from './context.js';

export function firmwareStatusNotificationRequest(status: FirmwareStatus): RequestOf<'FirmwareStatusNotification'> {
  return { status };
}

export const FirmwareStatusNotification: OutgoingAction<'FirmwareStatusNotification'> = {
  action: 'FirmwareStatusNotification',
  trigger: async (ctx) => void (await ctx.rpc.call('FirmwareStatusNotification', firmwareStatusNotificationRequest('Idle')).catch(() => undefined)),
};
