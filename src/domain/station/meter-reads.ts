// Meter readings taken from the controller on demand. The periodic reports can be far apart
// (the controller's report period, or only on request), so what is billed or reported after
// the contactor opened is read at that moment: a transaction's stop register once the
// contactor is open, and a reading asked for now. The last report stands in only when the
// controller cannot be reached, and that is logged.
import type { ChargeControllerPort, MeterReading } from '../ports.js';
import type { Clock, TimerHandle } from '../../platform/clock.js';
import { errorText } from '../../platform/errors.js';

/** How long a stop waits for the controller to report the contactor open before reading anyway. */
export const CONTACTOR_OPEN_WAIT_MS = 1_000;

/** What the reader needs to see of the station's connectors. */
export interface MeterReadsView {
  lastMeter(connector: number): MeterReading | null;
  /** Counts the connector's readings, so a reading that arrived after a request can be told from an old one. */
  readingCount(connector: number): number;
  contactorClosed(connector: number): boolean;
}

interface ContactorWaiter {
  connector: number;
  resolve: () => void;
}

export class MeterReads {
  private contactorWaiters: ContactorWaiter[] = [];
  private readonly inProgress = new Set<Promise<unknown>>();

  constructor(
    private readonly controller: ChargeControllerPort,
    private readonly view: MeterReadsView,
    private readonly clock: Clock,
    private readonly onError: (err: unknown, context: string) => void,
    private readonly contactorOpenWaitMs = CONTACTOR_OPEN_WAIT_MS,
  ) {}

  /** The controller reported a contactor state. */
  contactor(connector: number, closed: boolean): void {
    if (closed) return;
    const done = this.contactorWaiters.filter((w) => w.connector === connector);
    this.contactorWaiters = this.contactorWaiters.filter((w) => w.connector !== connector);
    for (const w of done) w.resolve();
  }

  /** The controller link went down: no contactor report will come, stop waiting for one (the read falls back). */
  linkDown(): void {
    const all = this.contactorWaiters;
    this.contactorWaiters = [];
    for (const w of all) w.resolve();
  }

  /** The reading the controller takes now; the last report when it cannot be asked (logged). */
  now(connector: number): Promise<MeterReading | null> {
    return this.track(this.read(connector, 'meter reading'));
  }

  /**
   * The register to bill a stop with: read once `disabled` (the command that opens the
   * contactor) has settled and the contactor is reported open, so the energy that flowed
   * since the last report is counted.
   */
  afterContactorOpened(connector: number, disabled: Promise<unknown>): Promise<MeterReading | null> {
    return this.track(
      (async () => {
        await disabled.catch(() => undefined); // its failure is logged where it was sent; the read tells about the link
        if (this.controller.isLinkUp && this.view.contactorClosed(connector)) await this.contactorOpen(connector);
        return this.read(connector, 'stop meter reading');
      })(),
    );
  }

  /** Resolves once every read in progress has its answer (or gave up): shutdown waits for the stops. */
  async idle(): Promise<void> {
    while (this.inProgress.size > 0) await Promise.allSettled([...this.inProgress]);
  }

  private async read(connector: number, what: string): Promise<MeterReading | null> {
    const last = this.view.lastMeter(connector);
    if (!this.controller.isLinkUp) return this.fallback(connector, what, 'controller link down', last);
    const before = this.view.readingCount(connector);
    try {
      await this.controller.readMeter(connector);
    } catch (err) {
      return this.fallback(connector, what, errorText(err), last);
    }
    // The reading comes before the command's answer; without one, the last report is all there is.
    if (this.view.readingCount(connector) === before) return this.fallback(connector, what, 'controller sent no reading', last);
    return this.view.lastMeter(connector);
  }

  private fallback(connector: number, what: string, why: string, last: MeterReading | null): MeterReading | null {
    const register = last?.energyWh ?? null;
    this.onError(new Error(`${why}: connector ${connector} uses the last reported meter reading (${register === null ? 'none' : `${register} Wh`})`), what);
    return last;
  }

  private contactorOpen(connector: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: TimerHandle | undefined;
      const waiter: ContactorWaiter = {
        connector,
        resolve: () => {
          this.clock.clearTimeout(timer);
          resolve();
        },
      };
      timer = this.clock.setTimeout(() => {
        this.contactorWaiters = this.contactorWaiters.filter((w) => w !== waiter);
        this.onError(new Error(`connector ${connector}: contactor not reported open within ${this.contactorOpenWaitMs} ms; reading the meter anyway`), 'stop meter reading');
        resolve();
      }, this.contactorOpenWaitMs);
      this.contactorWaiters.push(waiter);
    });
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inProgress.add(p);
    const done = (): void => void this.inProgress.delete(p);
    p.then(done, done);
    return p;
  }
}
