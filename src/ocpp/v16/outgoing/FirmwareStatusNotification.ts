// OCPP 1.6 §4.5 FirmwareStatusNotification: the state of a firmware update (UpdateFirmware), in
// the specification's order: Downloading, Downloaded or DownloadFailed, Installing, Installed or
// InstallationFailed (firmware-status.ts sends them). A TriggerMessage gets the current status,
// Idle when no update runs (§5.17).
import type { RequestOf } from '../actions/types.js';
import type { FirmwareStatus } from '../generated/types.js';
import type { OutgoingAction } from './context.js';

export function firmwareStatusNotificationRequest(status: FirmwareStatus): RequestOf<'FirmwareStatusNotification'> {
  return { status };
}

export const FirmwareStatusNotification: OutgoingAction<'FirmwareStatusNotification'> = {
  action: 'FirmwareStatusNotification',
  trigger: async (ctx) => void (await ctx.rpc.call('FirmwareStatusNotification', firmwareStatusNotificationRequest(ctx.firmwareStatus())).catch(() => undefined)),
};
