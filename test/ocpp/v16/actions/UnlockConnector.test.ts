// OCPP 1.6 §5.18 UnlockConnector against the real agent and the DevCsms: a running transaction
// is stopped first (reason UnlockCommand), then the cable lock is released (controller-serial.md
// UNLOCK/$LOCK); Unlocked / UnlockFailed (link down) / NotSupported (no lock, unknown connector).
import { describe, expect, it } from 'vitest';
import { startCharging, useAgentFixture } from '../../../helpers/action-fixture.js';
import { waitFor } from '../../../helpers/wait.js';

const CARD = '04A2B3C4';
const fx = useAgentFixture();

describe('UnlockConnector (OCPP 1.6 §5.18)', () => {
  it('an idle connector: Unlocked, no transaction message', async () => {
    const h = await fx.start();
    const m = h.mark();
    expect(await h.call('UnlockConnector', { connectorId: 1 })).toEqual({ status: 'Unlocked' });
    expect(h.sim.lastCommand).toMatchObject({ type: 'UNLOCK', connector: 1 });
    expect(h.callsSince(m, 'StopTransaction')).toEqual([]);
  });

  it('during a transaction: StopTransaction with reason UnlockCommand, then the lock is released', async () => {
    const h = await fx.start();
    const m = h.mark();
    await startCharging(h, 1, CARD);
    await waitFor(() => h.sim.state(1).lock === 'locked', 8_000, 'cable locked');

    expect(await h.call('UnlockConnector', { connectorId: 1 })).toEqual({ status: 'Unlocked' });
    expect(h.sim.state(1).lock).toBe('unlocked');
    expect(h.sim.state(1).contactor).toBe(false);
    const [stop] = await h.waitCalls(m, 'StopTransaction');
    expect(stop!.params).toMatchObject({ transactionId: 1, reason: 'UnlockCommand' });
    expect(h.agent.station.transaction(1)).toBeNull();
    // The cable is still in: Finishing until the driver takes it.
    await h.waitStatus(1, 'Finishing');
    h.sim.unplug(1);
    await h.waitStatus(1, 'Available');
  });

  it('an unknown connector is NotSupported', async () => {
    const h = await fx.start();
    expect(await h.call('UnlockConnector', { connectorId: 2 })).toEqual({ status: 'NotSupported' });
    expect(await h.call('UnlockConnector', { connectorId: 0 })).toEqual({ status: 'NotSupported' });
    expect(h.sim.counters.commands).toBeGreaterThan(0);
    expect(h.sim.lastCommand?.type).not.toBe('UNLOCK');
  });

  it('controller link down: UnlockFailed', async () => {
    const h = await fx.start();
    h.sim.setMute(true);
    expect(await h.call('UnlockConnector', { connectorId: 1 })).toEqual({ status: 'UnlockFailed' });
    h.sim.setMute(false);
  });

  it('a controller without a cable lock: NotSupported, nothing sent to it', async () => {
    const rig = await fx.startRig({ caps: ['RFID', 'METER', '3PH'] });
    const before = rig.sim.counters.commands;
    expect(await rig.station.unlockConnector(1)).toBe('NotSupported');
    expect(rig.sim.lastCommand?.type).not.toBe('UNLOCK');
    expect(rig.sim.counters.commands - before).toBeLessThanOrEqual(1); // a PING at most
  });

  it('a controller with a lock (station alone): Unlocked after the $LOCK outcome', async () => {
    const rig = await fx.startRig();
    expect(await rig.station.unlockConnector(1)).toBe('Unlocked');
    expect(rig.sim.lastCommand).toMatchObject({ type: 'UNLOCK', connector: 1 });
  });
});
