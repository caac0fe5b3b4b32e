// OCPP 1.6 adapter between the domain station and the RPC client: registration
// (BootNotification Accepted/Pending/Rejected, §4.2), Heartbeat (§4.6),
// StatusNotification (§4.9), transaction messages in order (§4.8, §4.10, §4.7),
// sampled MeterValues, and Authorize.req for the domain's authorizer (§4.1).
import type { AuthorizationInfo, Clock } from '../../domain/ports.js';
import { fromIdTagInfo } from './id-tag-info.js';
import type { ChargingStation } from '../../domain/station/charging-station.js';
import type { ConnectorStatus } from '../../domain/connector/connector-status.js';
import type { Transaction } from '../../domain/session/transaction.js';
import type { ConfigurationStore } from './configuration-store.js';
import { buildMeterValue } from './meter-values.js';
import { StatusReporter } from './status-reporter.js';
import { MeterSampler } from './meter-sampler.js';
import type { TransactionMessenger } from './transaction-messages.js';
import type { MeterValue } from './generated/types.js';
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

const RETRY_BOOT_DEFAULT_S = 30;

export class OcppSession {
  private registration: RegistrationStatus = 'Unknown';
  private connected = false;
  private bootTimer: unknown = null;
  private heartbeatTimer: unknown = null;
  /** Monotonic time before which no unprompted BootNotification goes out (after Pending/Rejected). */
  private nextBootAtMs = 0;
  private readonly statusReporter: StatusReporter;
  private readonly sampler: MeterSampler;
  private stopped = false;

  constructor(
    private readonly rpc: RpcCaller,
    private readonly station: ChargingStation,
    private readonly config: ConfigurationStore,
    private readonly clock: Clock & { setOffsetFrom?(csmsTime: Date): void },
    private readonly identity: () => BootIdentity,
    private readonly log: SessionLogger,
    /** The ordered, durable outbox of transaction messages (transaction-messages.ts). */
    private readonly messenger: TransactionMessenger,
  ) {
    this.sampler = new MeterSampler(station, config, clock, {
      transactionMeter: (tx, values) => messenger.meter(tx, values),
      idleMeter: (connector, values) => void this.sendIdleMeter(connector, values),
    });
    this.sampler.start();
    this.statusReporter = new StatusReporter({ rpc, station, config, clock, log, canSend: () => this.canSend() });
    station.subscribe({
      statusChanged: (c, status, fault) => this.onStatus(c, status, fault),
      transactionStarted: (tx) => this.onTransactionStarted(tx),
      transactionStopped: (tx) => this.onTransactionStopped(tx),
      transactionResumed: (tx) => this.sampler.transactionStarted(tx, true),
    });
    config.onChange((key) => {
      if (key === 'HeartbeatInterval' && this.registration === 'Accepted') this.scheduleHeartbeat();
    });
  }

  get registrationStatus(): RegistrationStatus {
    return this.registration;
  }

  get queueDepth(): number {
    return this.messenger.queueDepth;
  }

  csmsTransactionId(localId: string): number | undefined {
    return this.messenger.csmsTransactionId(localId);
  }

  localIdFor(transactionId: number): string | undefined {
    return this.messenger.localIdFor(transactionId);
  }


  // --- connection lifecycle -------------------------------------------------

  onConnected(): void {
    this.connected = true;
    // §4.2: after Pending/Rejected the interval is the minimum wait before the next
    // BootNotification, a reconnect included (no storm when the CSMS drops refused chargers).
    const refused = this.registration === 'Pending' || this.registration === 'Rejected';
    const waitMs = refused ? this.nextBootAtMs - this.clock.monotonicMs() : 0;
    if (waitMs > 0) {
      this.retryBoot(waitMs / 1000);
      return;
    }
    // Every (re)connection starts with a BootNotification (§4.2: until Accepted only Boot is sent).
    this.registration = this.registration === 'Accepted' ? 'Accepted' : 'Unknown';
    void this.boot();
  }

  onDisconnected(): void {
    this.connected = false;
    this.clearTimer('boot');
    this.clearTimer('heartbeat');
    this.statusReporter.stop();
    this.messenger.setOnline(false);
  }

  stop(): void {
    this.stopped = true;
    this.onDisconnected();
    this.sampler.stop();
    this.messenger.stop();
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
      this.statusReporter.sendAll();
      this.messenger.setOnline(true);
    } else {
      // Pending or Rejected (e.g. a triggered BootNotification answered so): transaction messages wait.
      this.messenger.setOnline(false);
      const waitS = conf.interval > 0 ? conf.interval : RETRY_BOOT_DEFAULT_S;
      this.nextBootAtMs = this.clock.monotonicMs() + waitS * 1000;
      this.retryBoot(waitS);
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

  /** `triggered`: asked for by TriggerMessage, which §4.2 allows while Pending too. */
  async heartbeat(triggered = false): Promise<void> {
    if (!this.canSend() && !(triggered && this.canSendTriggered())) return;
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

  /** §4.2: while Pending the CP sends only what a TriggerMessage asks for; while Rejected nothing. */
  private canSendTriggered(): boolean {
    return this.connected && !this.stopped && (this.registration === 'Accepted' || this.registration === 'Pending');
  }

  // --- status (status-reporter.ts: dedup, MinimumStatusDuration) -------------

  private onStatus(connector: number, status: ConnectorStatus, fault: string | null): void {
    if (connector > 0) this.config.setInternal('NumberOfConnectors', String(this.station.connectorIds().length));
    this.statusReporter.onStatus(connector, status, fault);
  }

  /** TriggerMessage(StatusNotification): send again even when unchanged. */
  async resendStatus(connector?: number): Promise<void> {
    await this.statusReporter.resend(connector);
  }

  /** TriggerMessage: the sender for a requested message, or null when this charger cannot send it. */
  triggerable(message: string, connectorId?: number): (() => Promise<void>) | null {
    switch (message) {
      case 'BootNotification':
        return () => this.boot();
      case 'Heartbeat':
        return () => this.heartbeat(true);
      case 'StatusNotification':
        return () => this.resendStatus(connectorId === 0 ? 0 : connectorId);
      case 'MeterValues':
        return async () => {
          const list = connectorId ? [connectorId] : this.station.connectorIds();
          for (const c of list) {
            const reading = await this.station.readMeter(c); // what flows now, not the last periodic report
            if (!reading) continue;
            const tx = this.station.transaction(c);
            const payload: RequestOf<'MeterValues'> = {
              connectorId: c,
              meterValue: [buildMeterValue(reading, this.config.getList('MeterValuesSampledData'), this.clock.now(), 'Trigger', this.station.offeredCurrent(c))],
            };
            const id = tx ? this.messenger.csmsTransactionId(tx.localId) : undefined;
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

  /**
   * Authorize.req (§4.1) when registered and connected; 'offline' when it cannot be sent or
   * gets no answer. The decision order (local list, cache, offline rules) is the domain
   * authorizer's (domain/authorization/authorizer.ts).
   */
  async authorizeRemote(idTag: string): Promise<AuthorizationInfo | 'offline'> {
    if (!this.canSend()) return 'offline';
    try {
      const conf = await this.rpc.call('Authorize', { idTag });
      return fromIdTagInfo(conf.idTagInfo);
    } catch (err) {
      this.log.warn({ err: errText(err) }, 'Authorize failed; deciding offline');
      return 'offline';
    }
  }

  // --- transactions (ordered outbox: transaction-messages.ts; sampling: meter-sampler.ts) ---

  /** The Start itself was made durable and queued before energy flowed (the station's journal: messenger.started). */
  private onTransactionStarted(tx: Transaction): void {
    this.sampler.transactionStarted(tx);
  }

  private onTransactionStopped(tx: Transaction): void {
    this.messenger.stopped(tx, this.sampler.transactionStopped(tx));
  }

  /** Clock-aligned values of an idle connector are not transaction messages: sent when online, else dropped. */
  private async sendIdleMeter(connector: number, values: MeterValue[]): Promise<void> {
    if (!this.canSend()) return;
    await this.rpc.call('MeterValues', { connectorId: connector, meterValue: values }).catch((err: unknown) => this.log.warn({ err: errText(err), connector }, 'MeterValues failed'));
  }

  /** Waits until the queued transaction messages are delivered (Reset: stop reasons reach the CSMS first). */
  async drain(): Promise<void> {
    await this.messenger.deliverQueued();
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
