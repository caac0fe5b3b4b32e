// OCPP 1.6 §4.3 DataTransfer, charger to CSMS (outgoing/DataTransfer.ts), from the real agent
// to the DevCsms: the request passes the CSMS's schema check and the answer comes back; not
// registered, nothing is sent. The other direction: actions/DataTransfer.test.ts.
import { describe, expect, it } from 'vitest';
import { useAgentFixture } from '../../../helpers/action-fixture.js';
import { waitFor } from '../../../helpers/wait.js';
import { sendDataTransfer } from '../../../../src/ocpp/v16/outgoing/DataTransfer.js';

const fx = useAgentFixture();

describe('DataTransfer, CP -> CSMS (OCPP 1.6 §4.3)', () => {
  it('the request passes the CSMS schema check and the answer comes back', async () => {
    const h = await fx.start();
    const conf = await sendDataTransfer(h.agent.session.outgoing, 'com.acme', 'Ping', 'x');
    expect(conf).toEqual({ status: 'UnknownVendorId' });
    expect(h.csms.callsOf('DataTransfer').at(-1)?.params).toEqual({ vendorId: 'com.acme', messageId: 'Ping', data: 'x' });
    expect(await sendDataTransfer(h.agent.session.outgoing, 'com.acme')).toEqual({ status: 'UnknownVendorId' });
    expect(h.csms.callsOf('DataTransfer').at(-1)?.params).toEqual({ vendorId: 'com.acme' });
    expect(h.csms.strictFailures).toEqual([]);
  });

  it('not Accepted by the CSMS: offline, nothing sent', async () => {
    const h = await fx.start({ waitReady: false, csms: { bootStatus: 'Pending', heartbeatIntervalS: 300 } });
    await waitFor(() => h.agent.session.registrationStatus === 'Pending', 10_000, 'Pending');
    expect(await sendDataTransfer(h.agent.session.outgoing, 'com.acme', 'Ping')).toBe('offline');
    expect(h.csms.callsOf('DataTransfer')).toEqual([]);
  });
});
