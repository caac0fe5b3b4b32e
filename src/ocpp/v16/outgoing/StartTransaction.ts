// OCPP 1.6 §4.8 StartTransaction: built from the transaction as the outbox recorded it.
// Queued, made durable and delivered in order by transaction-messages.ts (§4.10 retries);
// its answer (transactionId, idTagInfo) is handled there and in main.ts's hooks.
import type { Transaction } from '../../../domain/model/transaction.js';
import type { RequestOf } from '../actions/types.js';
import type { OutgoingAction } from './context.js';

/** What the outbox keeps of a Start (its stored JSON: names are read back from queued rows, keep them). */
export interface StartRecord {
  connector: number;
  idTag: string;
  startedAt: string;
  meterStartWh: number;
  reservationId?: number;
}

export function startRecordOf(tx: Transaction): StartRecord {
  const s: StartRecord = { connector: tx.evseId, idTag: tx.idToken.value, startedAt: tx.startedAt.toISOString(), meterStartWh: tx.meterStartWh };
  if (tx.reservationId !== undefined) s.reservationId = tx.reservationId;
  return s;
}

export function startTransactionRequest(start: StartRecord): RequestOf<'StartTransaction'> {
  const req: RequestOf<'StartTransaction'> = {
    connectorId: start.connector,
    idTag: start.idTag,
    meterStart: Math.round(start.meterStartWh),
    timestamp: start.startedAt,
  };
  if (start.reservationId !== undefined) req.reservationId = start.reservationId;
  return req;
}

// Not in §5.17's MessageTrigger: a transaction's start is sent once, through the outbox.
export const StartTransaction: OutgoingAction<'StartTransaction'> = { action: 'StartTransaction' };
