// hal/sim/electrical-model.ts alone, on a fake clock: the contactor rule
// (controller-serial.md §Commands ENABLE), energy integration power x time, and
// `$METER` every METER_MS. Frames are collected as the facade would send them.
import { describe, expect, it } from 'vitest';
import type { EventFrame } from '../../../hal/controller/protocol/frame-table.js';
import { ElectricalModel, type ElectricalModelOptions } from '../../../hal/sim/electrical-model.js';
import { FakeClock } from '../../helpers/fake-clock.js';

const HOUR = 3_600_000;

function rig(over: Partial<ElectricalModelOptions> = {}): { model: ElectricalModel; clock: FakeClock; sent: EventFrame[] } {
  const clock = new FakeClock();
  const sent: EventFrame[] = [];
  const model = new ElectricalModel({
    connectors: 2,
    caps: ['RFID', 'LOCK', 'METER', '3PH'],
    threePhase: true,
    timeScale: 1,
    initialEnergyWh: 0,
    timers: clock.halTimers,
    random: () => 0.5,
    send: (f) => sent.push(f),
    ...over,
  });
  return { model, clock, sent };
}

const relays = (sent: EventFrame[]): boolean[] => sent.flatMap((f) => (f.type === 'RELAY' ? [f.closed] : []));

describe('ElectricalModel', () => {
  it('closes the contactor only with the EV in C/D, enabled with >= 6 A, the cable locked and no fault', () => {
    const { model, sent } = rig();
    const one = model.targets(1) ?? [];
    model.plugIn(1);
    model.enable(one, 16);
    expect(model.state(1)).toMatchObject({ pilot: 'B', lock: 'locked', contactor: false });
    model.evRequestEnergy(1, false);
    expect(model.state(1).contactor).toBe(true);
    model.enable(one, 0); // enabled but offering nothing: open
    expect(model.state(1).contactor).toBe(false);
    model.enable(one, 5.9); // below the 6 A the pilot can signal: open (ENABLE itself refuses it)
    expect(model.state(1).contactor).toBe(false);
    model.enable(one, 6);
    expect(model.state(1).contactor).toBe(true);
    model.unlock(one); // never under load: the lock goes, the contactor opens
    expect(model.state(1)).toMatchObject({ lock: 'unlocked', contactor: false, enabled: true });
    model.enable(one, 16);
    expect(model.state(1).contactor).toBe(true);
    model.raiseFault(0, 'GROUND_FAULT');
    expect(model.state(1)).toMatchObject({ contactor: false, enabled: false });
    expect(model.faulted(one)).toBe(true);
    expect(relays(sent)).toEqual([true, false, true, false, true, false]);
    expect(model.state(2).contactor).toBe(false);
  });

  it('keeps the contactor open with the EV in B, and in D too when disabled', () => {
    const { model } = rig();
    model.plugIn(1);
    model.enable(model.targets(1) ?? [], 32);
    expect(model.state(1).contactor).toBe(false);
    model.evRequestEnergy(1, true);
    expect(model.state(1)).toMatchObject({ pilot: 'D', contactor: true });
    model.disable(model.targets(1) ?? []);
    expect(model.state(1)).toMatchObject({ contactor: false, lock: 'unlocked' });
  });

  it('integrates energy as power x time, only while the contactor is closed, limited by the EV', () => {
    const { model, clock } = rig({ initialEnergyWh: 1000 });
    model.plugIn(1, { evMaxAmps: 10 });
    model.enable(model.targets(1) ?? [], 16);
    clock.advance(HOUR); // contactor open: nothing
    expect(model.state(1).energyWh).toBe(1000);
    model.evRequestEnergy(1, false);
    expect(model.state(1).currentA).toBe(10);
    clock.advance(HOUR); // 230 V x 10 A x 3 phases for an hour
    expect(model.state(1).energyWh).toBe(1000 + 6900);
    model.evSetMaxAmps(1, 32);
    clock.advance(HOUR / 2); // now 16 A (the offer) for half an hour
    expect(model.state(1).energyWh).toBe(1000 + 6900 + 5520);
    model.evPause(1);
    clock.advance(HOUR);
    expect(model.state(1).energyWh).toBe(1000 + 6900 + 5520);
    expect(model.state(2).energyWh).toBe(1000);
  });

  it('speeds energy up by timeScale and counts one phase for a single-phase controller', () => {
    const { model, clock } = rig({ timeScale: 60, threePhase: false, caps: ['METER'] });
    model.plugIn(1);
    model.enable(model.targets(1) ?? [], 16);
    model.evRequestEnergy(1, false);
    expect(model.state(1)).toMatchObject({ contactor: true, lock: 'unlocked' }); // no LOCK capability
    clock.advance(60_000);
    expect(model.state(1).energyWh).toBe(3680);
  });

  it('reports $METER for every connector each period, and stops', () => {
    const { model, clock, sent } = rig();
    model.startMeter(1000);
    clock.advance(3000);
    const meters = sent.filter((f) => f.type === 'METER');
    expect(meters.map((f) => f.connector)).toEqual([1, 2, 1, 2, 1, 2]);
    model.startMeter(0);
    clock.advance(5000);
    expect(sent.filter((f) => f.type === 'METER')).toHaveLength(6);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('drops enabled connectors to the fallback current, and loses all outputs on power loss', () => {
    const { model } = rig();
    model.plugIn(1);
    model.enable(model.targets(0) ?? [], 16);
    model.evRequestEnergy(1, false);
    model.applyFallback(6);
    expect(model.state(1)).toMatchObject({ offeredAmps: 6, fallback: true, contactor: true });
    expect(model.state(2)).toMatchObject({ offeredAmps: 6, fallback: true, contactor: false });
    model.applyFallback(0);
    expect(model.state(1)).toMatchObject({ offeredAmps: 0, contactor: false });
    model.enable(model.targets(1) ?? [], 16);
    model.powerLoss();
    expect(model.state(1)).toMatchObject({ enabled: false, contactor: false, lock: 'unlocked', pilot: 'C', pp: 32 });
  });

  it('rejects bad scripting input with a clear error', () => {
    const { model } = rig();
    expect(() => model.connector(3)).toThrow(/no connector 3 \(1\.\.2\)/);
    expect(model.targets(3)).toBeNull();
    expect(() => model.plugIn(1, { cableAmps: 16 })).toThrow(RangeError);
    expect(() => model.evRequestEnergy(1, false)).toThrow(/no EV/);
    expect(() => model.raiseFault(1, 'bad code')).toThrow(RangeError);
  });
});
