// OCPP 1.6 §3.16: clock-aligned MeterValues every ClockAlignedDataInterval from midnight
// (Sample.Clock, on idle connectors without a transactionId, during a transaction with it),
// StopTxnAlignedData and StopTxnSampledData in StopTransaction.transactionData. The real
// agent with a driven clock.
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../../helpers/agent-harness.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { waitFor } from '../../helpers/wait.js';
import type { MeterValue } from '../../../src/ocpp/v16/generated/types.js';

let h: Harness | null = null;
afterEach(async () => {
  await h?.stop();
  h = null;
});

/** Moves the driven clock just past the next multiple of `intervalS` since midnight; returns that instant. */
function advanceToNextBoundary(clock: FakeClock, intervalS: number): Date {
  const now = clock.now().getTime();
  const step = intervalS * 1000;
  const boundary = (Math.floor(now / step) + 1) * step;
  clock.advance(boundary - now);
  return new Date(boundary);
}

describe('clock-aligned MeterValues', () => {
  it('idle connector: Sample.Clock values at the aligned instant, no transactionId; 0 disables', async () => {
    const clock = new FakeClock();
    h = await startHarness({ clock, ocppConfig: { ClockAlignedDataInterval: '900', MeterValuesAlignedData: 'Energy.Active.Import.Register,Voltage' } });
    await waitFor(() => h!.agent.station.lastMeter(1) !== null, 8_000, 'a meter reading');
    const m = h.mark();
    const at = advanceToNextBoundary(clock, 900);
    const [mv] = await h.waitCalls(m, 'MeterValues');
    expect(mv!.params['transactionId']).toBeUndefined();
    const value = (mv!.params['meterValue'] as MeterValue[])[0]!;
    expect(value.timestamp).toBe(at.toISOString());
    expect(value.sampledValue.every((s) => s.context === 'Sample.Clock')).toBe(true);
    expect(value.sampledValue.map((s) => s.measurand)).toContain('Voltage');

    await h.call('ChangeConfiguration', { key: 'ClockAlignedDataInterval', value: '0' });
    const after = h.mark();
    clock.advance(3_600_000);
    await new Promise((r) => setTimeout(r, 200));
    expect(h.callsSince(after, 'MeterValues')).toEqual([]);
  });

  it('during a transaction: aligned values carry the transactionId and StopTxnAlignedData/StopTxnSampledData ride in StopTransaction', async () => {
    const clock = new FakeClock();
    h = await startHarness({
      clock,
      ocppConfig: {
        ClockAlignedDataInterval: '60',
        MeterValueSampleInterval: '0',
        StopTxnAlignedData: 'Energy.Active.Import.Register',
        StopTxnSampledData: 'Energy.Active.Import.Register',
      },
    });
    const m = h.mark();
    h.sim.plugIn(1);
    h.sim.swipeCard('04A2B3C4');
    const [start] = await h.waitCalls(m, 'StartTransaction');
    await waitFor(() => h!.agent.session.csmsTransactionId(h!.agent.station.transaction(1)?.localId ?? '') !== undefined, 8_000, 'transaction id');
    advanceToNextBoundary(clock, 60);
    const [aligned] = await h.waitCalls(m, 'MeterValues');
    expect(aligned!.params['transactionId']).toBe(1);
    expect(start).toBeDefined();
    h.sim.unplug(1);
    const [stop] = await h.waitCalls(m, 'StopTransaction');
    const contexts = ((stop!.params['transactionData'] as MeterValue[]) ?? []).map((v) => v.sampledValue[0]!.context);
    expect(contexts).toEqual(['Transaction.Begin', 'Sample.Clock', 'Transaction.End']);
  });
});

describe('sampled MeterValues around a stop', () => {
  it('a sample falling due while the stop waits for its register is not taken: nothing stamped after the Stop', async () => {
    const clock = new FakeClock();
    h = await startHarness({
      clock,
      ocppConfig: { MeterValueSampleInterval: '10', MeterValuesSampledData: 'Energy.Active.Import.Register', StopTxnSampledData: 'Energy.Active.Import.Register' },
    });
    const m = h.mark();
    h.sim.plugIn(1);
    h.sim.swipeCard('04A2B3C4');
    await h.waitCalls(m, 'StartTransaction');
    await waitFor(() => h!.agent.station.lastMeter(1) !== null, 8_000, 'a meter reading');
    h.agent.station.stopTransaction(1, 'LocalStop');
    // The register after the contactor opened is still being read over the serial line when the interval falls due.
    clock.advance(10_000);
    const [stop] = await h.waitCalls(m, 'StopTransaction');
    expect(h.callsSince(m, 'MeterValues')).toEqual([]);
    const contexts = ((stop!.params['transactionData'] as MeterValue[]) ?? []).map((v) => v.sampledValue[0]!.context);
    expect(contexts).toEqual(['Transaction.Begin', 'Transaction.End']);
  });
});
