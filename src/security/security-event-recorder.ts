// The agent's SecurityEventSink: every event goes to the bounded security log; critical ones
// (security-events.ts), or every one when the operator asks for all, are also handed to a forwarder (the 1.6 adapter queues them durably, in
// order with the transaction messages, as SecurityEventNotification) with the event's own time.
// Repeats of one type reach the CSMS at most once per window; the ones held back are still in
// the log, and when the window ends the last of them is sent, saying how many there were, so the
// CSMS always learns the latest state of a burst within a window. Events reported before the
// forwarder exists (start-up) wait in memory, a few at most, and follow when it is attached.
import type { Clock, TimerHandle } from '../platform/clock.js';
import type { AgentLogger } from '../platform/logger.js';
import { errorText } from '../platform/errors.js';
import { CRITICAL_SECURITY_EVENTS, type ProvisionalTimeBase, type SecurityEventSink, type SecurityEventType, type SecurityLogWriter } from './security-events.js';

/** One event as the CSMS is told it. */
export interface ForwardedSecurityEvent {
  readonly type: SecurityEventType;
  /** When it happened: the agent's clock at the report. */
  readonly at: Date;
  readonly techInfo?: string;
}

export interface SecurityEventForwarder {
  /** Queues the notification durably; may throw when storage fails (logged, never passed on). */
  forward(event: ForwardedSecurityEvent): void;
}

export interface RecorderOptions {
  /** At most one event of a type to the CSMS per this many ms. Default one minute. */
  readonly forwardWindowMs?: number;
  /** Types that can flood (InvalidMessages): at most one log row per window too, counting the rest. */
  readonly logWindowMs?: number;
  /** The base of a time taken now while the clock is not set yet (undefined once it is). */
  readonly timeBase?: () => ProvisionalTimeBase | undefined;
}

/** Which events reach the CSMS: the whitepaper's critical ones, or every one the agent detects. */
export type SecurityEventNotify = 'critical' | 'all';

export const DEFAULT_FORWARD_WINDOW_MS = 60_000;
/** The whitepaper's techInfo: at most 255 characters. */
export const TECH_INFO_MAX = 255;
/** Types a peer can cause at will: coalesced in the log as well. */
const FLOOD_PRONE: ReadonlySet<SecurityEventType> = new Set(['InvalidMessages']);
const EARLY_EVENTS_MAX = 32;

interface Window {
  untilMs: number;
  heldBack: number;
}

interface ForwardWindow extends Window {
  /** The latest event held back in this window: sent when the window ends. */
  last?: ForwardedSecurityEvent;
  timer?: TimerHandle;
}

export class SecurityEventRecorder implements SecurityEventSink {
  private forwarder: SecurityEventForwarder | null = null;
  private notify: SecurityEventNotify = 'critical';
  private readonly early: ForwardedSecurityEvent[] = [];
  private readonly forwardWindows = new Map<SecurityEventType, ForwardWindow>();
  private readonly logWindows = new Map<SecurityEventType, Window>();
  private readonly forwardWindowMs: number;
  private readonly logWindowMs: number;
  private readonly timeBase: () => ProvisionalTimeBase | undefined;
  /** Counters for diagnostics and tests. */
  readonly stats = { logged: 0, forwarded: 0, heldBack: 0, failures: 0 };

  constructor(
    private readonly log: SecurityLogWriter,
    private readonly clock: Clock,
    private readonly logger: AgentLogger,
    opts: RecorderOptions = {},
  ) {
    this.forwardWindowMs = opts.forwardWindowMs ?? DEFAULT_FORWARD_WINDOW_MS;
    this.logWindowMs = opts.logWindowMs ?? this.forwardWindowMs;
    this.timeBase = opts.timeBase ?? (() => undefined);
  }

  /** Where forwarded events go from now on; the ones reported before follow now, in order. */
  forwardTo(forwarder: SecurityEventForwarder, notify: SecurityEventNotify = 'critical'): void {
    this.forwarder = forwarder;
    this.notify = notify;
    for (const e of this.early.splice(0)) if (this.forwards(e.type)) this.send(e);
  }

  private forwards(type: SecurityEventType): boolean {
    return this.notify === 'all' || CRITICAL_SECURITY_EVENTS.has(type);
  }

  report(type: SecurityEventType, techInfo?: string): void {
    try {
      this.record(type, techInfo === undefined ? undefined : techInfo.slice(0, TECH_INFO_MAX));
    } catch (err) {
      // The sink never throws: a security event must not break what detected it.
      this.stats.failures++;
      this.logger.error({ type, err: errorText(err) }, 'security event not recorded');
    }
  }

  /** Empties the security log; the clearing itself is the first entry of the new log (and critical). */
  clearLog(reason: string): number {
    const n = this.log.clear();
    this.report('SecurityLogWasCleared', `${n} entries removed: ${reason}`);
    return n;
  }

  private record(type: SecurityEventType, techInfo: string | undefined): void {
    const at = this.clock.now();
    const mono = this.clock.monotonicMs();
    const critical = CRITICAL_SECURITY_EVENTS.has(type);
    // Info: the detector logs its own warning where there is one; the security log is the record.
    this.logger.info({ securityEvent: type, techInfo, critical }, 'security event');
    const logHeld = FLOOD_PRONE.has(type) ? this.windowed(this.logWindows, type, mono, this.logWindowMs) : 0;
    if (logHeld >= 0) {
      this.log.append({ atMs: at.getTime(), type, techInfo: withHeldBack(techInfo, logHeld) ?? null }, this.timeBase());
      this.stats.logged++;
    }
    // Before the forwarder exists the choice is not known yet: keep every event, filter on attach.
    if (this.forwarder !== null && !this.forwards(type)) return;
    const event: ForwardedSecurityEvent = { type, at, ...(techInfo !== undefined ? { techInfo } : {}) };
    const w = this.forwardWindows.get(type);
    if (w !== undefined && mono < w.untilMs) {
      w.heldBack++;
      w.last = event;
      this.stats.heldBack++;
      w.timer ??= this.clock.setTimeout(() => this.flush(type), w.untilMs - mono);
      return;
    }
    this.forwardWindows.set(type, { untilMs: mono + this.forwardWindowMs, heldBack: 0 });
    this.send(event);
  }

  /** A window ended with events held back: the last one goes now, with the count of the others. */
  private flush(type: SecurityEventType): void {
    const w = this.forwardWindows.get(type);
    if (w === undefined || w.last === undefined) return;
    const info = withHeldBack(w.last.techInfo, w.heldBack - 1);
    // The flush is this window's one event: the next window starts now.
    this.forwardWindows.set(type, { untilMs: this.clock.monotonicMs() + this.forwardWindowMs, heldBack: 0 });
    this.send({ type, at: w.last.at, ...(info !== undefined ? { techInfo: info } : {}) });
  }

  /** Cancels the pending end-of-window sends (shutdown); what they would send is in the security log. */
  stop(): void {
    for (const w of this.forwardWindows.values()) {
      if (w.timer !== undefined) this.clock.clearTimeout(w.timer);
      delete w.timer;
    }
  }

  /**
   * -1: inside the type's window (held back, counted). Otherwise a new window opens and the
   * answer is how many were held back in the one before.
   */
  private windowed(windows: Map<SecurityEventType, Window>, type: SecurityEventType, mono: number, windowMs: number): number {
    const w = windows.get(type);
    if (w !== undefined && mono < w.untilMs) {
      w.heldBack++;
      return -1;
    }
    windows.set(type, { untilMs: mono + windowMs, heldBack: 0 });
    return w?.heldBack ?? 0;
  }

  private send(e: ForwardedSecurityEvent): void {
    if (this.forwarder === null) {
      if (this.early.length < EARLY_EVENTS_MAX) this.early.push(e);
      return;
    }
    try {
      this.forwarder.forward(e);
      this.stats.forwarded++;
    } catch (err) {
      this.stats.failures++;
      this.logger.error({ type: e.type, err: errorText(err) }, 'security event not queued for the CSMS (it is in the security log)');
    }
  }
}

function withHeldBack(techInfo: string | undefined, held: number): string | undefined {
  if (held <= 0) return techInfo;
  const note = `(${held} more since the last report)`;
  return (techInfo === undefined ? note : `${techInfo} ${note}`).slice(0, TECH_INFO_MAX);
}
