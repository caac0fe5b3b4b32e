// An agent upgraded in the middle of a transaction loses nothing: the real agent (simulated
// controller, DevCsms in strict mode) starts on test/fixtures/outbox-v4.db / outbox-v5.db, the
// database the schema-4 or schema-5 release left with a stopped transaction's MeterValues and Stop queued and an open
// transaction started offline. Once the CSMS accepts it, everything arrives in order with the
// original data, the stopped one under the transactionId the CSMS gave before the upgrade;
// the open one (its EV gone with the old process) ends as after a power loss.
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/agent-harness.js';
import { waitFor } from '../helpers/wait.js';

const fixture = (schema: number): string => new URL(`../fixtures/outbox-v${schema}.db`, import.meta.url).pathname;
const TRANSACTION_ACTIONS = new Set(['StartTransaction', 'MeterValues', 'StopTransaction']);

let h: Harness | null = null;
afterEach(async () => {
  await h?.stop();
  h = null;
});

describe.each([4, 5])('upgrade from the schema-%i release mid-transaction', (schema) => {
  it('sends the queued MeterValues and Stop, then the open transaction\'s Start, MeterValues and Stop, in order', async () => {
    h = await startHarness({ seedDatabase: fixture(schema) });
    const csms = h.csms;
    await waitFor(() => csms.callsOf('StopTransaction').length >= 2, 20_000, 'both StopTransactions');
    const tx = csms.received.filter((c) => TRANSACTION_ACTIONS.has(c.action));
    expect(tx.map((c) => c.action)).toEqual(['MeterValues', 'StopTransaction', 'StartTransaction', 'MeterValues', 'StopTransaction']);
    const [metersA, stopA, startB, metersB, stopB] = tx.map((c) => c.params);
    expect(metersA).toMatchObject({
      connectorId: 1,
      transactionId: 4711,
      meterValue: [
        { timestamp: '2026-03-01T09:15:00.000Z', sampledValue: [{ value: '5250' }] },
        { timestamp: '2026-03-01T09:30:00.000Z', sampledValue: [{ value: '5500' }] },
      ],
    });
    expect(stopA).toMatchObject({ transactionId: 4711, meterStop: 5600, timestamp: '2026-03-01T09:40:00.000Z', reason: 'EVDisconnected' });
    expect(stopA!['transactionData']).toMatchObject([{ timestamp: '2026-03-01T09:40:00.000Z', sampledValue: [{ value: '5600' }] }]);
    expect(startB).toEqual({ connectorId: 1, idTag: 'CARD-B', meterStart: 5600, timestamp: '2026-03-01T10:00:00.000Z' });
    const idB = h.agent.session.csmsTransactionId('fixture-b') ?? (stopB!['transactionId'] as number);
    expect(metersB).toMatchObject({
      connectorId: 1,
      transactionId: idB,
      meterValue: [
        { timestamp: '2026-03-01T10:15:00.000Z', sampledValue: [{ value: '5800' }] },
        { timestamp: '2026-03-01T10:30:00.000Z', sampledValue: [{ value: '6000' }] },
      ],
    });
    // Another kernel boot than the fixture's: a power loss, stopped at its last durable moment
    // (10:30, its newest stored sample). That stored time is real (the fixture's rows carry no
    // provisional base): the Stop, queued before this boot's first sync, is not shifted by it.
    expect(stopB).toMatchObject({ transactionId: idB, reason: 'PowerLoss', timestamp: '2026-03-01T10:30:00.000Z' });
    expect(csms.strictFailures).toEqual([]);
    await waitFor(() => h!.agent.messenger.queueDepth === 0, 10_000, 'queue empty');
    expect(h.agent.transactionStore.unreportedTransactions()).toEqual([]);
  });
});
