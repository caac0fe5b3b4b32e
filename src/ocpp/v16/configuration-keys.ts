// OCPP 1.6 §9 standard configuration keys as data: type, access, default, limits,
// reboot-required. GetConfiguration / ChangeConfiguration are generic over this.

export type KeyType = 'boolean' | 'integer' | 'csl' | 'string';
export type Access = 'R' | 'RW';

export interface KeySpec {
  type: KeyType;
  access: Access;
  default: string;
  /** Inclusive integer range. */
  min?: number;
  max?: number;
  /** For CSL: allowed members. */
  members?: readonly string[];
  /** A change applies after a reboot only: ChangeConfiguration answers RebootRequired. */
  rebootRequired?: boolean;
  /** Never returned by GetConfiguration nor logged (security whitepaper §AuthorizationKey). */
  writeOnly?: boolean;
  /** Checks beyond type and range; returns an error text or null. */
  check?: (value: string) => string | null;
}

export const MEASURANDS = [
  'Energy.Active.Import.Register',
  'Power.Active.Import',
  'Current.Import',
  'Current.Offered',
  'Voltage',
  'Temperature',
] as const;

const INT_MAX = 2_147_483_647;
// The security whitepaper defines no feature-profile name: its support shows in the SecurityProfile key.
const SUPPORTED_FEATURE_PROFILES = ['Core', 'FirmwareManagement', 'LocalAuthListManagement', 'Reservation', 'RemoteTrigger', 'SmartCharging'] as const;
/** LocalAuthListMaxLength and SendLocalListMaxLength: a Full list of every entry fits one SendLocalList. */
export const LOCAL_LIST_MAX_ENTRIES = 10_000;
/** Security whitepaper: CertificateSignedMaxChainSize is at most 10,000 characters (the schema's own limit). */
export const CERTIFICATE_CHAIN_MAX_CHARS = 10_000;

export const CONFIGURATION_KEYS = {
  // Security whitepaper: no extra check of a new CentralSystemRootCertificate against the old one.
  AdditionalRootCertificateCheck: { type: 'boolean', access: 'R', default: 'false' },
  AllowOfflineTxForUnknownId: { type: 'boolean', access: 'RW', default: 'false' },
  AuthorizationCacheEnabled: { type: 'boolean', access: 'RW', default: 'true' },
  AuthorizeRemoteTxRequests: { type: 'boolean', access: 'RW', default: 'true' },
  // Pulses of the status LEDs' attention flashes (card rejected, entering a fault); 300 ms each.
  // Smart Charging profile (§9.4): the station's limits; a profile beyond them is Rejected.
  ChargeProfileMaxStackLevel: { type: 'integer', access: 'R', default: '10' },
  ChargingScheduleAllowedChargingRateUnit: { type: 'csl', access: 'R', default: 'Current,Power' },
  // 96 periods: a day in quarter-hours.
  ChargingScheduleMaxPeriods: { type: 'integer', access: 'R', default: '96' },
  MaxChargingProfilesInstalled: { type: 'integer', access: 'R', default: '16' },
  BlinkRepeat: { type: 'integer', access: 'RW', default: '3', min: 1, max: 20 },
  // Security whitepaper: the longest CertificateSigned.req certificateChain accepted (characters).
  CertificateSignedMaxChainSize: { type: 'integer', access: 'R', default: String(CERTIFICATE_CHAIN_MAX_CHARS) },
  // Security whitepaper: root certificates of both kinds the store holds (InstallCertificate past it: Rejected).
  CertificateStoreMaxLength: { type: 'integer', access: 'R', default: '20' },
  ClockAlignedDataInterval: { type: 'integer', access: 'RW', default: '0', min: 0, max: 86_400 },
  ConnectionTimeOut: { type: 'integer', access: 'RW', default: '60', min: 1, max: 3_600 },
  ConnectorPhaseRotation: { type: 'csl', access: 'RW', default: '0.RST,1.RST' },
  ConnectorPhaseRotationMaxLength: { type: 'integer', access: 'R', default: '8' },
  // Security whitepaper: the O of the charge point's certificate signing requests (SignCertificate).
  CpoName: { type: 'string', access: 'RW', default: '', check: (v) => (v.length <= 64 ? null : 'must be at most 64 characters') },
  GetConfigurationMaxKeys: { type: 'integer', access: 'R', default: '64' },
  // Percent; on/off GPIO LEDs honour 0 (dark) or 100, and the value reads back as what is honoured.
  LightIntensity: { type: 'integer', access: 'RW', default: '100', min: 0, max: 100 },
  HeartbeatInterval: { type: 'integer', access: 'RW', default: '86400', min: 0, max: INT_MAX },
  // Local Auth List Management profile (§9.2): the list holds up to 10,000 identifiers.
  LocalAuthListEnabled: { type: 'boolean', access: 'RW', default: 'true' },
  LocalAuthListMaxLength: { type: 'integer', access: 'R', default: String(LOCAL_LIST_MAX_ENTRIES) },
  LocalAuthorizeOffline: { type: 'boolean', access: 'RW', default: 'true' },
  LocalPreAuthorize: { type: 'boolean', access: 'RW', default: 'false' },
  MaxEnergyOnInvalidId: { type: 'integer', access: 'RW', default: '0', min: 0, max: INT_MAX },
  MeterValuesAlignedData: { type: 'csl', access: 'RW', default: 'Energy.Active.Import.Register', members: MEASURANDS },
  MeterValuesAlignedDataMaxLength: { type: 'integer', access: 'R', default: String(MEASURANDS.length) },
  MeterValuesSampledData: {
    type: 'csl',
    access: 'RW',
    default: 'Energy.Active.Import.Register,Power.Active.Import',
    members: MEASURANDS,
  },
  MeterValuesSampledDataMaxLength: { type: 'integer', access: 'R', default: String(MEASURANDS.length) },
  MeterValueSampleInterval: { type: 'integer', access: 'RW', default: '60', min: 0, max: 86_400 },
  MinimumStatusDuration: { type: 'integer', access: 'RW', default: '0', min: 0, max: 3_600 },
  NumberOfConnectors: { type: 'integer', access: 'R', default: '1' },
  // Reservation profile (§9.4): connector 0 = any one connector.
  ReserveConnectorZeroSupported: { type: 'boolean', access: 'R', default: 'true' },
  // Security whitepaper (secure firmware update): when true, a plain UpdateFirmware is ignored
  // (logged, with an InvalidFirmwareSignature security event) and only SignedUpdateFirmware is taken.
  RequireSignedFirmware: { type: 'boolean', access: 'RW', default: 'false' },
  ResetRetries: { type: 'integer', access: 'RW', default: '3', min: 0, max: 10 },
  // A Full update replaces the whole list and cannot be split, so one update may carry all of it:
  // 10,000 worst-case entries (~153 bytes each, ~1.5 MB) fit the RPC layer's 2 MiB frame limit.
  SendLocalListMaxLength: { type: 'integer', access: 'R', default: String(LOCAL_LIST_MAX_ENTRIES) },
  StopTransactionOnEVSideDisconnect: { type: 'boolean', access: 'RW', default: 'true' },
  StopTransactionOnInvalidId: { type: 'boolean', access: 'RW', default: 'true' },
  StopTxnAlignedData: { type: 'csl', access: 'RW', default: '', members: MEASURANDS },
  StopTxnAlignedDataMaxLength: { type: 'integer', access: 'R', default: String(MEASURANDS.length) },
  StopTxnSampledData: { type: 'csl', access: 'RW', default: '', members: MEASURANDS },
  StopTxnSampledDataMaxLength: { type: 'integer', access: 'R', default: String(MEASURANDS.length) },
  SupportedFeatureProfiles: { type: 'csl', access: 'R', default: SUPPORTED_FEATURE_PROFILES.join(',') },
  SupportedFeatureProfilesMaxLength: { type: 'integer', access: 'R', default: String(SUPPORTED_FEATURE_PROFILES.length) },
  TransactionMessageAttempts: { type: 'integer', access: 'RW', default: '3', min: 1, max: 100 },
  TransactionMessageRetryInterval: { type: 'integer', access: 'RW', default: '60', min: 1, max: 86_400 },
  UnlockConnectorOnEVSideDisconnect: { type: 'boolean', access: 'RW', default: 'true' },
  // The transport takes its ping period when the agent starts (main.ts): a change applies after a reboot.
  WebSocketPingInterval: { type: 'integer', access: 'RW', default: '60', min: 0, max: 86_400, rebootRequired: true },
  // Security whitepaper §2.2: the Basic-auth password for profiles 1-2, 16..20 bytes given as hex.
  // Write-only; a change closes the connection and reconnects with it (ocpp/v16/security-profile.ts).
  AuthorizationKey: {
    type: 'string',
    access: 'RW',
    default: '',
    writeOnly: true,
    check: (v) => (/^(?:[0-9a-fA-F]{2}){16,20}$/.test(v) ? null : 'must be 16 to 20 bytes as 32 to 40 hex digits'),
  },
  // Security whitepaper §2.1: 0 = ws, 1 = ws + Basic, 2 = wss + Basic, 3 = wss + client certificate.
  // Only raised, and only when its preconditions hold (security-profile.ts guards the change).
  SecurityProfile: { type: 'integer', access: 'RW', default: '0', min: 0, max: 3 },
} as const satisfies Record<string, KeySpec>;

export type ConfigurationKey = keyof typeof CONFIGURATION_KEYS;

export function isConfigurationKey(key: string): key is ConfigurationKey {
  return Object.prototype.hasOwnProperty.call(CONFIGURATION_KEYS, key);
}

export type ValueCheck = { ok: true; normalized: string } | { ok: false; reason: string };

/** Validate a ChangeConfiguration value for a key; booleans accept true/false and 0/1 (field practice). */
export function checkValue(key: ConfigurationKey, raw: string): ValueCheck {
  const spec: KeySpec = CONFIGURATION_KEYS[key];
  const value = raw.trim();
  switch (spec.type) {
    case 'boolean': {
      const v = value.toLowerCase();
      if (v === 'true' || v === '1') return { ok: true, normalized: 'true' };
      if (v === 'false' || v === '0') return { ok: true, normalized: 'false' };
      return { ok: false, reason: `${key}: expected true or false, got ${JSON.stringify(raw)}` };
    }
    case 'integer': {
      if (!/^-?[0-9]{1,10}$/.test(value)) return { ok: false, reason: `${key}: expected an integer, got ${JSON.stringify(raw)}` };
      const n = Number(value);
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
        return { ok: false, reason: `${key}: ${n} is outside ${spec.min ?? '-inf'}..${spec.max ?? 'inf'}` };
      }
      return { ok: true, normalized: String(n) };
    }
    case 'csl': {
      const items = value === '' ? [] : value.split(',').map((s) => s.trim());
      if (spec.members) {
        const bad = items.find((i) => !spec.members!.includes(i));
        if (bad !== undefined) return { ok: false, reason: `${key}: unsupported member ${JSON.stringify(bad)}` };
      }
      return { ok: true, normalized: items.join(',') };
    }
    case 'string': {
      const err = spec.check?.(raw) ?? null;
      return err ? { ok: false, reason: `${key}: ${err}` } : { ok: true, normalized: raw };
    }
  }
}
