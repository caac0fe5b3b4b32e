// OCPP 1.6 §4.9 StatusNotification (outgoing/StatusNotification.ts): a controller fault as
// errorCode + vendorErrorCode on the real agent, back to NoError when it clears; the request
// for the controller link fault (info, no vendor code). When they are sent: status-reporter.test.ts.
import { describe, expect, it } from 'vitest';
import { useAgentFixture } from '../../../helpers/action-fixture.js';
import { statusNotificationRequest } from '../../../../src/ocpp/v16/outgoing/StatusNotification.js';
import { CONTROLLER_LINK_FAULT } from '../../../../src/domain/station/charging-station.js';

const fx = useAgentFixture();

describe('StatusNotification (OCPP 1.6 §4.9)', () => {
  it('a connector fault: Faulted with the mapped errorCode and the raw code; cleared: NoError', async () => {
    const h = await fx.start();
    const m = h.mark();
    h.sim.raiseFault(1, 'OVER_TEMP');
    await h.waitStatus(1, 'Faulted');
    const faulted = h.callsSince(m, 'StatusNotification').find((c) => c.params.connectorId === 1)!;
    expect(faulted.params).toMatchObject({ connectorId: 1, status: 'Faulted', errorCode: 'HighTemperature', vendorErrorCode: 'OVER_TEMP' });
    expect(Number.isNaN(Date.parse(String(faulted.params.timestamp)))).toBe(false);

    const m2 = h.mark();
    h.sim.clearFault(1, 'OVER_TEMP');
    await h.waitStatus(1, 'Available');
    const cleared = h.callsSince(m2, 'StatusNotification').find((c) => c.params.connectorId === 1)!;
    expect(cleared.params).toMatchObject({ status: 'Available', errorCode: 'NoError' });
    expect(cleared.params.vendorErrorCode).toBeUndefined();
    expect(h.csms.strictFailures).toEqual([]);
  });

  it('the controller link down: InternalError with a readable info, no vendor code', () => {
    const at = new Date('2026-03-01T12:00:00Z');
    expect(statusNotificationRequest(0, 'Faulted', CONTROLLER_LINK_FAULT, at)).toEqual({
      connectorId: 0,
      status: 'Faulted',
      errorCode: 'InternalError',
      info: 'charge controller link down',
      timestamp: '2026-03-01T12:00:00.000Z',
    });
    expect(statusNotificationRequest(1, 'Faulted', 'SOMETHING_NEW', at)).toMatchObject({ errorCode: 'OtherError', vendorErrorCode: 'SOMETHING_NEW' });
  });
});
