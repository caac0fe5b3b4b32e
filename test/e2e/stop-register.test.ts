// What the CSMS is told after the contactor opened, with the controller reporting its meter
// only when asked (METER_MS 0): the StopTransaction's meterStop and its Transaction.End value
// are the register read after the contactor opened (the energy since the last report is
// billed), and a MeterValues triggered after the EV left reports 0 W and 0 A.
import { describe, expect, it } from 'vitest';
import type { Harness } from '../helpers/agent-harness.js';
import { startCharging, useAgentFixture } from '../helpers/action-fixture.js';
import { waitFor } from '../helpers/wait.js';

const fx = useAgentFixture();

interface Sampled {
  value: string;
  measurand?: string;
  context?: string;
}

const valueOf = (values: Sampled[], measurand: string): number => Number(values.find((v) => (v.measurand ?? 'Energy.Active.Import.Register') === measurand)?.value);

/** Charging with the controller's periodic reports off, the register well past the last report. */
async function chargingUnreported(): Promise<Harness> {
  const harness = await fx.start({
    ocppConfig: {
      MeterValuesSampledData: 'Energy.Active.Import.Register,Power.Active.Import,Current.Import',
      StopTxnSampledData: 'Energy.Active.Import.Register',
      MeterValueSampleInterval: '0',
    },
  });
  await harness.agent.controller.configure('METER_MS', '0');
  await startCharging(harness);
  const reported = harness.agent.station.lastMeter(1)?.energyWh ?? 0;
  await waitFor(() => harness.sim.state(1).energyWh >= reported + 3, 10_000, 'energy past the last report');
  return harness;
}

describe('after the contactor opened', () => {
  it('StopTransaction carries the register read after the contactor opened, in meterStop and Transaction.End', async () => {
    const h = await chargingUnreported();
    const lastReported = h.agent.station.lastMeter(1)!.energyWh!;
    const m = h.mark();
    h.sim.unplug(1);
    const register = h.sim.state(1).energyWh;
    const [stop] = await h.waitCalls(m, 'StopTransaction');

    expect(register).toBeGreaterThan(lastReported);
    expect(stop!.params).toMatchObject({ reason: 'EVDisconnected', meterStop: register });
    const data = stop!.params.transactionData as Array<{ sampledValue: Sampled[] }>;
    const end = data.at(-1)!.sampledValue;
    expect(end[0]!.context).toBe('Transaction.End');
    expect(valueOf(end, 'Energy.Active.Import.Register')).toBe(register);
  });

  it('a MeterValues triggered just after the EV left reports 0 W and 0 A, not the last reading', async () => {
    const h = await chargingUnreported();
    await h.agent.controller.readMeter(1);
    expect(h.agent.station.lastMeter(1)!.powerW).toBeGreaterThan(1_000);
    h.sim.unplug(1);
    await waitFor(() => h.agent.station.transaction(1) === null, 8_000, 'transaction stopped');
    const m = h.mark();
    expect(await h.call('TriggerMessage', { requestedMessage: 'MeterValues', connectorId: 1 })).toEqual({ status: 'Accepted' });
    const [mv] = await h.waitCalls(m, 'MeterValues');

    const values = (mv!.params.meterValue as Array<{ sampledValue: Sampled[] }>)[0]!.sampledValue;
    expect(values[0]!.context).toBe('Trigger');
    expect(valueOf(values, 'Power.Active.Import')).toBe(0);
    expect(valueOf(values, 'Current.Import')).toBe(0);
    expect(valueOf(values, 'Energy.Active.Import.Register')).toBe(h.sim.state(1).energyWh);
  });
});
