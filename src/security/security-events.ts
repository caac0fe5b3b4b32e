// The security events of the OCPP 1.6 security whitepaper (edition 3, appendix 1), as a port:
// whoever detects one (transport, configuration, firmware, start-up) reports it here, and the
// composition root connects it to the durable security log and SecurityEventNotification.
// The names are the whitepaper's own, so 2.0.1 (which uses the same list) maps them unchanged.

export const SECURITY_EVENT_TYPES = [
  'FirmwareUpdated',
  'FailedToAuthenticateAtCentralSystem',
  'CentralSystemFailedToAuthenticate',
  'SettingSystemTime',
  'StartupOfTheDevice',
  'ResetOrReboot',
  'SecurityLogWasCleared',
  'ReconfigurationOfSecurityParameters',
  'MemoryExhaustion',
  'InvalidMessages',
  'AttemptedReplayAttacks',
  'TamperDetectionActivated',
  'InvalidFirmwareSignature',
  'InvalidFirmwareSigningCertificate',
  'InvalidCentralSystemCertificate',
  'InvalidChargePointCertificate',
  'InvalidTLSVersion',
  'InvalidTLSCipherSuite',
] as const;

export type SecurityEventType = (typeof SECURITY_EVENT_TYPES)[number];

const KNOWN_TYPES: ReadonlySet<string> = new Set(SECURITY_EVENT_TYPES);

export function isSecurityEventType(type: string): type is SecurityEventType {
  return KNOWN_TYPES.has(type);
}

/**
 * Critical events are pushed to the CSMS with SecurityEventNotification; every event, critical or
 * not, goes to the security log. The whitepaper's list (edition 3, "Security events"): only these
 * seven are critical; authentication, certificate and TLS failures are logged, not pushed.
 */
export const CRITICAL_SECURITY_EVENTS: ReadonlySet<SecurityEventType> = new Set<SecurityEventType>([
  'FirmwareUpdated',
  'SettingSystemTime',
  'StartupOfTheDevice',
  'ResetOrReboot',
  'SecurityLogWasCleared',
  'MemoryExhaustion',
  'TamperDetectionActivated',
]);

export interface SecurityEventSink {
  /** Records the event durably; never throws. `techInfo` is free text (whitepaper: at most 255 chars). */
  report(type: SecurityEventType, techInfo?: string): void;
}

export interface SecurityLogEntry {
  seq: number;
  /** Wall-clock time of the event, ms since the epoch, as best known when it was recorded. */
  atMs: number;
  type: SecurityEventType;
  techInfo: string | null;
}

/** Read side of the security log, for GetLog (SecurityLog) and the diagnostics socket. */
export interface SecurityLogReader {
  entries(range?: { fromMs?: number; toMs?: number }): SecurityLogEntry[];
}

/** A sink that drops events: for tests and tools that run without a station. */
export const DISCARD_SECURITY_EVENTS: SecurityEventSink = { report: () => undefined };

/**
 * The time base of a time taken before the clock was set (ocpp/outbox/time-correction.ts): the
 * store corrects such entries with the queued messages once the CSMS gives the time.
 */
export interface ProvisionalTimeBase {
  bootId: string | null;
  wallMinusMonoMs: number;
}

/** Write side of the security log (the SQLite store implements it with SecurityLogReader). */
export interface SecurityLogWriter {
  /** Appends one entry; past the bound the oldest go, in the same commit. Returns the entry's seq. */
  append(entry: Omit<SecurityLogEntry, 'seq'>, timeBase?: ProvisionalTimeBase): number;
  /** Deletes every entry; returns how many there were. */
  clear(): number;
}
