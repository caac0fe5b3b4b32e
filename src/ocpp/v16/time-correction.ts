// Where the timestamps are in the 1.6 adapter's queued payloads (transaction-messages.ts: the
// transaction messages and the security events) and
// in the MeterValues kept for StopTransaction.transactionData: shifted once the clock is set
// (the correction itself is version-neutral: ocpp/outbox/time-correction.ts).
import { shiftIso } from '../outbox/time-correction.js';

/** Rewrites every timestamp a queued transaction message carries (its JSON: start, meter or stop). */
export function shiftPayload(payload: string, shift: (ms: number) => number): string {
  let body: unknown;
  try {
    body = JSON.parse(payload);
  } catch {
    return payload; // unreadable: the messenger reports it when it is sent
  }
  if (body === null || typeof body !== 'object') return payload;
  const b = body as { start?: { startedAt?: unknown }; stop?: { stoppedAt?: unknown }; values?: unknown; transactionData?: unknown; event?: { timestamp?: unknown } };
  if (b.start && typeof b.start.startedAt === 'string') b.start.startedAt = shiftIso(b.start.startedAt, shift);
  if (b.stop && typeof b.stop.stoppedAt === 'string') b.stop.stoppedAt = shiftIso(b.stop.stoppedAt, shift);
  if (b.event && typeof b.event.timestamp === 'string') b.event.timestamp = shiftIso(b.event.timestamp, shift);
  shiftValues(b.values, shift);
  shiftValues(b.transactionData, shift);
  return JSON.stringify(body);
}

export function shiftValues(values: unknown, shift: (ms: number) => number): void {
  if (!Array.isArray(values)) return;
  for (const v of values) {
    if (v !== null && typeof v === 'object' && typeof (v as { timestamp?: unknown }).timestamp === 'string') {
      const mv = v as { timestamp: string };
      mv.timestamp = shiftIso(mv.timestamp, shift);
    }
  }
}

