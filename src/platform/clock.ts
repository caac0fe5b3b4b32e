// Clock port: wall time corrected from the CSMS (boards without an RTC boot at 1970),
// monotonic milliseconds for durations, and timers, so every service takes time injected.
// OCPP 1.6 §4.2 BootNotification.conf / §4.6 Heartbeat.conf carry currentTime to sync from.

declare const timerBrand: unique symbol;

/** Opaque timer handle: only the clock that made it can clear it. */
export type TimerHandle = { readonly [timerBrand]: true };

export interface Clock {
  /** Wall time, corrected to the CSMS time once setOffsetFrom() has been called. */
  now(): Date;
  /** Milliseconds from an arbitrary origin; never jumps. Use for durations and timeouts. */
  monotonicMs(): number;
  /** now() minus the system wall clock, in ms (0 before the first sync). */
  readonly offsetMs: number;
  /** True once setOffsetFrom() has been called: before that, now() is provisional. */
  readonly synced: boolean;
  /**
   * now() minus monotonicMs(): constant between syncs. Before the first sync it is the
   * provisional base every timestamp is made in (the system time at start, which may be 1970),
   * so a stamp made then maps back to its monotonic moment and is corrected after the sync.
   */
  readonly wallMinusMonotonicMs: number;
  /** Take `csmsTime` as the current wall time (e.g. Heartbeat.conf currentTime). */
  setOffsetFrom(csmsTime: Date): void;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle | undefined): void;
}

/** The two raw time sources a wall clock is built from. */
export interface TimeSources {
  systemNowMs(): number;
  monotonicMs(): number;
}

export const NODE_TIME_SOURCES: TimeSources = {
  systemNowMs: () => Date.now(),
  // CLOCK_MONOTONIC on Linux: milliseconds since the kernel booted, shared by every process, so a
  // moment recorded before an agent restart is comparable within the same boot (performance.now()
  // restarts with the process).
  monotonicMs: () => Number(process.hrtime.bigint()) / 1e6,
};

/**
 * Wall time anchored on the monotonic clock at the last CSMS sync, so an NTP step or a
 * manual `date` on the board after the sync does not move OCPP timestamps. Shared by
 * SystemClock and the test FakeClock so both compute wall time the same way.
 */
export class CsmsWallTime {
  private anchor: { wallMs: number; monoMs: number } | undefined;
  /**
   * Before the sync, wall time also runs on the monotonic clock from the system time at start:
   * a step of the system clock then (NTP, `date`) would otherwise mix two bases in the queued
   * timestamps, and they could no longer all be corrected by one difference.
   */
  private readonly provisional: { wallMs: number; monoMs: number };

  constructor(private readonly sources: TimeSources) {
    this.provisional = { wallMs: sources.systemNowMs(), monoMs: sources.monotonicMs() };
  }

  nowMs(): number {
    return this.sources.monotonicMs() + this.wallMinusMonotonicMs;
  }

  get wallMinusMonotonicMs(): number {
    const a = this.anchor ?? this.provisional;
    return a.wallMs - a.monoMs;
  }

  get offsetMs(): number {
    return this.anchor === undefined ? 0 : this.nowMs() - this.sources.systemNowMs();
  }

  get synced(): boolean {
    return this.anchor !== undefined;
  }

  syncTo(csmsTime: Date): void {
    const wallMs = csmsTime.getTime();
    if (!Number.isFinite(wallMs)) throw new RangeError('setOffsetFrom: invalid Date');
    this.anchor = { wallMs, monoMs: this.sources.monotonicMs() };
  }
}

/** The real clock: Node timers, Date.now() and the kernel monotonic clock. */
export class SystemClock implements Clock {
  private readonly wall: CsmsWallTime;

  constructor(private readonly sources: TimeSources = NODE_TIME_SOURCES) {
    this.wall = new CsmsWallTime(sources);
  }

  now(): Date {
    return new Date(this.wall.nowMs());
  }

  monotonicMs(): number {
    return this.sources.monotonicMs();
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
    return setTimeout(fn, ms) as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle !== undefined) clearTimeout(handle as unknown as NodeJS.Timeout);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    return setInterval(fn, ms) as unknown as TimerHandle;
  }

  clearInterval(handle: TimerHandle | undefined): void {
    if (handle !== undefined) clearInterval(handle as unknown as NodeJS.Timeout);
  }
}
