// The controller's meter report period follows the pilots (controller-serial.md $CONFIG METER_MS):
// while every connector's pilot is A (no EV) or F (EVSE not available) nothing can flow and the
// register cannot move, so a long idle period still refreshes voltage and temperature without
// waking the agent every second; as soon as a connector leaves A/F the active period comes back
// and that connector is read at once, so the domain holds a fresh register before a transaction
// can start. Re-applied on every resync (a rebooted controller is back at its default).
// An explicit METER_MS from outside (configure, bring-up) is the operator's: it is kept as is.
import type { HalLogger } from '../log.js';
import type { HalTimers, TimerHandle } from '../timers.js';
import type { PilotState } from './protocol/frame-table.js';
import { ControllerNakError } from './types.js';

/** What the policy needs from the driver. */
export interface MeterPeriodPort {
  linkUp(): boolean;
  /** Connectors the controller announced in HELLO (0 when not known yet). */
  connectorCount(): number;
  /** Queues `$CONFIG,<seq>,METER_MS,<ms>`; `value` is asked when the frame is built. */
  sendPeriod(value: () => number, priority: boolean): Promise<void>;
  readMeter(connector: number): Promise<void>;
}

export interface MeterPeriodSettings {
  /** METER_MS while every pilot is A or F; null leaves METER_MS to the controller (policy off). */
  idleMeterMs: number | null;
  /** METER_MS while any connector has an EV (or its pilot is not known). */
  activeMeterMs: number;
}

/** Longest period the protocol's controllers accept (a day), as the simulator does. */
const MAX_PERIOD_MS = 86_400_000;

const isIdlePilot = (s: PilotState | undefined): boolean => s === 'A' || s === 'F';

/** A period option: 0 (reports only on READ/STATUS) or a whole number of ms up to a day. */
export function checkPeriod(name: string, ms: number): number {
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_PERIOD_MS) {
    throw new RangeError(`${name} must be a whole number of milliseconds from 0 to ${MAX_PERIOD_MS}, got ${ms}`);
  }
  return ms;
}

export class MeterPeriodPolicy {
  private readonly pilots = new Map<number, PilotState>();
  /** The value last sent (or being sent) to the controller; null when unknown (link lost). */
  private target: number | null = null;
  /** Set by an explicit METER_MS from outside: kept instead of the policy's choice. */
  private operatorMs: number | null = null;
  private off: boolean;
  private readonly readsDue = new Set<number>();
  private evaluation: TimerHandle | null = null;

  constructor(
    private readonly settings: MeterPeriodSettings,
    private readonly port: MeterPeriodPort,
    private readonly timers: HalTimers,
    private readonly log: HalLogger,
  ) {
    this.off = settings.idleMeterMs === null;
  }

  /** The period the controller should have now. */
  wantedMs(): number {
    if (this.operatorMs !== null) return this.operatorMs;
    return this.idle() ? (this.settings.idleMeterMs ?? this.settings.activeMeterMs) : this.settings.activeMeterMs;
  }

  /** A pilot report (event or STATUS dump). Decisions wait for the burst to end and for the pilot's own listeners to act first. */
  pilot(connector: number, state: PilotState): void {
    const before = this.pilots.get(connector);
    this.pilots.set(connector, state);
    if (this.off || !this.port.linkUp()) return;
    // A STATUS dump during resync carries its own METER; a live change away from A/F wants a fresh one.
    if (!isIdlePilot(state) && (before === undefined || isIdlePilot(before))) this.readsDue.add(connector);
    this.schedule();
  }

  /** The resync step (after STATUS, so every pilot is known): the wanted period, whatever the controller had. */
  resyncStep(): Promise<void> | null {
    if (this.off) return null;
    let sent: number | null = null;
    return this.port
      .sendPeriod(() => {
        sent = this.wantedMs();
        this.target = sent;
        return sent;
      }, true)
      .catch((err: Error) => {
        // A refusal must not abort the resync; a lost link fails it like any other step.
        if (err instanceof ControllerNakError) return this.refused(sent, err);
        this.target = null;
        throw err;
      });
  }

  /** Resync done: a pilot that moved meanwhile may want another period. */
  linkUp(): void {
    if (!this.off) this.schedule();
  }

  linkLost(): void {
    this.target = null;
    this.readsDue.clear();
    this.cancel();
  }

  /** An explicit METER_MS was acknowledged by the controller. */
  operatorSet(ms: number): void {
    this.operatorMs = ms;
    this.target = ms;
  }

  cancel(): void {
    if (this.evaluation) this.timers.clearTimeout(this.evaluation);
    this.evaluation = null;
  }

  private idle(): boolean {
    const count = this.port.connectorCount();
    if (count <= 0 && this.pilots.size === 0) return false;
    for (let c = 1; c <= count; c++) if (!isIdlePilot(this.pilots.get(c))) return false;
    for (const s of this.pilots.values()) if (!isIdlePilot(s)) return false;
    return true;
  }

  private schedule(): void {
    if (this.evaluation) return;
    this.evaluation = this.timers.setTimeout(() => {
      this.evaluation = null;
      this.evaluate();
    }, 0);
  }

  private evaluate(): void {
    if (this.off || !this.port.linkUp()) return;
    const want = this.wantedMs();
    if (want !== this.target) {
      this.target = want;
      this.port.sendPeriod(() => want, false).catch((err: Error) => {
        if (err instanceof ControllerNakError) this.refused(want, err);
        else if (this.target === want) this.target = null; // link lost: the resync applies it
      });
    }
    // After the CONFIG, so the reading comes while the active period is already in force.
    for (const c of this.readsDue) {
      this.port.readMeter(c).catch((err: Error) => this.log.debug({ connector: c, err: err.message }, 'meter read after plug-in failed'));
    }
    this.readsDue.clear();
  }

  private refused(ms: number | null, err: ControllerNakError): void {
    // A controller that will not take the period keeps its own; asking again would only repeat the NAK.
    this.off = true;
    this.target = null;
    this.cancel();
    this.log.warn({ meterMs: ms, reason: err.reason }, 'controller refused METER_MS; its meter period is left as it is');
  }
}
