// OCPP 1.6 §4.10 StopTransaction (outgoing/StopTransaction.ts): what the real agent sends when
// the EV leaves (reason, meterStop, time, transactionData), and the request built from an outbox
// record. Order, durability and retries: transaction-messages*.test.ts.
import { describe, expect, it } from 'vitest';
import { useAgentFixture } from '../../../helpers/action-fixture.js';
import { stopRecordOf, stopTransactionRequest } from '../../../../src/ocpp/v16/outgoing/StopTransaction.js';
import type { Transaction } from '../../../../src/domain/model/transaction.js';
import type { MeterValue } from '../../../../src/ocpp/v16/generated/types.js';

const fx = useAgentFixture();

describe('StopTransaction (OCPP 1.6 §4.10)', () => {
  it('EV unplugged: EVDisconnected, no idTag, the stop register and time, Begin/End values', async () => {
    const h = await fx.start({ ocppConfig: { StopTxnSampledData: 'Energy.Active.Import.Register' } });
    const stopped: Transaction[] = [];
    h.agent.station.subscribe({ transactionEnded: ({ tx }) => void stopped.push({ ...tx }) });
    const m = h.mark();
    h.sim.plugIn(1);
    h.sim.swipeCard('04A2B3C4');
    const [start] = await h.waitCalls(m, 'StartTransaction');
    h.sim.unplug(1);
    const [stop] = await h.waitCalls(m, 'StopTransaction');
    const tx = stopped[0]!;
    expect(stop!.params).toMatchObject({
      transactionId: start!.transactionId,
      reason: 'EVDisconnected',
      meterStop: Math.round(tx.meterStopWh!),
      timestamp: tx.stoppedAt!.toISOString(),
    });
    expect(stop!.params.idTag).toBeUndefined();
    const data = stop!.params.transactionData as MeterValue[];
    expect(data.map((d) => d.sampledValue[0]!.context)).toEqual(['Transaction.Begin', 'Transaction.End']);
    expect(h.csms.strictFailures).toEqual([]);
  });

  it('from a record: the stopping idTag, -1 for a Start never confirmed, no empty transactionData', () => {
    const tx: Transaction = {
      localId: 'L1',
      evseId: 1,
      idToken: { value: 'ABC', type: 'ISO14443' },
      startedAt: new Date('2026-02-01T08:00:00Z'),
      meterStartWh: 1000,
      stoppedAt: new Date('2026-02-01T09:00:00Z'),
      meterStopWh: 8999.5,
      stopReason: 'LocalStop',
      stopIdToken: { value: 'ABC', type: 'ISO14443' },
    };
    const record = JSON.parse(JSON.stringify(stopRecordOf(tx, new Date(0)))) as ReturnType<typeof stopRecordOf>;
    expect(stopTransactionRequest(record, 55, [])).toEqual({ transactionId: 55, meterStop: 9000, timestamp: '2026-02-01T09:00:00.000Z', reason: 'Local', idTag: 'ABC' });
    expect(stopTransactionRequest(record, null).transactionId).toBe(-1);
  });

  it('from a transaction without stop facts: now, the start register, reason Other', () => {
    const tx: Transaction = { localId: 'L2', evseId: 1, idToken: { value: 'ABC', type: 'ISO14443' }, startedAt: new Date('2026-02-01T08:00:00Z'), meterStartWh: 1000 };
    expect(stopRecordOf(tx, new Date('2026-02-01T10:00:00Z'))).toEqual({ stoppedAt: '2026-02-01T10:00:00.000Z', meterStopWh: 1000, reason: 'Other' });
  });
});
