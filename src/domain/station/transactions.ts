// The transaction lifecycle: begin (made durable first, reservation used up, current offered),
// the current offered while it runs, and its end (stop time, meter, reason, EVSE disabled).
import type { StationEventBus } from '../events.js';
import { isPlugged, MIN_OFFER_A } from '../model/connector-state.js';
import type { EvseId } from '../model/evse.js';
import type { TransactionPoints } from '../model/transaction-points.js';
import type { IdToken } from '../model/id-token.js';
import type { StopReason } from '../model/stop-reason.js';
import type { Transaction } from '../model/transaction.js';
import type { ChargeControllerPort } from '../ports.js';
import type { Clock } from '../../platform/clock.js';
import type { EvseRecord, Evses } from './evses.js';
import type { MeterReads } from './meter-reads.js';
import type { ReservationHolds } from './reservation-holds.js';

/**
 * Makes a starting transaction durable before any energy flows; if it throws (storage failure),
 * the transaction does not start: a session nobody can report is never begun.
 */
export interface TransactionJournal {
  started(tx: Transaction): void;
}

export interface LifecycleDeps {
  evses: Evses;
  holds: ReservationHolds;
  /** Reads the stop register once the contactor is open. */
  meterReads: MeterReads;
  controller: ChargeControllerPort;
  clock: Clock;
  bus: StationEventBus;
  /** Upper bound on the current offered per phase. */
  maxCurrentA(): number;
  /** When transactions stop (EV disconnected is a stop point or not). */
  transactionPoints(): TransactionPoints;
  /** Release the cable when the EV leaves a transaction that goes on (default true). */
  unlockConnectorOnEVSideDisconnect?(): boolean;
  journal?: TransactionJournal;
  onError(err: unknown, context: string): void;
}

export class TransactionLifecycle {
  private counter = 0;
  /** Smart charging's limit for a transaction starting or resuming on an EVSE (set once assembled). */
  private offerLimit: ((evseId: EvseId) => number) | null = null;

  constructor(private readonly d: LifecycleDeps) {}

  /** Starts a transaction on a free EVSE; false when the journal could not record it (not started). */
  begin(e: EvseRecord, idToken: IdToken, groupId?: IdToken): boolean {
    const { clock, bus } = this.d;
    const reservation = this.d.holds.reservationFor(e, idToken, groupId);
    const tx: Transaction = {
      localId: `${clock.now().getTime().toString(36)}-${(++this.counter).toString(36)}`,
      evseId: e.id,
      idToken,
      startedAt: clock.now(),
      meterStartWh: e.lastMeter?.energyWh ?? 0,
    };
    if (groupId !== undefined) tx.groupId = groupId;
    if (reservation) tx.reservationId = reservation.id;
    try {
      this.d.journal?.started(tx);
    } catch (err) {
      this.d.onError(err, 'transaction not recorded; not started');
      bus.emit('authorizationDecided', { idToken, accepted: false, status: null });
      this.d.evses.refresh(e);
      return false;
    }
    // The transaction ends the reservation it used (and says so when it is reported).
    if (reservation) this.d.holds.used(reservation);
    e.tx = tx;
    e.finished = false;
    e.offeredA = this.offerFor(e);
    bus.emit('transactionStarted', { tx });
    this.enable(e);
    this.d.evses.refresh(e);
    // An any-EVSE reservation may have been holding another EVSE.
    if (reservation) this.d.evses.refreshAll();
    return true;
  }

  /** A transaction restored after a restart goes on: current offered again. */
  resume(e: EvseRecord): void {
    if (!e.tx) return;
    e.offeredA = this.offerFor(e);
    this.d.bus.emit('transactionResumed', { tx: e.tx });
    this.enable(e);
    this.d.evses.refresh(e);
  }

  /**
   * Ends the transaction on the EVSE at once (`at`: when it ended, if earlier than now, for one
   * that ended while the agent was down). Its meterStopWh is the register the controller reads
   * once the contactor is open, so `transactionEnded` follows when that answer is in; until
   * then no new transaction starts here.
   */
  stop(evseId: EvseId, reason: StopReason, stopIdToken?: IdToken, at?: Date): Transaction | null {
    const e = this.d.evses.get(evseId);
    const tx = e?.tx;
    if (!e || !tx) return null;
    tx.stoppedAt = at ?? this.d.clock.now();
    tx.stopReason = reason;
    if (stopIdToken !== undefined) tx.stopIdToken = stopIdToken;
    const lastKnownWh = e.lastMeter?.energyWh ?? tx.meterStartWh;
    e.tx = null;
    e.offeredA = 0;
    e.finished = isPlugged(e.pilot);
    e.stopPending = true;
    const disabled = this.d.controller.disable(evseId);
    disabled.catch((err) => this.d.onError(err, 'disable'));
    void this.d.meterReads.afterContactorOpened(evseId, disabled).then((reading) => {
      tx.meterStopWh = reading?.energyWh ?? lastKnownWh;
      this.d.bus.emit('transactionEnded', { tx });
      e.stopPending = false;
      this.d.evses.refresh(e);
    });
    this.d.evses.refresh(e);
    this.d.evses.refreshStation();
    return tx;
  }

  /** A restored transaction that has no EVSE to go on: ended at once, never dropped. */
  endWithoutEvse(tx: Transaction, reason: StopReason, at: Date): void {
    const ended: Transaction = { ...tx, stoppedAt: at, meterStopWh: tx.meterStartWh, stopReason: reason };
    this.d.onError(new Error(`restored transaction ${tx.localId} has no free connector ${tx.evseId}`), 'restore');
    this.d.bus.emit('transactionEnded', { tx: ended });
  }

  /**
   * The EV left (pilot back to A, or E/F): the transaction ends if EV disconnection is a stop
   * point, else it goes on without the EV and the cable is released if so configured.
   */
  evLeft(e: EvseRecord): void {
    e.finished = false;
    if (!e.tx) return;
    if (this.d.transactionPoints().stop.includes('EVDisconnected')) this.stop(e.id, 'EVDisconnected');
    else if (this.d.unlockConnectorOnEVSideDisconnect?.() ?? true) this.d.controller.unlock(e.id).catch((err) => this.d.onError(err, 'unlock'));
  }

  /** The controller cleared the EVSE's last fault: it stays disabled until the next ENABLE, so a running transaction is resumed. */
  faultsCleared(e: EvseRecord): void {
    if (e.tx && e.faults.size === 0) this.setOffered(e.id, e.offeredA);
  }

  /** Change the current offered during a transaction (0 = EVSE-side suspension). */
  setOffered(evseId: EvseId, amps: number): void {
    const e = this.d.evses.get(evseId);
    if (!e?.tx) return;
    e.offeredA = amps;
    this.d.controller.enable(evseId, amps >= MIN_OFFER_A ? amps : 0).catch((err) => this.d.onError(err, 'enable'));
    this.d.evses.refresh(e);
  }

  offerFor(e: EvseRecord): number {
    const max = this.d.maxCurrentA();
    const base = e.cableA > 0 ? Math.min(max, e.cableA) : max;
    return this.offerLimit ? Math.min(base, this.offerLimit(e.id)) : base;
  }

  useOfferLimit(limit: (evseId: EvseId) => number): void {
    this.offerLimit = limit;
  }

  private enable(e: EvseRecord): void {
    this.d.controller.enable(e.id, e.offeredA).catch((err) => this.d.onError(err, 'enable'));
  }
}
