// hal/sim/agent-watchdog.ts alone, on a fake clock (controller-serial.md §Link health):
// armed by the first command, fires after WATCHDOG_MS of silence, cleared by the next command.
import { describe, expect, it } from 'vitest';
import { AgentWatchdog } from '../../../hal/sim/agent-watchdog.js';
import { FakeClock } from '../../helpers/fake-clock.js';

function rig(): { dog: AgentWatchdog; clock: FakeClock; log: string[]; state: { periodMs: number; live: boolean; booting: boolean } } {
  const clock = new FakeClock();
  const log: string[] = [];
  const state = { periodMs: 5000, live: true, booting: false };
  const dog = new AgentWatchdog({
    timers: clock.halTimers,
    periodMs: () => state.periodMs,
    live: () => state.live,
    booting: () => state.booting,
    onFire: () => log.push(`fire@${clock.monotonicMs()}`),
    onClear: () => log.push(`clear@${clock.monotonicMs()}`),
  });
  return { dog, clock, log, state };
}

describe('AgentWatchdog', () => {
  it('does not run before the agent spoke', () => {
    const { dog, clock, log } = rig();
    dog.rearm();
    clock.advance(60_000);
    expect(log).toEqual([]);
    expect(dog.active).toBe(false);
  });

  it('fires once after WATCHDOG_MS without a command, and the next command clears it', () => {
    const { dog, clock, log } = rig();
    dog.feed();
    clock.advance(4000);
    dog.feed(); // restarts the period
    clock.advance(4999);
    expect(log).toEqual([]);
    clock.advance(1);
    expect(log).toEqual(['fire@9000']);
    expect(dog.active).toBe(true);
    dog.rearm(); // a new WATCHDOG_MS or un-muting does not fire it again
    clock.advance(60_000);
    expect(log).toEqual(['fire@9000']);
    dog.feed();
    expect(dog.active).toBe(false);
    clock.advance(5000);
    expect(log).toEqual(['fire@9000', 'clear@69000', 'fire@74000']);
  });

  it('uses a new period from the next rearm', () => {
    const { dog, clock, log, state } = rig();
    dog.feed();
    state.periodMs = 1000;
    dog.rearm();
    clock.advance(1000);
    expect(log).toEqual(['fire@1000']);
  });

  it('is dead while not live (muted or stopped) and does not fire while booting', () => {
    const { dog, clock, log, state } = rig();
    dog.feed();
    state.live = false;
    dog.rearm();
    clock.advance(60_000);
    expect(log).toEqual([]);
    state.live = true;
    dog.rearm();
    state.booting = true;
    clock.advance(5000);
    expect(log).toEqual([]);
    expect(dog.active).toBe(false);
  });

  it('reset() forgets the fault and disarms; cancel() only stops the timer', () => {
    const { dog, clock, log } = rig();
    dog.feed();
    clock.advance(5000);
    dog.reset();
    expect(dog.active).toBe(false);
    clock.advance(60_000);
    expect(log).toEqual(['fire@5000']);
    dog.feed();
    dog.cancel();
    clock.advance(60_000);
    expect(log).toEqual(['fire@5000']);
    expect(clock.pendingTimers()).toBe(0);
  });
});
