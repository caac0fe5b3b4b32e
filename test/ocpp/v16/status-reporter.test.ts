// OCPP 1.6 §4.9 StatusNotification with MinimumStatusDuration (§9.1 key), on the real agent
// with a FakeClock: a status is reported only once it has held for the configured seconds;
// one that changes back within the window sends nothing; 0 reports at once.
import { statusOf } from '../../../src/ocpp/v16/mappers.js';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../../helpers/agent-harness.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { waitFor } from '../../helpers/wait.js';

let h: Harness | null = null;
afterEach(async () => {
  await h?.stop();
  h = null;
});

/**
 * Everything the agent queued before this point has reached the CSMS: the RPC layer sends
 * one CALL at a time in order, so a Heartbeat answered now comes after all of them.
 */
async function flushOutgoing(x: Harness): Promise<void> {
  const m = x.mark();
  await x.agent.session.heartbeat();
  await x.waitCalls(m, 'Heartbeat');
}

describe('MinimumStatusDuration', () => {
  it('0: every change is reported at once', async () => {
    h = await startHarness({ clock: new FakeClock() });
    const m = h.mark();
    h.sim.plugIn(1);
    await h.waitStatus(1, 'Preparing');
    h.sim.unplug(1);
    await h.waitStatus(1, 'Available');
    expect(h.statusesSince(m, 1)).toEqual(['Preparing', 'Available']);
  });

  it('a status is reported only after it has held for the configured seconds', async () => {
    const clock = new FakeClock();
    h = await startHarness({ clock, ocppConfig: { MinimumStatusDuration: '5' } });
    const m = h.mark();
    h.sim.plugIn(1);
    await waitFor(() => statusOf(h!.agent.station, 1) === 'Preparing', 8_000, 'station Preparing');
    await flushOutgoing(h);
    expect(h.statusesSince(m, 1)).toEqual([]);
    clock.advance(4_999);
    await flushOutgoing(h);
    expect(h.statusesSince(m, 1)).toEqual([]);
    clock.advance(1);
    await h.waitStatus(1, 'Preparing');
    expect(h.statusesSince(m, 1)).toEqual(['Preparing']);
  });

  it('a status that changes back within the window sends nothing', async () => {
    const clock = new FakeClock();
    h = await startHarness({ clock, ocppConfig: { MinimumStatusDuration: '10' } });
    const m = h.mark();
    h.sim.plugIn(1);
    await waitFor(() => statusOf(h!.agent.station, 1) === 'Preparing', 8_000, 'station Preparing');
    clock.advance(3_000);
    h.sim.unplug(1);
    await waitFor(() => statusOf(h!.agent.station, 1) === 'Available', 8_000, 'station Available');
    clock.advance(30_000);
    await flushOutgoing(h);
    expect(h.statusesSince(m, 1)).toEqual([]);
  });

  it('the window restarts on every change: only the status that lasted is reported', async () => {
    const clock = new FakeClock();
    h = await startHarness({ clock, ocppConfig: { MinimumStatusDuration: '10' } });
    const m = h.mark();
    h.sim.plugIn(1);
    await waitFor(() => statusOf(h!.agent.station, 1) === 'Preparing', 8_000, 'station Preparing');
    clock.advance(6_000);
    h.sim.swipeCard('04A2B3C4');
    await h.waitCalls(m, 'StartTransaction');
    h.sim.evRequestEnergy(1);
    await waitFor(() => statusOf(h!.agent.station, 1) === 'Charging', 8_000, 'station Charging');
    clock.advance(6_000); // 12 s after Preparing, 6 s into Charging
    await flushOutgoing(h);
    expect(h.statusesSince(m, 1)).toEqual([]);
    clock.advance(4_000);
    await h.waitStatus(1, 'Charging');
    expect(h.statusesSince(m, 1)).toEqual(['Charging']);
  });

  it('TriggerMessage(StatusNotification) reports the current status without waiting', async () => {
    const clock = new FakeClock();
    h = await startHarness({ clock, ocppConfig: { MinimumStatusDuration: '60' } });
    const m = h.mark();
    h.sim.plugIn(1);
    await waitFor(() => statusOf(h!.agent.station, 1) === 'Preparing', 8_000, 'station Preparing');
    expect(await h.call('TriggerMessage', { requestedMessage: 'StatusNotification', connectorId: 1 })).toEqual({ status: 'Accepted' });
    await h.waitStatus(1, 'Preparing');
    // The held change is not reported a second time when its window ends.
    clock.advance(60_000);
    await flushOutgoing(h);
    expect(h.statusesSince(m, 1)).toEqual(['Preparing']);
  });
});
