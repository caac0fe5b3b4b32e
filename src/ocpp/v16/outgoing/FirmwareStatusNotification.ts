// OCPP 1.6 §4.5 FirmwareStatusNotification: the state of a firmware update (UpdateFirmware), in
// the specification's order: Downloading, Downloaded or DownloadFailed, Installing, Installed or
// InstallationFailed (firmware-status.ts sends them). A TriggerMessage or ExtendedTriggerMessage
// gets the current status, Idle when no update runs (§5.17); for a signed update (running, or the
// last one, ended other than Installed) it goes out as SignedFirmwareStatusNotification with its
// requestId, as the security whitepaper asks of a triggered FirmwareStatusNotification.
import type { RequestOf } from '../actions/types.js';
import type { FirmwareStatus } from '../generated/types.js';
import type { OutgoingAction } from './context.js';
import { signedFirmwareStatusNotificationRequest } from './SignedFirmwareStatusNotification.js';

export function firmwareStatusNotificationRequest(status: FirmwareStatus): RequestOf<'FirmwareStatusNotification'> {
  return { status };
}

export const FirmwareStatusNotification: OutgoingAction<'FirmwareStatusNotification'> = {
  action: 'FirmwareStatusNotification',
  trigger: async (ctx) => {
    const now = ctx.firmwareStatus();
    const sent =
      now.message === 'SignedFirmwareStatusNotification'
        ? ctx.rpc.call('SignedFirmwareStatusNotification', signedFirmwareStatusNotificationRequest(now.status, now.requestId))
        : ctx.rpc.call('FirmwareStatusNotification', firmwareStatusNotificationRequest(now.status));
    await sent.catch(() => undefined);
  },
};
