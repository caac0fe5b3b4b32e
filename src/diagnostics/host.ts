// What the diagnostics commands may ask of the running agent:
// a narrow interface returning plain data, so the socket server and its commands are tested
// without the rest of the agent and main.ts only builds the adapter (agent-host.ts).
// Reports are type aliases (not interfaces) so they are assignable to Json.
import type { LogLevel } from '../platform/logger.js';

export type ConnectorReport = {
  connector: number;
  /** OCPP 1.6 ChargePointStatus, null before the controller reported. */
  status: string | null;
  /** Control pilot state A..F. */
  pilot: string;
  cableA: number;
  contactorClosed: boolean;
  offeredA: number;
  faults: string[];
  /** Lifetime energy register in Wh, when the meter reported. */
  meterWh: number | null;
  transaction: TransactionReport | null;
};

export type TransactionReport = {
  localId: string;
  /** The CSMS's transactionId once StartTransaction.conf came back. */
  transactionId: number | null;
  connector: number;
  idTag: string;
  startedAt: string;
  stoppedAt: string | null;
  stopReason: string | null;
  meterStartWh: number;
  /** Energy delivered so far (or in all, when stopped), in Wh. */
  energyWh: number | null;
};

export type StatusReport = {
  chargePointId: string;
  uptimeSeconds: number;
  versions: { agent: string; node: string; firmware: string; controllerFirmware: string | null; diagProtocol: number };
  csms: { url: string; connected: boolean; registration: string; securityProfile: number };
  controller: { port: string; linkUp: boolean; serialNumber: string | null; connectorCount: number | null };
  connectors: ConnectorReport[];
  /** Transaction messages waiting for the CSMS. */
  queueDepth: number | null;
  clock: { synced: boolean; offsetMs: number };
  /** Client certificate expiry (security profile 3), ISO time; null when there is none. */
  certificateExpiry: string | null;
  /** Root certificates installed (InstallCertificate); null when the agent has no certificate store. */
  installedRoots: { centralSystem: number; manufacturer: number } | null;
  /** Bytes written to flash by the store since start; null when the store does not count. */
  flashBytesWritten: number | null;
  logLevel: LogLevel;
  /** Charging profiles since start and the current limit per connector; null without smart charging. */
  smartCharging: SmartChargingReport | null;
};

export type SmartChargingReport = {
  profilesReceived: number;
  /** Same content as the installed one: nothing written. */
  profilesIdentical: number;
  /** Durable writes of the profile set and their payload bytes. */
  profileWrites: number;
  profileBytesWritten: number;
  /** Distinct profiles that did not cost a write of their own. */
  profilesCoalesced: number;
  /**
   * Per connector: the limit per phase, what binds it (profile, configured, cable, envelope, failsafe), paused below 6 A,
   * and the voltage and phases W limits are converted with (measured, or 230 V / 3 assumed).
   */
  limits: { connector: number; limitA: number; binding: string; paused: boolean; voltageV: number; phases: number; measured: boolean }[];
};

export type ConfigEntry = {
  key: string;
  readonly: boolean;
  value: string;
};

/** The ConfigurationStore, seen from diagnostics: the same validation as ChangeConfiguration. */
export interface DiagConfig {
  list(keys?: readonly string[]): { known: ConfigEntry[]; unknown: string[] };
  change(key: string, value: string): { result: 'Accepted' | 'Rejected' | 'RebootRequired' | 'NotSupported'; reason?: string };
  /** True for keys whose value never leaves the charger (AuthorizationKey). */
  isWriteOnly(key: string): boolean;
  /** Whether a write-only key has a value, without revealing it. */
  isSet(key: string): boolean;
}

export type TriggerKind = 'BootNotification' | 'StatusNotification' | 'Heartbeat';
export const TRIGGER_KINDS: readonly TriggerKind[] = ['BootNotification', 'StatusNotification', 'Heartbeat'];

export type SimulateAction =
  | { action: 'plug'; connector: number; cableAmps?: number; evMaxAmps?: number }
  | { action: 'charge'; connector: number }
  | { action: 'pause'; connector: number }
  | { action: 'unplug'; connector: number }
  | { action: 'card'; uid: string };

export interface LogSource {
  /** The last n lines, oldest first (JSON text, already redacted). */
  tail(n: number): string[];
  /** New lines from now on; returns the unsubscribe function. */
  follow(listener: (line: string) => void): () => void;
}

/** One security-log entry as `diag security-log` shows it. */
export type SecurityLogReport = {
  seq: number;
  /** ISO time of the event. */
  at: string;
  type: string;
  techInfo: string | null;
};

/** The security log (security whitepaper), seen from diagnostics. */
export interface SecurityLogSource {
  /** The newest `n` entries, oldest first. */
  tail(n: number): SecurityLogReport[];
  /** Empties the log; its first new entry is SecurityLogWasCleared. Returns how many entries went. */
  clear(): number;
}

export interface DiagnosticsHost {
  readonly chargePointId: string;
  readonly agentVersion: string;
  status(): StatusReport;
  readonly config: DiagConfig;
  /** Active transactions first, then the most recent stopped ones. */
  transactions(): TransactionReport[];
  /** Send the message now; rejects with DiagError('unavailable') when the CSMS is not connected. */
  trigger(kind: TriggerKind, connector?: number): Promise<void>;
  /** Board bring-up: one raw controller command (type and fields); resolves on ACK. */
  controllerRaw(type: string, fields: string[]): Promise<void>;
  /** Present only when the simulated controller runs. */
  readonly simulate: ((action: SimulateAction) => void) | null;
  /** Null when the logger keeps no ring. */
  readonly logs: LogSource | null;
  getLogLevel(): LogLevel;
  setLogLevel(level: LogLevel): void;
  /** Absent when the agent keeps no security log. */
  readonly securityLog?: SecurityLogSource | null;
}
