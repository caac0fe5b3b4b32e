// OCPP 1.6 §5.17 TriggerMessage against the real agent and the DevCsms: every requestedMessage
// is answered Accepted and then sent (schema-checked by the CSMS); a connector that does not
// exist is Rejected.
import { describe, expect, it } from 'vitest';
import { useAgentFixture } from '../../../helpers/action-fixture.js';
import { waitFor } from '../../../helpers/wait.js';

const fx = useAgentFixture();

describe('TriggerMessage (OCPP 1.6 §5.17)', () => {
  it('BootNotification, Heartbeat, DiagnosticsStatusNotification, FirmwareStatusNotification', async () => {
    const h = await fx.start();
    for (const [requestedMessage, params] of [
      ['BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'AC22' }],
      ['Heartbeat', {}],
      ['DiagnosticsStatusNotification', { status: 'Idle' }],
      ['FirmwareStatusNotification', { status: 'Idle' }],
    ] as const) {
      const m = h.mark();
      expect(await h.call('TriggerMessage', { requestedMessage })).toEqual({ status: 'Accepted' });
      const [sent] = await h.waitCalls(m, requestedMessage);
      expect(sent!.params).toMatchObject(params);
    }
    expect(h.agent.session.registrationStatus).toBe('Accepted');
    expect(h.csms.strictFailures).toEqual([]);
  });

  it('StatusNotification: one connector, or all of them (0 included) without connectorId', async () => {
    const h = await fx.start();
    let m = h.mark();
    expect(await h.call('TriggerMessage', { requestedMessage: 'StatusNotification', connectorId: 1 })).toEqual({ status: 'Accepted' });
    const [one] = await h.waitCalls(m, 'StatusNotification');
    expect(one!.params).toMatchObject({ connectorId: 1, status: 'Available', errorCode: 'NoError' });

    m = h.mark();
    expect(await h.call('TriggerMessage', { requestedMessage: 'StatusNotification' })).toEqual({ status: 'Accepted' });
    const all = await h.waitCalls(m, 'StatusNotification', 2);
    expect(all.map((c) => c.params.connectorId).sort()).toEqual([0, 1]);
  });

  it('MeterValues: the current reading, with the transactionId while one runs', async () => {
    const h = await fx.start();
    await waitFor(() => h.agent.station.lastMeter(1) !== null, 8_000, 'a meter reading');
    let m = h.mark();
    expect(await h.call('TriggerMessage', { requestedMessage: 'MeterValues', connectorId: 1 })).toEqual({ status: 'Accepted' });
    const [idle] = await h.waitCalls(m, 'MeterValues');
    expect(idle!.params.connectorId).toBe(1);
    expect(idle!.params.transactionId).toBeUndefined();
    const values = (idle!.params.meterValue as Array<{ sampledValue: Array<{ context?: string; measurand?: string }> }>)[0]!.sampledValue;
    expect(values.every((v) => v.context === 'Trigger')).toBe(true);
    expect(values.map((v) => v.measurand)).toContain('Energy.Active.Import.Register');

    h.sim.plugIn(1);
    h.sim.swipeCard('04A2B3C4');
    await h.waitCalls(m, 'StartTransaction');
    m = h.mark();
    expect(await h.call('TriggerMessage', { requestedMessage: 'MeterValues', connectorId: 1 })).toEqual({ status: 'Accepted' });
    const [during] = await h.waitCalls(m, 'MeterValues');
    expect(during!.params.transactionId).toBe(1);
  });

  it('a connector that does not exist is Rejected and nothing is sent', async () => {
    const h = await fx.start();
    const m = h.mark();
    expect(await h.call('TriggerMessage', { requestedMessage: 'StatusNotification', connectorId: 5 })).toEqual({ status: 'Rejected' });
    expect(await h.call('TriggerMessage', { requestedMessage: 'MeterValues', connectorId: 5 })).toEqual({ status: 'Rejected' });
    await h.agent.session.heartbeat();
    await h.waitCalls(m, 'Heartbeat');
    expect(h.callsSince(m, 'StatusNotification')).toEqual([]);
    expect(h.callsSince(m, 'MeterValues')).toEqual([]);
  });
});
