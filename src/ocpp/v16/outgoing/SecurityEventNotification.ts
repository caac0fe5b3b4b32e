// Security whitepaper SecurityEventNotification: a critical security event (security/security-events.ts)
// with the time it happened. Queued durably and in order with the transaction messages
// (transaction-messages.ts), so events from an outage arrive after it, in order; never triggered.
import type { RequestOf } from '../actions/types.js';
import type { ForwardedSecurityEvent } from '../../../security/security-event-recorder.js';
import type { OutgoingAction } from './context.js';

export function securityEventNotificationRequest(e: ForwardedSecurityEvent): RequestOf<'SecurityEventNotification'> {
  const req: RequestOf<'SecurityEventNotification'> = { type: e.type, timestamp: e.at.toISOString() };
  if (e.techInfo !== undefined && e.techInfo !== '') req.techInfo = e.techInfo;
  return req;
}

export const SecurityEventNotification: OutgoingAction<'SecurityEventNotification'> = {
  action: 'SecurityEventNotification',
};
