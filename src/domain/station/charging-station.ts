// The charging station's behaviour: connectors fed by controller events, who may
// charge (card first or plug first), transactions and their stop reasons, and
// connector statuses. Speaks no protocol: adapters subscribe and translate.
import type { Authorizer, ChargeControllerPort, Clock, MeterReading, PilotState } from '../ports.js';
import { deriveStatus, type ConnectorStatus } from '../connector/connector-status.js';
import { sameIdTag, type StopReason, type Transaction } from '../session/transaction.js';

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
}

export interface StationEvents {
  statusChanged(connector: number, status: ConnectorStatus, faultCode: string | null): void;
  transactionStarted(tx: Transaction): void;
  transactionStopped(tx: Transaction): void;
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
  tx: Transaction | null;
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

export class ChargingStation {
  private readonly connectors = new Map<number, ConnectorState>();
  private readonly stationFaults = new Set<string>();
  private stationOperative = true;
  private pending: PendingAuthorization | null = null;
  private listeners: Partial<StationEvents>[] = [];
  private txCounter = 0;
  private station0Status: ConnectorStatus | null = null;

  constructor(
    private readonly controller: ChargeControllerPort,
    private readonly authorizer: Authorizer,
    private readonly settings: StationSettings,
    private readonly clock: Clock,
    private readonly onError: (err: unknown, context: string) => void = () => {},
  ) {}

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
      this.ensureConnectors(info.connectorCount);
      this.stationFaults.delete(CONTROLLER_LINK_FAULT);
      this.refreshAll();
    });
    c.on('linkDown', () => {
      this.stationFaults.add(CONTROLLER_LINK_FAULT);
      this.refreshAll();
    });
    c.on('pilot', (n, state) => this.onPilot(n, state));
    c.on('cableCapacity', (n, amps) => this.withConnector(n, (s) => (s.cableA = amps)));
    c.on('contactor', (n, closed) => this.withConnector(n, (s) => (s.contactorClosed = closed)));
    c.on('meter', (m) => this.onMeter(m));
    c.on('card', (uid) => void this.presentIdTag(uid).catch((e) => this.onError(e, 'card')));
    c.on('fault', (n, code) => this.onFault(n, code, true));
    c.on('faultCleared', (n, code) => this.onFault(n, code, false));
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
    this.notify('cardResult', idTag, true);
    const target = this.pickConnector(opts.connector);
    if (target && PLUGGED.has(target.pilot)) {
      this.beginTransaction(target, idTag, result.parentIdTag);
      return 'started';
    }
    this.setPending({ idTag, parentIdTag: result.parentIdTag, connector: opts.connector ?? null });
    return 'waiting';
  }

  stopTransaction(connector: number, reason: StopReason, stopIdTag?: string): Transaction | null {
    const s = this.connectors.get(connector);
    const tx = s?.tx;
    if (!s || !tx) return null;
    tx.stoppedAt = this.clock.now();
    tx.meterStopWh = s.lastMeter?.energyWh ?? tx.meterStartWh;
    tx.stopReason = reason;
    if (stopIdTag !== undefined) tx.stopIdTag = stopIdTag;
    s.tx = null;
    s.offeredA = 0;
    s.finished = PLUGGED.has(s.pilot);
    this.controller.disable(connector).catch((e) => this.onError(e, 'disable'));
    this.notify('transactionStopped', tx);
    this.refresh(s);
    return tx;
  }

  /** The CSMS refused the identifier in its StartTransaction answer (OCPP StopTransactionOnInvalidId). */
  onStartRejected(localId: string): void {
    const tx = this.activeTransactions().find((t) => t.localId === localId);
    if (!tx) return;
    if (this.settings.stopTransactionOnInvalidId()) this.stopTransaction(tx.connector, 'DeAuthorized');
    else this.setOffered(tx.connector, 0);
  }

  /** Change the current offered during a transaction (0 = EVSE-side suspension). */
  setOffered(connector: number, amps: number): void {
    const s = this.connectors.get(connector);
    if (!s?.tx) return;
    s.offeredA = amps;
    this.controller.enable(connector, amps >= 6 ? amps : 0).catch((e) => this.onError(e, 'enable'));
    this.refresh(s);
  }

  setOperative(connector: number, operative: boolean): void {
    if (connector === 0) {
      this.stationOperative = operative;
      this.refreshAll();
      return;
    }
    this.withConnector(connector, (s) => (s.operative = operative));
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
    }
    if (plugged && !wasPlugged && !s.tx && this.pending && (this.pending.connector === null || this.pending.connector === n) && this.canStart(s)) {
      const p = this.pending;
      this.setPending(null);
      this.beginTransaction(s, p.idTag, p.parentIdTag);
      return;
    }
    this.refresh(s);
  }

  private onMeter(m: MeterReading): void {
    const s = this.connector(m.connector);
    if (!s) return;
    s.lastMeter = m;
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

  private beginTransaction(s: ConnectorState, idTag: string, parentIdTag?: string): void {
    const tx: Transaction = {
      localId: `${this.clock.now().getTime().toString(36)}-${(++this.txCounter).toString(36)}`,
      connector: s.id,
      idTag,
      startedAt: this.clock.now(),
      meterStartWh: s.lastMeter?.energyWh ?? 0,
    };
    if (parentIdTag !== undefined) tx.parentIdTag = parentIdTag;
    s.tx = tx;
    s.finished = false;
    s.offeredA = this.offerFor(s);
    this.notify('transactionStarted', tx);
    this.controller.enable(s.id, s.offeredA).catch((e) => this.onError(e, 'enable'));
    this.refresh(s);
  }

  private offerFor(s: ConnectorState): number {
    const max = this.settings.maxCurrentA();
    return s.cableA > 0 ? Math.min(max, s.cableA) : max;
  }

  private canStart(s: ConnectorState): boolean {
    return s.operative && this.stationOperative && s.faults.size === 0 && this.stationFaults.size === 0 && !s.tx;
  }

  private pickConnector(wanted?: number): ConnectorState | null {
    if (wanted !== undefined) {
      const s = this.connectors.get(wanted);
      return s && this.canStart(s) ? s : null;
    }
    const candidates = this.connectorIds()
      .map((id) => this.connectors.get(id)!)
      .filter((s) => this.canStart(s));
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

  private ensureConnectors(count: number): void {
    for (let id = 1; id <= count; id++) {
      if (this.connectors.has(id)) continue;
      this.connectors.set(id, {
        id,
        operative: true,
        pilot: 'A',
        cableA: 0,
        contactorClosed: false,
        faults: new Set(),
        lastMeter: null,
        tx: null,
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
    const faulted = this.stationFaults.size > 0;
    const s0: ConnectorStatus = faulted ? 'Faulted' : this.stationOperative ? 'Available' : 'Unavailable';
    if (s0 !== this.station0Status) {
      this.station0Status = s0;
      this.notify('statusChanged', 0, s0, this.firstStationFault());
    }
    for (const id of this.connectorIds()) this.refresh(this.connectors.get(id)!);
  }

  private refresh(s: ConnectorState): void {
    const stationFaults = [...this.stationFaults].filter((f) => f !== CONTROLLER_LINK_FAULT);
    const faults = [...s.faults, ...stationFaults];
    const single = this.connectors.size === 1;
    const status = deriveStatus({
      operative: s.operative && this.stationOperative,
      faults,
      pilot: s.pilot,
      authorizedWaiting: !!this.pending && (this.pending.connector === s.id || (this.pending.connector === null && single)) && this.canStart(s),
      transactionRunning: !!s.tx,
      finished: s.finished,
      offeredA: s.offeredA,
      reserved: false,
    });
    const fault = status === 'Faulted' ? (faults[0] ?? (s.pilot === 'E' ? 'EV_COMM_ERROR' : null)) : null;
    if (status !== s.status || fault !== s.statusFault) {
      s.status = status;
      s.statusFault = fault;
      this.notify('statusChanged', s.id, status, fault);
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


