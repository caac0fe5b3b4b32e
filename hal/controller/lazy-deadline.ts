// A timer for a deadline that moves often (last frame + 3 s, last send + 1 s) without
// clearing and re-arming it on every move: when it fires it asks for the deadline again,
// re-arms if the deadline moved on, and only otherwise runs the action. So it costs one
// wakeup per deadline reached or postponed, never one per frame or per polling tick.
import type { HalTimers, TimerHandle } from '../timers.js';

/** Timers may fire this much before HalTimers.now() says they are due. */
const EARLY_FIRE_SLACK_MS = 2;

export class LazyDeadline {
  private handle: TimerHandle | null = null;

  /**
   * @param dueAt the deadline now (HalTimers.now() scale), or null when none is wanted (e.g. port closed)
   * @param onDue runs when the deadline is reached
   * @param retryMs when onDue left the deadline in the past (nothing to do yet), look again this much later rather than spin
   */
  constructor(
    private readonly timers: HalTimers,
    private readonly dueAt: () => number | null,
    private readonly onDue: () => void,
    private readonly retryMs: number,
  ) {}

  /** Arm for the current deadline, unless already armed (an armed timer re-checks when it fires). */
  arm(): void {
    if (this.handle) return;
    const due = this.dueAt();
    if (due === null) return;
    this.schedule(Math.max(1, due - this.timers.now()));
  }

  cancel(): void {
    if (this.handle) this.timers.clearTimeout(this.handle);
    this.handle = null;
  }

  private schedule(delayMs: number): void {
    this.handle = this.timers.setTimeout(() => this.fire(), delayMs);
  }

  private fire(): void {
    this.handle = null;
    const due = this.dueAt();
    if (due === null) return;
    if (due - this.timers.now() > EARLY_FIRE_SLACK_MS) {
      this.arm();
      return;
    }
    this.onDue();
    if (this.handle) return;
    const next = this.dueAt();
    if (next === null) return;
    const delay = next - this.timers.now();
    this.schedule(delay > EARLY_FIRE_SLACK_MS ? delay : this.retryMs);
  }
}
