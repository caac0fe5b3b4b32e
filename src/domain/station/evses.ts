// Connectors and availability: what the station knows of each EVSE (pilot, cable, faults,
// meter, transaction, current offered), the station-wide faults and Operative settings
// (persisted), and each connector's state derived from these facts and announced on change.
import type { StationEventBus } from '../events.js';
import type { AvailabilityResult, Operational } from '../model/availability.js';
import { deriveConnectorState, sameConnectorState, type ConnectorState, type StationState } from '../model/connector-state.js';
import { connectorOf, type EvseId, type StationTarget } from '../model/evse.js';
import type { Transaction } from '../model/transaction.js';
import type { AvailabilityStore, MeterReading, PilotState } from '../ports.js';

/** A fault code the domain raises itself when the controller link is down. */
export const CONTROLLER_LINK_FAULT = 'CONTROLLER_LINK';

/** The controller numbers connectors 1..16 (controller-serial.md); anything else is ignored. */
const MAX_EVSES = 16;

export interface EvseRecord {
  id: EvseId;
  operative: boolean;
  pilot: PilotState;
  cableA: number;
  contactorClosed: boolean;
  faults: Set<string>;
  lastMeter: MeterReading | null;
  /** Readings received so far: tells a reading that came after a request from an old one. */
  readings: number;
  tx: Transaction | null;
  /** The last transaction's stop register is being read: no new one starts before its Stop is reported. */
  stopPending: boolean;
  /** A transaction ended and the cable is still plugged in. */
  finished: boolean;
  offeredA: number;
  state: ConnectorState | null;
}

/** Facts other blocks own (authorization flow, reservation holds), asked for on every refresh. */
export interface EvseFactSources {
  authorizedWaiting(e: EvseRecord): boolean;
  reserved(e: EvseRecord): boolean;
  /** An any-EVSE reservation holds whichever EVSE is free: a change on one moves it. */
  holdsFloat(): boolean;
  /** After each refresh of an EVSE (reservations end on Faulted/Unavailable). */
  refreshed(e: EvseRecord): void;
}

const NO_FACTS: EvseFactSources = { authorizedWaiting: () => false, reserved: () => false, holdsFloat: () => false, refreshed: () => {} };

export class Evses {
  private readonly records = new Map<EvseId, EvseRecord>();
  readonly stationFaults = new Set<string>();
  private stationOperative: boolean;
  private stationStateValue: StationState | null = null;
  private savedStation: Operational | undefined;
  private readonly savedEvses: Map<EvseId, Operational>;
  private refreshingAll = false;
  private facts: EvseFactSources = NO_FACTS;

  constructor(
    private readonly bus: StationEventBus,
    private readonly onError: (err: unknown, context: string) => void,
    private readonly store?: AvailabilityStore,
  ) {
    const saved = store?.load();
    this.savedStation = saved?.station;
    this.savedEvses = new Map(saved?.evses ?? []);
    this.stationOperative = (this.savedStation ?? 'Operative') === 'Operative';
  }

  /** The blocks that own the other facts; set once while the station is assembled. */
  useFacts(facts: EvseFactSources): void {
    this.facts = facts;
  }

  // --- the registry -----------------------------------------------------------

  ensure(count: number): void {
    for (let id = 1; id <= count; id++) {
      if (this.records.has(id)) continue;
      this.records.set(id, {
        id,
        operative: (this.savedEvses.get(id) ?? 'Operative') === 'Operative',
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
        state: null,
      });
    }
  }

  get(id: EvseId): EvseRecord | undefined {
    return this.records.get(id);
  }

  /** The record for a controller event: an EVSE the controller reports before its HELLO is created. */
  fromController(n: number): EvseRecord | undefined {
    if (!this.records.has(n) && n >= 1 && n <= MAX_EVSES) this.ensure(n);
    return this.records.get(n);
  }

  get size(): number {
    return this.records.size;
  }

  ids(): EvseId[] {
    return [...this.records.keys()].sort((a, b) => a - b);
  }

  all(): EvseRecord[] {
    return this.ids().map((id) => this.records.get(id)!);
  }

  activeTransactions(): Transaction[] {
    return this.all()
      .map((e) => e.tx)
      .filter((t): t is Transaction => !!t);
  }

  stationState(): StationState | null {
    return this.stationStateValue;
  }

  /** Nothing stops a new transaction here: operative, no fault, none running nor still being ended. */
  canStart(e: EvseRecord): boolean {
    return e.operative && this.stationOperative && e.faults.size === 0 && this.stationFaults.size === 0 && !e.tx && !e.stopPending;
  }

  /** Free for a reservation to hold: as canStart, but a controller link outage does not count (no flapping). */
  holdable(e: EvseRecord): boolean {
    const linkOnly = [...this.stationFaults].every((f) => f === CONTROLLER_LINK_FAULT);
    return e.operative && this.stationOperative && e.faults.size === 0 && linkOnly && !e.tx;
  }

  // --- availability -------------------------------------------------------------

  /**
   * ChangeAvailability. Takes effect at once for idle EVSEs; a running transaction keeps going
   * and the EVSE becomes Unavailable when it ends ('Scheduled'), because Unavailable never
   * overrides a running transaction and no new one can start on an inoperative EVSE. Saved
   * when the value changes. The caller refreshes.
   */
  setAvailability(target: StationTarget, availability: Operational): AvailabilityResult {
    const operative = availability === 'Operative';
    let running: boolean;
    if (target.scope === 'station') {
      running = this.activeTransactions().length > 0;
      this.stationOperative = operative;
    } else {
      const e = this.records.get(target.evseId);
      if (!e) return 'Rejected';
      running = !!e.tx;
      e.operative = operative;
    }
    this.save(target, availability);
    this.bus.emit('availabilityChanged', { target, availability });
    return running && !operative ? 'Scheduled' : 'Accepted';
  }

  /** As set by ChangeAvailability; null for an unknown EVSE. */
  availability(target: StationTarget): Operational | null {
    const operative = target.scope === 'station' ? this.stationOperative : this.records.get(target.evseId)?.operative;
    if (operative === undefined) return null;
    return operative ? 'Operative' : 'Inoperative';
  }

  private save(target: StationTarget, availability: Operational): void {
    const before = target.scope === 'station' ? this.savedStation : this.savedEvses.get(target.evseId);
    if ((before ?? 'Operative') === availability) return;
    if (target.scope === 'station') this.savedStation = availability;
    else this.savedEvses.set(target.evseId, availability);
    try {
      this.store?.save(target, availability);
    } catch (err) {
      this.onError(err, 'save availability');
    }
  }

  // --- faults ---------------------------------------------------------------------

  setStationFault(code: string, active: boolean): void {
    if (active) this.stationFaults.add(code);
    else this.stationFaults.delete(code);
  }

  // --- states -----------------------------------------------------------------------

  refreshAll(): void {
    this.refreshStation();
    for (const e of this.all()) this.refresh(e);
  }

  refreshStation(): void {
    const faults = [...this.stationFaults];
    // An inoperative station still runs its transactions to the end (ChangeAvailability Scheduled).
    const unavailable = !this.stationOperative && this.activeTransactions().length === 0;
    const availability = faults.length > 0 ? 'Faulted' : unavailable ? 'Unavailable' : 'Available';
    const prev = this.stationStateValue;
    if (prev && prev.availability === availability && prev.faults.join('\n') === faults.join('\n')) return;
    this.stationStateValue = { availability, faults };
    this.bus.emit('stationStateChanged', { state: this.stationStateValue });
  }

  refresh(e: EvseRecord): void {
    if (!this.refreshingAll && this.facts.holdsFloat()) {
      this.refreshingAll = true;
      try {
        for (const r of this.all()) this.refresh(r);
      } finally {
        this.refreshingAll = false;
      }
      return;
    }
    // The controller link is the station's fault, not each connector's (the station reports it).
    const stationFaults = [...this.stationFaults].filter((f) => f !== CONTROLLER_LINK_FAULT);
    const state = deriveConnectorState({
      operative: e.operative && this.stationOperative,
      faults: [...e.faults, ...stationFaults],
      pilot: e.pilot,
      authorizedWaiting: this.facts.authorizedWaiting(e),
      transactionRunning: !!e.tx,
      finished: e.finished,
      offeredA: e.offeredA,
      reserved: this.facts.reserved(e),
    });
    if (!sameConnectorState(state, e.state)) {
      e.state = state;
      this.bus.emit('connectorStateChanged', { connector: connectorOf(e.id), state });
    }
    this.facts.refreshed(e);
  }
}
