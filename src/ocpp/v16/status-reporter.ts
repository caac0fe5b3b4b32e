// OCPP 1.6 §4.9 when a StatusNotification goes out (outgoing/StatusNotification.ts builds it):
// one per connector status change (connector 0 = station), deduplicated, held back until it
// has lasted MinimumStatusDuration seconds (§9.1.20; a status that changes back within that
// window sends nothing).
import type { Clock, TimerHandle } from '../../platform/clock.js';
import type { ChargePointStatus } from './generated/types.js';
import type { ConfigurationStore } from './configuration-store.js';
import { mapFault } from './mappers.js';
import type { RpcCaller } from './outgoing/context.js';
import { statusNotificationRequest } from './outgoing/StatusNotification.js';
import { errorText } from '../../platform/errors.js';
import type { AgentLogger } from '../../platform/logger.js';

/** What the reporter reads from the station. */
export interface StatusSource {
  connectorIds(): number[];
  status(connector: number): ChargePointStatus | null;
  statusFault(connector: number): string | null;
}

export interface StatusReporterDeps {
  rpc: RpcCaller;
  station: StatusSource;
  config: ConfigurationStore;
  clock: Clock;
  log: AgentLogger;
  /** Registered and connected: StatusNotification may be sent unprompted. */
  canSend: () => boolean;
}

export class StatusReporter {
  /** connector -> what the CSMS was last told (status/errorCode/vendorErrorCode). */
  private readonly sent = new Map<number, string>();
  /** connector -> timer of a change waiting out MinimumStatusDuration. */
  private readonly holding = new Map<number, TimerHandle>();

  constructor(private readonly deps: StatusReporterDeps) {}

  /** A status change from the station. */
  onStatus(connector: number, status: ChargePointStatus, fault: string | null): void {
    this.release(connector);
    // Not registered: the full set goes out once Accepted (sendAll).
    if (!this.deps.canSend()) return;
    // Back to what the CSMS already knows: the held change is simply dropped.
    if (this.sent.get(connector) === keyOf(status, fault)) return;
    const holdS = this.deps.config.getInt('MinimumStatusDuration');
    if (!(holdS > 0)) {
      // Next turn of the event loop: the answer to a CSMS request that caused this change goes first.
      setImmediate(() => {
        if (this.deps.canSend()) void this.send(connector, status, fault);
      });
      return;
    }
    const timer = this.deps.clock.setTimeout(() => {
      if (this.holding.get(connector) !== timer) return;
      this.holding.delete(connector);
      if (this.deps.canSend()) void this.sendCurrent(connector);
    }, holdS * 1000);
    this.holding.set(connector, timer);
  }

  /** After BootNotification Accepted: the CSMS learns every current status, at once. */
  sendAll(): void {
    this.sent.clear();
    for (const c of [0, ...this.deps.station.connectorIds()]) {
      this.release(c);
      void this.sendCurrent(c);
    }
  }

  /** TriggerMessage(StatusNotification): send the current status even when unchanged. */
  async resend(connector?: number): Promise<void> {
    const list = connector === undefined ? [0, ...this.deps.station.connectorIds()] : [connector];
    for (const c of list) {
      this.release(c);
      this.sent.delete(c);
      await this.sendCurrent(c);
    }
  }

  /** Drop held changes (disconnect, shutdown). */
  stop(): void {
    for (const c of [...this.holding.keys()]) this.release(c);
  }

  private release(connector: number): void {
    const t = this.holding.get(connector);
    if (t === undefined) return;
    this.deps.clock.clearTimeout(t);
    this.holding.delete(connector);
  }

  private async sendCurrent(connector: number): Promise<void> {
    const status = this.deps.station.status(connector);
    if (status) await this.send(connector, status, this.deps.station.statusFault(connector));
  }

  async send(connector: number, status: ChargePointStatus, fault: string | null): Promise<void> {
    const key = keyOf(status, fault);
    if (this.sent.get(connector) === key) return;
    this.sent.set(connector, key);
    const payload = statusNotificationRequest(connector, status, fault, this.deps.clock.now());
    try {
      await this.deps.rpc.call('StatusNotification', payload);
    } catch (err) {
      // Only forget it if nothing newer was sent meanwhile.
      if (this.sent.get(connector) === key) this.sent.delete(connector);
      this.deps.log.warn({ err: errorText(err), connector }, 'StatusNotification failed');
    }
  }
}

function keyOf(status: ChargePointStatus, fault: string | null): string {
  const mapped = mapFault(fault);
  return `${status}/${mapped.errorCode}/${mapped.vendorErrorCode ?? ''}`;
}
