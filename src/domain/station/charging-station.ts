// The charging station's behaviour: connectors fed by controller events, who may
// charge (card first or plug first), transactions and their stop reasons, and
// connector statuses, availability (persisted) and cable unlock. Speaks no protocol:
// adapters subscribe and translate.
import type { AvailabilityStore, Authorizer, ChargeControllerPort, Clock, LockState, MeterReading, PilotState, ReservationHold, StationReservations } from '../ports.js';
import { deriveStatus, type ConnectorStatus } from '../connector/connector-status.js';
import { sameIdTag, type StopReason, type Transaction } from '../session/transaction.js';
import { reservationMatches } from '../reservation/reservations.js';
import { MeterReads } from './meter-reads.js';

/** A fault code the domain raises itself when the controller link is down (mapped to InternalError). */
export const CONTROLLER_LINK_FAULT = 'CONTROLLER_LINK';

export interface StationSettings {
  /** Seconds an authorization waits for a plug-in (OCPP ConnectionTimeOut). */
  connectionTimeoutS(): number;
  stopTransactionOnEVSideDisconnect(): boolean;
  stopTransactionOnInvalidId(): boolean;
  authorizeRemoteTxRequests(): boolean;
  /** Upper bound on the current offered per phase. */
  maxCurrentA(): number;
  /** Energy (Wh) a transaction whose identifier the CSMS refused may still take (OCPP MaxEnergyOnInvalidId; 0 = none). */
  maxEnergyOnInvalidIdWh?(): number;
  /** OCPP UnlockConnectorOnEVSideDisconnect (default true). */
  unlockConnectorOnEVSideDisconnect?(): boolean;
}

export interface StationOptions {
  /** Keeps ChangeAvailability across reboots; without it availability starts Operative. */
  availability?: AvailabilityStore;
  /** How long an unlock waits for the controller's `$LOCK` outcome after its ACK (default 5000). */
  unlockOutcomeTimeoutMs?: number;
  /** How long a stop waits for the contactor to be reported open before reading its register (default 1000). */
  contactorOpenWaitMs?: number;
  /** Reservations (OCPP 1.6 §5.13): Reserved status, who may start where, reservationId on the transaction. */
  reservations?: StationReservations;
  /**
   * Makes a starting transaction durable before any energy flows; if it throws (storage
   * failure), the transaction does not start: a session nobody can report is never begun.
   */
  journal?: { started(tx: Transaction): void };
}

/** A transaction that was open when the agent last stopped (from the store). */
export interface RestoredTransaction {
  tx: Transaction;
  /** The reason it is stopped with if its EV is gone (Reboot, PowerLoss). */
  reasonIfEnded: StopReason;
  /** Its best known end time if so. */
  endedAt: Date;
  /** The CSMS refused its identifier in the StartTransaction answer. */
  refused?: boolean;
}

/** ChangeAvailability outcome (OCPP 1.6 §5.2 wording, also fits 2.0.1). */
export type AvailabilityResult = 'Accepted' | 'Scheduled' | 'Rejected';

/** UnlockConnector outcome (OCPP 1.6 §5.18 wording). */
export type UnlockResult = 'Unlocked' | 'UnlockFailed' | 'NotSupported';

/** The controller capability that says a connector has a cable lock (controller-serial.md `$HELLO`). */
export const LOCK_CAPABILITY = 'LOCK';

export interface StationEvents {
  statusChanged(connector: number, status: ConnectorStatus, faultCode: string | null): void;
  transactionStarted(tx: Transaction): void;
  /** Once its stop register is known: read from the controller after the contactor opened. */
  transactionStopped(tx: Transaction): void;
  /** A transaction restored after a restart goes on (its EV is still plugged in). */
  transactionResumed(tx: Transaction): void;
  meter(reading: MeterReading, tx: Transaction | null): void;
  /** For the driver's eyes (LEDs): was a presented card accepted? */
  cardResult(idTag: string, accepted: boolean): void;
}

interface ConnectorState {
  id: number;
  operative: boolean;
  pilot: PilotState;
  cableA: number;
  contactorClosed: boolean;
  faults: Set<string>;
  lastMeter: MeterReading | null;
  readings: number;
  tx: Transaction | null;
  /** The last transaction's stop register is being read: no new one starts before its Stop is queued. */
  stopPending: boolean;
  finished: boolean;
  offeredA: number;
  status: ConnectorStatus | null;
  statusFault: string | null;
}

interface PendingAuthorization {
  idTag: string;
  parentIdTag?: string;
  connector: number | null;
  timer: unknown;
}

const PLUGGED: ReadonlySet<PilotState> = new Set(['B', 'C', 'D']);
const NO_HOLDS: ReadonlyMap<number, ReservationHold> = new Map();
const UNLOCK_OUTCOME_TIMEOUT_MS = 5_000;

interface LockWaiter {
  connector: number;
  resolve: (state: LockState | 'timeout') => void;
}

export class ChargingStation {
  private readonly connectors = new Map<number, ConnectorState>();
  private readonly stationFaults = new Set<string>();
  private stationOperative = true;
  private pending: PendingAuthorization | null = null;
  private listeners: Partial<StationEvents>[] = [];
  private txCounter = 0;
  private station0Status: ConnectorStatus | null = null;
  /** Availability as last saved (connector 0 = station); what new connectors start with. */
  private readonly savedAvailability: Map<number, boolean>;
  private lockWaiters: LockWaiter[] = [];
  /** Set while refresh() walks every connector for a connector-0 reservation. */
  private refreshingConnectors = false;
  /** Refused transactions allowed MaxEnergyOnInvalidId: localId -> register (Wh) at which they suspend. */
  private readonly energyCaps = new Map<string, number>();
  /** Restored transactions waiting for the controller's view of their connector. */
  private readonly restoring = new Map<string, RestoredTransaction>();
  private readonly meterReads: MeterReads;

  constructor(
    private readonly controller: ChargeControllerPort,
    private readonly authorizer: Authorizer,
    private readonly settings: StationSettings,
    private readonly clock: Clock,
    private readonly onError: (err: unknown, context: string) => void = () => {},
    private readonly options: StationOptions = {},
  ) {
    this.meterReads = new MeterReads(
      controller,
      {
        lastMeter: (n) => this.lastMeter(n),
        readingCount: (n) => this.connectors.get(n)?.readings ?? 0,
        contactorClosed: (n) => this.connectors.get(n)?.contactorClosed ?? false,
      },
      clock,
      onError,
      options.contactorOpenWaitMs,
    );
    this.savedAvailability = new Map(options.availability?.load() ?? []);
    this.stationOperative = this.savedAvailability.get(0) ?? true;
    options.reservations?.onChange(() => this.refreshAll());
  }

  subscribe(listener: Partial<StationEvents>): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  start(connectorCount?: number): void {
    if (connectorCount) this.ensureConnectors(connectorCount);
    const c = this.controller;
    c.on('linkUp', (info) => {
      // After the resync the pilot states and meter registers are the controller's: settle restored transactions.
      queueMicrotask(() => this.settleRestored());
      this.ensureConnectors(info.connectorCount);
      this.stationFaults.delete(CONTROLLER_LINK_FAULT);
      this.refreshAll();
    });
    c.on('linkDown', () => {
      this.meterReads.linkDown();
      this.stationFaults.add(CONTROLLER_LINK_FAULT);
      this.refreshAll();
    });
    c.on('pilot', (n, state) => this.onPilot(n, state));
    c.on('cableCapacity', (n, amps) => this.withConnector(n, (s) => (s.cableA = amps)));
    c.on('contactor', (n, closed) => this.onContactor(n, closed));
    c.on('meter', (m) => this.onMeter(m));
    c.on('card', (uid) => void this.presentIdTag(uid).catch((e) => this.onError(e, 'card')));
    c.on('fault', (n, code) => this.onFault(n, code, true));
    c.on('faultCleared', (n, code) => this.onFault(n, code, false));
    c.on('lock', (n, state) => this.onLock(n, state));
    if (!c.isLinkUp) this.stationFaults.add(CONTROLLER_LINK_FAULT);
    this.refreshAll();
  }

  // --- queries --------------------------------------------------------------

  connectorIds(): number[] {
    return [...this.connectors.keys()].sort((a, b) => a - b);
  }

  status(connector: number): ConnectorStatus | null {
    return connector === 0 ? this.station0Status : (this.connectors.get(connector)?.status ?? null);
  }

  statusFault(connector: number): string | null {
    if (connector === 0) return this.firstStationFault();
    return this.connectors.get(connector)?.statusFault ?? null;
  }

  transaction(connector: number): Transaction | null {
    return this.connectors.get(connector)?.tx ?? null;
  }

  activeTransactions(): Transaction[] {
    return this.connectorIds()
      .map((id) => this.connectors.get(id)?.tx)
      .filter((t): t is Transaction => !!t);
  }

  /** Current offered to the EV on this connector (0 when idle or suspended by the EVSE). */
  offeredCurrent(connector: number): number {
    return this.connectors.get(connector)?.offeredA ?? 0;
  }

  lastMeter(connector: number): MeterReading | null {
    return this.connectors.get(connector)?.lastMeter ?? null;
  }

  /** What the meter reads now (asked of the controller); the last reading, logged, when it cannot be asked. */
  readMeter(connector: number): Promise<MeterReading | null> {
    if (!this.connectors.has(connector)) return Promise.resolve(null);
    return this.meterReads.now(connector);
  }

  /** Resolves once every stopped transaction has its register read and `transactionStopped` went out (shutdown, reset). */
  stopsSettled(): Promise<void> {
    return this.meterReads.idle();
  }

  snapshot(): Array<{ connector: number; status: ConnectorStatus | null; pilot: PilotState; cableA: number; contactorClosed: boolean; offeredA: number; faults: string[]; transaction: Transaction | null; energyWh: number | null }> {
    return this.connectorIds().map((id) => {
      const s = this.connectors.get(id)!;
      return {
        connector: id,
        status: s.status,
        pilot: s.pilot,
        cableA: s.cableA,
        contactorClosed: s.contactorClosed,
        offeredA: s.offeredA,
        faults: [...s.faults],
        transaction: s.tx,
        energyWh: s.lastMeter?.energyWh ?? null,
      };
    });
  }

  // --- commands -------------------------------------------------------------

  /**
   * A card at the reader, or an identifier from a remote start. Stops the holder's
   * own transaction (same tag or same parent tag), else authorizes and starts or waits
   * for a plug-in (ConnectionTimeOut).
   */
  async presentIdTag(rawTag: string, opts: { connector?: number; remote?: boolean } = {}): Promise<'started' | 'waiting' | 'stopped' | 'rejected'> {
    const idTag = rawTag.trim();
    const own = this.activeTransactions().find((t) => sameIdTag(t.idTag, idTag));
    if (own && !opts.remote) {
      this.stopTransaction(own.connector, 'Local', idTag);
      this.notify('cardResult', idTag, true);
      return 'stopped';
    }
    const needsAuth = !opts.remote || this.settings.authorizeRemoteTxRequests();
    const result = needsAuth ? await this.authorizer.authorize(idTag) : { status: 'Accepted' as const };
    if (!opts.remote) {
      const sameGroup = this.activeTransactions().find((t) => t.parentIdTag && sameIdTag(t.parentIdTag, result.parentIdTag));
      if (sameGroup && (result.status === 'Accepted' || result.status === 'ConcurrentTx')) {
        this.stopTransaction(sameGroup.connector, 'Local', idTag);
        this.notify('cardResult', idTag, true);
        return 'stopped';
      }
    }
    if (result.status !== 'Accepted') {
      this.notify('cardResult', idTag, false);
      return 'rejected';
    }
    const target = this.pickConnector(opts.connector, idTag, result.parentIdTag);
    // No connector can take a transaction (inoperative, faulted, busy): waiting would never end in one.
    if (!target) {
      this.notify('cardResult', idTag, false);
      return 'rejected';
    }
    this.notify('cardResult', idTag, true);
    if (PLUGGED.has(target.pilot)) return this.beginTransaction(target, idTag, result.parentIdTag) ? 'started' : 'rejected';
    this.setPending({ idTag, parentIdTag: result.parentIdTag, connector: opts.connector ?? null });
    return 'waiting';
  }

  /**
   * Ends the transaction on the connector at once (`at`: when it ended, if earlier than now, for
   * one that ended while the agent was down). Its meterStopWh is the register the controller
   * reads once the contactor is open, so `transactionStopped` follows when that answer is in.
   */
  stopTransaction(connector: number, reason: StopReason, stopIdTag?: string, at?: Date): Transaction | null {
    const s = this.connectors.get(connector);
    const tx = s?.tx;
    if (!s || !tx) return null;
    tx.stoppedAt = at ?? this.clock.now();
    tx.stopReason = reason;
    if (stopIdTag !== undefined) tx.stopIdTag = stopIdTag;
    const lastKnownWh = s.lastMeter?.energyWh ?? tx.meterStartWh;
    s.tx = null;
    s.offeredA = 0;
    s.finished = PLUGGED.has(s.pilot);
    s.stopPending = true;
    const disabled = this.controller.disable(connector);
    disabled.catch((e) => this.onError(e, 'disable'));
    void this.meterReads.afterContactorOpened(connector, disabled).then((reading) => {
      tx.meterStopWh = reading?.energyWh ?? lastKnownWh;
      this.notify('transactionStopped', tx);
      s.stopPending = false;
      this.refresh(s);
    });
    this.refresh(s);
    this.refreshStation();
    return tx;
  }

  /** The CSMS refused the identifier in its StartTransaction answer (OCPP StopTransactionOnInvalidId). */
  onStartRejected(localId: string): void {
    const tx = this.activeTransactions().find((t) => t.localId === localId);
    if (!tx) return;
    if (this.settings.stopTransactionOnInvalidId()) {
      this.stopTransaction(tx.connector, 'DeAuthorized');
      return;
    }
    const allowance = this.settings.maxEnergyOnInvalidIdWh?.() ?? 0;
    if (allowance > 0) this.energyCaps.set(localId, tx.meterStartWh + allowance);
    this.enforceEnergyCap(tx.connector);
  }

  /** Suspends (offers 0 A) a refused transaction once it has taken MaxEnergyOnInvalidId, or at once without it. */
  private enforceEnergyCap(connector: number): void {
    const tx = this.connectors.get(connector)?.tx;
    if (!tx) return;
    const cap = this.energyCaps.get(tx.localId);
    const energy = this.connectors.get(connector)?.lastMeter?.energyWh ?? tx.meterStartWh;
    if (cap === undefined || energy >= cap) {
      this.energyCaps.delete(tx.localId);
      if (this.offeredCurrent(connector) !== 0) this.setOffered(connector, 0);
    }
  }

  /** Change the current offered during a transaction (0 = EVSE-side suspension). */
  setOffered(connector: number, amps: number): void {
    const s = this.connectors.get(connector);
    if (!s?.tx) return;
    s.offeredA = amps;
    this.controller.enable(connector, amps >= 6 ? amps : 0).catch((e) => this.onError(e, 'enable'));
    this.refresh(s);
  }

  /**
   * ChangeAvailability (connector 0 = the whole station). Takes effect at once for idle
   * connectors; a running transaction keeps going and the connector becomes Unavailable
   * when it ends ('Scheduled'), because Unavailable never overrides a running transaction
   * and no new one can start on an inoperative connector. Saved when the value changes.
   */
  setOperative(connector: number, operative: boolean): AvailabilityResult {
    if (connector !== 0 && !this.connectors.has(connector)) return 'Rejected';
    const running = connector === 0 ? this.activeTransactions().length > 0 : !!this.connectors.get(connector)?.tx;
    if (connector === 0) this.stationOperative = operative;
    else this.connectors.get(connector)!.operative = operative;
    this.saveAvailability(connector, operative);
    // A card waiting for a plug-in on a connector that just went inoperative gives up.
    if (!operative && this.pending && (connector === 0 || this.pending.connector === connector || this.connectors.size === 1)) this.setPending(null);
    this.refreshAll();
    return running && !operative ? 'Scheduled' : 'Accepted';
  }

  /** Operative as set by ChangeAvailability (connector 0 = station); null for an unknown connector. */
  isOperative(connector: number): boolean | null {
    if (connector === 0) return this.stationOperative;
    return this.connectors.get(connector)?.operative ?? null;
  }

  /**
   * UnlockConnector: stops a transaction on the connector first (reason UnlockCommand),
   * then asks the controller to release the cable lock and waits for its `$LOCK` outcome.
   */
  async unlockConnector(connector: number): Promise<UnlockResult> {
    const s = this.connectors.get(connector);
    if (!s) return 'NotSupported';
    const info = this.controller.info;
    if (info && !info.capabilities.includes(LOCK_CAPABILITY)) return 'NotSupported';
    if (s.tx) this.stopTransaction(connector, 'UnlockCommand');
    if (!this.controller.isLinkUp) return 'UnlockFailed';
    // Listen before sending: the controller writes `$LOCK` right after its ACK.
    let resolveOutcome: (state: LockState | 'timeout') => void = () => {};
    const outcome = new Promise<LockState | 'timeout'>((resolve) => (resolveOutcome = resolve));
    const waiter: LockWaiter = { connector, resolve: resolveOutcome };
    this.lockWaiters.push(waiter);
    const timer = this.clock.setTimeout(() => resolveOutcome('timeout'), this.options.unlockOutcomeTimeoutMs ?? UNLOCK_OUTCOME_TIMEOUT_MS);
    try {
      await this.controller.unlock(connector);
      // A lock that is not 'locked' after an accepted UNLOCK is released ($LOCK unlocked).
      return (await outcome) === 'unlocked' ? 'Unlocked' : 'UnlockFailed';
    } catch (err) {
      this.onError(err, 'unlock');
      return 'UnlockFailed';
    } finally {
      this.clock.clearTimeout(timer);
      this.lockWaiters = this.lockWaiters.filter((w) => w !== waiter);
    }
  }

  // --- restart recovery -------------------------------------------------------

  /**
   * Transactions that were running when the agent last stopped (from the store). Once the
   * controller link is up, each goes on if its EV is still plugged in (same transaction,
   * meter continuous); otherwise it is stopped with `reasonIfEnded`, the meter register the
   * controller reports now (no energy flows once unplugged) and `endedAt`.
   */
  restoreTransactions(list: ReadonlyArray<RestoredTransaction>): void {
    for (const r of list) {
      const s = this.connector(r.tx.connector);
      if (!s || s.tx) {
        // No connector for it (gone, or a second open record of one): end it at once, never drop it.
        const tx = { ...r.tx, stoppedAt: r.endedAt, meterStopWh: r.tx.meterStartWh, stopReason: r.reasonIfEnded };
        this.onError(new Error(`restored transaction ${tx.localId} has no free connector ${tx.connector}`), 'restore');
        this.notify('transactionStopped', tx);
        continue;
      }
      s.tx = r.tx;
      this.restoring.set(r.tx.localId, r);
    }
    if (this.controller.isLinkUp) queueMicrotask(() => this.settleRestored());
  }

  private settleRestored(): void {
    for (const s of this.connectors.values()) {
      const tx = s.tx;
      const r = tx ? this.restoring.get(tx.localId) : undefined;
      if (!tx || !r) continue;
      this.restoring.delete(tx.localId);
      if (PLUGGED.has(s.pilot)) {
        s.offeredA = this.offerFor(s);
        this.notify('transactionResumed', tx);
        this.controller.enable(s.id, s.offeredA).catch((e) => this.onError(e, 'enable'));
        this.refresh(s);
        // The CSMS had refused its identifier: suspended or capped again, not free energy after a restart.
        if (r.refused) this.onStartRejected(tx.localId);
      } else {
        this.stopTransaction(s.id, r.reasonIfEnded, undefined, r.endedAt);
      }
    }
  }

  // --- controller events ----------------------------------------------------

  private onPilot(n: number, state: PilotState): void {
    const s = this.connector(n);
    if (!s) return;
    const wasPlugged = PLUGGED.has(s.pilot);
    s.pilot = state;
    const plugged = PLUGGED.has(state);
    if (!plugged && wasPlugged) {
      s.finished = false;
      if (s.tx && this.settings.stopTransactionOnEVSideDisconnect()) this.stopTransaction(n, 'EVDisconnected');
      // The transaction goes on without the EV: release the cable at the charger if so configured.
      else if (s.tx && (this.settings.unlockConnectorOnEVSideDisconnect?.() ?? true)) this.controller.unlock(n).catch((e) => this.onError(e, 'unlock'));
    }
    if (plugged && !wasPlugged && !s.tx && this.pending && (this.pending.connector === null || this.pending.connector === n) && this.usableBy(s, this.pending.idTag, this.pending.parentIdTag)) {
      const p = this.pending;
      this.setPending(null);
      this.beginTransaction(s, p.idTag, p.parentIdTag);
      return;
    }
    this.refresh(s);
  }

  private onLock(n: number, state: LockState): void {
    // 'locked' is the ENABLE of a transaction, not the outcome of an UNLOCK.
    if (state === 'locked') return;
    for (const w of this.lockWaiters.filter((x) => x.connector === n)) w.resolve(state);
  }

  private onContactor(n: number, closed: boolean): void {
    this.withConnector(n, (s) => (s.contactorClosed = closed));
    this.meterReads.contactor(n, closed);
    // The last reading still shows the power that flowed: have one that shows what flows now.
    if (!closed && this.controller.isLinkUp && this.connectors.has(n)) this.controller.readMeter(n).catch((e) => this.onError(e, 'meter reading'));
  }

  private onMeter(m: MeterReading): void {
    const s = this.connector(m.connector);
    if (!s) return;
    s.lastMeter = m;
    s.readings++;
    if (s.tx && this.energyCaps.has(s.tx.localId)) this.enforceEnergyCap(s.id);
    this.notify('meter', m, s.tx);
  }

  private onFault(n: number, code: string, active: boolean): void {
    if (n === 0) {
      if (active) this.stationFaults.add(code);
      else this.stationFaults.delete(code);
      this.refreshAll();
      return;
    }
    this.withConnector(n, (s) => (active ? s.faults.add(code) : s.faults.delete(code)));
    // FAULTCLR leaves the connector disabled until the next ENABLE: resume a running transaction.
    const s = this.connectors.get(n);
    if (!active && s?.tx && s.faults.size === 0) this.setOffered(n, s.offeredA);
  }

  // --- internals ------------------------------------------------------------

  private beginTransaction(s: ConnectorState, idTag: string, parentIdTag?: string): boolean {
    const reservation = this.reservationFor(s, idTag, parentIdTag);
    const tx: Transaction = {
      localId: `${this.clock.now().getTime().toString(36)}-${(++this.txCounter).toString(36)}`,
      connector: s.id,
      idTag,
      startedAt: this.clock.now(),
      meterStartWh: s.lastMeter?.energyWh ?? 0,
    };
    if (parentIdTag !== undefined) tx.parentIdTag = parentIdTag;
    if (reservation) tx.reservationId = reservation.id;
    try {
      this.options.journal?.started(tx);
    } catch (err) {
      this.onError(err, 'transaction not recorded; not started');
      this.notify('cardResult', idTag, false);
      this.refresh(s);
      return false;
    }
    // §5.13: the transaction ends the reservation it used and says so in StartTransaction.
    if (reservation) this.options.reservations?.end(reservation.id, 'used');
    s.tx = tx;
    s.finished = false;
    s.offeredA = this.offerFor(s);
    this.notify('transactionStarted', tx);
    this.controller.enable(s.id, s.offeredA).catch((e) => this.onError(e, 'enable'));
    this.refresh(s);
    // A connector-0 reservation may have been holding another connector.
    if (reservation) this.refreshAll();
    return true;
  }

  private offerFor(s: ConnectorState): number {
    const max = this.settings.maxCurrentA();
    return s.cableA > 0 ? Math.min(max, s.cableA) : max;
  }

  private canStart(s: ConnectorState): boolean {
    return s.operative && this.stationOperative && s.faults.size === 0 && this.stationFaults.size === 0 && !s.tx && !s.stopPending;
  }

  private pickConnector(wanted: number | undefined, idTag: string, parentIdTag?: string): ConnectorState | null {
    if (wanted !== undefined) {
      const s = this.connectors.get(wanted);
      return s && this.usableBy(s, idTag, parentIdTag) ? s : null;
    }
    const candidates = this.connectorIds()
      .map((id) => this.connectors.get(id)!)
      .filter((s) => this.usableBy(s, idTag, parentIdTag));
    return candidates.find((s) => PLUGGED.has(s.pilot) && !s.finished) ?? candidates[0] ?? null;
  }

  private setPending(p: Omit<PendingAuthorization, 'timer'> | null): void {
    if (this.pending) this.clock.clearTimeout(this.pending.timer);
    this.pending = null;
    if (p) {
      const timer = this.clock.setTimeout(() => {
        if (this.pending?.timer === timer) {
          this.pending = null;
          this.refreshAll();
        }
      }, this.settings.connectionTimeoutS() * 1000);
      this.pending = { ...p, timer };
    }
    this.refreshAll();
  }

  private saveAvailability(connector: number, operative: boolean): void {
    if ((this.savedAvailability.get(connector) ?? true) === operative) return;
    this.savedAvailability.set(connector, operative);
    try {
      this.options.availability?.save(connector, operative);
    } catch (err) {
      this.onError(err, 'save availability');
    }
  }

  private ensureConnectors(count: number): void {
    for (let id = 1; id <= count; id++) {
      if (this.connectors.has(id)) continue;
      this.connectors.set(id, {
        id,
        operative: this.savedAvailability.get(id) ?? true,
        pilot: 'A',
        cableA: 0,
        contactorClosed: false,
        faults: new Set(),
        lastMeter: null,
        readings: 0,
        tx: null,
        stopPending: false,
        finished: false,
        offeredA: 0,
        status: null,
        statusFault: null,
      });
    }
  }

  private connector(n: number): ConnectorState | undefined {
    if (!this.connectors.has(n) && n >= 1 && n <= 16) this.ensureConnectors(n);
    return this.connectors.get(n);
  }

  private withConnector(n: number, fn: (s: ConnectorState) => void): void {
    const s = this.connector(n);
    if (!s) return;
    fn(s);
    this.refresh(s);
  }

  private firstStationFault(): string | null {
    return this.stationFaults.values().next().value ?? null;
  }

  private refreshAll(): void {
    this.refreshStation();
    for (const id of this.connectorIds()) this.refresh(this.connectors.get(id)!);
  }

  private refreshStation(): void {
    const faulted = this.stationFaults.size > 0;
    // An inoperative station still runs its transactions to the end (ChangeAvailability Scheduled).
    const unavailable = !this.stationOperative && this.activeTransactions().length === 0;
    const s0: ConnectorStatus = faulted ? 'Faulted' : unavailable ? 'Unavailable' : 'Available';
    if (s0 !== this.station0Status) {
      this.station0Status = s0;
      this.notify('statusChanged', 0, s0, this.firstStationFault());
    }
  }

  private refresh(s: ConnectorState): void {
    // A connector-0 reservation holds whichever connector is free: a change on one moves it.
    if (!this.refreshingConnectors && this.options.reservations?.active().some((r) => r.connector === 0)) {
      this.refreshingConnectors = true;
      try {
        for (const id of this.connectorIds()) this.refresh(this.connectors.get(id)!);
      } finally {
        this.refreshingConnectors = false;
      }
      return;
    }
    const stationFaults = [...this.stationFaults].filter((f) => f !== CONTROLLER_LINK_FAULT);
    const faults = [...s.faults, ...stationFaults];
    const single = this.connectors.size === 1;
    const status = deriveStatus({
      operative: s.operative && this.stationOperative,
      faults,
      pilot: s.pilot,
      authorizedWaiting: !!this.pending && (this.pending.connector === s.id || (this.pending.connector === null && single)) && this.usableBy(s, this.pending.idTag, this.pending.parentIdTag),
      transactionRunning: !!s.tx,
      finished: s.finished,
      offeredA: s.offeredA,
      reserved: this.reservationHolds().has(s.id),
    });
    const fault = status === 'Faulted' ? (faults[0] ?? (s.pilot === 'E' ? 'EV_COMM_ERROR' : null)) : null;
    if (status !== s.status || fault !== s.statusFault) {
      s.status = status;
      s.statusFault = fault;
      this.notify('statusChanged', s.id, status, fault);
    }
    if (status === 'Faulted' || status === 'Unavailable') this.endFailedReservations(s.id);
  }

  // --- reservations (OCPP 1.6 §5.13; domain/reservation/) ---------------------

  /** Connector -> the reservation holding it. */
  private reservationHolds(): ReadonlyMap<number, ReservationHold> {
    const book = this.options.reservations;
    if (!book) return NO_HOLDS;
    // A connector-0 reservation holds an empty connector rather than one with an EV plugged in,
    // and the highest-numbered one, leaving the first ones to walk-up drivers. canStart() without
    // the controller link: a link outage must not make a Reserved connector flap to Available.
    const linkOnly = [...this.stationFaults].every((f) => f === CONTROLLER_LINK_FAULT);
    const free = [...this.connectors.values()]
      .filter((c) => c.operative && this.stationOperative && c.faults.size === 0 && linkOnly && !c.tx)
      .sort((a, b) => Number(PLUGGED.has(a.pilot)) - Number(PLUGGED.has(b.pilot)) || b.id - a.id)
      .map((c) => c.id);
    return book.holds(free);
  }

  /** Could a transaction of this identifier start on this connector now (operative, free, not reserved for someone else)? */
  canStartFor(connector: number, idTag: string, parentIdTag?: string): boolean {
    const s = this.connectors.get(connector);
    return !!s && this.usableBy(s, idTag, parentIdTag);
  }

  /** Free for a transaction of this identifier: a reserved connector only for the reservation's own tag or group. */
  private usableBy(s: ConnectorState, idTag: string, parentIdTag?: string): boolean {
    if (!this.canStart(s)) return false;
    const hold = this.reservationHolds().get(s.id);
    return !hold || reservationMatches(hold, idTag, parentIdTag);
  }

  /** The reservation a transaction of this identifier on this connector uses up, if any. */
  private reservationFor(s: ConnectorState, idTag: string, parentIdTag?: string): ReservationHold | null {
    const book = this.options.reservations;
    if (!book) return null;
    const hold = this.reservationHolds().get(s.id);
    if (hold && reservationMatches(hold, idTag, parentIdTag)) return hold;
    return book.active().find((r) => r.connector === 0 && reservationMatches(r, idTag, parentIdTag)) ?? null;
  }

  /** §5.13: a reservation ends when its connector (connector 0: every connector) goes Faulted or Unavailable. */
  private endFailedReservations(connector: number): void {
    const book = this.options.reservations;
    if (!book) return;
    const allDown = [...this.connectors.values()].every((c) => c.status === 'Faulted' || c.status === 'Unavailable');
    for (const r of book.active()) {
      if (r.connector === connector || (r.connector === 0 && allDown)) book.end(r.id, 'connector-failed');
    }
  }

  private notify<K extends keyof StationEvents>(event: K, ...args: Parameters<StationEvents[K]>): void {
    for (const l of this.listeners) {
      const fn = l[event] as ((...a: Parameters<StationEvents[K]>) => void) | undefined;
      if (!fn) continue;
      try {
        fn(...args);
      } catch (err) {
        this.onError(err, `listener ${event}`);
      }
    }
  }
}


