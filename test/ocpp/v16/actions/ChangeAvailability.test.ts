// OCPP 1.6 §5.2 ChangeAvailability against the real agent and the DevCsms: connector N or 0,
// Accepted / Scheduled (applied when the running transaction ends) / Rejected, the statuses
// that follow, and persistence across a station restart (AvailabilityStore port).
import { statusOf } from '../../../../src/ocpp/v16/mappers.js';
import { describe, expect, it } from 'vitest';
import type { AvailabilityStore, SavedAvailability } from '../../../../src/domain/ports.js';
import type { Operational } from '../../../../src/domain/model/availability.js';
import type { StationTarget } from '../../../../src/domain/model/evse.js';
import { isOperative16, setOperative16 } from '../../../helpers/domain-terms.js';
import type { Harness } from '../../../helpers/agent-harness.js';
import { startCharging, useAgentFixture } from '../../../helpers/action-fixture.js';
import { waitFor } from '../../../helpers/wait.js';

const CARD = '04A2B3C4';
const fx = useAgentFixture();

/** In-memory AvailabilityStore that counts writes. */
class MemoryAvailability implements AvailabilityStore {
  /** By 1.6 connector (0 = the station): operative or not. */
  readonly values = new Map<number, boolean>();
  writes = 0;
  load(): SavedAvailability {
    const of = (operative: boolean): Operational => (operative ? 'Operative' : 'Inoperative');
    const saved: SavedAvailability = { evses: new Map([...this.values].filter(([c]) => c !== 0).map(([c, v]) => [c, of(v)])) };
    const station = this.values.get(0);
    if (station !== undefined) saved.station = of(station);
    return saved;
  }
  save(target: StationTarget, availability: Operational): void {
    this.writes++;
    this.values.set(target.scope === 'station' ? 0 : target.evseId, availability === 'Operative');
  }
}

/** Back to Operative and plugged in: no transaction starts from the card presented earlier. */
async function expectCardForgotten(x: Harness, mark: number): Promise<void> {
  expect(await x.call('ChangeAvailability', { connectorId: 1, type: 'Operative' })).toEqual({ status: 'Accepted' });
  await x.waitStatus(1, 'Available');
  x.sim.plugIn(1);
  await x.waitStatus(1, 'Preparing');
  await x.agent.session.heartbeat();
  await x.waitCalls(mark, 'Heartbeat');
  expect(x.callsSince(mark, 'StartTransaction')).toEqual([]);
}

describe('ChangeAvailability (OCPP 1.6 §5.2)', () => {
  it('connector 1 Inoperative then Operative: Accepted, Unavailable then Available reported', async () => {
    const h = await fx.start();
    const m = h.mark();
    expect(await h.call('ChangeAvailability', { connectorId: 1, type: 'Inoperative' })).toEqual({ status: 'Accepted' });
    await h.waitStatus(1, 'Unavailable');
    expect(await h.call('ChangeAvailability', { connectorId: 1, type: 'Operative' })).toEqual({ status: 'Accepted' });
    await h.waitStatus(1, 'Available');
    expect(h.statusesSince(m, 1)).toEqual(['Unavailable', 'Available']);
    // The station as a whole stayed available.
    expect(h.statusesSince(m, 0)).toEqual([]);
  });

  it('connector 0 makes the whole station (and its connectors) Unavailable', async () => {
    const h = await fx.start();
    expect(await h.call('ChangeAvailability', { connectorId: 0, type: 'Inoperative' })).toEqual({ status: 'Accepted' });
    await h.waitStatus(0, 'Unavailable');
    await h.waitStatus(1, 'Unavailable');
    expect(await h.call('ChangeAvailability', { connectorId: 0, type: 'Operative' })).toEqual({ status: 'Accepted' });
    await h.waitStatus(0, 'Available');
    await h.waitStatus(1, 'Available');
  });

  it('an unknown connector is Rejected and changes nothing', async () => {
    const h = await fx.start();
    const m = h.mark();
    expect(await h.call('ChangeAvailability', { connectorId: 7, type: 'Inoperative' })).toEqual({ status: 'Rejected' });
    expect(isOperative16(h.agent.station, 1)).toBe(true);
    expect(statusOf(h.agent.station, 1)).toBe('Available');
    expect(h.statusesSince(m, 1)).toEqual([]);
  });

  it('asking for the state it is already in is Accepted', async () => {
    const h = await fx.start();
    expect(await h.call('ChangeAvailability', { connectorId: 1, type: 'Operative' })).toEqual({ status: 'Accepted' });
    expect(statusOf(h.agent.station, 1)).toBe('Available');
  });

  it('Inoperative during a transaction is Scheduled: charging goes on, Unavailable once it ends', async () => {
    const h = await fx.start();
    await startCharging(h, 1, CARD);
    const m = h.mark();
    expect(await h.call('ChangeAvailability', { connectorId: 1, type: 'Inoperative' })).toEqual({ status: 'Scheduled' });
    // Still charging: no stop, no Unavailable while the transaction runs.
    expect(h.agent.station.transaction(1)).not.toBeNull();
    expect(statusOf(h.agent.station, 1)).toBe('Charging');
    h.sim.unplug(1);
    const [stop] = await h.waitCalls(m, 'StopTransaction');
    expect(stop!.params.reason).toBe('EVDisconnected');
    await h.waitStatus(1, 'Unavailable');
    expect(h.statusesSince(m, 1)).not.toContain('Available');
    // A new session cannot start on the inoperative connector.
    const m2 = h.mark();
    h.sim.plugIn(1);
    h.sim.swipeCard(CARD);
    await h.waitCalls(m2, 'Authorize');
    expect(h.agent.station.transaction(1)).toBeNull();
    expect(h.callsSince(m2, 'StartTransaction')).toEqual([]);
    expect(statusOf(h.agent.station, 1)).toBe('Unavailable');
  });

  it('a card presented while Unavailable is not kept waiting for a later plug-in', async () => {
    const h = await fx.start();
    expect(await h.call('ChangeAvailability', { connectorId: 1, type: 'Inoperative' })).toEqual({ status: 'Accepted' });
    const m = h.mark();
    h.sim.swipeCard(CARD);
    await h.waitCalls(m, 'Authorize');
    await expectCardForgotten(h, m);
  });

  it('a card waiting for a plug-in gives up when its connector goes Inoperative', async () => {
    const h = await fx.start();
    const m = h.mark();
    h.sim.swipeCard(CARD);
    await h.waitStatus(1, 'Preparing');
    expect(await h.call('ChangeAvailability', { connectorId: 1, type: 'Inoperative' })).toEqual({ status: 'Accepted' });
    await h.waitStatus(1, 'Unavailable');
    await expectCardForgotten(h, m);
  });

  it('connector 0 Inoperative during a transaction is Scheduled; the station goes Unavailable after it', async () => {
    const h = await fx.start();
    await startCharging(h, 1, CARD);
    const m = h.mark();
    expect(await h.call('ChangeAvailability', { connectorId: 0, type: 'Inoperative' })).toEqual({ status: 'Scheduled' });
    expect(statusOf(h.agent.station, 0)).toBe('Available');
    const tx = h.callsSince(0, 'StartTransaction').length;
    expect(tx).toBe(1);
    h.sim.evPause(1);
    h.sim.unplug(1);
    await h.waitCalls(m, 'StopTransaction');
    await h.waitStatus(0, 'Unavailable');
    await h.waitStatus(1, 'Unavailable');
  });
});

describe('ChangeAvailability persisted across a restart (AvailabilityStore)', () => {
  it('the agent reboots with connector 1 still Unavailable (store in the data dir)', async () => {
    const h = await fx.start();
    expect(await h.call('ChangeAvailability', { connectorId: 1, type: 'Inoperative' })).toEqual({ status: 'Accepted' });
    await h.waitStatus(1, 'Unavailable');
    await h.restart();
    const m = h.mark();
    await waitFor(() => statusOf(h.agent.station, 1) === 'Unavailable', 8_000, 'Unavailable after reboot');
    await h.waitStatus(1, 'Unavailable');
    expect(h.statusesSince(m, 1)).not.toContain('Available');
    expect(await h.call('ChangeAvailability', { connectorId: 1, type: 'Operative' })).toEqual({ status: 'Accepted' });
    await h.waitStatus(1, 'Available');
  });

  it('a restarted station keeps Inoperative; values are written only when they change', async () => {
    const store = new MemoryAvailability();
    let rig = await fx.startRig({}, { availability: store });
    expect(setOperative16(rig.station, 1, false)).toBe('Accepted');
    expect(setOperative16(rig.station, 1, false)).toBe('Accepted');
    expect(setOperative16(rig.station, 0, true)).toBe('Accepted'); // already operative: nothing to write
    expect(store.writes).toBe(1);
    expect(store.values.get(1)).toBe(false);

    rig = await rig.restart({ availability: store });
    await waitFor(() => statusOf(rig.station, 1) === 'Unavailable', 8_000, 'Unavailable after restart');
    expect(isOperative16(rig.station, 1)).toBe(false);
    expect(setOperative16(rig.station, 1, true)).toBe('Accepted');
    expect(store.writes).toBe(2);
    expect(statusOf(rig.station, 1)).toBe('Available');

    rig = await rig.restart({ availability: store });
    expect(statusOf(rig.station, 1)).toBe('Available');
    expect(store.writes).toBe(2);
  });

  it('the whole station (connector 0) is restored too', async () => {
    const store = new MemoryAvailability();
    store.values.set(0, false);
    const rig = await fx.startRig({}, { availability: store });
    expect(statusOf(rig.station, 0)).toBe('Unavailable');
    expect(statusOf(rig.station, 1)).toBe('Unavailable');
    expect(store.writes).toBe(0);
  });

  it('the answer goes out before the StatusNotification it causes', async () => {
    const h = await fx.start();
    const n = h.frames.length;
    await h.call('ChangeAvailability', { connectorId: 1, type: 'Inoperative' });
    await h.waitStatus(1, 'Unavailable');
    const out = h.frames.slice(n).filter((f) => f.direction === 'out').map((f) => f.text);
    const answer = out.findIndex((t) => t.startsWith('[3,') && t.includes('{"status":"Accepted"}'));
    const status = out.findIndex((t) => t.includes('"StatusNotification"') && t.includes('"Unavailable"'));
    expect(answer).toBeGreaterThanOrEqual(0);
    expect(answer).toBeLessThan(status);
  });
});
