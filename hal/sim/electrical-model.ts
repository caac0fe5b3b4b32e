// The simulator's electrical side: per-connector pilot, proximity pilot, contactor,
// cable lock and energy register (controller-serial.md §Events, §Commands ENABLE),
// the EV and fault scripting that moves them, and `$METER` every METER_MS. The pure
// physics (current, power, readings) is in ev-model.ts; this keeps the state over time.
import type { Capability, EventFrame, LockState, PilotState } from '../controller/protocol/frame-table.js';
import { PP_CAPACITIES } from '../controller/protocol/frame-table.js';
import type { HalTimers, TimerHandle } from '../timers.js';
import { chargeCurrentA, energyDeltaWh, meterReading, nominalPowerW } from './ev-model.js';
import type { PlugOptions, SimConnectorState } from './sim-types.js';

export interface Connector {
  readonly id: number;
  pilot: PilotState;
  pp: number;
  evMaxAmps: number;
  enabled: boolean;
  offeredAmps: number;
  fallback: boolean;
  contactor: boolean;
  lock: LockState;
  energyWhExact: number;
  lastIntegrationAt: number;
  faults: Set<string>;
}

export interface ElectricalModelOptions {
  connectors: number;
  caps: readonly Capability[];
  threePhase: boolean;
  /** Energy integration speed-up (1 = real time). */
  timeScale: number;
  /** Lifetime register of every connector at start. */
  initialEnergyWh: number;
  timers: HalTimers;
  /** Noise source in [0, 1) for meter readings. */
  random: () => number;
  /** Where `$CP`, `$PP`, `$RELAY`, `$LOCK`, `$METER`, `$FAULT` and `$FAULTCLR` go. */
  send: (frame: EventFrame) => void;
}

const FAULT_CODE = /^[A-Z0-9_]{1,32}$/;

export class ElectricalModel {
  readonly connectors: readonly Connector[];
  /** Active station (connector 0) faults raised by raiseFault(0, ...). */
  readonly stationFaultSet = new Set<string>();
  private readonly hasLock: boolean;
  private readonly phases: 1 | 3;
  private meterTimer: TimerHandle | null = null;

  constructor(private readonly opts: ElectricalModelOptions) {
    this.hasLock = opts.caps.includes('LOCK');
    this.phases = opts.threePhase ? 3 : 1;
    const now = opts.timers.now();
    this.connectors = Array.from({ length: opts.connectors }, (_, i) => ({
      id: i + 1,
      pilot: 'A' as PilotState,
      pp: 0,
      evMaxAmps: 32,
      enabled: false,
      offeredAmps: 0,
      fallback: false,
      contactor: false,
      lock: 'unlocked' as LockState,
      energyWhExact: opts.initialEnergyWh,
      lastIntegrationAt: now,
      faults: new Set<string>(),
    }));
  }

  /** Connector c (1-based); a RangeError for anything else. */
  connector(c: number): Connector {
    const k = Number.isInteger(c) ? this.connectors[c - 1] : undefined;
    if (k === undefined) throw new RangeError(`no connector ${c} (1..${this.connectors.length})`);
    return k;
  }

  /** Connector c, or every connector for 0; null for an unknown connector. */
  targets(c: number): readonly Connector[] | null {
    if (c === 0) return this.connectors;
    const k = this.connectors[c - 1];
    return k === undefined ? null : [k];
  }

  /** A station fault or a fault on one of `targets` (ENABLE is refused then). */
  faulted(targets: readonly Connector[]): boolean {
    return this.stationFaultSet.size > 0 || targets.some((k) => k.faults.size > 0);
  }

  // ---- what the agent commands --------------------------------------------

  enable(targets: readonly Connector[], amps: number): void {
    for (const k of targets) {
      k.enabled = true;
      k.offeredAmps = amps;
      k.fallback = false;
      if (this.hasLock && k.pp > 0) this.setLock(k, 'locked');
      this.reconcile(k);
    }
  }

  disable(targets: readonly Connector[]): void {
    for (const k of targets) {
      k.enabled = false;
      k.offeredAmps = 0;
      k.fallback = false;
      this.reconcile(k);
      this.setLock(k, 'unlocked');
    }
  }

  unlock(targets: readonly Connector[]): void {
    for (const k of targets) {
      // Never unlock under load: with the lock released the contactor rule keeps it open.
      if (k.lock === 'locked') k.lock = 'unlocked';
      this.reconcile(k);
      // The outcome always follows as $LOCK, also when it already was unlocked.
      this.opts.send({ type: 'LOCK', connector: k.id, state: k.lock });
    }
  }

  /** The watchdog fired: every enabled connector offers at most `fallbackA` until the next ENABLE. */
  applyFallback(fallbackA: number): void {
    this.integrateAll();
    for (const k of this.connectors) {
      if (!k.enabled) continue;
      k.offeredAmps = Math.min(k.offeredAmps, fallbackA);
      k.fallback = true;
      this.reconcile(k);
    }
  }

  /** What a (re)booting MCU loses: outputs drop (contactor open, lock released, PWM off); EV, cable, faults and energy stay. */
  powerLoss(): void {
    for (const k of this.connectors) {
      k.enabled = false;
      k.offeredAmps = 0;
      k.fallback = false;
      k.contactor = false;
      if (k.lock === 'locked') k.lock = 'unlocked';
    }
  }

  // ---- what the EV and the hardware do (scripting) ------------------------

  plugIn(c: number, opts: PlugOptions = {}): void {
    const k = this.connector(c);
    const cable = opts.cableAmps ?? 32;
    if (cable === 0 || !PP_CAPACITIES.includes(cable)) throw new RangeError(`cable capacity must be one of 13, 20, 32, 63, 70`);
    if (k.pilot !== 'A') throw new Error(`connector ${c} already has an EV (pilot ${k.pilot})`);
    this.integrateAll();
    k.evMaxAmps = opts.evMaxAmps ?? 32;
    this.setPilotState(k, 'B');
    k.pp = cable;
    this.opts.send({ type: 'PP', connector: k.id, amps: cable });
    if (k.enabled) this.setLock(k, 'locked');
  }

  evRequestEnergy(c: number, ventilation: boolean): void {
    const k = this.connector(c);
    if (k.pilot === 'A') throw new Error(`connector ${c} has no EV plugged in`);
    this.integrateAll();
    this.setPilotState(k, ventilation ? 'D' : 'C');
  }

  evPause(c: number): void {
    const k = this.connector(c);
    if (k.pilot === 'A') throw new Error(`connector ${c} has no EV plugged in`);
    this.integrateAll();
    this.setPilotState(k, 'B');
  }

  evSetMaxAmps(c: number, amps: number): void {
    const k = this.connector(c);
    if (!(amps >= 0)) throw new RangeError('amps must be >= 0');
    this.integrateAll();
    k.evMaxAmps = amps;
  }

  unplug(c: number): void {
    const k = this.connector(c);
    this.integrateAll();
    this.setPilotState(k, 'A');
    if (k.pp !== 0) {
      k.pp = 0;
      this.opts.send({ type: 'PP', connector: k.id, amps: 0 });
    }
    this.setLock(k, 'unlocked');
  }

  setPilot(c: number, state: PilotState): void {
    const k = this.connector(c);
    this.integrateAll();
    this.setPilotState(k, state);
  }

  /** The connector (0 = all) is made safe and disabled, then `$FAULT`. */
  raiseFault(c: number, code: string): void {
    if (!FAULT_CODE.test(code)) throw new RangeError(`fault code must match ${FAULT_CODE.source}`);
    const set = c === 0 ? this.stationFaultSet : this.connector(c).faults;
    if (set.has(code)) return;
    this.integrateAll();
    set.add(code);
    for (const k of c === 0 ? this.connectors : [this.connector(c)]) {
      k.enabled = false;
      k.offeredAmps = 0;
      k.fallback = false;
      this.reconcile(k);
    }
    this.opts.send({ type: 'FAULT', connector: c, code });
  }

  clearFault(c: number, code: string): void {
    const set = c === 0 ? this.stationFaultSet : this.connector(c).faults;
    if (!set.delete(code)) return;
    this.opts.send({ type: 'FAULTCLR', connector: c, code });
  }

  state(c: number): SimConnectorState {
    const k = this.connector(c);
    this.integrate(k);
    return {
      pilot: k.pilot,
      pp: k.pp,
      enabled: k.enabled,
      offeredAmps: k.offeredAmps,
      fallback: k.fallback,
      contactor: k.contactor,
      lock: k.lock,
      energyWh: Math.floor(k.energyWhExact),
      currentA: this.currentOf(k),
      evMaxAmps: k.evMaxAmps,
      faults: [...k.faults],
    };
  }

  // ---- metering -------------------------------------------------------------

  /** Bring energy registers up to now; called before anything that changes a current. */
  integrateAll(): void {
    for (const k of this.connectors) this.integrate(k);
  }

  meterFrame(k: Connector): EventFrame {
    this.integrate(k);
    const m = meterReading(k.energyWhExact, this.currentOf(k), this.phases, this.opts.random);
    return { type: 'METER', connector: k.id, ...m };
  }

  /** `$METER` for every connector each `periodMs` (0 = never); replaces a running period. */
  startMeter(periodMs: number): void {
    this.stopMeter();
    if (periodMs <= 0) return;
    this.meterTimer = this.opts.timers.setInterval(() => {
      for (const k of this.connectors) this.opts.send(this.meterFrame(k));
    }, periodMs);
  }

  stopMeter(): void {
    if (this.meterTimer !== null) this.opts.timers.clearInterval(this.meterTimer);
    this.meterTimer = null;
  }

  // ---- internals --------------------------------------------------------------

  private currentOf(k: Connector): number {
    return chargeCurrentA({ contactorClosed: k.contactor, offeredAmps: k.offeredAmps, evMaxAmps: k.evMaxAmps, cableAmps: k.pp });
  }

  private integrate(k: Connector): void {
    const now = this.opts.timers.now();
    const power = nominalPowerW(this.currentOf(k), this.phases);
    k.energyWhExact += energyDeltaWh(power, now - k.lastIntegrationAt, this.opts.timeScale);
    k.lastIntegrationAt = now;
  }

  /** The contactor rule (§Commands ENABLE): EV in C/D, enabled with >= 6 A, no fault, cable locked. */
  private reconcile(k: Connector): void {
    const lockOk = !this.hasLock || k.pp === 0 || k.lock === 'locked';
    const want =
      (k.pilot === 'C' || k.pilot === 'D') &&
      k.enabled &&
      k.offeredAmps >= 6 &&
      k.faults.size === 0 &&
      this.stationFaultSet.size === 0 &&
      lockOk;
    if (want === k.contactor) return;
    this.integrate(k);
    k.contactor = want;
    this.opts.send({ type: 'RELAY', connector: k.id, closed: want });
  }

  private setLock(k: Connector, state: LockState): void {
    if (!this.hasLock || k.lock === state) return;
    k.lock = state;
    this.opts.send({ type: 'LOCK', connector: k.id, state });
  }

  private setPilotState(k: Connector, state: PilotState): void {
    if (k.pilot === state) return;
    this.integrate(k);
    k.pilot = state;
    this.opts.send({ type: 'CP', connector: k.id, state });
    this.reconcile(k);
  }
}
