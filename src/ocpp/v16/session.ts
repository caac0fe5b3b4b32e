// OCPP 1.6 session: the registration (§4.2 BootNotification Accepted/Pending/Rejected) and
// connection state, and the wiring of the station's events to the charger-initiated action
// modules (outgoing/: one per action) and their helpers: status-reporter.ts (when a
// StatusNotification goes out), meter-sampler.ts (when values are taken) and
// transaction-messages.ts (the ordered, durable outbox of Start/MeterValues/Stop).
import type { Clock, TimerHandle } from '../../platform/clock.js';
import type { ChargingStation } from '../../domain/station/charging-station.js';
import type { Transaction } from '../../domain/model/transaction.js';
import { StatusView } from './status-view.js';
import type { ChargePointStatus } from './generated/types.js';
import type { ConfigurationStore } from './configuration-store.js';
import { StatusReporter } from './status-reporter.js';
import { MeterSampler } from './meter-sampler.js';
import type { TransactionMessenger } from './transaction-messages.js';
import type { OutgoingContext, RpcCaller, TriggeredFirmwareStatus } from './outgoing/context.js';
import { RETRY_BOOT_DEFAULT_S, sendBootNotification, type BootIdentity, type RegistrationStatus } from './outgoing/BootNotification.js';
import { sendHeartbeat } from './outgoing/Heartbeat.js';
import type { RemoteAuthorize } from './outgoing/Authorize.js';
import { sendIdleMeterValues } from './outgoing/MeterValues.js';
import { triggerFor } from './outgoing/index.js';
import type { AgentLogger } from '../../platform/logger.js';
import type { SecurityEventSink } from '../../security/security-events.js';

/** A CSMS time that moves the clock by more than this is a SettingSystemTime security event (drift below it is not). */
export const CLOCK_MOVE_REPORT_MS = 2_000;

/** Statuses kept for the next registration (whenAccepted): one per key, this many keys at most. */
const MAX_DUE_WHEN_ACCEPTED = 8;

export type { RpcCaller } from './outgoing/context.js';
export type { BootIdentity, RegistrationStatus } from './outgoing/BootNotification.js';

export class OcppSession {
  private registration: RegistrationStatus = 'Unknown';
  private connected = false;
  private bootTimer: TimerHandle | null = null;
  private heartbeatTimer: TimerHandle | null = null;
  /** Monotonic time before which no unprompted BootNotification goes out (after Pending/Rejected). */
  private nextBootAtMs = 0;
  private readonly statusReporter: StatusReporter;
  private readonly statusView: StatusView;
  private readonly sampler: MeterSampler;
  private stopped = false;
  private readonly acceptedListeners: Array<() => void> = [];
  /** Senders of statuses that fell due offline (whenAccepted), by key, oldest first. */
  private readonly dueWhenAccepted = new Map<string, () => void>();
  private firmwareStatusSource: () => TriggeredFirmwareStatus = () => ({ message: 'FirmwareStatusNotification', status: 'Idle' });
  private securityEvents: SecurityEventSink | null = null;
  /** What the outgoing modules work with; TriggerMessage hands it to a module's trigger. */
  readonly outgoing: OutgoingContext;

  constructor(
    rpc: RpcCaller,
    private readonly station: ChargingStation,
    private readonly config: ConfigurationStore,
    private readonly clock: Clock & { setOffsetFrom?(csmsTime: Date): void },
    private readonly identity: () => BootIdentity,
    log: AgentLogger,
    /** The ordered, durable outbox of transaction messages (transaction-messages.ts). */
    private readonly messenger: TransactionMessenger,
    /** Authorize.req for the domain's authorizer: it goes out with this session's state. */
    remoteAuthorizer?: RemoteAuthorize,
  ) {
    this.outgoing = {
      rpc,
      station,
      config,
      clock,
      log,
      canSend: () => this.canSend(),
      canSendTriggered: () => this.canSendTriggered(),
      csmsTime: (at) => this.csmsTime(at),
      csmsTransactionId: (localId) => messenger.csmsTransactionId(localId),
      boot: () => this.boot(),
      resendStatus: (connector) => this.statusReporter.resend(connector),
      whenAccepted: (key, send) => this.keepUntilAccepted(key, send),
      firmwareStatus: () => this.firmwareStatusSource(),
    };
    this.sampler = new MeterSampler(station, config, clock, {
      transactionMeter: (tx, values) => messenger.meter(tx, values),
      idleMeter: (connector, values) => void sendIdleMeterValues(this.outgoing, connector, values),
    });
    this.sampler.start();
    remoteAuthorizer?.bind(this.outgoing);
    this.statusView = new StatusView(station);
    this.statusReporter = new StatusReporter({ rpc, station: this.statusView, config, clock, log, canSend: () => this.canSend() });
    this.statusView.onChange((c, status, fault) => this.onStatus(c, status, fault));
    station.subscribe({
      // The Start itself was made durable and queued before energy flowed (the station's journal: messenger.started).
      transactionStarted: ({ tx }) => this.sampler.transactionStarted(tx),
      transactionEnded: ({ tx }) => this.onTransactionStopped(tx),
      transactionResumed: ({ tx }) => this.sampler.transactionStarted(tx, true),
    });
    config.onChange((key) => {
      if (key === 'HeartbeatInterval' && this.registration === 'Accepted') this.scheduleHeartbeat();
    });
  }

  /** Called after every accepted BootNotification (certificate renewal, the firmware health gate and report). */
  onAccepted(listener: () => void): void {
    this.acceptedListeners.push(listener);
  }

  /** Where SettingSystemTime goes when a CSMS time moves the clock (security whitepaper). */
  reportClockChanges(sink: SecurityEventSink): void {
    this.securityEvents = sink;
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

  /** What a triggered FirmwareStatusNotification says (Idle without an update). */
  setFirmwareStatusSource(source: () => TriggeredFirmwareStatus): void {
    this.firmwareStatusSource = source;
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

  // --- registration (outgoing/BootNotification.ts) -------------------------------

  private async boot(): Promise<void> {
    this.clearTimer('boot');
    if (!this.connected || this.stopped) return;
    const outcome = await sendBootNotification(this.outgoing, this.identity());
    if (!outcome) {
      this.retryBoot(RETRY_BOOT_DEFAULT_S);
      return;
    }
    this.registration = outcome.status;
    if (outcome.status === 'Accepted') {
      this.scheduleHeartbeat();
      this.statusReporter.sendAll();
      this.messenger.setOnline(true);
      for (const listener of this.acceptedListeners) listener();
      const due = [...this.dueWhenAccepted.values()];
      this.dueWhenAccepted.clear();
      for (const send of due) send();
    } else {
      // Pending or Rejected (e.g. a triggered BootNotification answered so): transaction messages wait.
      this.messenger.setOnline(false);
      this.nextBootAtMs = this.clock.monotonicMs() + outcome.retryAfterS * 1000;
      this.retryBoot(outcome.retryAfterS);
    }
  }

  private keepUntilAccepted(key: string, send: () => void): void {
    this.dueWhenAccepted.delete(key);
    this.dueWhenAccepted.set(key, send);
    // Bounded: the oldest goes (uploads run one at a time, so a few keys is plenty).
    if (this.dueWhenAccepted.size > MAX_DUE_WHEN_ACCEPTED) this.dueWhenAccepted.delete(this.dueWhenAccepted.keys().next().value!);
  }

  private retryBoot(seconds: number): void {
    if (!this.connected || this.stopped) return;
    this.bootTimer = this.clock.setTimeout(() => void this.boot(), seconds * 1000);
  }

  /** The CSMS time of a BootNotification or Heartbeat answer; the first time, what was stamped before it is corrected (time-correction.ts). */
  private csmsTime(at: Date): void {
    const before = this.clock.now().getTime();
    this.clock.setOffsetFrom?.(at);
    const movedMs = this.clock.now().getTime() - before;
    if (Math.abs(movedMs) > CLOCK_MOVE_REPORT_MS) {
      this.securityEvents?.report('SettingSystemTime', `set from the CSMS time, moved by ${(movedMs / 1000).toFixed(1)} s`);
    }
    const corrected = this.messenger.clockSynced();
    if (!corrected) return;
    // Transactions running since before the sync started at a provisional time (their Begin value too).
    for (const tx of this.station.activeTransactions()) {
      if (corrected.startedProvisionally.has(tx.localId)) tx.startedAt = new Date(corrected.shift(tx.startedAt.getTime()));
    }
    this.sampler.clockSynced(corrected.shift);
  }

  // --- heartbeat (outgoing/Heartbeat.ts) ------------------------------------------

  private scheduleHeartbeat(): void {
    this.clearTimer('heartbeat');
    const s = this.config.getInt('HeartbeatInterval');
    if (s <= 0) return;
    this.heartbeatTimer = this.clock.setInterval(() => void this.heartbeat(), s * 1000);
  }

  /** An unprompted Heartbeat: only when connected and Accepted (a triggered one: outgoing/Heartbeat.ts). */
  async heartbeat(): Promise<void> {
    if (this.canSend()) await sendHeartbeat(this.outgoing);
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

  private onStatus(connector: number, status: ChargePointStatus, fault: string | null): void {
    if (connector > 0) this.config.setInternal('NumberOfConnectors', String(this.station.evseIds().length));
    this.statusReporter.onStatus(connector, status, fault);
  }

  /** Diagnostics' trigger: the sender for a requested message (outgoing/index.ts), or null when it cannot be sent on request. */
  triggerable(message: string, connectorId?: number): (() => Promise<void>) | null {
    return triggerFor(message, this.outgoing, connectorId);
  }



  // --- transactions (ordered outbox: transaction-messages.ts; sampling: meter-sampler.ts) ---

  private onTransactionStopped(tx: Transaction): void {
    this.messenger.stopped(tx, this.sampler.transactionStopped(tx));
  }

  /** Waits until the queued transaction messages are delivered (Reset: stop reasons reach the CSMS first). */
  async drain(): Promise<void> {
    await this.messenger.deliverQueued();
  }
}
