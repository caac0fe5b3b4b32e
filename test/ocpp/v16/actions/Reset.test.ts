// OCPP 1.6 §5.14 Reset against the real agent and the DevCsms: Accepted; running transactions
// stop with SoftReset / HardReset and reach the CSMS before the agent asks to be restarted;
// a Hard reset also resets the charge controller.
import { describe, expect, it } from 'vitest';
import type { Harness } from '../../../helpers/agent-harness.js';
import { startCharging, useAgentFixture } from '../../../helpers/action-fixture.js';
import { waitFor } from '../../../helpers/wait.js';

const fx = useAgentFixture();

interface ResetSeen {
  type: 'Soft' | 'Hard';
  /** StopTransactions the CSMS had received when the agent asked for the restart. */
  stopsDelivered: number;
}

async function harnessWithReset(seen: ResetSeen[]): Promise<Harness> {
  const x: { h: Harness | null } = { h: null };
  x.h = await fx.start({ onResetRequested: (type) => seen.push({ type, stopsDelivered: x.h!.csms.callsOf('StopTransaction').length }) });
  return x.h;
}

describe('Reset (OCPP 1.6 §5.14)', () => {
  it('Soft, idle: Accepted, the agent restarts, the controller is left alone', async () => {
    const seen: ResetSeen[] = [];
    const h = await harnessWithReset(seen);
    const reboots = h.sim.counters.reboots;
    expect(await h.call('Reset', { type: 'Soft' })).toEqual({ status: 'Accepted' });
    await waitFor(() => seen.length === 1, 8_000, 'restart request');
    expect(seen[0]!.type).toBe('Soft');
    expect(h.sim.counters.reboots).toBe(reboots);
  });

  it('Soft during a transaction: StopTransaction reason SoftReset delivered before the restart', async () => {
    const seen: ResetSeen[] = [];
    const h = await harnessWithReset(seen);
    await startCharging(h);
    expect(await h.call('Reset', { type: 'Soft' })).toEqual({ status: 'Accepted' });
    await waitFor(() => seen.length === 1, 8_000, 'restart request');
    expect(seen[0]).toEqual({ type: 'Soft', stopsDelivered: 1 });
    expect(h.csms.callsOf('StopTransaction')[0]!.params).toMatchObject({ transactionId: 1, reason: 'SoftReset' });
  });

  it('Hard during a transaction: StopTransaction reason HardReset, then the controller is reset', async () => {
    const seen: ResetSeen[] = [];
    const h = await harnessWithReset(seen);
    await startCharging(h);
    const reboots = h.sim.counters.reboots;
    expect(await h.call('Reset', { type: 'Hard' })).toEqual({ status: 'Accepted' });
    await waitFor(() => seen.length === 1, 8_000, 'restart request');
    expect(seen[0]).toEqual({ type: 'Hard', stopsDelivered: 1 });
    expect(h.csms.callsOf('StopTransaction')[0]!.params).toMatchObject({ transactionId: 1, reason: 'HardReset' });
    expect(h.sim.counters.reboots).toBe(reboots + 1);
  });
});
