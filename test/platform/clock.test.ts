// Clock port (src/platform/clock.ts): CSMS-corrected wall time anchored on monotonic time,
// real timers of SystemClock, and the FakeClock test driver that other tests rely on.
import { describe, expect, expectTypeOf, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { NODE_TIME_SOURCES, SystemClock, type Clock, type TimeSources } from '../../src/platform/clock.js';
import type { HalTimers } from '../../hal/timers.js';
import { FakeClock, flushMicrotasks } from '../helpers/fake-clock.js';

/** Hand-driven time sources: the wall-time arithmetic is tested without real time passing. */
function manualSources(systemMs: number): TimeSources & { step(ms: number): void; jumpSystem(ms: number): void } {
  let system = systemMs;
  let mono = 1_000;
  return {
    systemNowMs: () => system,
    monotonicMs: () => mono,
    step(ms) {
      system += ms;
      mono += ms;
    },
    jumpSystem(ms) {
      system += ms;
    },
  };
}

describe('SystemClock wall time', () => {
  const BOOT_1970 = Date.UTC(1970, 0, 1, 0, 0, 42);
  const CSMS = new Date('2025-06-01T12:00:00.000Z');

  it('reports the system time, offset 0 and not synced before any CSMS time', () => {
    const s = manualSources(BOOT_1970);
    const clock = new SystemClock(s);
    expect(clock.now().getTime()).toBe(BOOT_1970);
    expect(clock.offsetMs).toBe(0);
    expect(clock.synced).toBe(false);
  });

  it('setOffsetFrom(csmsTime) makes now() the CSMS time, then it runs on with monotonic time', () => {
    const s = manualSources(BOOT_1970);
    const clock = new SystemClock(s);
    clock.setOffsetFrom(CSMS);
    expect(clock.synced).toBe(true);
    expect(clock.now().toISOString()).toBe('2025-06-01T12:00:00.000Z');
    expect(clock.offsetMs).toBe(CSMS.getTime() - BOOT_1970);
    s.step(90_500);
    expect(clock.now().toISOString()).toBe('2025-06-01T12:01:30.500Z');
  });

  it('a step of the system clock after the sync does not move now(); offsetMs shows the new difference', () => {
    const s = manualSources(BOOT_1970);
    const clock = new SystemClock(s);
    clock.setOffsetFrom(CSMS);
    s.jumpSystem(CSMS.getTime() - BOOT_1970 - 5_000); // NTP steps the board to 5 s behind the CSMS
    expect(clock.now().toISOString()).toBe('2025-06-01T12:00:00.000Z');
    expect(clock.offsetMs).toBe(5_000);
  });

  it('a later sync replaces the earlier one (Heartbeat.conf after BootNotification.conf)', () => {
    const s = manualSources(BOOT_1970);
    const clock = new SystemClock(s);
    clock.setOffsetFrom(CSMS);
    s.step(1_000);
    clock.setOffsetFrom(new Date('2025-06-01T12:00:00.200Z')); // the CSMS says only 200 ms passed
    s.step(800);
    expect(clock.now().toISOString()).toBe('2025-06-01T12:00:01.000Z');
  });

  it('before any sync, now() runs on monotonic time from the system time at start: a system step moves nothing', () => {
    const s = manualSources(BOOT_1970);
    const clock = new SystemClock(s);
    const base = clock.wallMinusMonotonicMs;
    s.step(2_000);
    s.jumpSystem(86_400_000); // NTP or `date` before the CSMS answered
    expect(clock.now().getTime()).toBe(BOOT_1970 + 2_000);
    // One base for every provisional stamp, so a single difference corrects them all after the sync.
    expect(clock.wallMinusMonotonicMs).toBe(base);
    clock.setOffsetFrom(CSMS);
    expect(clock.wallMinusMonotonicMs).toBe(CSMS.getTime() - clock.monotonicMs());
  });

  it('the real monotonic source is the kernel clock shared by processes (comparable across an agent restart)', () => {
    const before = NODE_TIME_SOURCES.monotonicMs();
    const child = Number(execFileSync(process.execPath, ['-e', 'process.stdout.write(String(Number(process.hrtime.bigint()) / 1e6))'], { encoding: 'utf8' }));
    const after = NODE_TIME_SOURCES.monotonicMs();
    expect(child).toBeGreaterThanOrEqual(before);
    expect(child).toBeLessThanOrEqual(after);
  });

  it('refuses an invalid Date', () => {
    const clock = new SystemClock(manualSources(0));
    expect(() => clock.setOffsetFrom(new Date('not a date'))).toThrow(RangeError);
    expect(clock.synced).toBe(false);
  });

  it('with the real sources: now() follows Date.now() plus the offset and monotonicMs() never goes back', () => {
    const clock = new SystemClock();
    const aheadMs = 3_600_000;
    clock.setOffsetFrom(new Date(Date.now() + aheadMs));
    const before = Date.now();
    const now = clock.now().getTime();
    const after = Date.now();
    // performance.now() and Date.now() tick at the same rate; a few ms covers their rounding.
    expect(now).toBeGreaterThanOrEqual(before + aheadMs - 5);
    expect(now).toBeLessThanOrEqual(after + aheadMs + 5);
    let last = clock.monotonicMs();
    for (let i = 0; i < 1000; i++) {
      const m = clock.monotonicMs();
      expect(m).toBeGreaterThanOrEqual(last);
      last = m;
    }
  });
});

describe('SystemClock timers', () => {
  it('fires a timeout, not a cleared one, and an interval until cleared', async () => {
    const clock = new SystemClock();
    const fired: string[] = [];
    const cleared = clock.setTimeout(() => fired.push('cleared'), 1);
    clock.clearTimeout(cleared);
    clock.clearTimeout(undefined);
    let ticks = 0;
    await new Promise<void>((resolve) => {
      const iv = clock.setInterval(() => {
        ticks++;
        if (ticks === 3) {
          clock.clearInterval(iv);
          // Fires after the interval's last tick; by then the cleared timeout would have fired too.
          clock.setTimeout(resolve, 5);
        }
      }, 1);
    });
    expect(ticks).toBe(3);
    expect(fired).toEqual([]);
  });
});

describe('FakeClock', () => {
  it('fires due timers in due-time order, equal times in the order they were set', () => {
    const clock = new FakeClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b@20'), 20);
    clock.setTimeout(() => fired.push('a@10'), 10);
    clock.setTimeout(() => fired.push('c@20'), 20);
    clock.setTimeout(() => fired.push('d@31'), 31);
    clock.advance(30);
    expect(fired).toEqual(['a@10', 'b@20', 'c@20']);
    expect(clock.monotonicMs()).toBe(30);
    clock.advance(1);
    expect(fired).toEqual(['a@10', 'b@20', 'c@20', 'd@31']);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('runs a callback at its due time and fires timers it sets that fall due in the same advance', () => {
    const clock = new FakeClock();
    const seen: number[] = [];
    clock.setTimeout(() => {
      seen.push(clock.monotonicMs());
      clock.setTimeout(() => seen.push(clock.monotonicMs()), 15);
    }, 10);
    clock.advance(100);
    expect(seen).toEqual([10, 25]);
  });

  it('repeats intervals, interleaved with timeouts in time order, until cleared', () => {
    const clock = new FakeClock();
    const fired: string[] = [];
    const iv = clock.setInterval(() => fired.push(`i${clock.monotonicMs()}`), 10);
    clock.setTimeout(() => fired.push(`t${clock.monotonicMs()}`), 25);
    clock.advance(35);
    expect(fired).toEqual(['i10', 'i20', 't25', 'i30']);
    clock.clearInterval(iv);
    clock.advance(100);
    expect(fired).toHaveLength(4);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('an interval can clear itself from its callback', () => {
    const clock = new FakeClock();
    let n = 0;
    const iv = clock.setInterval(() => {
      if (++n === 2) clock.clearInterval(iv);
    }, 5);
    clock.advance(50);
    expect(n).toBe(2);
  });

  it('treats delays below 1 ms as 1 ms, as Node does', () => {
    const clock = new FakeClock();
    let fired = 0;
    clock.setTimeout(() => fired++, 0);
    clock.setTimeout(() => fired++, -5);
    clock.advance(0);
    expect(fired).toBe(0);
    clock.advance(1);
    expect(fired).toBe(2);
  });

  it('moves wall and monotonic time together; setSystemTime steps only the system clock', () => {
    const clock = new FakeClock({ systemTime: new Date('2025-01-01T00:00:00Z') });
    clock.advance(1_500);
    expect(clock.now().toISOString()).toBe('2025-01-01T00:00:01.500Z');
    clock.setOffsetFrom(new Date('2025-03-01T00:00:00Z'));
    clock.setSystemTime(new Date('2030-01-01T00:00:00Z'));
    clock.advance(500);
    expect(clock.now().toISOString()).toBe('2025-03-01T00:00:00.500Z');
  });

  it('advanceAsync lets promise chains started by a timer run before the next timer', async () => {
    const clock = new FakeClock();
    const order: string[] = [];
    clock.setTimeout(() => {
      void Promise.resolve().then(() => order.push('then@10'));
    }, 10);
    clock.setTimeout(() => order.push('timer@20'), 20);
    await clock.advanceAsync(20);
    expect(order).toEqual(['then@10', 'timer@20']);
    await flushMicrotasks();
  });

  it('serves as hal/ timers, with monotonic now()', () => {
    const clock = new FakeClock({ monotonicMs: 100 });
    const timers: HalTimers = clock.halTimers;
    let fired = false;
    const h = timers.setTimeout(() => (fired = true), 10);
    expect(timers.now()).toBe(100);
    timers.clearTimeout(h);
    clock.advance(20);
    expect(fired).toBe(false);
    timers.setTimeout(() => (fired = true), 10);
    clock.advance(10);
    expect(fired).toBe(true);
  });

  it('both clocks implement the Clock port', () => {
    expectTypeOf<SystemClock>().toExtend<Clock>();
    expectTypeOf<FakeClock>().toExtend<Clock>();
    const clocks: Clock[] = [new SystemClock(), new FakeClock()];
    expect(clocks.every((c) => c.now() instanceof Date)).toBe(true);
  });
});
