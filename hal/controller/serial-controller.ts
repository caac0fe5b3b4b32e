// Driver for the charge controller over a serial line (controller-serial.md): the port and
// its reopen loop, PING keep-alive, link-down detection, and event frames into typed events.
// Sequence numbers, ACK/NAK and resends are the command channel's (command-channel.ts); the
// link state and its resynchronisation on recovery ($INFO + $STATUS, wanted ENABLEs
// re-applied) are link-sync.ts's.
// No polling tick: every deadline (resend, keep-alive, silence, reopen) has its own
// timer armed for the moment it is due, so an idle linked driver wakes for the PING
// each second plus a silence check every few seconds.
import { SerialPort } from '../serialport.js';
import type { HalLogger } from '../log.js';
import { SILENT_LOGGER } from '../log.js';
import { REAL_TIMERS, type HalTimers, type TimerHandle } from '../timers.js';
import { TypedEmitter } from '../typed-emitter.js';
import { formatChecksum, xorChecksum } from './protocol/checksum.js';
import { decodeLine, encodeFrame, newDropCounters, type DropCounters } from './protocol/frame-codec.js';
import { FRAME_TABLE, formatAmps, isFrameType, type CommandFrame, type EventFrame } from './protocol/frame-table.js';
import { LineFramer } from './protocol/line-framer.js';
import { LazyDeadline } from './lazy-deadline.js';
import { mainThreadBinding } from './main-thread-io.js';
import { CommandChannel } from './command-channel.js';
import { LinkSync } from './link-sync.js';
import { checkPeriod, MeterPeriodPolicy } from './meter-period.js';
import { ControllerLinkError, type ChargeController, type ChargeControllerEvents, type ControllerCounters, type ControllerInfo, type LinkDownReason } from './types.js';

export interface SerialControllerOptions {
  path: string;
  baudRate?: number;
  logger?: HalLogger;
  timers?: HalTimers;
  /** Resend after this long without ACK/NAK (spec: 250 ms). */
  ackTimeoutMs?: number;
  /** Sends in all before the link counts as down (spec: 3). */
  maxSends?: number;
  /** At least one command this often (spec: every second). */
  keepAliveMs?: number;
  /** No frame at all for this long means the link is down (spec: 3 s). */
  silenceTimeoutMs?: number;
  /** Wait between attempts to (re)open the device. */
  reopenDelayMs?: number;
  /**
   * METER_MS while every pilot is A or F (nothing can flow): default 60000, so voltage and
   * temperature still refresh. null leaves METER_MS to the controller (no $CONFIG at all).
   */
  idleMeterMs?: number | null;
  /** METER_MS while any connector has an EV (default 1000, the protocol default). */
  activeMeterMs?: number;
  /** Device reads and writes on the main thread rather than in libuv's thread pool (default true; main-thread-io.ts). */
  mainThreadIo?: boolean;
}

/** Keep-alive margin, so a slightly late timer still keeps gaps within keepAliveMs. */
const KEEPALIVE_MARGIN_MS = 50;
export { SEQ_MAX } from './command-channel.js';

export class SerialController extends TypedEmitter<ChargeControllerEvents> implements ChargeController {
  private readonly log: HalLogger;
  private readonly timers: HalTimers;
  private readonly opts: Required<Omit<SerialControllerOptions, 'logger' | 'timers'>>;

  private port: SerialPort | null = null;
  private framer: LineFramer | null = null;
  private overlongBeforeReopen = 0;
  private stopping = false;
  private started = false;
  private reopenTimer: TimerHandle | null = null;
  /** Due a little under keepAliveMs after the last send: sends in between postpone it. */
  private readonly keepAlive: LazyDeadline;
  /** Due silenceTimeoutMs after the last frame received: frames in between postpone it. */
  private readonly silence: LazyDeadline;
  private readonly meterPeriod: MeterPeriodPolicy;
  private openFailuresLogged = 0;

  private lastFrameAt = 0;
  private lastSentAt = 0;
  private readonly commands: CommandChannel;
  private readonly sync: LinkSync;

  private readonly stats = {
    framesReceived: 0,
    framesSent: 0,
    linkDowns: 0,
    reopens: 0,
  };
  private readonly dropped: DropCounters = newDropCounters();

  constructor(options: SerialControllerOptions) {
    super();
    this.log = (options.logger ?? SILENT_LOGGER).child({ module: 'controller', port: options.path });
    this.timers = options.timers ?? REAL_TIMERS;
    this.opts = {
      path: options.path,
      baudRate: options.baudRate ?? 115200,
      ackTimeoutMs: options.ackTimeoutMs ?? 250,
      maxSends: options.maxSends ?? 3,
      keepAliveMs: options.keepAliveMs ?? 1000,
      silenceTimeoutMs: options.silenceTimeoutMs ?? 3000,
      reopenDelayMs: options.reopenDelayMs ?? 1000,
      idleMeterMs: options.idleMeterMs === null ? null : checkPeriod('idleMeterMs', options.idleMeterMs ?? 60_000),
      activeMeterMs: checkPeriod('activeMeterMs', options.activeMeterMs ?? 1000),
      mainThreadIo: options.mainThreadIo ?? true,
    };
    this.commands = new CommandChannel(
      {
        canSend: () => this.port?.isOpen === true,
        priorityOnly: () => this.sync.state === 'syncing',
        write: (line) => this.write(line),
        gaveUp: () => this.linkDown('no-answer'),
      },
      this.timers,
      this.log,
      this.opts.ackTimeoutMs,
      this.opts.maxSends,
    );
    this.sync = new LinkSync(
      {
        command: (name, build, priority) => this.command(name, build, priority),
        meterResyncStep: () => this.meterPeriod.resyncStep(),
        up: (info, reset) => {
          if (info) {
            this.emit('linkUp', info);
            if (reset) this.emit('controllerReset', info);
          }
          this.meterPeriod.linkUp();
          this.commands.pump();
        },
      },
      this.log,
    );
    const { keepAliveMs, silenceTimeoutMs } = this.opts;
    const keepAlivePeriod = Math.max(1, keepAliveMs - Math.min(KEEPALIVE_MARGIN_MS, keepAliveMs / 10));
    const whileOpen = (due: () => number) => () => (this.port?.isOpen && !this.stopping ? due() : null);
    this.keepAlive = new LazyDeadline(this.timers, whileOpen(() => this.lastSentAt + keepAlivePeriod), () => this.tick(), keepAlivePeriod);
    this.silence = new LazyDeadline(this.timers, whileOpen(() => this.lastFrameAt + silenceTimeoutMs), () => this.onSilence(), silenceTimeoutMs);
    this.meterPeriod = new MeterPeriodPolicy(
      { idleMeterMs: this.opts.idleMeterMs, activeMeterMs: this.opts.activeMeterMs },
      {
        linkUp: () => this.sync.state === 'up',
        connectorCount: () => this.sync.info?.connectorCount ?? 0,
        sendPeriod: (value, priority) =>
          this.command('CONFIG METER_MS', (seq) => encodeFrame({ type: 'CONFIG', seq, key: 'METER_MS', value: String(value()) }), priority),
        readMeter: (connector) => this.readMeter(connector),
      },
      this.timers,
      this.log,
    );
  }

  get isLinkUp(): boolean {
    return this.sync.state === 'up';
  }

  get info(): ControllerInfo | null {
    return this.sync.info;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.stopping = false;
    await this.openPort();
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.stopping = true;
    this.started = false;
    this.keepAlive.cancel();
    this.silence.cancel();
    this.meterPeriod.cancel();
    if (this.reopenTimer) this.timers.clearTimeout(this.reopenTimer);
    this.reopenTimer = null;
    this.commands.failAll(new ControllerLinkError('stop', 'controller driver stopped'));
    const wasUp = this.sync.stopped();
    await this.closePort();
    if (wasUp) this.emit('linkDown', 'stopped');
  }

  enable(connector: number, amps: number): Promise<void> {
    if (!Number.isFinite(amps) || !(amps === 0 || (amps >= 6 && amps <= 80))) {
      return Promise.reject(new RangeError(`enable: amps must be 0 or 6..80, got ${amps}`));
    }
    const rounded = Number(formatAmps(amps));
    this.sync.want(connector, rounded);
    return this.command(`ENABLE ${connector}`, (seq) => encodeFrame({ type: 'ENABLE', seq, connector, amps: rounded }));
  }

  disable(connector: number): Promise<void> {
    this.sync.want(connector, null);
    return this.command(`DISABLE ${connector}`, (seq) => encodeFrame({ type: 'DISABLE', seq, connector }));
  }

  unlock(connector: number): Promise<void> {
    return this.command(`UNLOCK ${connector}`, (seq) => encodeFrame({ type: 'UNLOCK', seq, connector }));
  }

  readMeter(connector: number): Promise<void> {
    return this.command(`READ ${connector}`, (seq) => encodeFrame({ type: 'READ', seq, connector }));
  }

  configure(key: string, value: string): Promise<void> {
    return this.checkedCommand(`CONFIG ${key}`, 'CONFIG', [key, value]);
  }

  reset(): Promise<void> {
    return this.command('RESET', (seq) => encodeFrame({ type: 'RESET', seq }));
  }

  sendRaw(type: string, fields: string[]): Promise<void> {
    if (!isFrameType(type) || FRAME_TABLE[type].direction !== 'command') {
      return Promise.reject(new RangeError(`unknown command type ${JSON.stringify(type)}`));
    }
    return this.checkedCommand(`${type} (raw)`, type, fields);
  }

  counters(): ControllerCounters {
    const dropped = { ...this.dropped };
    dropped.overlong += this.overlongBeforeReopen + (this.framer?.overlongCount ?? 0);
    return { ...this.stats, resends: this.commands.resends, naks: this.commands.naks, dropped };
  }

  // --- commands -------------------------------------------------------------

  /** Fields from outside (bring-up, CONFIG values): decoded through the codec first, so nothing goes out that the controller must drop. */
  private checkedCommand(name: string, type: string, fields: string[]): Promise<void> {
    const body = [type, '1', ...fields].join(',');
    const decoded = decodeLine(`$${body}*${formatChecksum(xorChecksum(body))}`, 'command');
    if (!decoded.ok) return Promise.reject(new RangeError(`invalid ${type} fields ${JSON.stringify(fields)}: ${decoded.reason}`));
    const frame = decoded.frame as CommandFrame;
    const sent = this.command(name, (seq) => encodeFrame({ ...frame, seq }));
    if (frame.type !== 'CONFIG' || frame.key !== 'METER_MS') return sent;
    // An explicit meter period is the operator's: the pilot policy keeps it from now on.
    const ms = Number(frame.value);
    return Number.isInteger(ms) && ms >= 0 ? sent.then(() => this.meterPeriod.operatorSet(ms)) : sent;
  }

  private command(name: string, build: (seq: number) => string, priority = false): Promise<void> {
    if (!this.started || this.stopping) {
      return Promise.reject(new ControllerLinkError(name, 'controller driver not started'));
    }
    if (this.sync.state === 'down' && !priority) {
      return Promise.reject(new ControllerLinkError(name, 'controller link is down (wanted state kept for resync)'));
    }
    return this.commands.enqueue(name, build, priority);
  }

  private write(line: string): void {
    const port = this.port;
    if (!port?.isOpen) return;
    this.lastSentAt = this.timers.now();
    this.stats.framesSent++;
    port.write(line, 'latin1', (err) => {
      if (err) this.log.warn({ err: err.message }, 'serial write failed');
    });
    this.emit('wire', 'tx', line.trimEnd());
  }

  // --- link health ----------------------------------------------------------

  /** Keep-alive (§Link health: a command at least every second): a PING when nothing else is going out. */
  private tick(): void {
    if (this.port?.isOpen && this.commands.idle) this.sendPing();
  }

  private onSilence(): void {
    if (this.sync.state !== 'down') this.linkDown('silence');
    else this.cyclePort('silence');
  }

  private sendPing(): void {
    // While down, a PING is the probe that brings the first frame back; allowed as priority.
    this.command('PING', (seq) => encodeFrame({ type: 'PING', seq }), this.sync.state !== 'up').catch(() => {
      /* link-down handling already reported it */
    });
  }

  private linkDown(reason: LinkDownReason): void {
    if (this.stopping) return;
    const wasUp = this.sync.lost();
    this.meterPeriod.linkLost();
    this.commands.failAll(new ControllerLinkError('link', `controller link down (${reason})`));
    if (wasUp) {
      this.stats.linkDowns++;
      this.log.warn({ reason }, 'controller link down');
      this.emit('linkDown', reason);
    }
    if (reason === 'no-answer' || reason === 'silence') this.cyclePort(reason);
  }

  /** Close and reopen the device: a USB adapter may have vanished and come back under the same path. */
  private cyclePort(reason: string): void {
    this.log.debug({ reason }, 'reopening serial device');
    void this.closePort().then(() => this.scheduleReopen());
  }

  private scheduleReopen(): void {
    if (this.stopping || this.reopenTimer) return;
    this.reopenTimer = this.timers.setTimeout(() => {
      this.reopenTimer = null;
      void this.openPort();
    }, this.opts.reopenDelayMs);
  }

  private async openPort(): Promise<void> {
    if (this.stopping || this.port) return;
    const portOptions = { path: this.opts.path, baudRate: this.opts.baudRate, autoOpen: false };
    // SerialPort spreads its options over its detected binding, so a binding given here is used.
    const withBinding = { ...portOptions, binding: mainThreadBinding() };
    const port = new SerialPort(this.opts.mainThreadIo ? withBinding : portOptions);
    this.port = port;
    const err = await new Promise<Error | null>((resolve) => port.open((e) => resolve(e ?? null)));
    if (this.port !== port) return;
    if (err) {
      this.port = null;
      if (this.openFailuresLogged++ === 0) this.log.warn({ err: err.message }, 'cannot open serial device; retrying');
      this.scheduleReopen();
      return;
    }
    if (this.openFailuresLogged > 0 || this.stats.reopens > 0 || this.stats.linkDowns > 0) this.stats.reopens++;
    this.openFailuresLogged = 0;
    this.log.info({ baudRate: this.opts.baudRate }, 'serial device open');
    // Lines straight from the port's chunks: two Transform streams per chunk cost more CPU than
    // everything else an idle driver does, and the framer alone already bounds every line.
    const framer = new LineFramer();
    this.framer = framer;
    port.on('data', (chunk: Buffer) => {
      for (const line of framer.push(chunk)) this.onLine(line.toString('latin1'));
    });
    port.on('error', (e: Error) => this.log.warn({ err: e.message }, 'serial port error'));
    port.on('close', () => {
      if (this.port !== port) return;
      this.detach();
      if (this.stopping) return;
      this.log.warn('serial device closed');
      this.linkDown('port-closed');
      this.scheduleReopen();
    });
    // A fresh open gets a full silence window before it counts as dead.
    this.lastFrameAt = this.timers.now();
    this.lastSentAt = 0;
    this.sendPing();
    this.keepAlive.arm();
    this.silence.arm();
  }

  private detach(): void {
    if (this.framer) this.overlongBeforeReopen += this.framer.overlongCount;
    this.framer = null;
    this.port = null;
  }

  private async closePort(): Promise<void> {
    const port = this.port;
    if (!port) return;
    this.detach();
    if (port.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  // --- receive --------------------------------------------------------------

  private onLine(line: string): void {
    this.emit('wire', 'rx', line);
    const res = decodeLine(line, 'event');
    if (!res.ok) {
      this.dropped[res.reason]++;
      this.log.debug({ reason: res.reason, line: line.slice(0, 80) }, 'dropped serial line');
      return;
    }
    this.stats.framesReceived++;
    this.lastFrameAt = this.timers.now();
    const frame = res.frame as EventFrame;
    this.sync.frameReceived();
    this.dispatch(frame);
  }

  private dispatch(f: EventFrame): void {
    switch (f.type) {
      case 'ACK':
        return this.commands.complete(f.seq, null);
      case 'NAK':
        return this.commands.complete(f.seq, f.reason);
      case 'HELLO':
        return this.sync.hello(f);
      case 'CP':
        this.emit('pilot', f.connector, f.state);
        return this.meterPeriod.pilot(f.connector, f.state);
      case 'PP':
        return this.emit('cableCapacity', f.connector, f.amps);
      case 'RELAY':
        return this.emit('contactor', f.connector, f.closed);
      case 'LOCK':
        return this.emit('lock', f.connector, f.state);
      case 'METER':
        return this.emit('meter', {
          connector: f.connector,
          energyWh: f.energyWh,
          powerW: f.powerW,
          voltageV: f.voltageV,
          currentA: f.currentA,
          temperatureC: f.temperatureC,
        });
      case 'RFID':
        return this.emit('card', f.uid);
      case 'FAULT':
        return this.emit('fault', f.connector, f.code);
      case 'FAULTCLR':
        this.emit('faultCleared', f.connector, f.code);
        if (f.connector === 0 && f.code === 'AGENT_WATCHDOG') this.sync.watchdogCleared();
        return;
    }
  }
}
