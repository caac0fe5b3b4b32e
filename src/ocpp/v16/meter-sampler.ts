// When meter values are taken (OCPP 1.6 §3.16.1-2): sampled during a transaction every
// MeterValueSampleInterval, clock-aligned every ClockAlignedDataInterval from midnight
// UTC on every connector, and the StopTxnSampledData / StopTxnAlignedData series that
// ride in StopTransaction.transactionData. Interval 0 disables.
import type { MeterReading } from '../../domain/ports.js';
import type { Clock, TimerHandle } from '../../platform/clock.js';
import type { ChargingStation } from '../../domain/station/charging-station.js';
import type { Transaction } from '../../domain/model/transaction.js';
import type { ConfigurationStore } from './configuration-store.js';
import type { MeterValue, ReadingContext } from './generated/types.js';
import { buildMeterValue } from './meter-values.js';
import { shiftValues } from './time-correction.js';

export interface MeterSink {
  /** A MeterValues belonging to a running transaction (queued in order with its Start and Stop). */
  transactionMeter(tx: Transaction, values: MeterValue[]): void;
  /** A clock-aligned MeterValues of a connector without a transaction (sent when online, else dropped). */
  idleMeter(connector: number, values: MeterValue[]): void;
}

/** transactionData is bounded: a week-long session must not build a megabyte StopTransaction. */
const MAX_STOP_TXN_VALUES = 500;
const DAY_MS = 86_400_000;

export class MeterSampler {
  private readonly sampleTimers = new Map<string, { tx: Transaction; timer: TimerHandle }>();
  private readonly stopData = new Map<string, MeterValue[]>();
  private alignedTimer: TimerHandle | null = null;
  private stopped = false;

  constructor(
    private readonly station: ChargingStation,
    private readonly config: ConfigurationStore,
    private readonly clock: Clock,
    private readonly sink: MeterSink,
  ) {
    config.onChange((key) => {
      if (key === 'MeterValueSampleInterval') for (const { tx } of [...this.sampleTimers.values()]) this.armSampling(tx);
      if (key === 'ClockAlignedDataInterval') this.armAligned();
    });
  }

  start(): void {
    this.stopped = false;
    this.armAligned();
  }

  stop(): void {
    this.stopped = true;
    if (this.alignedTimer !== null) this.clock.clearTimeout(this.alignedTimer);
    this.alignedTimer = null;
    for (const { timer } of this.sampleTimers.values()) this.clock.clearInterval(timer);
    this.sampleTimers.clear();
  }

  /** A transaction began (or was resumed after a restart). */
  transactionStarted(tx: Transaction, resumed = false): void {
    if (!resumed) {
      const begin = this.station.lastMeter(tx.evseId);
      if (begin) this.addStopData(tx, begin, tx.startedAt, 'Transaction.Begin', this.config.getList('StopTxnSampledData'));
    }
    this.armSampling(tx);
  }

  /** A transaction ended: its transactionData, closed by a Transaction.End value. */
  transactionStopped(tx: Transaction): MeterValue[] {
    const entry = this.sampleTimers.get(tx.localId);
    if (entry) this.clock.clearInterval(entry.timer);
    this.sampleTimers.delete(tx.localId);
    const last = this.station.lastMeter(tx.evseId);
    if (last) this.addStopData(tx, last, tx.stoppedAt ?? this.clock.now(), 'Transaction.End', this.config.getList('StopTxnSampledData'));
    const data = this.stopData.get(tx.localId) ?? [];
    this.stopData.delete(tx.localId);
    return data;
  }

  /**
   * The clock was set: the values kept for StopTransaction.transactionData were stamped
   * provisionally, and clock-aligned sampling is aligned again on the real time.
   */
  clockSynced(shift: (ms: number) => number): void {
    for (const list of this.stopData.values()) shiftValues(list, shift);
    this.armAligned();
  }

  private armSampling(tx: Transaction): void {
    const old = this.sampleTimers.get(tx.localId);
    if (old) this.clock.clearInterval(old.timer);
    this.sampleTimers.delete(tx.localId);
    const interval = this.config.getInt('MeterValueSampleInterval');
    if (interval <= 0 || this.stopped) return;
    const timer = this.clock.setInterval(() => this.sample(tx), interval * 1000);
    this.sampleTimers.set(tx.localId, { tx, timer });
  }

  private sample(tx: Transaction): void {
    // Stopped, its register still being read (transactionStopped not yet here): a value now would
    // be stamped after the Stop and sent as part of a transaction that has ended.
    if (tx.stoppedAt !== undefined) return;
    const reading = this.station.lastMeter(tx.evseId);
    if (!reading) return;
    const at = this.clock.now();
    const offered = this.station.offeredCurrent(tx.evseId);
    const measurands = this.config.getList('MeterValuesSampledData');
    if (measurands.length > 0) this.sink.transactionMeter(tx, [buildMeterValue(reading, measurands, at, 'Sample.Periodic', offered)]);
    this.addStopData(tx, reading, at, 'Sample.Periodic', this.config.getList('StopTxnSampledData'));
  }

  private armAligned(): void {
    if (this.alignedTimer !== null) this.clock.clearTimeout(this.alignedTimer);
    this.alignedTimer = null;
    const intervalMs = this.config.getInt('ClockAlignedDataInterval') * 1000;
    if (intervalMs <= 0 || this.stopped) return;
    const now = this.clock.now().getTime();
    const sinceMidnight = now % DAY_MS;
    // Evenly spaced from 00:00:00 UTC; a partial last interval of the day ends at midnight.
    const nextInDay = Math.min(DAY_MS, Math.floor(sinceMidnight / intervalMs) * intervalMs + intervalMs);
    const due = now - sinceMidnight + nextInDay;
    this.alignedTimer = this.clock.setTimeout(() => {
      this.alignedTimer = null;
      this.aligned(new Date(due));
      this.armAligned();
    }, Math.max(1, due - now));
  }

  private aligned(at: Date): void {
    const measurands = this.config.getList('MeterValuesAlignedData');
    const stopMeasurands = this.config.getList('StopTxnAlignedData');
    for (const connector of this.station.evseIds()) {
      const reading = this.station.lastMeter(connector);
      if (!reading) continue;
      const tx = this.station.transaction(connector);
      const offered = this.station.offeredCurrent(connector);
      if (measurands.length > 0) {
        const values = [buildMeterValue(reading, measurands, at, 'Sample.Clock', offered)];
        if (tx) this.sink.transactionMeter(tx, values);
        else this.sink.idleMeter(connector, values);
      }
      if (tx) this.addStopData(tx, reading, at, 'Sample.Clock', stopMeasurands);
    }
  }

  private addStopData(tx: Transaction, reading: MeterReading, at: Date, context: ReadingContext, measurands: readonly string[]): void {
    if (measurands.length === 0) return;
    const list = this.stopData.get(tx.localId) ?? [];
    list.push(buildMeterValue(reading, measurands, at, context, context === 'Transaction.Begin' ? 0 : this.station.offeredCurrent(tx.evseId)));
    // Keep the Begin value and the newest ones.
    if (list.length > MAX_STOP_TXN_VALUES) list.splice(1, 1);
    this.stopData.set(tx.localId, list);
  }
}
