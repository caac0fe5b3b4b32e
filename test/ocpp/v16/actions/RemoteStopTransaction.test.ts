// OCPP 1.6 §5.12 RemoteStopTransaction against the real agent and the DevCsms: the running
// transaction with that id stops with reason Remote; any other id is Rejected.
import { describe, expect, it } from 'vitest';
import { startCharging, useAgentFixture } from '../../../helpers/action-fixture.js';
import { waitFor } from '../../../helpers/wait.js';

const fx = useAgentFixture();

describe('RemoteStopTransaction (OCPP 1.6 §5.12)', () => {
  it('stops the running transaction with reason Remote', async () => {
    const h = await fx.start();
    const id = await startCharging(h);
    const m = h.mark();
    expect(await h.call('RemoteStopTransaction', { transactionId: id })).toEqual({ status: 'Accepted' });
    const [stop] = await h.waitCalls(m, 'StopTransaction');
    expect(stop!.params).toMatchObject({ transactionId: id, reason: 'Remote' });
    expect(stop!.params.idTag).toBeUndefined();
    // The EV is still plugged in: Finishing, and the controller no longer offers current.
    await h.waitStatus(1, 'Finishing');
    await waitFor(() => !h.sim.state(1).enabled, 8_000, 'controller disabled');
  });

  it('an unknown or already stopped transaction is Rejected', async () => {
    const h = await fx.start();
    expect(await h.call('RemoteStopTransaction', { transactionId: 42 })).toEqual({ status: 'Rejected' });
    const id = await startCharging(h);
    expect(await h.call('RemoteStopTransaction', { transactionId: id + 1 })).toEqual({ status: 'Rejected' });
    expect(await h.call('RemoteStopTransaction', { transactionId: id })).toEqual({ status: 'Accepted' });
    expect(await h.call('RemoteStopTransaction', { transactionId: id })).toEqual({ status: 'Rejected' });
    expect(await h.waitCalls(0, 'StopTransaction')).toHaveLength(1);
  });
});
