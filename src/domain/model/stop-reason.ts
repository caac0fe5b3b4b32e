// Why a transaction ended: the union of what 1.6 (Reason) and 2.0.1 (ReasonEnumType) can say,
// mapped to each in its adapter.

export type StopReason =
  | 'LocalStop'
  | 'RemoteStop'
  | 'EVDisconnected'
  | 'HardReset'
  | 'SoftReset'
  | 'Reboot'
  | 'PowerLoss'
  | 'Deauthorized'
  | 'EmergencyStop'
  | 'UnlockCommand'
  | 'EnergyLimitReached'
  | 'Other';

const STOP_REASONS: ReadonlySet<string> = new Set<StopReason>([
  'LocalStop',
  'RemoteStop',
  'EVDisconnected',
  'HardReset',
  'SoftReset',
  'Reboot',
  'PowerLoss',
  'Deauthorized',
  'EmergencyStop',
  'UnlockCommand',
  'EnergyLimitReached',
  'Other',
]);

export function isStopReason(s: string): s is StopReason {
  return STOP_REASONS.has(s);
}
