// The simulator's serial side: the controller end of the pty, line framing, writing
// lines, reopening the device after it vanished, and the wire-level fault injection
// (mute: a dead controller; dropAnswers: lost ACK/NAK lines).
import type { EventEmitter } from 'node:events';
import { realpathSync } from 'node:fs';
import { SerialPort } from '../serialport.js';
import { LineFramer } from '../controller/protocol/line-framer.js';
import type { HalLogger } from '../log.js';
import type { HalTimers, TimerHandle } from '../timers.js';
import type { SimCounters, SimulatedControllerEventMap } from './sim-types.js';

export interface SimSerialLinkOptions {
  path: string;
  baudRate?: number;
  /** Retry period for reopening the device after it vanished (default 200). */
  reopenMs?: number;
  timers: HalTimers;
  log: HalLogger;
  /** Where `line`, `dropped` (overlong), `answerDropped`, `portClosed` and `portReopened` go. */
  events: EventEmitter<SimulatedControllerEventMap>;
  /** Shared with the rest of the simulator; this part counts lines, overlong drops, dropped answers and reopens. */
  counters: SimCounters;
  /** A received line while running and not muted (latin1, without `\n`). */
  onLine: (text: string) => void;
}

function resolveDevice(path: string): string | null {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
}

export class SimSerialLink {
  /** True from start() to stop(): the controller is powered, whether or not the device is open. */
  running = false;
  /** A dead controller: input is ignored and nothing is written. */
  muted = false;

  private readonly framer = new LineFramer();
  private port: SerialPort | null = null;
  private answersToDrop = 0;
  private reopenTimer: TimerHandle | null = null;
  private presenceTimer: TimerHandle | null = null;
  /** The device node behind `path` when it was opened (the pty slave a link points to). */
  private devicePath: string | null = null;

  constructor(private readonly opts: SimSerialLinkOptions) {}

  /** Power on and open the device; on failure the link stays stopped and the error is thrown. */
  async start(): Promise<void> {
    this.running = true;
    try {
      await this.openPort();
    } catch (err) {
      this.running = false;
      throw err;
    }
  }

  /** Stop the reopen and presence timers and close the device. */
  async stop(): Promise<void> {
    this.running = false;
    const { timers } = this.opts;
    if (this.reopenTimer !== null) timers.clearTimeout(this.reopenTimer);
    this.reopenTimer = null;
    if (this.presenceTimer !== null) timers.clearInterval(this.presenceTimer);
    this.presenceTimer = null;
    await this.closePort();
  }

  /** A reboot loses any partial line. */
  resetFramer(): void {
    this.framer.reset();
  }

  /** True while the device is open (false after the pty vanished, until it is back). */
  get portOpen(): boolean {
    return this.port?.isOpen ?? false;
  }

  /** Write one encoded line (ending in `\n`); lost while muted or with no device open. */
  writeLine(line: string): void {
    if (this.muted || !this.running) return;
    const port = this.port;
    // No device open: the bytes are lost, as on a UART nobody listens to.
    if (port === null || !port.isOpen) return;
    port.write(line);
    this.opts.counters.linesOut++;
    this.opts.events.emit('line', 'out', line.slice(0, -1));
  }

  /** Write an ACK/NAK line unless dropAnswers() says to swallow it; false when swallowed. */
  writeAnswer(line: string): boolean {
    if (this.answersToDrop > 0) {
      this.answersToDrop--;
      this.opts.counters.answersDropped++;
      this.opts.events.emit('answerDropped', line.slice(0, -1));
      return false;
    }
    this.writeLine(line);
    return true;
  }

  /** Swallow the next n ACK/NAK lines. */
  dropAnswers(n: number): void {
    this.answersToDrop = Math.max(0, Math.floor(n));
  }

  /** Write arbitrary text as is (no `\n` added), e.g. garbage for tests. */
  sendRaw(text: string | Uint8Array): void {
    const port = this.port;
    if (!this.running || port === null || !port.isOpen) return;
    port.write(typeof text === 'string' ? Buffer.from(text, 'latin1') : text);
    this.opts.events.emit('line', 'out', typeof text === 'string' ? text.replace(/\n$/, '') : Buffer.from(text).toString('latin1'));
  }

  private onData(chunk: Buffer): void {
    const overlongBefore = this.framer.overlongCount;
    const lines = this.framer.push(chunk);
    const overlong = this.framer.overlongCount - overlongBefore;
    if (overlong > 0) {
      this.opts.counters.dropped.overlong += overlong;
      this.opts.events.emit('dropped', 'overlong', '');
    }
    // latin1 keeps one char per byte, so the codec sees (and rejects) non-ASCII bytes.
    for (const line of lines) this.onRawLine(line.toString('latin1'));
  }

  private onRawLine(text: string): void {
    this.opts.counters.linesIn++;
    this.opts.events.emit('line', 'in', text);
    if (this.muted || !this.running) {
      this.opts.counters.ignored++;
      return;
    }
    this.opts.onLine(text);
  }

  private openPort(): Promise<void> {
    const { opts } = this;
    const port = new SerialPort({ path: opts.path, baudRate: opts.baudRate ?? 115200, autoOpen: false });
    port.on('data', (chunk: Buffer) => this.onData(chunk));
    port.on('error', (err: Error) => opts.log.warn({ err: err.message }, 'serial error'));
    port.on('close', () => {
      if (this.port !== port || !this.running) return;
      // The device vanished (pty killed, USB adapter pulled): the MCU keeps running; retry the device.
      opts.log.warn('serial device closed; reopening');
      this.port = null;
      opts.events.emit('portClosed');
      this.scheduleReopen();
    });
    return new Promise<void>((resolve, reject) => {
      port.open((err) => {
        if (err) {
          reject(err);
          return;
        }
        this.port = port;
        this.devicePath = resolveDevice(opts.path);
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
    this.presenceTimer = this.opts.timers.setInterval(() => {
      const port = this.port;
      if (port === null || !port.isOpen) return;
      if (resolveDevice(this.opts.path) === this.devicePath) return;
      this.opts.log.warn('serial device path vanished; closing');
      port.close();
    }, this.opts.reopenMs ?? 200);
  }

  private scheduleReopen(): void {
    if (!this.running || this.reopenTimer !== null) return;
    this.reopenTimer = this.opts.timers.setTimeout(() => {
      this.reopenTimer = null;
      if (!this.running) return;
      this.openPort().then(
        () => {
          if (!this.running) {
            void this.closePort();
            return;
          }
          this.opts.counters.reopens++;
          this.opts.log.info('serial device back');
          this.opts.events.emit('portReopened');
        },
        () => this.scheduleReopen(),
      );
    }, this.opts.reopenMs ?? 200);
  }

  private async closePort(): Promise<void> {
    const port = this.port;
    this.port = null;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}
