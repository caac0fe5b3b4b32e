// Installer configuration: one JSON file read at start, validated by hand so that a bad file
// gives ONE line naming the field (dotted path) and what was expected. Limits follow OCPP 1.6
// (BootNotification CiString20/25/50) and the 1.6 security whitepaper (profiles, AuthorizationKey).
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LOG_LEVELS, type LogLevel } from '../platform/logger.js';
import { packageVersion } from '../platform/package-info.js';
import { checkProvisionedCertificate } from '../security/provisioned-certificate.js';
import type { CsrKeyType } from '../security/csr.js';
import type { SecurityEventNotify } from '../security/security-event-recorder.js';
import { ConfigError, fail, describe, orDefault, isPlainObject, objectAt, onlyKeys, requireString, nonEmpty, ciString, oneOf, currentLimit, optionalBoolean, pathAt, optionalPath, readProblem, lineColumn, locateJsonError } from './config-fields.js';

export { ConfigError, locateJsonError };

export type SecurityProfile = 0 | 1 | 2 | 3;

export const SECURITY_PROFILES: readonly SecurityProfile[] = [0, 1, 2, 3];
export const BAUD_RATES = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600] as const;
export type BaudRate = (typeof BAUD_RATES)[number];

export interface CsmsConfig {
  /** Base URL; the agent appends `/<chargePointId>`. */
  url: string;
  securityProfile: SecurityProfile;
  /** Basic Auth password (profiles 1, 2); null: use the stored AuthorizationKey once the CSMS sets one. */
  basicAuthPassword: string | null;
  /** PEM file of extra CA certificates to trust for wss:// (e.g. a dev CA); null: system CAs only. */
  caFile: string | null;
  /**
   * Factory-provisioned charge-point certificate (PEM, chain allowed) and its private key for
   * profile 3; null: none (a certificate installed by CertificateSigned is used). Both or neither.
   */
  clientCertFile: string | null;
  clientKeyFile: string | null;
  /**
   * After a SecurityProfile raise or a new AuthorizationKey, how long the new settings may take to
   * connect before the previous ones are restored (security whitepaper A05: fall back, report it).
   */
  securitySwitchTimeoutS: number;
}

/** With `simulated` the agent runs the controller simulator on a pty itself and `port` is not used. */
export type ControllerConfig =
  | { simulated: false; port: string; baudRate: BaudRate; maxCurrentA: number }
  | { simulated: true; port: string | null; baudRate: BaudRate; maxCurrentA: number };

export interface IdentityConfig {
  /** BootNotification chargePointVendor (CiString20). */
  vendor: string;
  /** BootNotification chargePointModel (CiString20). */
  model: string;
  /** BootNotification chargePointSerialNumber (CiString25); null: not sent. */
  serialNumber: string | null;
  /** BootNotification firmwareVersion (CiString50); defaults to this package's version. */
  firmwareVersion: string;
}

export interface LedPinConfig {
  pin: number;
  activeLow: boolean;
}

/** Smart charging: how often the profiles may be written to flash, and the fail-safe limit. */
export interface SmartChargingConfig {
  /** At most this many coalesced profile writes in any 24 h (shutdown writes aside). */
  profileWritesPerDay: number;
  /** Offered per phase once the CSMS has been unreachable for failSafeAfterS; null = no fail-safe. */
  failSafeCurrentA: number | null;
  failSafeAfterS: number;
}

const SECURITY_EVENT_NOTIFY: readonly SecurityEventNotify[] = ['all', 'critical'];

/** Key types of the charge point's certificate signing requests (SignCertificate). */
export const CSR_KEY_TYPES: readonly CsrKeyType[] = ['rsa2048', 'ec-p256'];

/** Certificate management (security whitepaper). */
export interface SecurityConfig {
  /** Renew the charge-point certificate when it expires within this many days (1..365). */
  renewBeforeDays: number;
  csrKeyType: CsrKeyType;
  /** Resident memory above which MemoryExhaustion is reported, in MB; null: not watched. */
  memoryLimitMb: number | null;
  /** SecurityEventNotification for every detected event ('all'), or the whitepaper's critical ones only. */
  notifyEvents: SecurityEventNotify;
}

/** The configuration with every default applied. */
export interface AgentConfig {
  chargePointId: string;
  csms: CsmsConfig;
  controller: ControllerConfig;
  dataDir: string;
  diagnosticsSocket: string;
  identity: IdentityConfig;
  /** LED name -> pin, for hal/gpio/status-leds.ts. */
  leds: Record<string, LedPinConfig>;
  logLevel: LogLevel;
  smartCharging: SmartChargingConfig;
  security: SecurityConfig;
}

export const CONFIG_DEFAULTS = {
  securityProfile: 0,
  securitySwitchTimeoutS: 60,
  baudRate: 115200,
  /** The installation's per-phase limit (supply, hardware rating): 6..80 A, one fraction digit. */
  maxCurrentA: 32,
  dataDir: '/var/lib/charger-agent',
  diagnosticsSocket: '/run/charger-agent/diag.sock',
  logLevel: 'info',
  /** One vendor's warranty allows 10 profile writes a day on average. */
  profileWritesPerDay: 10,
  failSafeAfterS: 300,
  renewBeforeDays: 30,
  csrKeyType: 'rsa2048',
  // The operator hears of refused certificates and TLS failures too, not only the critical seven.
  notifyEvents: 'all',
} as const;

export interface ParseOptions {
  /** Relative paths (dataDir, diagnosticsSocket, csms.caFile, csms.client*File) are resolved against it; default: left as given. */
  baseDir?: string;
}

/** Read, parse and validate the config file; throws ConfigError with one line. */
export function loadAgentConfig(path: string): AgentConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`config error: ${path}: ${readProblem(err)}`);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // editors on Windows write a BOM
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // V8's message quotes the file, which may hold the password: describe the error ourselves.
    const { offset, problem } = locateJsonError(text);
    const { line, column } = lineColumn(text, offset);
    throw new ConfigError(`config error: ${path}: not valid JSON at line ${line} column ${column}: ${problem}`);
  }
  if (!isPlainObject(value)) {
    throw new ConfigError(`config error: ${path}: expected a JSON object at the top level, got ${describe(value)}`);
  }
  return parseAgentConfig(value, { baseDir: dirname(resolve(path)) });
}

/** Validate an already-parsed value and apply defaults; throws ConfigError with one line. */
export function parseAgentConfig(value: unknown, opts: ParseOptions = {}): AgentConfig {
  const root = objectAt('', value);
  onlyKeys('', root, ['chargePointId', 'csms', 'controller', 'dataDir', 'diagnosticsSocket', 'identity', 'leds', 'logLevel', 'security', 'smartCharging']);

  const chargePointId = requireString('chargePointId', root['chargePointId'], CHARGE_POINT_ID_EXPECTED);
  if (!CHARGE_POINT_ID.test(chargePointId)) fail('chargePointId', CHARGE_POINT_ID_EXPECTED, chargePointId);

  const csms = objectAt('csms', orDefault(root['csms'], {}));
  onlyKeys('csms', csms, ['url', 'securityProfile', 'basicAuthPassword', 'caFile', 'clientCertFile', 'clientKeyFile', 'securitySwitchTimeoutS']);
  const securityProfile = oneOf('csms.securityProfile', csms['securityProfile'], SECURITY_PROFILES, CONFIG_DEFAULTS.securityProfile);
  const url = csmsUrl(csms['url'], securityProfile);
  const basicAuthPassword = password('csms.basicAuthPassword', csms['basicAuthPassword']);
  const caFile = optionalPath('csms.caFile', csms['caFile'], opts.baseDir);
  const clientCertFile = optionalPath('csms.clientCertFile', csms['clientCertFile'], opts.baseDir);
  const clientKeyFile = optionalPath('csms.clientKeyFile', csms['clientKeyFile'], opts.baseDir);
  provisionedCertificate(clientCertFile, clientKeyFile);
  const securitySwitchTimeoutS = switchTimeout(orDefault(csms['securitySwitchTimeoutS'], CONFIG_DEFAULTS.securitySwitchTimeoutS));
  // Until the certificate store can supply one (CertificateSigned), profile 3 needs the provisioned pair.
  if (securityProfile === 3 && clientCertFile === null) {
    throw new ConfigError(
      'config error: csms.clientCertFile: security profile 3 requires a client certificate: set csms.clientCertFile and csms.clientKeyFile to the PEM files of the charge point\'s certificate and private key',
      'csms.clientCertFile',
    );
  }

  const ctl = objectAt('controller', orDefault(root['controller'], {}));
  onlyKeys('controller', ctl, ['port', 'baudRate', 'simulated', 'maxCurrentA']);
  const simulated = optionalBoolean('controller.simulated', ctl['simulated'], false);
  const baudRate = oneOf('controller.baudRate', ctl['baudRate'], BAUD_RATES, CONFIG_DEFAULTS.baudRate);
  const maxCurrentA = currentLimit('controller.maxCurrentA', ctl['maxCurrentA'], CONFIG_DEFAULTS.maxCurrentA);
  const controller: ControllerConfig = simulated
    ? { simulated, baudRate, maxCurrentA, port: ctl['port'] === undefined || ctl['port'] === null ? null : nonEmpty('controller.port', ctl['port']) }
    : { simulated, baudRate, maxCurrentA, port: nonEmpty('controller.port', ctl['port'], '(or set controller.simulated: true)') };

  const dataDir = pathAt('dataDir', orDefault(root['dataDir'], CONFIG_DEFAULTS.dataDir), opts.baseDir);
  const diagnosticsSocket = pathAt('diagnosticsSocket', orDefault(root['diagnosticsSocket'], CONFIG_DEFAULTS.diagnosticsSocket), opts.baseDir);
  // sun_path holds 108 bytes with the terminating NUL; a longer path fails in listen() with EINVAL.
  if (Buffer.byteLength(diagnosticsSocket) > 107) {
    fail('diagnosticsSocket', 'a unix socket path of at most 107 bytes', `${Buffer.byteLength(diagnosticsSocket)} bytes`);
  }

  const id = objectAt('identity', orDefault(root['identity'], {}));
  onlyKeys('identity', id, ['vendor', 'model', 'serialNumber', 'firmwareVersion']);
  const identity: IdentityConfig = {
    vendor: ciString('identity.vendor', id['vendor'], 20),
    model: ciString('identity.model', id['model'], 20),
    serialNumber: id['serialNumber'] === undefined || id['serialNumber'] === null ? null : ciString('identity.serialNumber', id['serialNumber'], 25),
    firmwareVersion: id['firmwareVersion'] === undefined ? packageVersion() : ciString('identity.firmwareVersion', id['firmwareVersion'], 50),
  };

  const leds = ledMap(orDefault(root['leds'], {}));
  const logLevel = oneOf('logLevel', root['logLevel'], LOG_LEVELS, CONFIG_DEFAULTS.logLevel);
  const smartCharging = smartChargingConfig(orDefault(root['smartCharging'], {}));
  const security = securityConfig(orDefault(root['security'], {}));

  return {
    chargePointId,
    csms: { url, securityProfile, basicAuthPassword, caFile, clientCertFile, clientKeyFile, securitySwitchTimeoutS },
    controller,
    dataDir,
    diagnosticsSocket,
    identity,
    leds,
    logLevel,
    smartCharging,
    security,
  };
}

function smartChargingConfig(value: unknown): SmartChargingConfig {
  const sc = objectAt('smartCharging', value);
  onlyKeys('smartCharging', sc, ['profileWritesPerDay', 'failSafeCurrentA', 'failSafeAfterS']);
  const profileWritesPerDay = wholeNumber('smartCharging.profileWritesPerDay', sc['profileWritesPerDay'], 1, 1440, CONFIG_DEFAULTS.profileWritesPerDay);
  const failSafeAfterS = wholeNumber('smartCharging.failSafeAfterS', sc['failSafeAfterS'], 1, 86_400, CONFIG_DEFAULTS.failSafeAfterS);
  const raw = sc['failSafeCurrentA'];
  // A delay without saying the current (not even null) is a half-done setting.
  if (raw === undefined && sc['failSafeAfterS'] !== undefined) fail('smartCharging.failSafeCurrentA', 'a current (or null) when failSafeAfterS is set', raw);
  if (raw === undefined || raw === null) return { profileWritesPerDay, failSafeCurrentA: null, failSafeAfterS };
  // 0 is allowed: pause charging while the CSMS is out of reach.
  if (typeof raw !== 'number' || !(raw >= 0 && raw <= 80) || Math.round(raw * 10) !== raw * 10) {
    fail('smartCharging.failSafeCurrentA', 'a current in A from 0 to 80 with at most one decimal, or null', raw);
  }
  return { profileWritesPerDay, failSafeCurrentA: raw, failSafeAfterS };
}

function wholeNumber(path: string, value: unknown, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) fail(path, `a whole number from ${min} to ${max}`, value);
  return value;
}

// ---- field rules ----

/** RFC 3986 unreserved characters: the id is the last path segment of the URL and the Basic Auth user name. */
const CHARGE_POINT_ID = /^[A-Za-z0-9._~-]{1,48}$/;
const CHARGE_POINT_ID_EXPECTED = '1..48 characters from A-Z a-z 0-9 . _ ~ - (it ends the CSMS URL)';
const LED_NAME = /^[A-Za-z0-9_-]{1,32}$/;
const MAX_GPIO_PIN = 1023;

function csmsUrl(value: unknown, profile: SecurityProfile): string {
  const path = 'csms.url';
  const expected = 'a ws:// or wss:// URL';
  const text = requireString(path, value, expected);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail(path, expected, text);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') fail(path, expected, text);
  if (url.username !== '' || url.password !== '') {
    throw new ConfigError(`config error: ${path}: must not contain credentials (use csms.basicAuthPassword)`, path);
  }
  if (url.hash !== '') fail(path, 'a URL without a #fragment', text);
  // Security whitepaper: profiles 2 and 3 are TLS; profile 1 is Basic Auth, over ws:// or wss://.
  if (profile >= 2 && url.protocol !== 'wss:') {
    throw new ConfigError(`config error: ${path}: security profile ${profile} requires wss://, got ${describe(text)}`, path);
  }
  return text;
}

function password(path: string, value: unknown): string | null {
  if (value === undefined || value === null) return null;
  const expected = 'a string of 16..40 printable ASCII characters, or null';
  // Never echo the secret itself.
  if (typeof value !== 'string') fail(path, expected, value);
  if (value.length < 16 || value.length > 40 || !/^[\x20-\x7e]*$/.test(value)) {
    throw new ConfigError(`config error: ${path}: expected ${expected}, got a string of ${value.length} characters`, path);
  }
  return value;
}

/** Both or neither; when given, readable, parsable and a matching pair (checked at start, not at first use). */
function provisionedCertificate(certFile: string | null, keyFile: string | null): void {
  if (certFile === null && keyFile === null) return;
  if (certFile === null || keyFile === null) {
    const [missing, given] = certFile === null ? ['clientCertFile', 'clientKeyFile'] : ['clientKeyFile', 'clientCertFile'];
    throw new ConfigError(`config error: csms.${missing}: required when csms.${given} is set`, `csms.${missing}`);
  }
  const problem = checkProvisionedCertificate(certFile, keyFile);
  if (problem !== undefined) throw new ConfigError(`config error: csms.${problem.field}: ${problem.problem}`, `csms.${problem.field}`);
}

/** Long enough for a TLS handshake over a slow cellular link, short enough not to leave a charger offline for long. */
function switchTimeout(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 5 || value > 3600) {
    fail('csms.securitySwitchTimeoutS', 'an integer number of seconds, 5..3600', value);
  }
  return value;
}

function securityConfig(value: unknown): SecurityConfig {
  const obj = objectAt('security', value);
  onlyKeys('security', obj, ['renewBeforeDays', 'csrKeyType', 'memoryLimitMb', 'notifyEvents']);
  const days = obj['renewBeforeDays'];
  if (days !== undefined && (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > 365)) {
    fail('security.renewBeforeDays', 'a whole number of days from 1 to 365', days);
  }
  const memory = obj['memoryLimitMb'];
  if (memory !== undefined && memory !== null && (typeof memory !== 'number' || !Number.isInteger(memory) || memory < 32 || memory > 65_536)) {
    fail('security.memoryLimitMb', 'a whole number of MB from 32 to 65536, or null', memory);
  }
  return {
    renewBeforeDays: typeof days === 'number' ? days : CONFIG_DEFAULTS.renewBeforeDays,
    memoryLimitMb: typeof memory === 'number' ? memory : null,
    csrKeyType: oneOf('security.csrKeyType', obj['csrKeyType'], CSR_KEY_TYPES, CONFIG_DEFAULTS.csrKeyType),
    notifyEvents: oneOf('security.notifyEvents', obj['notifyEvents'], SECURITY_EVENT_NOTIFY, CONFIG_DEFAULTS.notifyEvents),
  };
}

function ledMap(value: unknown): Record<string, LedPinConfig> {
  const obj = objectAt('leds', value);
  const out: Record<string, LedPinConfig> = {};
  const usedBy = new Map<number, string>();
  for (const [name, raw] of Object.entries(obj)) {
    const path = `leds.${name}`;
    if (!LED_NAME.test(name)) fail('leds', 'LED names of 1..32 characters from A-Z a-z 0-9 _ -', name);
    let led: LedPinConfig;
    if (typeof raw === 'number') {
      led = { pin: gpioPin(path, raw), activeLow: false };
    } else if (isPlainObject(raw)) {
      onlyKeys(path, raw, ['pin', 'activeLow']);
      led = { pin: gpioPin(`${path}.pin`, raw['pin']), activeLow: optionalBoolean(`${path}.activeLow`, raw['activeLow'], false) };
    } else {
      return fail(path, `a GPIO pin 0..${MAX_GPIO_PIN} or { "pin": ..., "activeLow": ... }`, raw);
    }
    const other = usedBy.get(led.pin);
    if (other !== undefined) {
      throw new ConfigError(`config error: ${path}: pin ${led.pin} is already used by leds.${other}`, path);
    }
    usedBy.set(led.pin, name);
    out[name] = led;
  }
  return out;
}

function gpioPin(path: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_GPIO_PIN) {
    fail(path, `an integer GPIO pin 0..${MAX_GPIO_PIN}`, value);
  }
  return value;
}

