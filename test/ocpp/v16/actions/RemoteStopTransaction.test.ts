// OCPP 1.6 §5.12 RemoteStopTransaction against the real agent and the DevCsms: the running
// transaction with that id stops with reason Remote; any other id is Rejected.
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../../../helpers/agent-harness.js';
import { waitFor } from '../../../helpers/wait.js';

let h: Harness | null = null;
afterEach(async () => {
  await h?.stop();
  h = null;
});

async function startSession(x: Harness): Promise<number> {
  const m = x.mark();
  x.sim.plugIn(1);
  x.sim.swipeCard('04A2B3C4');
  await x.waitCalls(m, 'StartTransaction');
  x.sim.evRequestEnergy(1);
  await x.waitStatus(1, 'Charging');
  // DevCsms numbers transactions from 1, one per StartTransaction.
  return x.csms.callsOf('StartTransaction').length;
}

describe('RemoteStopTransaction (OCPP 1.6 §5.12)', () => {
  it('stops the running transaction with reason Remote', async () => {
    h = await startHarness();
    const id = await startSession(h);
    const m = h.mark();
    expect(await h.call('RemoteStopTransaction', { transactionId: id })).toEqual({ status: 'Accepted' });
    const [stop] = await h.waitCalls(m, 'StopTransaction');
    expect(stop!.params).toMatchObject({ transactionId: id, reason: 'Remote' });
    expect(stop!.params.idTag).toBeUndefined();
    // The EV is still plugged in: Finishing, and the controller no longer offers current.
    await h.waitStatus(1, 'Finishing');
    await waitFor(() => !h!.sim.state(1).enabled, 8_000, 'controller disabled');
  });

  it('an unknown or already stopped transaction is Rejected', async () => {
    h = await startHarness();
    expect(await h.call('RemoteStopTransaction', { transactionId: 42 })).toEqual({ status: 'Rejected' });
    const id = await startSession(h);
    expect(await h.call('RemoteStopTransaction', { transactionId: id + 1 })).toEqual({ status: 'Rejected' });
    expect(await h.call('RemoteStopTransaction', { transactionId: id })).toEqual({ status: 'Accepted' });
    expect(await h.call('RemoteStopTransaction', { transactionId: id })).toEqual({ status: 'Rejected' });
    expect(await h.waitCalls(0, 'StopTransaction')).toHaveLength(1);
  });
});
