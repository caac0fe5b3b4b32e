// The controller side of controller-serial.md (all sections) as a simulator on a
// serial device (the controller end of a pty pair), so the agent's real serialport
// driver is exercised end to end. Tests and demos drive the EV and faults through
// the scripting methods (plugIn, evRequestEnergy, raiseFault, dropAnswers, ...).
// This is the facade: lifecycle and boot here; the wire in serial-link.ts, commands in
// command-protocol.ts, connectors and metering in electrical-model.ts, the agent
// watchdog in agent-watchdog.ts.
import { EventEmitter } from 'node:events';
import { encodeFrame } from '../controller/protocol/frame-codec.js';
import { CAPABILITIES, type Capability, type CommandFrame, type EventFrame, type PilotState } from '../controller/protocol/frame-table.js';
import { SILENT_LOGGER, type HalLogger } from '../log.js';
import { REAL_TIMERS, type TimerHandle } from '../timers.js';
import { AgentWatchdog, WATCHDOG_FAULT } from './agent-watchdog.js';
import { CommandProtocol } from './command-protocol.js';
import { ElectricalModel } from './electrical-model.js';
import { SimSerialLink } from './serial-link.js';
import {
  newSimCounters,
  type PlugOptions,
  type SimConfig,
  type SimConnectorState,
  type SimCounters,
  type SimTimers,
  type SimulatedControllerEventMap,
  type SimulatedControllerOptions,
} from './sim-types.js';

export type {
  LineDirection,
  PlugOptions,
  SimConnectorState,
  SimCounters,
  SimTimers,
  SimulatedControllerEventMap,
  SimulatedControllerOptions,
} from './sim-types.js';
export { REAL_TIMERS, WATCHDOG_FAULT };

const UID = /^([0-9A-F]{8}|[0-9A-F]{14}|[0-9A-F]{20})$/;

export class SimulatedController extends EventEmitter<SimulatedControllerEventMap> {
  readonly connectorCount: number;
  readonly caps: readonly Capability[];
  readonly threePhase: boolean;
  readonly serial: string;
  readonly firmware: string;

  private readonly opts: SimulatedControllerOptions;
  private readonly timers: SimTimers;
  private readonly log: HalLogger;
  private readonly model: ElectricalModel;
  private readonly link: SimSerialLink;
  private readonly protocol: CommandProtocol;
  private readonly watchdog: AgentWatchdog;

  /** Mutated in place (CONFIG writes into it, boot resets it), as the protocol holds it. */
  private readonly cfg: SimConfig = { meterMs: 1000, watchdogMs: 5000, fallbackA: 0 };
  private bootAt = 0;
  private uptimeOffsetS = 0;
  private booting = false;
  private bootTimer: TimerHandle | null = null;
  private readonly count: SimCounters = newSimCounters();

  constructor(opts: SimulatedControllerOptions) {
    super();
    this.opts = opts;
    this.timers = opts.timers ?? REAL_TIMERS;
    this.log = (opts.logger ?? SILENT_LOGGER).child({ mod: 'sim-controller' });
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
    const send = (frame: EventFrame): void => this.send(frame);
    this.model = new ElectricalModel({
      connectors: n,
      caps: this.caps,
      threePhase: this.threePhase,
      timeScale: opts.timeScale ?? 1,
      initialEnergyWh: opts.initialEnergyWh ?? 0,
      timers: this.timers,
      random: opts.random ?? Math.random,
      send,
    });
    this.link = new SimSerialLink({
      path: opts.path,
      baudRate: opts.baudRate,
      reopenMs: opts.reopenMs,
      timers: this.timers,
      log: this.log,
      events: this,
      counters: this.count,
      onLine: (text) => this.protocol.handleLine(text),
    });
    this.watchdog = new AgentWatchdog({
      timers: this.timers,
      periodMs: () => this.cfg.watchdogMs,
      live: () => this.running && !this.link.muted,
      booting: () => this.booting,
      onFire: () => this.onWatchdogFired(),
      onClear: () => {
        this.send({ type: 'FAULTCLR', connector: 0, code: WATCHDOG_FAULT });
        this.emit('watchdog', false);
      },
    });
    this.protocol = new CommandProtocol({
      caps: this.caps,
      model: this.model,
      config: this.cfg,
      counters: this.count,
      events: this,
      log: this.log,
      send,
      writeAnswer: (line) => this.link.writeAnswer(line),
      booting: () => this.booting,
      feedWatchdog: () => this.watchdog.feed(),
      hello: () => this.hello(),
      stationFaults: () => this.stationFaults,
      reboot: () => this.reboot(),
      periodChanged: (key) => (key === 'METER_MS' ? this.restartMeterTimer() : this.watchdog.rearm()),
    });
    this.resetConfig();
  }

  // ---- lifecycle ----------------------------------------------------------

  /** Open the device and boot (resolves after `$HELLO` was sent). */
  async start(): Promise<void> {
    if (this.running) return;
    this.model.integrateAll();
    this.resetRuntime();
    this.uptimeOffsetS = this.opts.uptimeOffsetS ?? 0;
    await this.link.start();
    this.powerOn(0);
  }

  /** Stop all timers and close the device. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.model.integrateAll();
    if (this.bootTimer !== null) this.timers.clearTimeout(this.bootTimer);
    this.bootTimer = null;
    this.watchdog.cancel();
    this.model.stopMeter();
    await this.link.stop();
  }

  /** Reboot as after `$RESET`: all connectors disabled, config to boot values, uptime restarts, `$HELLO` after bootDelayMs. */
  reboot(): void {
    if (!this.running) throw new Error('simulator not started');
    this.model.integrateAll();
    this.count.reboots++;
    this.log.info('controller reboot');
    if (this.bootTimer !== null) this.timers.clearTimeout(this.bootTimer);
    this.bootTimer = null;
    this.model.stopMeter();
    this.resetRuntime();
    this.uptimeOffsetS = 0;
    this.powerOn(this.opts.bootDelayMs ?? 50);
  }

  private get running(): boolean {
    return this.link.running;
  }

  /** What a (re)booting MCU loses; the EV, the cable, faults and energy registers stay. */
  private resetRuntime(): void {
    this.model.powerLoss();
    this.watchdog.reset();
    this.protocol.reset();
    this.resetConfig();
    this.link.resetFramer();
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
    this.cfg.meterMs = this.opts.meterMs ?? 1000;
    this.cfg.watchdogMs = this.opts.watchdogMs ?? 5000;
    this.cfg.fallbackA = this.opts.fallbackA ?? 0;
  }

  private restartMeterTimer(): void {
    if (!this.running || this.booting) this.model.stopMeter();
    else this.model.startMeter(this.cfg.meterMs);
  }

  private onWatchdogFired(): void {
    this.count.watchdogFires++;
    this.log.warn('agent watchdog fired');
    this.model.applyFallback(this.cfg.fallbackA);
    this.send({ type: 'FAULT', connector: 0, code: WATCHDOG_FAULT });
    this.emit('watchdog', true);
  }

  private send(frame: EventFrame): void {
    if (frame.type === 'ACK' || frame.type === 'NAK') throw new Error('answers go through answer()');
    this.link.writeLine(encodeFrame(frame));
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

  // ---- scripting API --------------------------------------------------------

  /** EV plugged in: `$CP` B and `$PP` with the cable capacity; a connector already enabled locks the cable. */
  plugIn(c: number, opts: PlugOptions = {}): void {
    this.model.plugIn(c, opts);
  }

  /** EV asks for energy: pilot C (D with ventilation). */
  evRequestEnergy(c: number, opts: { ventilation?: boolean } = {}): void {
    this.model.evRequestEnergy(c, opts.ventilation === true);
  }

  /** EV pauses or is full: pilot B, the contactor opens. */
  evPause(c: number): void {
    this.model.evPause(c);
  }

  /** The EV lowers (or raises) the current it draws. */
  evSetMaxAmps(c: number, amps: number): void {
    this.model.evSetMaxAmps(c, amps);
  }

  /** Cable removed: pilot A (contactor opens), `$PP` 0, lock released. */
  unplug(c: number): void {
    this.model.unplug(c);
  }

  /** Force a pilot state, e.g. E (pilot error) or F. */
  setPilot(c: number, state: PilotState): void {
    this.model.setPilot(c, state);
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
    this.model.raiseFault(c, code);
  }

  /** The fault is gone: `$FAULTCLR`; the connector stays disabled until the next ENABLE. */
  clearFault(c: number, code: string): void {
    this.model.clearFault(c, code);
  }

  /** Swallow the next n ACK/NAK lines (the agent must resend). */
  dropAnswers(n: number): void {
    this.link.dropAnswers(n);
  }

  /** A dead controller: nothing is answered or sent while on. */
  setMute(on: boolean): void {
    if (this.link.muted === on) return;
    this.link.muted = on;
    // A dead controller's watchdog is dead too; it restarts from now.
    this.watchdog.rearm();
  }

  /** Write arbitrary text as is (no `\n` added), e.g. garbage for tests. */
  sendRawLine(text: string | Uint8Array): void {
    this.link.sendRaw(text);
  }

  // ---- read-only state --------------------------------------------------------

  state(c: number): SimConnectorState {
    return this.model.state(c);
  }

  /** Active station (connector 0) faults, AGENT_WATCHDOG included while it is raised. */
  get stationFaults(): string[] {
    return [...this.model.stationFaultSet, ...(this.watchdog.active ? [WATCHDOG_FAULT] : [])];
  }

  get lastCommand(): CommandFrame | null {
    return this.protocol.lastCommand;
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
    return this.link.muted;
  }

  get isBooting(): boolean {
    return this.booting;
  }

  get watchdogActive(): boolean {
    return this.watchdog.active;
  }

  /** True while the device is open (false after the pty vanished, until it is back). */
  get portOpen(): boolean {
    return this.link.portOpen;
  }
}
