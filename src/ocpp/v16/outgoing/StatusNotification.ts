// OCPP 1.6 §4.9 StatusNotification: a connector's status (connector 0 = the station) with the
// fault mapped to errorCode/vendorErrorCode (mappers.ts). When it is sent (deduplicated, held
// for MinimumStatusDuration, all of them after Accepted) is status-reporter.ts's.
import type { ChargePointStatus as ConnectorStatus } from '../generated/types.js';
import type { RequestOf } from '../actions/types.js';
import { mapFault } from '../mappers.js';
import type { OutgoingAction } from './context.js';

export function statusNotificationRequest(connectorId: number, status: ConnectorStatus, fault: string | null, at: Date): RequestOf<'StatusNotification'> {
  const mapped = mapFault(fault);
  // Connector 0 reports station-wide states only (§7.7: Available, Unavailable, Faulted).
  const payload: RequestOf<'StatusNotification'> = { connectorId, status, errorCode: mapped.errorCode, timestamp: at.toISOString() };
  if (mapped.vendorErrorCode) payload.vendorErrorCode = mapped.vendorErrorCode;
  if (mapped.info) payload.info = mapped.info;
  return payload;
}

export const StatusNotification: OutgoingAction<'StatusNotification'> = {
  action: 'StatusNotification',
  // §5.17: the given connector (0 = the station), or every connector and 0 without one; sent even when unchanged.
  trigger: (ctx, connectorId) => ctx.resendStatus(connectorId),
};
