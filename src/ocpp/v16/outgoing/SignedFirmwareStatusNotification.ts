// OCPP 1.6 security whitepaper SignedFirmwareStatusNotification: the state of a signed update
// (SignedUpdateFirmware), with the request's id. Sent by firmware-status.ts; a triggered
// FirmwareStatusNotification goes out as this one for a signed update (FirmwareStatusNotification.ts).
import type { RequestOf } from '../actions/types.js';
import type { FirmwareStatusEnumType } from '../generated/types.js';
import type { OutgoingAction } from './context.js';

export function signedFirmwareStatusNotificationRequest(status: FirmwareStatusEnumType, requestId: number | null): RequestOf<'SignedFirmwareStatusNotification'> {
  return requestId === null ? { status } : { status, requestId };
}

export const SignedFirmwareStatusNotification: OutgoingAction<'SignedFirmwareStatusNotification'> = {
  action: 'SignedFirmwareStatusNotification',
};
