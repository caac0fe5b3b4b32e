// OCPP 1.6 §4.10 StopTransaction: built from the transaction as the outbox recorded it, with
// the StopTxnSampled/AlignedData series (meter-sampler.ts) as transactionData. Queued, made
// durable and delivered in order by transaction-messages.ts.
import type { Transaction } from '../../../domain/model/transaction.js';
import type { Reason } from '../generated/types.js';
import { toReason16 } from '../mappers.js';
import type { RequestOf } from '../actions/types.js';
import type { MeterValue } from '../generated/types.js';
import type { OutgoingAction } from './context.js';

/** What the outbox keeps of a Stop (its stored JSON: names are read back from queued rows, keep them). */
export interface StopRecord {
  stoppedAt: string;
  meterStopWh: number;
  /** The 1.6 word, as sent. */
  reason: Reason;
  stopIdTag?: string;
}

/** `now` stands in for a stop time the transaction lacks. */
export function stopRecordOf(tx: Transaction, now: Date): StopRecord {
  const s: StopRecord = {
    stoppedAt: (tx.stoppedAt ?? now).toISOString(),
    meterStopWh: tx.meterStopWh ?? tx.meterStartWh,
    reason: toReason16(tx.stopReason ?? 'Other'),
  };
  if (tx.stopIdToken !== undefined) s.stopIdTag = tx.stopIdToken.value;
  return s;
}

/** `transactionId` null: the CSMS never confirmed the Start; -1 is never a real id (the caller logs it). */
export function stopTransactionRequest(stop: StopRecord, transactionId: number | null, transactionData?: MeterValue[]): RequestOf<'StopTransaction'> {
  const req: RequestOf<'StopTransaction'> = {
    transactionId: transactionId ?? -1,
    meterStop: Math.round(stop.meterStopWh),
    timestamp: stop.stoppedAt,
    reason: stop.reason,
  };
  if (stop.stopIdTag) req.idTag = stop.stopIdTag;
  if (transactionData && transactionData.length > 0) req.transactionData = transactionData;
  return req;
}

// Not in §5.17's MessageTrigger: a transaction's stop is sent once, through the outbox.
export const StopTransaction: OutgoingAction<'StopTransaction'> = { action: 'StopTransaction' };
