// OCPP frames in the log at debug level: one line per frame with direction,
// message type, message id and action (a CALLRESULT/CALLERROR takes the action of its CALL),
// and the payload with secrets redacted (AuthorizationKey in ChangeConfiguration and
// GetConfiguration key/value pairs; OCPP 1.6 security whitepaper). Costs nothing above debug.
import type { Logger } from 'pino';
import { redactOcppPayload } from '../platform/logger.js';

const MAX_TRACKED_CALLS = 128;
const KIND: Record<number, string> = { 2: 'CALL', 3: 'CALLRESULT', 4: 'CALLERROR' };

/** An `onOcppFrame` hook for startAgent that logs each frame at debug. */
export function ocppFrameLogger(log: Logger): (direction: 'in' | 'out', text: string) => void {
  // messageId -> action of the CALL, so the answer's line names the action too.
  const calls = new Map<string, string>();
  return (direction, text) => {
    if (!log.isLevelEnabled('debug')) return;
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      log.debug({ direction, bytes: text.length }, 'OCPP frame that is not JSON');
      return;
    }
    if (!Array.isArray(frame) || typeof frame[0] !== 'number' || typeof frame[1] !== 'string') {
      log.debug({ direction, bytes: text.length }, 'OCPP frame that is not an OCPP-J message');
      return;
    }
    const type = frame[0];
    const messageId = frame[1];
    let action: string | undefined;
    let payload: unknown;
    if (type === 2) {
      action = typeof frame[2] === 'string' ? frame[2] : undefined;
      payload = frame[3];
      if (action !== undefined) {
        calls.set(messageId, action);
        if (calls.size > MAX_TRACKED_CALLS) calls.delete(calls.keys().next().value!);
      }
    } else {
      action = calls.get(messageId);
      calls.delete(messageId);
      payload = type === 3 ? frame[2] : { errorCode: frame[2], errorDescription: frame[3], errorDetails: frame[4] };
    }
    // An answer whose CALL was not seen is redacted as a GetConfiguration answer would be (the strictest).
    const redacted = redactOcppPayload(action ?? (type === 3 ? 'GetConfiguration' : ''), payload);
    log.debug({ direction, messageType: KIND[type] ?? type, messageId, action, payload: redacted }, `OCPP ${direction === 'in' ? '<-' : '->'} ${KIND[type] ?? type} ${action ?? ''}`.trimEnd());
  };
}
