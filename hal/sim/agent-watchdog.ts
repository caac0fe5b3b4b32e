// The controller's agent watchdog (controller-serial.md §Link health): any well-formed
// command feeds it; WATCHDOG_MS without one raises AGENT_WATCHDOG (the caller drops
// enabled connectors to FALLBACK_A), and the next command clears it again.
import type { HalTimers, TimerHandle } from '../timers.js';

export const WATCHDOG_FAULT = 'AGENT_WATCHDOG';

export interface AgentWatchdogHooks {
  timers: HalTimers;
  /** WATCHDOG_MS, read each time the watchdog is armed. */
  periodMs(): number;
  /** False while the controller is stopped or muted: a dead controller's watchdog is dead too. */
  live(): boolean;
  /** True while rebooting: a timer that falls due then does not fire. */
  booting(): boolean;
  /** The watchdog fired: fall back and report `$FAULT 0 AGENT_WATCHDOG`. */
  onFire(): void;
  /** A command arrived after it fired: report `$FAULTCLR 0 AGENT_WATCHDOG`. */
  onClear(): void;
}

export class AgentWatchdog {
  /** Armed by the first command after boot; the watchdog never fires before the agent spoke. */
  private armed = false;
  private fired = false;
  private timer: TimerHandle | null = null;

  constructor(private readonly hooks: AgentWatchdogHooks) {}

  /** True while AGENT_WATCHDOG is raised. */
  get active(): boolean {
    return this.fired;
  }

  /** A well-formed command arrived: clear a raised fault and restart the period. */
  feed(): void {
    this.armed = true;
    if (this.fired) {
      this.fired = false;
      this.hooks.onClear();
    }
    this.rearm();
  }

  /** Restart the period from now (after feed, a new WATCHDOG_MS, or un-muting); stops it while not live. */
  rearm(): void {
    this.cancel();
    if (!this.armed || !this.hooks.live() || this.fired) return;
    this.timer = this.hooks.timers.setTimeout(() => this.fire(), this.hooks.periodMs());
  }

  /** Boot state: not armed, not fired, no timer. */
  reset(): void {
    this.cancel();
    this.armed = false;
    this.fired = false;
  }

  /** Stop the timer, keeping the state (controller stopped). */
  cancel(): void {
    if (this.timer !== null) this.hooks.timers.clearTimeout(this.timer);
    this.timer = null;
  }

  private fire(): void {
    this.timer = null;
    if (!this.hooks.live() || this.hooks.booting()) return;
    this.fired = true;
    this.hooks.onFire();
  }
}
