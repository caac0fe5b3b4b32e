// FakeClock: the Clock port (src/platform/clock.ts) with time that moves only when a test
// calls advance(): due timers fire in due-time order, intervals included, so timed
// behaviour is tested without real waiting. Also usable as hal/'s HalTimers.
import { CsmsWallTime, type Clock, type TimerHandle } from '../../src/platform/clock.js';
import type { HalTimers, TimerHandle as HalTimerHandle } from '../../hal/timers.js';

interface FakeTimer {
  id: number;
  dueMs: number;
  /** Insertion order breaks ties, as Node fires equal-time timers in the order they were set. */
  seq: number;
  intervalMs: number | undefined;
  fn: () => void;
}

/** Node turns a delay that is not in 1..2^31-1 into 1 ms; so does the fake, to teach nothing false. */
const TIMEOUT_MAX = 2 ** 31 - 1;
const nodeDelay = (ms: number) => (ms >= 1 && ms <= TIMEOUT_MAX ? ms : 1);

export interface FakeClockOptions {
  /** System wall time at start (default 2025-01-01T00:00:00Z). */
  systemTime?: Date | number;
  /** Monotonic origin (default 0). */
  monotonicMs?: number;
}

export class FakeClock implements Clock {
  private mono: number;
  private system: number;
  private readonly wall: CsmsWallTime;
  private readonly timers = new Map<number, FakeTimer>();
  private nextId = 1;
  private nextSeq = 1;

  constructor(opts: FakeClockOptions = {}) {
    this.mono = opts.monotonicMs ?? 0;
    this.system = Number(opts.systemTime ?? Date.UTC(2025, 0, 1));
    this.wall = new CsmsWallTime({ systemNowMs: () => this.system, monotonicMs: () => this.mono });
  }

  now(): Date {
    return new Date(this.wall.nowMs());
  }

  monotonicMs(): number {
    return this.mono;
  }

  get offsetMs(): number {
    return this.wall.offsetMs;
  }

  get synced(): boolean {
    return this.wall.synced;
  }

  get wallMinusMonotonicMs(): number {
    return this.wall.wallMinusMonotonicMs;
  }

  setOffsetFrom(csmsTime: Date): void {
    this.wall.syncTo(csmsTime);
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.add(fn, nodeDelay(ms), undefined);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    const every = nodeDelay(ms);
    return this.add(fn, every, every);
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle !== undefined) this.timers.delete((handle as unknown as { id: number }).id);
  }

  clearInterval(handle: TimerHandle | undefined): void {
    this.clearTimeout(handle);
  }

  /** Step the system wall clock (an NTP step, a manual `date`) without moving monotonic time or now(). */
  setSystemTime(time: Date | number): void {
    this.system = Number(time);
  }

  /** Timers not yet fired or cleared (intervals count until cleared). */
  pendingTimers(): number {
    return this.timers.size;
  }

  /**
   * Move time forward by `ms`, firing every timer that falls due, earliest first; a timer set
   * by a callback fires in the same call if it falls due within the window.
   */
  advance(ms: number): void {
    const target = this.mono + ms;
    for (let t = this.nextDue(target); t !== undefined; t = this.nextDue(target)) this.fire(t);
    this.moveTo(target);
  }

  /** advance(), but lets promise callbacks run after each timer (for async code under test). */
  async advanceAsync(ms: number): Promise<void> {
    const target = this.mono + ms;
    await flushMicrotasks();
    for (let t = this.nextDue(target); t !== undefined; t = this.nextDue(target)) {
      this.fire(t);
      await flushMicrotasks();
    }
    this.moveTo(target);
  }

  /** This clock seen as hal/'s timer port (monotonic `now`). */
  get halTimers(): HalTimers {
    return {
      now: () => this.mono,
      setTimeout: (fn, ms) => this.setTimeout(fn, ms) as unknown as HalTimerHandle,
      clearTimeout: (h) => this.clearTimeout(h as unknown as TimerHandle),
      setInterval: (fn, ms) => this.setInterval(fn, ms) as unknown as HalTimerHandle,
      clearInterval: (h) => this.clearInterval(h as unknown as TimerHandle),
    };
  }

  private add(fn: () => void, delayMs: number, intervalMs: number | undefined): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { id, dueMs: this.mono + delayMs, seq: this.nextSeq++, intervalMs, fn });
    return { id } as unknown as TimerHandle;
  }

  private nextDue(limitMs: number): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const t of this.timers.values()) {
      if (t.dueMs > limitMs) continue;
      if (best === undefined || t.dueMs < best.dueMs || (t.dueMs === best.dueMs && t.seq < best.seq)) best = t;
    }
    return best;
  }

  private fire(t: FakeTimer): void {
    this.moveTo(t.dueMs);
    if (t.intervalMs === undefined) {
      this.timers.delete(t.id);
    } else {
      t.dueMs += t.intervalMs;
      t.seq = this.nextSeq++;
    }
    t.fn();
  }

  private moveTo(monoMs: number): void {
    if (monoMs <= this.mono) return;
    this.system += monoMs - this.mono;
    this.mono = monoMs;
  }
}

/** Let queued promise callbacks (and whatever they chain) run. */
export async function flushMicrotasks(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
}
