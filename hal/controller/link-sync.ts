// The link's state and its resynchronisation (controller-serial.md §Link health): on the first
// frame after the link was down, $INFO and $STATUS before anything else, then the wanted
// ENABLEs/DISABLEs re-applied, and only then is the link up. HELLO tells who the controller is;
// an unrequested HELLO, or one with a lower uptime, is a controller reboot (every connector is
// disabled then), so the same resync runs while the link stays up.
import type { HalLogger } from '../log.js';
import { encodeFrame } from './protocol/frame-codec.js';
import type { CommandFrame, EventFrame } from './protocol/frame-table.js';
import { ControllerNakError, type ControllerInfo } from './types.js';

export type LinkState = 'down' | 'syncing' | 'up';

/** What the resync needs from the driver. */
export interface LinkSyncPort {
  /** Queues a command; priority ones go out while the link is syncing (or down). */
  command(name: string, build: (seq: number) => string, priority: boolean): Promise<void>;
  /** The meter period's part of a resync (meter-period.ts), if it has one. */
  meterResyncStep(): Promise<void> | null;
  /** The resync is done and the link up; `reset` when the controller rebooted since the last link up. */
  up(info: ControllerInfo | null, reset: boolean): void;
}

export class LinkSync {
  private linkState: LinkState = 'down';
  private resyncRunning = false;
  /** What each connector should be doing: amps offered, or null for disabled. */
  private readonly wanted = new Map<number, number | null>();
  private lastHelloUptime: number | null = null;
  private currentInfo: ControllerInfo | null = null;
  private resetSeen = false;
  /** An INFO was sent: the next HELLO answers it. Any other HELLO announces a controller boot. */
  private expectingHello = false;

  constructor(
    private readonly port: LinkSyncPort,
    private readonly log: HalLogger,
  ) {}

  get state(): LinkState {
    return this.linkState;
  }

  /** The controller as its last HELLO described it. */
  get info(): ControllerInfo | null {
    return this.currentInfo;
  }

  /** Records what a connector should be doing (amps, or null for disabled), re-applied on every resync. */
  want(connector: number, amps: number | null): void {
    this.wanted.set(connector, amps);
  }

  /** The link is lost; false when it was down already. */
  lost(): boolean {
    const wasDown = this.linkState === 'down';
    this.linkState = 'down';
    this.resyncRunning = false;
    return !wasDown;
  }

  /** The driver stops; false when the link was down already. */
  stopped(): boolean {
    const wasUp = this.linkState !== 'down';
    this.linkState = 'down';
    return wasUp;
  }

  /** A valid frame arrived: the first one after link down starts the resync. */
  frameReceived(): void {
    if (this.linkState === 'down') this.begin();
  }

  hello(f: Extract<EventFrame, { type: 'HELLO' }>): void {
    // §Events HELLO: sent at boot and after INFO; an unrequested one, or a lower uptime, is a reboot.
    const rebooted = !this.expectingHello || (this.lastHelloUptime !== null && f.uptimeSeconds < this.lastHelloUptime);
    const firstSeen = this.lastHelloUptime === null;
    this.expectingHello = false;
    this.lastHelloUptime = f.uptimeSeconds;
    this.currentInfo = {
      protocolVersion: f.proto,
      firmwareVersion: f.firmware,
      connectorCount: f.connectors,
      serialNumber: f.serial,
      capabilities: f.caps,
      uptimeSeconds: f.uptimeSeconds,
    };
    if (f.proto !== 1) this.log.warn({ proto: f.proto }, 'controller speaks an unknown protocol version');
    if (rebooted) {
      this.log.warn({ uptime: f.uptimeSeconds }, 'controller rebooted');
      this.resetSeen = true;
    }
    // A reboot noticed while the link stayed up: the controller has every connector disabled now.
    if ((rebooted || firstSeen) && this.linkState === 'up') this.begin(false);
  }

  /** The controller's watchdog fault cleared: it keeps its fallback limit until the next ENABLE (§Link health). */
  watchdogCleared(): void {
    if (this.linkState !== 'up') return;
    // Nobody awaits these: a link loss or stop() before the ACK must be logged, not left an
    // unhandled rejection (which ends the agent process); the next resync re-applies them.
    Promise.all(this.reapplyWanted(false)).catch((err: Error) => this.log.warn({ err: err.message }, 're-enable after the controller watchdog failed'));
  }

  /** §Link health: on the first frame after link down, INFO and STATUS before anything else; then wanted ENABLEs. */
  private begin(withInfo = true): void {
    if (this.resyncRunning) return;
    this.resyncRunning = true;
    this.linkState = 'syncing';
    const steps: Promise<void>[] = [];
    if (withInfo) {
      steps.push(
        this.port.command(
          'INFO',
          (seq) => {
            this.expectingHello = true;
            return encodeFrame({ type: 'INFO', seq });
          },
          true,
        ),
      );
    }
    steps.push(this.port.command('STATUS', (seq) => encodeFrame({ type: 'STATUS', seq }), true));
    steps.push(...this.reapplyWanted(true));
    const meterStep = this.port.meterResyncStep();
    if (meterStep) steps.push(meterStep);
    Promise.all(steps).then(
      () => {
        if (!this.resyncRunning) return;
        this.resyncRunning = false;
        this.linkState = 'up';
        const info = this.currentInfo;
        this.log.info({ info }, 'controller link up');
        const reset = info !== null && this.resetSeen;
        if (reset) this.resetSeen = false;
        this.port.up(info, reset);
      },
      (err: Error) => {
        this.resyncRunning = false;
        this.log.warn({ err: err.message }, 'resynchronisation failed');
      },
    );
  }

  private reapplyWanted(priority: boolean): Promise<void>[] {
    const out: Promise<void>[] = [];
    for (const [connector, amps] of this.wanted) {
      const build =
        amps === null
          ? (seq: number) => encodeFrame({ type: 'DISABLE', seq, connector } satisfies CommandFrame)
          : (seq: number) => encodeFrame({ type: 'ENABLE', seq, connector, amps } satisfies CommandFrame);
      const p = this.port.command(`${amps === null ? 'DISABLE' : 'ENABLE'} ${connector} (resync)`, build, priority);
      // A NAK (e.g. FAULTED) must not abort the resync: the fault is reported by its own event.
      out.push(p.catch((err: Error) => (err instanceof ControllerNakError ? undefined : Promise.reject(err))));
    }
    return out;
  }
}
