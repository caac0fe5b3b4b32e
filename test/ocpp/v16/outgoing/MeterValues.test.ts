// OCPP 1.6 §4.7 MeterValues (outgoing/MeterValues.ts) from the real agent on a driven clock:
// sampled values during a transaction carry its transactionId (through the outbox); the
// request leaves transactionId out when there is none. Clock-aligned values: meter-sampler.test.ts;
// triggered ones: TriggerMessage.test.ts.
import { describe, expect, it } from 'vitest';
import { useAgentFixture } from '../../../helpers/action-fixture.js';
import { FakeClock } from '../../../helpers/fake-clock.js';
import { waitFor } from '../../../helpers/wait.js';
import { meterValuesRequest } from '../../../../src/ocpp/v16/outgoing/MeterValues.js';
import type { MeterValue } from '../../../../src/ocpp/v16/generated/types.js';

const fx = useAgentFixture();

describe('MeterValues (OCPP 1.6 §4.7)', () => {
  it('every MeterValueSampleInterval during a transaction: Sample.Periodic, the configured measurands, its transactionId', async () => {
    const clock = new FakeClock();
    const h = await fx.start({ clock, ocppConfig: { MeterValueSampleInterval: '30', MeterValuesSampledData: 'Energy.Active.Import.Register,Current.Offered' } });
    const m = h.mark();
    h.sim.plugIn(1);
    h.sim.swipeCard('04A2B3C4');
    const [start] = await h.waitCalls(m, 'StartTransaction');
    await waitFor(() => h.agent.station.lastMeter(1) !== null, 8_000, 'a meter reading');
    clock.advance(30_000);
    const [mv] = await h.waitCalls(m, 'MeterValues');
    expect(mv!.params).toMatchObject({ connectorId: 1, transactionId: start!.transactionId });
    const [value] = mv!.params.meterValue as MeterValue[];
    expect(value!.timestamp).toBe(clock.now().toISOString());
    expect(value!.sampledValue.map((s) => [s.measurand, s.context])).toEqual([
      ['Energy.Active.Import.Register', 'Sample.Periodic'],
      ['Current.Offered', 'Sample.Periodic'],
    ]);
    expect(h.csms.strictFailures).toEqual([]);
  });

  it('the request: transactionId only when there is one', () => {
    const values: MeterValue[] = [{ timestamp: '2026-02-01T08:00:00.000Z', sampledValue: [{ value: '1' }] }];
    expect(meterValuesRequest(2, values)).toEqual({ connectorId: 2, meterValue: values });
    expect(meterValuesRequest(2, values, 9)).toEqual({ connectorId: 2, meterValue: values, transactionId: 9 });
  });
});
