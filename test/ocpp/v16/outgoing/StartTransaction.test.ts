// OCPP 1.6 §4.8 StartTransaction (outgoing/StartTransaction.ts): what the real agent sends for
// the station's transaction, and the request built from an outbox record (the reservation,
// meterStart rounded). Order, durability and retries: transaction-messages*.test.ts.
import { describe, expect, it } from 'vitest';
import { useAgentFixture } from '../../../helpers/action-fixture.js';
import { waitFor } from '../../../helpers/wait.js';
import { startRecordOf, startTransactionRequest } from '../../../../src/ocpp/v16/outgoing/StartTransaction.js';
import type { Transaction } from '../../../../src/domain/model/transaction.js';

const fx = useAgentFixture();

describe('StartTransaction (OCPP 1.6 §4.8)', () => {
  it("the station's transaction: connector, idTag, meterStart and its start time", async () => {
    const h = await fx.start();
    const m = h.mark();
    h.sim.plugIn(1);
    h.sim.swipeCard('04A2B3C4');
    const [start] = await h.waitCalls(m, 'StartTransaction');
    const tx = h.agent.station.transaction(1)!;
    expect(start!.params).toEqual({
      connectorId: 1,
      idTag: '04A2B3C4',
      meterStart: Math.round(tx.meterStartWh),
      timestamp: tx.startedAt.toISOString(),
    });
    // The answer's transactionId is the one the agent uses from now on.
    await waitFor(() => h.agent.session.csmsTransactionId(tx.localId) === start!.transactionId, 8_000, 'transactionId taken');
    expect(h.csms.strictFailures).toEqual([]);
  });

  it('from a record: the reservation it uses, meterStart in whole Wh', () => {
    const tx: Transaction = { localId: 'L1', evseId: 2, idToken: { value: 'ABC', type: 'ISO14443' }, startedAt: new Date('2026-02-01T08:00:00Z'), meterStartWh: 1234.6, reservationId: 17 };
    const record = startRecordOf(tx);
    // The outbox stores the record as JSON and builds the request when it is sent.
    expect(startTransactionRequest(JSON.parse(JSON.stringify(record)))).toEqual({
      connectorId: 2,
      idTag: 'ABC',
      meterStart: 1235,
      timestamp: '2026-02-01T08:00:00.000Z',
      reservationId: 17,
    });
  });
});
