// LazyDeadline: a moving deadline costs one wakeup per deadline reached or postponed,
// not one per move and never a polling loop. Fake time (no I/O involved).
import { describe, expect, it } from 'vitest';
import { LazyDeadline } from '../../../hal/controller/lazy-deadline.js';
import type { HalTimers } from '../../../hal/timers.js';
import { FakeClock } from '../../helpers/fake-clock.js';

function counted(clock: FakeClock): { timers: HalTimers; fired: () => number } {
  const base = clock.halTimers;
  let fired = 0;
  return {
    timers: {
      ...base,
      setTimeout: (fn, ms) =>
        base.setTimeout(() => {
          fired++;
          fn();
        }, ms),
    },
    fired: () => fired,
  };
}

describe('LazyDeadline', () => {
  it('runs the action once at the deadline, and moves without re-arming on every move', () => {
    const clock = new FakeClock();
    const { timers, fired } = counted(clock);
    let last = timers.now();
    const due: number[] = [];
    const d = new LazyDeadline(timers, () => last + 3000, () => due.push(timers.now()), 3000);
    d.arm();
    // A frame every 100 ms for 2 s: the deadline moves 20 times.
    for (let i = 0; i < 20; i++) {
      clock.advance(100);
      last = timers.now();
      d.arm();
    }
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(3000 - 2000 - 1);
    expect(fired()).toBe(0);
    clock.advance(1); // the first deadline: it moved, so re-armed, no action
    expect(fired()).toBe(1);
    expect(due).toEqual([]);
    clock.advance(2000); // the moved deadline: last frame at 2000 + 3000
    expect(due).toEqual([5000]);
    expect(fired()).toBe(2);
  });

  it('an action that leaves the deadline behind is retried after retryMs, not in a loop', () => {
    const clock = new FakeClock();
    const { timers, fired } = counted(clock);
    let runs = 0;
    const d = new LazyDeadline(timers, () => 1000, () => runs++, 950);
    d.arm();
    clock.advance(1000 + 950 * 3);
    expect(runs).toBe(4);
    expect(fired()).toBe(4);
  });

  it('no deadline (null) arms nothing; cancel() disarms', () => {
    const clock = new FakeClock();
    let open = false;
    const d = new LazyDeadline(clock.halTimers, () => (open ? 500 : null), () => {}, 500);
    d.arm();
    expect(clock.pendingTimers()).toBe(0);
    open = true;
    d.arm();
    expect(clock.pendingTimers()).toBe(1);
    d.cancel();
    expect(clock.pendingTimers()).toBe(0);
  });
});
