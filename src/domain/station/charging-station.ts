// The charging station: assembles its functional blocks (evses.ts: connectors and
// availability; transactions.ts: the lifecycle; authorization-flow.ts: card first / plug
// first; reservation-holds.ts; restart-recovery.ts; energy-caps.ts; cable-lock.ts), feeds them
// the controller's events and delegates to them. Speaks no protocol: adapters subscribe to
// its events (events.ts) and translate.
import { StationEventBus, type StationListener } from '../events.js';
import type { AuthorizationInfo } from '../model/authorization.js';
import type { AvailabilityResult, Operational } from '../model/availability.js';
import { isPlugged, type ConnectorState, type StationState } from '../model/connector-state.js';
import { STATION, evseTarget, type EvseId, type StationTarget } from '../model/evse.js';
import type { IdToken } from '../model/id-token.js';
import type { StopReason } from '../model/stop-reason.js';
import type { TransactionPoints } from '../model/transaction-points.js';
import type { Transaction } from '../model/transaction.js';
import type { Authorizer, AvailabilityStore, ChargeControllerPort, MeterReading, PilotState, StationReservations } from '../ports.js';
import type { Clock } from '../../platform/clock.js';
import { AuthorizationFlow, type PresentOutcome } from './authorization-flow.js';
import { CableLock, type UnlockResult } from './cable-lock.js';
import { EnergyCaps, type AuthorizationLearner } from './energy-caps.js';
import { CONTROLLER_LINK_FAULT, Evses, type EvseRecord } from './evses.js';
import { ReservationHolds } from './reservation-holds.js';
import { recoveryPlan, RestartRecovery, type RecoveryJournal, type RestoredTransaction } from './restart-recovery.js';
import { TransactionLifecycle, type TransactionJournal } from './transactions.js';
import { MeterReads } from './meter-reads.js';

export { CONTROLLER_LINK_FAULT } from './evses.js';
export { LOCK_CAPABILITY, type UnlockResult } from './cable-lock.js';
export type { RestoredTransaction } from './restart-recovery.js';

export interface StationSettings {
  /** Seconds an authorization waits for a plug-in (1.6 ConnectionTimeOut). */
  connectionTimeoutS(): number;
  /** When transactions start and stop (1.6: authorized and EV connected; stop on EV disconnect if so configured). */
  transactionPoints(): TransactionPoints;
  stopTransactionOnInvalidId(): boolean;
  authorizeRemoteTxRequests(): boolean;
  /** Upper bound on the current offered per phase. */
  maxCurrentA(): number;
  /** Energy (Wh) a transaction whose identifier the CSMS refused may still take (1.6 MaxEnergyOnInvalidId; 0 = none). */
  maxEnergyOnInvalidIdWh?(): number;
  /** Release the cable when the EV leaves a transaction that goes on (1.6 UnlockConnectorOnEVSideDisconnect, default true). */
  unlockConnectorOnEVSideDisconnect?(): boolean;
}

export interface StationOptions {
  /** Keeps ChangeAvailability across reboots; without it availability starts Operative. */
  availability?: AvailabilityStore;
  /** How long an unlock waits for the controller's `$LOCK` outcome after its ACK (default 5000). */
  unlockOutcomeTimeoutMs?: number;
  /** How long a stop waits for the contactor to be reported open before reading its register (default 1000). */
  contactorOpenWaitMs?: number;
  /** Reservations: Reserved state, who may start where, reservationId on the transaction. */
  reservations?: StationReservations;
  /** Makes a starting transaction durable before any energy flows (see TransactionJournal). */
  journal?: TransactionJournal;
  /** Keeps identifier info from the CSMS's answers to transactions (the authorization cache). */
  learner?: AuthorizationLearner;
}

export interface EvseSnapshot {
  evseId: EvseId;
  state: ConnectorState | null;
  pilot: PilotState;
  cableA: number;
  contactorClosed: boolean;
  offeredA: number;
  faults: string[];
  transaction: Transaction | null;
  energyWh: number | null;
}

export class ChargingStation {
  private readonly bus: StationEventBus;
  private readonly evses: Evses;
  private readonly holds: ReservationHolds;
  private readonly lifecycle: TransactionLifecycle;
  private readonly flow: AuthorizationFlow;
  private readonly caps: EnergyCaps;
  private readonly recovery: RestartRecovery;
  private readonly lock: CableLock;
  private readonly meterReads: MeterReads;

  constructor(
    private readonly controller: ChargeControllerPort,
    authorizer: Authorizer,
    settings: StationSettings,
    private readonly clock: Clock,
    private readonly onError: (err: unknown, context: string) => void = () => {},
    options: StationOptions = {},
  ) {
    this.bus = new StationEventBus(onError);
    this.evses = new Evses(this.bus, onError, options.availability);
    this.holds = new ReservationHolds(this.evses, options.reservations);
    this.meterReads = new MeterReads(
      controller,
      {
        lastMeter: (n) => this.lastMeter(n),
        readingCount: (n) => this.evses.get(n)?.readings ?? 0,
        contactorClosed: (n) => this.evses.get(n)?.contactorClosed ?? false,
      },
      clock,
      onError,
      options.contactorOpenWaitMs,
    );
    const lifecycleDeps = {
      evses: this.evses,
      holds: this.holds,
      meterReads: this.meterReads,
      controller,
      clock,
      bus: this.bus,
      maxCurrentA: () => settings.maxCurrentA(),
      transactionPoints: () => settings.transactionPoints(),
      unlockConnectorOnEVSideDisconnect: () => settings.unlockConnectorOnEVSideDisconnect?.() ?? true,
      onError,
    };
    this.lifecycle = new TransactionLifecycle(options.journal ? { ...lifecycleDeps, journal: options.journal } : lifecycleDeps);
    this.flow = new AuthorizationFlow({ evses: this.evses, holds: this.holds, lifecycle: this.lifecycle, authorizer, settings, clock, bus: this.bus });
    this.caps = new EnergyCaps(this.evses, this.lifecycle, settings, options.learner);
    this.recovery = new RestartRecovery(this.evses, this.lifecycle, this.caps);
    this.lock = new CableLock(this.evses, this.lifecycle, controller, clock, onError, options.unlockOutcomeTimeoutMs);
    this.evses.useFacts({
      authorizedWaiting: (e) => this.flow.waitingFor(e),
      reserved: (e) => this.holds.isHeld(e),
      holdsFloat: () => this.holds.floating(),
      refreshed: (e) => this.holds.endFailed(e),
    });
    options.reservations?.onChange(() => this.evses.refreshAll());
  }

  subscribe(listener: StationListener): () => void {
    return this.bus.subscribe(listener);
  }

  start(evseCount?: number): void {
    if (evseCount) this.evses.ensure(evseCount);
    const c = this.controller;
    c.on('linkUp', (info) => {
      // After the resync the pilot states and meter registers are the controller's: settle restored transactions.
      queueMicrotask(() => this.recovery.settle());
      this.evses.ensure(info.connectorCount);
      this.evses.setStationFault(CONTROLLER_LINK_FAULT, false);
      this.evses.refreshAll();
    });
    c.on('linkDown', () => {
      this.meterReads.linkDown();
      this.evses.setStationFault(CONTROLLER_LINK_FAULT, true);
      this.evses.refreshAll();
    });
    c.on('pilot', (n, state) => this.onPilot(n, state));
    c.on('cableCapacity', (n, amps) => this.withEvse(n, (e) => (e.cableA = amps)));
    c.on('contactor', (n, closed) => this.onContactor(n, closed));
    c.on('meter', (m) => this.onMeter(m));
    c.on('card', (uid) => {
      const idToken: IdToken = { value: uid.trim(), type: 'ISO14443' };
      this.bus.emit('cardPresented', { idToken });
      void this.flow.present(idToken).catch((e) => this.onError(e, 'card'));
    });
    c.on('fault', (n, code) => this.onFault(n, code, true));
    c.on('faultCleared', (n, code) => this.onFault(n, code, false));
    c.on('lock', (n, state) => this.lock.reported(n, state));
    if (!c.isLinkUp) this.evses.setStationFault(CONTROLLER_LINK_FAULT, true);
    this.evses.refreshAll();
  }

  // --- queries --------------------------------------------------------------

  evseIds(): EvseId[] {
    return this.evses.ids();
  }

  connectorState(evseId: EvseId): ConnectorState | null {
    return this.evses.get(evseId)?.state ?? null;
  }

  stationState(): StationState | null {
    return this.evses.stationState();
  }

  transaction(evseId: EvseId): Transaction | null {
    return this.evses.get(evseId)?.tx ?? null;
  }

  activeTransactions(): Transaction[] {
    return this.evses.activeTransactions();
  }

  /** Current offered to the EV on this EVSE (0 when idle or suspended by the EVSE). */
  offeredCurrent(evseId: EvseId): number {
    return this.evses.get(evseId)?.offeredA ?? 0;
  }

  lastMeter(evseId: EvseId): MeterReading | null {
    return this.evses.get(evseId)?.lastMeter ?? null;
  }

  /** What the meter reads now (asked of the controller); the last reading, logged, when it cannot be asked. */
  readMeter(evseId: EvseId): Promise<MeterReading | null> {
    if (!this.evses.get(evseId)) return Promise.resolve(null);
    return this.meterReads.now(evseId);
  }

  /** Resolves once every ended transaction has its register read and `transactionEnded` went out (shutdown, reset). */
  stopsSettled(): Promise<void> {
    return this.meterReads.idle();
  }

  snapshot(): EvseSnapshot[] {
    return this.evses.all().map((e) => ({
      evseId: e.id,
      state: e.state,
      pilot: e.pilot,
      cableA: e.cableA,
      contactorClosed: e.contactorClosed,
      offeredA: e.offeredA,
      faults: [...e.faults],
      transaction: e.tx,
      energyWh: e.lastMeter?.energyWh ?? null,
    }));
  }

  /** As set by ChangeAvailability; null for an unknown EVSE. */
  availability(target: StationTarget): Operational | null {
    return this.evses.availability(target);
  }

  /** Could a transaction of this identifier start on this EVSE now (operative, free, not reserved for someone else)? */
  canStartFor(evseId: EvseId, idToken: IdToken, groupId?: IdToken): boolean {
    const e = this.evses.get(evseId);
    return !!e && this.holds.usableBy(e, idToken, groupId);
  }

  // --- commands -------------------------------------------------------------

  /** A card at the reader, or an identifier from a remote start (authorization-flow.ts). */
  presentIdToken(idToken: IdToken, opts: { evseId?: EvseId; remote?: boolean } = {}): Promise<PresentOutcome> {
    return this.flow.present(idToken, opts);
  }

  /** `at`: when it ended, if earlier than now (a transaction that ended while the agent was down). */
  stopTransaction(evseId: EvseId, reason: StopReason, stopIdToken?: IdToken, at?: Date): Transaction | null {
    return this.lifecycle.stop(evseId, reason, stopIdToken, at);
  }

  /** The CSMS answered the start of a transaction (energy-caps.ts). */
  startAnswered(localId: string, idToken: IdToken, info: AuthorizationInfo): void {
    this.caps.startAnswered(localId, idToken, info);
  }

  /** Change the current offered during a transaction (0 = EVSE-side suspension). */
  setOffered(evseId: EvseId, amps: number): void {
    this.lifecycle.setOffered(evseId, amps);
  }

  /** Smart charging caps the first ENABLE of a transaction starting or resuming (0 = paused). */
  useOfferLimit(limit: (evseId: EvseId) => number): void {
    this.lifecycle.useOfferLimit(limit);
  }

  /** ChangeAvailability for the station or one EVSE (evses.ts). */
  setAvailability(target: StationTarget, availability: Operational): AvailabilityResult {
    const result = this.evses.setAvailability(target, availability);
    if (result === 'Rejected') return result;
    if (availability === 'Inoperative') this.flow.inoperative(target);
    this.evses.refreshAll();
    return result;
  }

  unlockConnector(evseId: EvseId): Promise<UnlockResult> {
    return this.lock.unlock(evseId);
  }

  // --- restart recovery (restart-recovery.ts) ---------------------------------

  /** Transactions open in the journal when the agent started, under the kernel boot `bootId`. */
  recover(journal: RecoveryJournal, bootId: string | null): void {
    this.restoreTransactions(recoveryPlan(journal, bootId, this.clock));
  }

  restoreTransactions(list: ReadonlyArray<RestoredTransaction>): void {
    this.recovery.restore(list);
    if (this.controller.isLinkUp) queueMicrotask(() => this.recovery.settle());
  }

  // --- controller events ----------------------------------------------------

  private onPilot(n: number, state: PilotState): void {
    const e = this.evses.fromController(n);
    if (!e) return;
    const wasPlugged = isPlugged(e.pilot);
    e.pilot = state;
    const plugged = isPlugged(state);
    if (!plugged && wasPlugged) this.lifecycle.evLeft(e);
    // Plug after card: the waiting authorization starts its transaction (which refreshes).
    if (plugged && !wasPlugged && this.flow.plugged(e)) return;
    this.evses.refresh(e);
  }

  private onContactor(n: number, closed: boolean): void {
    this.withEvse(n, (e) => (e.contactorClosed = closed));
    this.meterReads.contactor(n, closed);
    // The last reading still shows the power that flowed: have one that shows what flows now.
    if (!closed && this.controller.isLinkUp && this.evses.get(n)) this.controller.readMeter(n).catch((err) => this.onError(err, 'meter reading'));
  }

  private onMeter(m: MeterReading): void {
    const e = this.evses.fromController(m.connector);
    if (!e) return;
    e.lastMeter = m;
    e.readings++;
    this.caps.metered(e.id);
    this.bus.emit('meterSampled', { evseId: e.id, reading: m, tx: e.tx });
  }

  private onFault(n: number, code: string, active: boolean): void {
    // The controller's connector 0 is the station as a whole.
    if (n === 0) {
      this.bus.emit(active ? 'faultRaised' : 'faultCleared', { target: STATION, code });
      this.evses.setStationFault(code, active);
      this.evses.refreshAll();
      return;
    }
    if (this.evses.fromController(n)) this.bus.emit(active ? 'faultRaised' : 'faultCleared', { target: evseTarget(n), code });
    this.withEvse(n, (e) => (active ? e.faults.add(code) : e.faults.delete(code)));
    const e = this.evses.get(n);
    if (!active && e) this.lifecycle.faultsCleared(e);
  }

  private withEvse(n: number, fn: (e: EvseRecord) => void): void {
    const e = this.evses.fromController(n);
    if (!e) return;
    fn(e);
    this.evses.refresh(e);
  }
}
