// The controller side of controller-serial.md (all sections) as a simulator on a
// serial device (the controller end of a pty pair), so the agent's real serialport
// driver is exercised end to end. Tests and demos drive the EV and faults through
// the scripting methods (plugIn, evRequestEnergy, raiseFault, dropAnswers, ...).
import { EventEmitter } from 'node:events';
import { realpathSync } from 'node:fs';
import { SerialPort } from 'serialport';
import { decodeLine, encodeFrame, newDropCounters, type DropCounters, type DropReason } from '../controller/protocol/frame-codec.js';
import {
  CAPABILITIES,
  CONFIG_KEYS,
  FRAME_TABLE,
  PP_CAPACITIES,
  type Capability,
  type CommandFrame,
  type EventFrame,
  type Frame,
  type FrameOf,
  type LockState,
  type PilotState,
} from '../controller/protocol/frame-table.js';
import { LineFramer } from '../controller/protocol/line-framer.js';
import { SILENT_LOGGER, type HalLogger } from '../log.js';
import { REAL_TIMERS, type HalTimers, type TimerHandle } from '../timers.js';
import { chargeCurrentA, energyDeltaWh, meterReading, nominalPowerW } from './ev-model.js';

/** Timer source: the same port as the driver's, real timers by default. */
export type SimTimers = HalTimers;
export { REAL_TIMERS };

export interface SimulatedControllerOptions {
  /** The controller end of the pty pair. */
  path: string;
  baudRate?: number;
  /** Default 1. */
  connectors?: number;
  serial?: string;
  firmware?: string;
  /** Default RFID|LOCK|METER|3PH. */
  caps?: Capability[];
  /** Default: caps include 3PH. Overrides caps (3PH is added or removed to match). */
  threePhase?: boolean;
  /** METER_MS at boot (default 1000; 0 = only on READ/STATUS). */
  meterMs?: number;
  /** WATCHDOG_MS at boot (default 5000). */
  watchdogMs?: number;
  /** FALLBACK_A at boot (default 0). */
  fallbackA?: number;
  /** Energy integration speed-up for demos (default 1). */
  timeScale?: number;
  /** Lifetime register of every connector at start (default 0). */
  initialEnergyWh?: number;
  /** Seconds the controller had already been running at start() (default 0), so a reboot shows a lower uptime. */
  uptimeOffsetS?: number;
  /** Time from reset to `$HELLO`, input ignored meanwhile (default 50). */
  bootDelayMs?: number;
  /** Retry period for reopening the device after it vanished (default 200). */
  reopenMs?: number;
  logger?: HalLogger;
  timers?: SimTimers;
  /** Noise source in [0, 1) for meter readings (default Math.random). */
  random?: () => number;
}

export interface PlugOptions {
  /** Proximity pilot capacity: 13, 20, 32, 63 or 70 (default 32). */
  cableAmps?: number;
  /** Most the EV draws per phase (default 32). */
  evMaxAmps?: number;
}

export interface SimConnectorState {
  pilot: PilotState;
  pp: number;
  enabled: boolean;
  offeredAmps: number;
  /** True while the offered current is the watchdog fallback (until the next ENABLE). */
  fallback: boolean;
  contactor: boolean;
  lock: LockState;
  energyWh: number;
  currentA: number;
  evMaxAmps: number;
  /** This connector's active faults (station faults: `stationFaults`). */
  faults: string[];
}

export interface SimCounters {
  linesIn: number;
  linesOut: number;
  /** Well-formed commands acted upon (duplicates not included). */
  commands: number;
  /** Commands whose seq repeated the last answered one (answer re-sent only). */
  duplicates: number;
  acks: number;
  naks: number;
  /** ACK/NAK lines swallowed by dropAnswers(). */
  answersDropped: number;
  /** Lines received while muted or booting, not looked at. */
  ignored: number;
  /** Malformed lines, by reason. */
  dropped: DropCounters;
  reboots: number;
  reopens: number;
  watchdogFires: number;
}

export type LineDirection = 'in' | 'out';

export interface SimulatedControllerEventMap {
  /** A line on the wire: 'in' from the agent, 'out' to the agent (without `\n`). */
  line: [direction: LineDirection, text: string];
  /** A well-formed command, before it is acted upon (not emitted for a duplicate seq). */
  command: [frame: CommandFrame];
  /** A received line that was dropped as malformed. */
  dropped: [reason: DropReason, text: string];
  /** An ACK/NAK line swallowed by dropAnswers(). */
  answerDropped: [text: string];
  /** `$HELLO` sent after (re)boot. */
  boot: [uptimeSeconds: number];
  watchdog: [fired: boolean];
  /** The device went away (pty killed) / came back. */
  portClosed: [];
  portReopened: [];
}

interface Connector {
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

export const WATCHDOG_FAULT = 'AGENT_WATCHDOG';
const FAULT_CODE = /^[A-Z0-9_]{1,32}$/;
const UID = /^([0-9A-F]{8}|[0-9A-F]{14}|[0-9A-F]{20})$/;
const DECIMAL_INT = /^(0|[1-9][0-9]*)$/;
const AMPS_TEXT = /^(0|[1-9][0-9]*)(\.[0-9])?$/;
const MAX_PERIOD_MS = 86_400_000;
const MIN_METER_MS = 100;
const MIN_WATCHDOG_MS = 1000;

function resolveDevice(path: string): string | null {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
}

function isCommand(f: Frame): f is CommandFrame {
  return FRAME_TABLE[f.type].direction === 'command';
}

/** 0, or 6.0..80.0: what ENABLE and FALLBACK_A accept. */
function validAmps(a: number): boolean {
  return a === 0 || (a >= 6 && a <= 80);
}

export class SimulatedController extends EventEmitter<SimulatedControllerEventMap> {
  readonly connectorCount: number;
  readonly caps: readonly Capability[];
  readonly threePhase: boolean;
  readonly serial: string;
  readonly firmware: string;

  private readonly opts: SimulatedControllerOptions;
  private readonly timers: SimTimers;
  private readonly log: HalLogger;
  private readonly random: () => number;
  private readonly timeScale: number;
  private readonly conns: Connector[];
  private readonly stationFaultSet = new Set<string>();
  private readonly framer = new LineFramer();
  private port: SerialPort | null = null;

  private cfg = { meterMs: 1000, watchdogMs: 5000, fallbackA: 0 };
  private bootAt = 0;
  private uptimeOffsetS = 0;
  private booting = false;
  private running = false;
  private muted = false;
  private answersToDrop = 0;
  private lastAnswer: { seq: number; line: string } | null = null;
  private lastCmd: CommandFrame | null = null;
  private watchdogArmed = false;
  private watchdogFired = false;
  private watchdogTimer: TimerHandle | null = null;
  private meterTimer: TimerHandle | null = null;
  private bootTimer: TimerHandle | null = null;
  private reopenTimer: TimerHandle | null = null;
  private presenceTimer: TimerHandle | null = null;
  /** The device node behind `path` when it was opened (the pty slave a link points to). */
  private devicePath: string | null = null;
  private readonly count: SimCounters = {
    linesIn: 0,
    linesOut: 0,
    commands: 0,
    duplicates: 0,
    acks: 0,
    naks: 0,
    answersDropped: 0,
    ignored: 0,
    dropped: newDropCounters(),
    reboots: 0,
    reopens: 0,
    watchdogFires: 0,
  };

  constructor(opts: SimulatedControllerOptions) {
    super();
    this.opts = opts;
    this.timers = opts.timers ?? REAL_TIMERS;
    this.log = (opts.logger ?? SILENT_LOGGER).child({ mod: 'sim-controller' });
    this.random = opts.random ?? Math.random;
    this.timeScale = opts.timeScale ?? 1;
    const n = opts.connectors ?? 1;
    if (!Number.isInteger(n) || n < 1 || n > 999) throw new RangeError(`connectors must be 1..999, got ${n}`);
    this.connectorCount = n;
    const caps = new Set<Capability>(opts.caps ?? ['RFID', 'LOCK', 'METER', '3PH']);
    if (opts.threePhase === true) caps.add('3PH');
    if (opts.threePhase === false) caps.delete('3PH');
    this.caps = CAPABILITIES.filter((c) => caps.has(c));
    this.threePhase = caps.has('3PH');
    this.serial = opts.serial ?? 'SIM0001';
    this.firmware = opts.firmware ?? '2.4.0-sim';
    const now = this.timers.now();
    this.conns = Array.from({ length: n }, (_, i) => ({
      id: i + 1,
      pilot: 'A' as PilotState,
      pp: 0,
      evMaxAmps: 32,
      enabled: false,
      offeredAmps: 0,
      fallback: false,
      contactor: false,
      lock: 'unlocked' as LockState,
      energyWhExact: opts.initialEnergyWh ?? 0,
      lastIntegrationAt: now,
      faults: new Set<string>(),
    }));
    this.resetConfig();
  }

  // ---- lifecycle ----------------------------------------------------------

  /** Open the device and boot (resolves after `$HELLO` was sent). */
  async start(): Promise<void> {
    if (this.running) return;
    this.integrateAll();
    this.resetRuntime();
    this.uptimeOffsetS = this.opts.uptimeOffsetS ?? 0;
    this.running = true;
    try {
      await this.openPort();
    } catch (err) {
      this.running = false;
      throw err;
    }
    this.powerOn(0);
  }

  /** Stop all timers and close the device. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.integrateAll();
    for (const t of [this.bootTimer, this.reopenTimer, this.watchdogTimer]) if (t !== null) this.timers.clearTimeout(t);
    this.bootTimer = this.reopenTimer = this.watchdogTimer = null;
    if (this.presenceTimer !== null) this.timers.clearInterval(this.presenceTimer);
    this.presenceTimer = null;
    this.stopMeterTimer();
    const port = this.port;
    this.port = null;
    if (port?.isOpen) {
      await new Promise<void>((resolve) => port.close(() => resolve()));
    }
  }

  /** Reboot as after `$RESET`: all connectors disabled, config to boot values, uptime restarts, `$HELLO` after bootDelayMs. */
  reboot(): void {
    if (!this.running) throw new Error('simulator not started');
    this.integrateAll();
    this.count.reboots++;
    this.log.info('controller reboot');
    for (const t of [this.bootTimer, this.watchdogTimer]) if (t !== null) this.timers.clearTimeout(t);
    this.bootTimer = this.watchdogTimer = null;
    this.stopMeterTimer();
    this.resetRuntime();
    this.uptimeOffsetS = 0;
    this.powerOn(this.opts.bootDelayMs ?? 50);
  }

  /** What a (re)booting MCU loses; the EV, the cable, faults and energy registers stay. */
  private resetRuntime(): void {
    // Outputs drop: contactor open, lock motor released, PWM off.
    for (const k of this.conns) {
      k.enabled = false;
      k.offeredAmps = 0;
      k.fallback = false;
      k.contactor = false;
      if (k.lock === 'locked') k.lock = 'unlocked';
    }
    this.watchdogArmed = false;
    this.watchdogFired = false;
    this.lastAnswer = null;
    this.resetConfig();
    this.framer.reset();
  }

  private powerOn(delayMs: number): void {
    this.booting = true;
    this.bootAt = this.timers.now();
    const finish = (): void => {
      this.bootTimer = null;
      this.booting = false;
      const uptime = this.uptimeSeconds;
      this.send(this.hello());
      this.restartMeterTimer();
      this.emit('boot', uptime);
    };
    if (delayMs <= 0) finish();
    else this.bootTimer = this.timers.setTimeout(finish, delayMs);
  }

  private resetConfig(): void {
    this.cfg = {
      meterMs: this.opts.meterMs ?? 1000,
      watchdogMs: this.opts.watchdogMs ?? 5000,
      fallbackA: this.opts.fallbackA ?? 0,
    };
  }

  private openPort(): Promise<void> {
    const port = new SerialPort({ path: this.opts.path, baudRate: this.opts.baudRate ?? 115200, autoOpen: false });
    port.on('data', (chunk: Buffer) => this.onData(chunk));
    port.on('error', (err: Error) => this.log.warn({ err: err.message }, 'serial error'));
    port.on('close', () => {
      if (this.port !== port || !this.running) return;
      // The device vanished (pty killed, USB adapter pulled): the MCU keeps running; retry the device.
      this.log.warn('serial device closed; reopening');
      this.port = null;
      this.emit('portClosed');
      this.scheduleReopen();
    });
    return new Promise<void>((resolve, reject) => {
      port.open((err) => {
        if (err) {
          reject(err);
          return;
        }
        this.port = port;
        this.devicePath = resolveDevice(this.opts.path);
        this.framer.reset();
        this.startPresenceCheck();
        resolve();
      });
    });
  }

  /**
   * Safety net for a vanished device: serialport re-reads a hung-up pty (read() = 0)
   * in a loop without reporting it when the hang-up races a read, so also watch the
   * path and close the port ourselves when it is gone or points elsewhere.
   */
  private startPresenceCheck(): void {
    if (this.presenceTimer !== null) return;
    this.presenceTimer = this.timers.setInterval(() => {
      const port = this.port;
      if (port === null || !port.isOpen) return;
      if (resolveDevice(this.opts.path) === this.devicePath) return;
      this.log.warn('serial device path vanished; closing');
      port.close();
    }, this.opts.reopenMs ?? 200);
  }

  private scheduleReopen(): void {
    if (!this.running || this.reopenTimer !== null) return;
    this.reopenTimer = this.timers.setTimeout(() => {
      this.reopenTimer = null;
      if (!this.running) return;
      this.openPort().then(
        () => {
          if (!this.running) {
            void this.closeStray();
            return;
          }
          this.count.reopens++;
          this.log.info('serial device back');
          this.emit('portReopened');
        },
        () => this.scheduleReopen(),
      );
    }, this.opts.reopenMs ?? 200);
  }

  private async closeStray(): Promise<void> {
    const port = this.port;
    this.port = null;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  // ---- wire ---------------------------------------------------------------

  private onData(chunk: Buffer): void {
    const overlongBefore = this.framer.overlongCount;
    const lines = this.framer.push(chunk);
    const overlong = this.framer.overlongCount - overlongBefore;
    if (overlong > 0) {
      this.count.dropped.overlong += overlong;
      this.emit('dropped', 'overlong', '');
    }
    // latin1 keeps one char per byte, so the codec sees (and rejects) non-ASCII bytes.
    for (const line of lines) this.onLine(line.toString('latin1'));
  }

  private onLine(text: string): void {
    this.count.linesIn++;
    this.emit('line', 'in', text);
    if (this.muted || this.booting || !this.running) {
      this.count.ignored++;
      return;
    }
    const r = decodeLine(text, 'command');
    if (!r.ok || !isCommand(r.frame)) {
      const reason: DropReason = r.ok ? 'wrong-direction' : r.reason;
      this.count.dropped[reason]++;
      this.log.debug({ reason, text }, 'dropped line');
      this.emit('dropped', reason, text);
      return;
    }
    const frame = r.frame;
    this.feedWatchdog();
    if (this.lastAnswer !== null && frame.seq === this.lastAnswer.seq) {
      // A resend: the same answer again and nothing else (§Commands).
      this.count.duplicates++;
      this.writeAnswer(this.lastAnswer.line, this.lastAnswer.line.startsWith('$ACK'));
      return;
    }
    this.count.commands++;
    this.lastCmd = frame;
    this.emit('command', frame);
    this.integrateAll();
    this.dispatch(frame);
  }

  private send(frame: EventFrame): void {
    if (frame.type === 'ACK' || frame.type === 'NAK') throw new Error('answers go through answer()');
    this.writeLine(encodeFrame(frame));
  }

  private writeLine(line: string): void {
    if (this.muted || !this.running) return;
    const port = this.port;
    // No device open: the bytes are lost, as on a UART nobody listens to.
    if (port === null || !port.isOpen) return;
    port.write(line);
    this.count.linesOut++;
    this.emit('line', 'out', line.slice(0, -1));
  }

  private answer(seq: number, nak?: string): void {
    const line = encodeFrame(nak === undefined ? { type: 'ACK', seq } : { type: 'NAK', seq, reason: nak });
    this.lastAnswer = { seq, line };
    this.writeAnswer(line, nak === undefined);
  }

  private writeAnswer(line: string, ack: boolean): void {
    if (this.answersToDrop > 0) {
      this.answersToDrop--;
      this.count.answersDropped++;
      this.emit('answerDropped', line.slice(0, -1));
      return;
    }
    if (ack) this.count.acks++;
    else this.count.naks++;
    this.writeLine(line);
  }

  // ---- commands -----------------------------------------------------------

  private dispatch(f: CommandFrame): void {
    switch (f.type) {
      case 'INFO':
        this.answer(f.seq);
        this.send(this.hello());
        return;
      case 'STATUS':
        this.sendStatusDump();
        this.answer(f.seq);
        return;
      case 'PING':
        this.answer(f.seq);
        return;
      case 'RESET':
        this.answer(f.seq);
        this.reboot();
        return;
      case 'ENABLE':
        this.onEnable(f);
        return;
      case 'DISABLE':
        this.onDisable(f);
        return;
      case 'UNLOCK':
        this.onUnlock(f);
        return;
      case 'READ': {
        const targets = this.targets(f.connector);
        if (targets === null) return this.answer(f.seq, 'BADCONN');
        for (const k of targets) this.send(this.meterFrame(k));
        this.answer(f.seq);
        return;
      }
      case 'CONFIG':
        this.onConfig(f);
        return;
    }
  }

  /** Connector c, or every connector for 0; null for an unknown connector. */
  private targets(c: number): Connector[] | null {
    if (c === 0) return this.conns;
    const k = this.conns[c - 1];
    return k === undefined ? null : [k];
  }

  private onEnable(f: FrameOf<'ENABLE'>): void {
    const targets = this.targets(f.connector);
    if (targets === null) return this.answer(f.seq, 'BADCONN');
    if (!validAmps(f.amps)) return this.answer(f.seq, 'BADVALUE');
    if (this.stationFaultSet.size > 0 || targets.some((k) => k.faults.size > 0)) return this.answer(f.seq, 'FAULTED');
    this.answer(f.seq);
    for (const k of targets) {
      k.enabled = true;
      k.offeredAmps = f.amps;
      k.fallback = false;
      if (this.caps.includes('LOCK') && k.pp > 0) this.setLock(k, 'locked');
      this.reconcile(k);
    }
  }

  private onDisable(f: FrameOf<'DISABLE'>): void {
    const targets = this.targets(f.connector);
    if (targets === null) return this.answer(f.seq, 'BADCONN');
    this.answer(f.seq);
    for (const k of targets) {
      k.enabled = false;
      k.offeredAmps = 0;
      k.fallback = false;
      this.reconcile(k);
      this.setLock(k, 'unlocked');
    }
  }

  private onUnlock(f: FrameOf<'UNLOCK'>): void {
    const targets = this.targets(f.connector);
    if (targets === null) return this.answer(f.seq, 'BADCONN');
    if (!this.caps.includes('LOCK')) return this.answer(f.seq, 'NOLOCK');
    this.answer(f.seq);
    for (const k of targets) {
      // Never unlock under load: with the lock released the contactor rule keeps it open.
      if (k.lock === 'locked') k.lock = 'unlocked';
      this.reconcile(k);
      // The outcome always follows as $LOCK, also when it already was unlocked.
      this.send({ type: 'LOCK', connector: k.id, state: k.lock });
    }
  }

  private onConfig(f: FrameOf<'CONFIG'>): void {
    const key = f.key;
    if (!(CONFIG_KEYS as readonly string[]).includes(key)) return this.answer(f.seq, 'BADKEY');
    if (key === 'FALLBACK_A') {
      const a = AMPS_TEXT.test(f.value) ? Number(f.value) : Number.NaN;
      if (!validAmps(a)) return this.answer(f.seq, 'BADVALUE');
      this.cfg.fallbackA = a;
      return this.answer(f.seq);
    }
    const ms = DECIMAL_INT.test(f.value) && f.value.length <= 9 ? Number(f.value) : Number.NaN;
    if (key === 'METER_MS') {
      if (!(ms === 0 || (ms >= MIN_METER_MS && ms <= MAX_PERIOD_MS))) return this.answer(f.seq, 'BADVALUE');
      this.cfg.meterMs = ms;
      this.answer(f.seq);
      this.restartMeterTimer();
      return;
    }
    // WATCHDOG_MS
    if (!(ms >= MIN_WATCHDOG_MS && ms <= MAX_PERIOD_MS)) return this.answer(f.seq, 'BADVALUE');
    this.cfg.watchdogMs = ms;
    this.answer(f.seq);
    this.armWatchdogTimer();
  }

  private sendStatusDump(): void {
    for (const k of this.conns) {
      this.send({ type: 'CP', connector: k.id, state: k.pilot });
      this.send({ type: 'PP', connector: k.id, amps: k.pp });
      this.send({ type: 'RELAY', connector: k.id, closed: k.contactor });
      this.send({ type: 'LOCK', connector: k.id, state: k.lock });
      this.send(this.meterFrame(k));
      for (const code of k.faults) this.send({ type: 'FAULT', connector: k.id, code });
    }
    for (const code of this.stationFaults) this.send({ type: 'FAULT', connector: 0, code });
  }

  private hello(): EventFrame {
    return {
      type: 'HELLO',
      proto: 1,
      firmware: this.firmware,
      connectors: this.connectorCount,
      serial: this.serial,
      caps: [...this.caps],
      uptimeSeconds: this.uptimeSeconds,
    };
  }

  // ---- physics ------------------------------------------------------------

  private currentOf(k: Connector): number {
    return chargeCurrentA({ contactorClosed: k.contactor, offeredAmps: k.offeredAmps, evMaxAmps: k.evMaxAmps, cableAmps: k.pp });
  }

  private integrate(k: Connector): void {
    const now = this.timers.now();
    const power = nominalPowerW(this.currentOf(k), this.threePhase ? 3 : 1);
    k.energyWhExact += energyDeltaWh(power, now - k.lastIntegrationAt, this.timeScale);
    k.lastIntegrationAt = now;
  }

  /** Bring energy registers up to now; called before anything that changes a current. */
  private integrateAll(): void {
    for (const k of this.conns) this.integrate(k);
  }

  private meterFrame(k: Connector): EventFrame {
    this.integrate(k);
    const m = meterReading(k.energyWhExact, this.currentOf(k), this.threePhase ? 3 : 1, this.random);
    return { type: 'METER', connector: k.id, ...m };
  }

  /** The contactor rule (§Commands ENABLE): EV in C/D, enabled with >= 6 A, no fault, cable locked. */
  private reconcile(k: Connector): void {
    const lockOk = !this.caps.includes('LOCK') || k.pp === 0 || k.lock === 'locked';
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
    this.send({ type: 'RELAY', connector: k.id, closed: want });
  }

  private setLock(k: Connector, state: LockState): void {
    if (!this.caps.includes('LOCK') || k.lock === state) return;
    k.lock = state;
    this.send({ type: 'LOCK', connector: k.id, state });
  }

  private setPilotState(k: Connector, state: PilotState): void {
    if (k.pilot === state) return;
    this.integrate(k);
    k.pilot = state;
    this.send({ type: 'CP', connector: k.id, state });
    this.reconcile(k);
  }

  private restartMeterTimer(): void {
    this.stopMeterTimer();
    if (!this.running || this.booting || this.cfg.meterMs <= 0) return;
    this.meterTimer = this.timers.setInterval(() => {
      for (const k of this.conns) this.send(this.meterFrame(k));
    }, this.cfg.meterMs);
  }

  private stopMeterTimer(): void {
    if (this.meterTimer !== null) this.timers.clearInterval(this.meterTimer);
    this.meterTimer = null;
  }

  // ---- watchdog (§Link health) --------------------------------------------

  private feedWatchdog(): void {
    this.watchdogArmed = true;
    if (this.watchdogFired) {
      this.watchdogFired = false;
      this.send({ type: 'FAULTCLR', connector: 0, code: WATCHDOG_FAULT });
      this.emit('watchdog', false);
    }
    this.armWatchdogTimer();
  }

  private armWatchdogTimer(): void {
    if (this.watchdogTimer !== null) this.timers.clearTimeout(this.watchdogTimer);
    this.watchdogTimer = null;
    if (!this.watchdogArmed || !this.running || this.muted || this.watchdogFired) return;
    this.watchdogTimer = this.timers.setTimeout(() => this.fireWatchdog(), this.cfg.watchdogMs);
  }

  private fireWatchdog(): void {
    this.watchdogTimer = null;
    if (this.muted || !this.running || this.booting) return;
    this.integrateAll();
    this.watchdogFired = true;
    this.count.watchdogFires++;
    this.log.warn('agent watchdog fired');
    for (const k of this.conns) {
      if (!k.enabled) continue;
      k.offeredAmps = Math.min(k.offeredAmps, this.cfg.fallbackA);
      k.fallback = true;
      this.reconcile(k);
    }
    this.send({ type: 'FAULT', connector: 0, code: WATCHDOG_FAULT });
    this.emit('watchdog', true);
  }

  // ---- scripting API --------------------------------------------------------

  private connector(c: number): Connector {
    const k = Number.isInteger(c) ? this.conns[c - 1] : undefined;
    if (k === undefined) throw new RangeError(`no connector ${c} (1..${this.connectorCount})`);
    return k;
  }

  /** EV plugged in: `$CP` B and `$PP` with the cable capacity; a connector already enabled locks the cable. */
  plugIn(c: number, opts: PlugOptions = {}): void {
    const k = this.connector(c);
    const cable = opts.cableAmps ?? 32;
    if (cable === 0 || !PP_CAPACITIES.includes(cable)) throw new RangeError(`cable capacity must be one of 13, 20, 32, 63, 70`);
    if (k.pilot !== 'A') throw new Error(`connector ${c} already has an EV (pilot ${k.pilot})`);
    this.integrateAll();
    k.evMaxAmps = opts.evMaxAmps ?? 32;
    this.setPilotState(k, 'B');
    k.pp = cable;
    this.send({ type: 'PP', connector: k.id, amps: cable });
    if (k.enabled) this.setLock(k, 'locked');
  }

  /** EV asks for energy: pilot C (D with ventilation). */
  evRequestEnergy(c: number, opts: { ventilation?: boolean } = {}): void {
    const k = this.connector(c);
    if (k.pilot === 'A') throw new Error(`connector ${c} has no EV plugged in`);
    this.integrateAll();
    this.setPilotState(k, opts.ventilation === true ? 'D' : 'C');
  }

  /** EV pauses or is full: pilot B, the contactor opens. */
  evPause(c: number): void {
    const k = this.connector(c);
    if (k.pilot === 'A') throw new Error(`connector ${c} has no EV plugged in`);
    this.integrateAll();
    this.setPilotState(k, 'B');
  }

  /** The EV lowers (or raises) the current it draws. */
  evSetMaxAmps(c: number, amps: number): void {
    const k = this.connector(c);
    if (!(amps >= 0)) throw new RangeError('amps must be >= 0');
    this.integrateAll();
    k.evMaxAmps = amps;
  }

  /** Cable removed: pilot A (contactor opens), `$PP` 0, lock released. */
  unplug(c: number): void {
    const k = this.connector(c);
    this.integrateAll();
    this.setPilotState(k, 'A');
    if (k.pp !== 0) {
      k.pp = 0;
      this.send({ type: 'PP', connector: k.id, amps: 0 });
    }
    this.setLock(k, 'unlocked');
  }

  /** Force a pilot state, e.g. E (pilot error) or F. */
  setPilot(c: number, state: PilotState): void {
    const k = this.connector(c);
    this.integrateAll();
    this.setPilotState(k, state);
  }

  /** A card at the reader: `$RFID` with the UID in upper-case hex (8, 14 or 20 digits). */
  swipeCard(uid: string): void {
    const u = uid.toUpperCase();
    if (!UID.test(u)) throw new RangeError(`UID must be 8, 14 or 20 hex digits, got ${JSON.stringify(uid)}`);
    if (!this.caps.includes('RFID')) throw new Error('controller has no RFID reader');
    this.send({ type: 'RFID', uid: u });
  }

  /** A fault becomes active: the connector (0 = all) is made safe and disabled, then `$FAULT`. */
  raiseFault(c: number, code: string): void {
    if (!FAULT_CODE.test(code)) throw new RangeError(`fault code must match ${FAULT_CODE.source}`);
    const set = c === 0 ? this.stationFaultSet : this.connector(c).faults;
    if (set.has(code)) return;
    this.integrateAll();
    set.add(code);
    for (const k of c === 0 ? this.conns : [this.connector(c)]) {
      k.enabled = false;
      k.offeredAmps = 0;
      k.fallback = false;
      this.reconcile(k);
    }
    this.send({ type: 'FAULT', connector: c, code });
  }

  /** The fault is gone: `$FAULTCLR`; the connector stays disabled until the next ENABLE. */
  clearFault(c: number, code: string): void {
    const set = c === 0 ? this.stationFaultSet : this.connector(c).faults;
    if (!set.delete(code)) return;
    this.send({ type: 'FAULTCLR', connector: c, code });
  }

  /** Swallow the next n ACK/NAK lines (the agent must resend). */
  dropAnswers(n: number): void {
    this.answersToDrop = Math.max(0, Math.floor(n));
  }

  /** A dead controller: nothing is answered or sent while on. */
  setMute(on: boolean): void {
    if (this.muted === on) return;
    this.muted = on;
    // A dead controller's watchdog is dead too; it restarts from now.
    this.armWatchdogTimer();
  }

  /** Write arbitrary text as is (no `\n` added), e.g. garbage for tests. */
  sendRawLine(text: string | Uint8Array): void {
    const port = this.port;
    if (!this.running || port === null || !port.isOpen) return;
    port.write(typeof text === 'string' ? Buffer.from(text, 'latin1') : text);
    this.emit('line', 'out', typeof text === 'string' ? text.replace(/\n$/, '') : Buffer.from(text).toString('latin1'));
  }

  // ---- read-only state --------------------------------------------------------

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

  /** Active station (connector 0) faults, AGENT_WATCHDOG included while it is raised. */
  get stationFaults(): string[] {
    return [...this.stationFaultSet, ...(this.watchdogFired ? [WATCHDOG_FAULT] : [])];
  }

  get lastCommand(): CommandFrame | null {
    return this.lastCmd;
  }

  get counters(): SimCounters {
    return { ...this.count, dropped: { ...this.count.dropped } };
  }

  get config(): { meterMs: number; watchdogMs: number; fallbackA: number } {
    return { ...this.cfg };
  }

  get uptimeSeconds(): number {
    return this.uptimeOffsetS + Math.floor((this.timers.now() - this.bootAt) / 1000);
  }

  get isMuted(): boolean {
    return this.muted;
  }

  get isBooting(): boolean {
    return this.booting;
  }

  get watchdogActive(): boolean {
    return this.watchdogFired;
  }

  /** True while the device is open (false after the pty vanished, until it is back). */
  get portOpen(): boolean {
    return this.port?.isOpen ?? false;
  }
}
