// OCPP 1.6 adapter between the domain station and the RPC client: registration
// (BootNotification Accepted/Pending/Rejected, §4.2), Heartbeat (§4.6),
// StatusNotification (§4.9), transaction messages in order (§4.8, §4.10, §4.7),
// sampled MeterValues, and the Authorizer the domain uses (§4.1).
import type { Authorizer, AuthorizationResult, Clock, MeterReading } from '../../domain/ports.js';
import type { ChargingStation } from '../../domain/station/charging-station.js';
import type { ConnectorStatus } from '../../domain/connector/connector-status.js';
import type { Transaction } from '../../domain/session/transaction.js';
import type { ConfigurationStore } from './configuration-store.js';
import { mapFault } from './mappers.js';
import { buildMeterValue } from './meter-values.js';
import type { CpAction, RequestOf, ResponseOf } from './actions/types.js';

export interface RpcCaller {
  call<A extends CpAction>(action: A, payload: RequestOf<A>): Promise<ResponseOf<A>>;
}

export interface SessionLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface BootIdentity {
  chargePointVendor: string;
  chargePointModel: string;
  chargePointSerialNumber?: string;
  chargeBoxSerialNumber?: string;
  firmwareVersion?: string;
  meterSerialNumber?: string;
}

export type RegistrationStatus = 'Unknown' | 'Pending' | 'Accepted' | 'Rejected';

/** A transaction message waiting for delivery, in order. */
type TxMessage =
  | { kind: 'start'; tx: Transaction }
  | { kind: 'meter'; localId: string; connector: number; values: ReturnType<typeof buildMeterValue>[] }
  | { kind: 'stop'; tx: Transaction; transactionData: ReturnType<typeof buildMeterValue>[] };

const RETRY_BOOT_DEFAULT_S = 30;

export class OcppSession implements Authorizer {
  private registration: RegistrationStatus = 'Unknown';
  private connected = false;
  private bootTimer: unknown = null;
  private heartbeatTimer: unknown = null;
  private readonly sentStatus = new Map<number, string>();
  private readonly txQueue: TxMessage[] = [];
  private draining = false;
  /** localId -> CSMS transactionId. */
  private readonly transactionIds = new Map<string, number>();
  private readonly samplers = new Map<number, unknown>();
  private readonly stopTxnSamples = new Map<string, ReturnType<typeof buildMeterValue>[]>();
  private stopped = false;

  constructor(
    private readonly rpc: RpcCaller,
    private readonly station: ChargingStation,
    private readonly config: ConfigurationStore,
    private readonly clock: Clock & { setOffsetFrom?(csmsTime: Date): void },
    private readonly identity: () => BootIdentity,
    private readonly log: SessionLogger,
  ) {
    station.subscribe({
      statusChanged: (c, status, fault) => this.onStatus(c, status, fault),
      transactionStarted: (tx) => this.onTransactionStarted(tx),
      transactionStopped: (tx) => this.onTransactionStopped(tx),
    });
    config.onChange((key) => {
      if (key === 'HeartbeatInterval' && this.registration === 'Accepted') this.scheduleHeartbeat();
    });
  }

  get registrationStatus(): RegistrationStatus {
    return this.registration;
  }

  get queueDepth(): number {
    return this.txQueue.length;
  }

  csmsTransactionId(localId: string): number | undefined {
    return this.transactionIds.get(localId);
  }

  localIdFor(transactionId: number): string | undefined {
    for (const [local, id] of this.transactionIds) if (id === transactionId) return local;
    return undefined;
  }

  // --- connection lifecycle -------------------------------------------------

  onConnected(): void {
    this.connected = true;
    // Every (re)connection starts with a BootNotification (§4.2: until Accepted only Boot is sent).
    this.registration = this.registration === 'Accepted' ? 'Accepted' : 'Unknown';
    void this.boot();
  }

  onDisconnected(): void {
    this.connected = false;
    this.clearTimer('boot');
    this.clearTimer('heartbeat');
  }

  stop(): void {
    this.stopped = true;
    this.onDisconnected();
    for (const t of this.samplers.values()) this.clock.clearInterval(t);
    this.samplers.clear();
  }

  private async boot(): Promise<void> {
    this.clearTimer('boot');
    if (!this.connected || this.stopped) return;
    let conf: ResponseOf<'BootNotification'>;
    try {
      conf = await this.rpc.call('BootNotification', this.identity());
    } catch (err) {
      this.log.warn({ err: errText(err) }, 'BootNotification failed; retrying');
      this.retryBoot(RETRY_BOOT_DEFAULT_S);
      return;
    }
    const csmsTime = new Date(conf.currentTime);
    if (!Number.isNaN(csmsTime.getTime())) this.clock.setOffsetFrom?.(csmsTime);
    this.registration = conf.status;
    this.log.info({ status: conf.status, interval: conf.interval }, 'BootNotification answered');
    if (conf.status === 'Accepted') {
      if (conf.interval > 0) this.config.setInternal('HeartbeatInterval', String(conf.interval));
      this.scheduleHeartbeat();
      this.sentStatus.clear();
      this.sendAllStatuses();
      void this.drain();
    } else {
      this.retryBoot(conf.interval > 0 ? conf.interval : RETRY_BOOT_DEFAULT_S);
    }
  }

  private retryBoot(seconds: number): void {
    if (!this.connected || this.stopped) return;
    this.bootTimer = this.clock.setTimeout(() => void this.boot(), seconds * 1000);
  }

  private scheduleHeartbeat(): void {
    this.clearTimer('heartbeat');
    const s = this.config.getInt('HeartbeatInterval');
    if (s <= 0) return;
    this.heartbeatTimer = this.clock.setInterval(() => void this.heartbeat(), s * 1000);
  }

  async heartbeat(): Promise<void> {
    if (!this.canSend()) return;
    try {
      const conf = await this.rpc.call('Heartbeat', {});
      const t = new Date(conf.currentTime);
      if (!Number.isNaN(t.getTime())) this.clock.setOffsetFrom?.(t);
    } catch (err) {
      this.log.warn({ err: errText(err) }, 'Heartbeat failed');
    }
  }

  private clearTimer(which: 'boot' | 'heartbeat'): void {
    if (which === 'boot' && this.bootTimer !== null) this.clock.clearTimeout(this.bootTimer);
    if (which === 'heartbeat' && this.heartbeatTimer !== null) this.clock.clearInterval(this.heartbeatTimer);
    if (which === 'boot') this.bootTimer = null;
    else this.heartbeatTimer = null;
  }

  private canSend(): boolean {
    return this.connected && this.registration === 'Accepted' && !this.stopped;
  }

  // --- status ---------------------------------------------------------------

  private onStatus(connector: number, status: ConnectorStatus, fault: string | null): void {
    if (connector > 0) this.config.setInternal('NumberOfConnectors', String(this.station.connectorIds().length));
    if (!this.canSend()) return;
    void this.sendStatus(connector, status, fault);
  }

  private sendAllStatuses(): void {
    for (const c of [0, ...this.station.connectorIds()]) {
      const status = this.station.status(c);
      if (status) void this.sendStatus(c, status, this.station.statusFault(c));
    }
  }

  async sendStatus(connector: number, status: ConnectorStatus, fault: string | null): Promise<void> {
    const mapped = mapFault(fault);
    const key = `${status}/${mapped.errorCode}/${mapped.vendorErrorCode ?? ''}`;
    if (this.sentStatus.get(connector) === key) return;
    this.sentStatus.set(connector, key);
    // Connector 0 reports station-wide states only (§7.7: Available, Unavailable, Faulted).
    const payload: RequestOf<'StatusNotification'> = {
      connectorId: connector,
      status,
      errorCode: mapped.errorCode,
      timestamp: this.clock.now().toISOString(),
    };
    if (mapped.vendorErrorCode) payload.vendorErrorCode = mapped.vendorErrorCode;
    if (mapped.info) payload.info = mapped.info;
    try {
      await this.rpc.call('StatusNotification', payload);
    } catch (err) {
      this.sentStatus.delete(connector);
      this.log.warn({ err: errText(err), connector }, 'StatusNotification failed');
    }
  }

  /** TriggerMessage(StatusNotification): send again even when unchanged. */
  async resendStatus(connector?: number): Promise<void> {
    const list = connector === undefined ? [0, ...this.station.connectorIds()] : [connector];
    for (const c of list) {
      const status = this.station.status(c);
      if (!status) continue;
      this.sentStatus.delete(c);
      await this.sendStatus(c, status, this.station.statusFault(c));
    }
  }

  /** TriggerMessage: the sender for a requested message, or null when this charger cannot send it. */
  triggerable(message: string, connectorId?: number): (() => Promise<void>) | null {
    switch (message) {
      case 'BootNotification':
        return () => this.boot();
      case 'Heartbeat':
        return () => this.heartbeat();
      case 'StatusNotification':
        return () => this.resendStatus(connectorId === 0 ? 0 : connectorId);
      case 'MeterValues':
        return async () => {
          const list = connectorId ? [connectorId] : this.station.connectorIds();
          for (const c of list) {
            const reading = this.station.lastMeter(c);
            if (!reading) continue;
            const tx = this.station.transaction(c);
            const payload: RequestOf<'MeterValues'> = {
              connectorId: c,
              meterValue: [buildMeterValue(reading, this.config.getList('MeterValuesSampledData'), this.clock.now(), 'Trigger', this.station.offeredCurrent(c))],
            };
            const id = tx ? this.transactionIds.get(tx.localId) : undefined;
            if (id !== undefined) payload.transactionId = id;
            await this.rpc.call('MeterValues', payload).catch((err: unknown) => this.log.warn({ err: errText(err) }, 'MeterValues failed'));
          }
        };
      case 'DiagnosticsStatusNotification':
        return async () => void (await this.rpc.call('DiagnosticsStatusNotification', { status: 'Idle' }).catch(() => undefined));
      case 'FirmwareStatusNotification':
        return async () => void (await this.rpc.call('FirmwareStatusNotification', { status: 'Idle' }).catch(() => undefined));
      default:
        return null;
    }
  }

  // --- authorization --------------------------------------------------------

  async authorize(idTag: string): Promise<AuthorizationResult> {
    if (this.canSend()) {
      try {
        const conf = await this.rpc.call('Authorize', { idTag });
        const r: AuthorizationResult = { status: conf.idTagInfo.status };
        if (conf.idTagInfo.parentIdTag) r.parentIdTag = conf.idTagInfo.parentIdTag;
        return r;
      } catch (err) {
        this.log.warn({ err: errText(err) }, 'Authorize failed; deciding offline');
      }
    }
    // Offline without a local list yet: only AllowOfflineTxForUnknownId lets an unknown tag charge.
    const offlineOk = this.config.getBoolean('LocalAuthorizeOffline') && this.config.getBoolean('AllowOfflineTxForUnknownId');
    return { status: offlineOk ? 'Accepted' : 'Invalid' };
  }

  // --- transactions ---------------------------------------------------------

  private onTransactionStarted(tx: Transaction): void {
    this.enqueue({ kind: 'start', tx });
    this.startSampling(tx);
  }

  private onTransactionStopped(tx: Transaction): void {
    this.stopSampling(tx.connector);
    const transactionData = this.stopTxnSamples.get(tx.localId) ?? [];
    this.stopTxnSamples.delete(tx.localId);
    const last = this.station.lastMeter(tx.connector);
    const stopMeasurands = this.config.getList('StopTxnSampledData');
    if (last && stopMeasurands.length > 0) transactionData.push(buildMeterValue(last, stopMeasurands, this.clock.now(), 'Transaction.End', 0));
    this.enqueue({ kind: 'stop', tx, transactionData });
  }

  private startSampling(tx: Transaction): void {
    this.stopSampling(tx.connector);
    const begin = this.station.lastMeter(tx.connector);
    const stopMeasurands = this.config.getList('StopTxnSampledData');
    if (begin && stopMeasurands.length > 0) {
      this.stopTxnSamples.set(tx.localId, [buildMeterValue(begin, stopMeasurands, tx.startedAt, 'Transaction.Begin', 0)]);
    }
    const interval = this.config.getInt('MeterValueSampleInterval');
    if (interval <= 0) return;
    const timer = this.clock.setInterval(() => this.sample(tx), interval * 1000);
    this.samplers.set(tx.connector, timer);
  }

  private stopSampling(connector: number): void {
    const t = this.samplers.get(connector);
    if (t !== undefined) this.clock.clearInterval(t);
    this.samplers.delete(connector);
  }

  private sample(tx: Transaction): void {
    const reading: MeterReading | null = this.station.lastMeter(tx.connector);
    if (!reading) return;
    const offered = this.station.offeredCurrent(tx.connector);
    const measurands = this.config.getList('MeterValuesSampledData');
    if (measurands.length > 0) {
      this.enqueue({
        kind: 'meter',
        localId: tx.localId,
        connector: tx.connector,
        values: [buildMeterValue(reading, measurands, this.clock.now(), 'Sample.Periodic', offered)],
      });
    }
    const stopMeasurands = this.config.getList('StopTxnSampledData');
    if (stopMeasurands.length > 0) {
      this.stopTxnSamples.get(tx.localId)?.push(buildMeterValue(reading, stopMeasurands, this.clock.now(), 'Sample.Periodic', offered));
    }
  }

  private enqueue(m: TxMessage): void {
    this.txQueue.push(m);
    void this.drain();
  }

  /** Delivers transaction messages strictly in order, one at a time; stops at the first failure. */
  async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.txQueue.length > 0 && this.canSend()) {
        const m = this.txQueue[0]!;
        const ok = await this.deliver(m);
        if (!ok) break;
        this.txQueue.shift();
      }
    } finally {
      this.draining = false;
    }
  }

  private async deliver(m: TxMessage): Promise<boolean> {
    try {
      if (m.kind === 'start') {
        const conf = await this.rpc.call('StartTransaction', {
          connectorId: m.tx.connector,
          idTag: m.tx.idTag,
          meterStart: Math.round(m.tx.meterStartWh),
          timestamp: m.tx.startedAt.toISOString(),
        });
        this.transactionIds.set(m.tx.localId, conf.transactionId);
        this.log.info({ connector: m.tx.connector, transactionId: conf.transactionId, status: conf.idTagInfo.status }, 'transaction started');
        if (conf.idTagInfo.status !== 'Accepted') this.station.onStartRejected(m.tx.localId);
        return true;
      }
      const transactionId = this.transactionIds.get(m.kind === 'meter' ? m.localId : m.tx.localId);
      if (m.kind === 'meter') {
        const payload: RequestOf<'MeterValues'> = { connectorId: m.connector, meterValue: m.values };
        if (transactionId !== undefined) payload.transactionId = transactionId;
        await this.rpc.call('MeterValues', payload);
        return true;
      }
      const stop: RequestOf<'StopTransaction'> = {
        // A start the CSMS never answered cannot be reported with its id; -1 is never a real id.
        transactionId: transactionId ?? -1,
        meterStop: Math.round(m.tx.meterStopWh ?? m.tx.meterStartWh),
        timestamp: (m.tx.stoppedAt ?? this.clock.now()).toISOString(),
        reason: m.tx.stopReason ?? 'Other',
      };
      if (m.tx.stopIdTag) stop.idTag = m.tx.stopIdTag;
      if (m.transactionData.length > 0) stop.transactionData = m.transactionData;
      await this.rpc.call('StopTransaction', stop);
      this.log.info({ connector: m.tx.connector, transactionId, reason: stop.reason }, 'transaction stopped');
      this.transactionIds.delete(m.tx.localId);
      return true;
    } catch (err) {
      this.log.warn({ err: errText(err), kind: m.kind }, 'transaction message not delivered; will retry');
      return false;
    }
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
