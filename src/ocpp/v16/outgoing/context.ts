// What a charger-initiated action module may use. session.ts builds one of these over its
// registration and connection state; TriggerMessage hands it to the module's trigger.
import type { Clock } from '../../../platform/clock.js';
import type { ChargingStation } from '../../../domain/station/charging-station.js';
import type { ConfigurationStore } from '../configuration-store.js';
import type { CpAction, RequestOf, ResponseOf } from '../actions/types.js';
import type { AgentLogger } from '../../../platform/logger.js';
import type { FirmwareStatus, FirmwareStatusEnumType } from '../generated/types.js';

export interface RpcCaller {
  call<A extends CpAction>(action: A, payload: RequestOf<A>): Promise<ResponseOf<A>>;
}

/** The old name, kept while transaction-messages.ts (being moved by the outbox work) still imports it. */
export type SessionLogger = AgentLogger;

export interface OutgoingContext {
  rpc: RpcCaller;
  station: ChargingStation;
  config: ConfigurationStore;
  clock: Clock;
  log: AgentLogger;
  /** Connected and Accepted: a message may go out unprompted. */
  canSend(): boolean;
  /** §4.2: while Pending the CP sends what a TriggerMessage asks for too; while Rejected nothing. */
  canSendTriggered(): boolean;
  /** The CSMS time of a BootNotification / Heartbeat answer (already checked to be a date). */
  csmsTime(at: Date): void;
  /** The CSMS's transactionId of a local transaction, once its StartTransaction was answered. */
  csmsTransactionId(localId: string): number | undefined;
  /** Registration now: a BootNotification, its answer applied (the state machine is session.ts's). */
  boot(): Promise<void>;
  /** The current status of one connector (0 = station) or of all, sent even when unchanged. */
  resendStatus(connector?: number): Promise<void>;
  /**
   * Runs `send` after the next accepted BootNotification: for a status that fell due while the
   * CSMS could not be told. A later one with the same key replaces it; a few keys at most are kept.
   */
  whenAccepted(key: string, send: () => void): void;
  /**
   * The diagnostics or log upload running (a GetLog one has its requestId), for the triggered
   * DiagnosticsStatusNotification and LogStatusNotification; set by the composition root.
   */
  uploads?: { current(): { requestId?: number } | null };
  /** The firmware update's status for a triggered FirmwareStatusNotification (Idle when none runs). */
  firmwareStatus(): TriggeredFirmwareStatus;
}

/** A triggered firmware status: a signed update's goes out as SignedFirmwareStatusNotification with its requestId. */
export type TriggeredFirmwareStatus =
  | { message: 'FirmwareStatusNotification'; status: FirmwareStatus }
  | { message: 'SignedFirmwareStatusNotification'; status: FirmwareStatusEnumType; requestId: number | null };

/** One charger-initiated action: how it can be asked for. Builders and senders are the module's exports. */
export interface OutgoingAction<A extends CpAction> {
  readonly action: A;
  /** TriggerMessage (§5.17): sends the message now. Absent: this charger answers NotImplemented. */
  readonly trigger?: (ctx: OutgoingContext, connectorId?: number) => Promise<void>;
}
