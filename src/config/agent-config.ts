// Installer configuration: one JSON file read at start, validated by hand so that a bad file
// gives ONE line naming the field (dotted path) and what was expected. Limits follow OCPP 1.6
// (BootNotification CiString20/25/50) and the 1.6 security whitepaper (profiles, AuthorizationKey).
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { LOG_LEVELS, type LogLevel } from '../platform/logger.js';
import { packageVersion } from '../platform/package-info.js';
import { checkProvisionedCertificate } from '../security/provisioned-certificate.js';

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
}

export const CONFIG_DEFAULTS = {
  securityProfile: 0,
  baudRate: 115200,
  /** The installation's per-phase limit (supply, hardware rating): 6..80 A, one fraction digit. */
  maxCurrentA: 32,
  dataDir: '/var/lib/charger-agent',
  diagnosticsSocket: '/run/charger-agent/diag.sock',
  logLevel: 'info',
} as const;

/** A bad configuration; `message` is the one line to print, `field` the dotted path when there is one. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

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
  onlyKeys('', root, ['chargePointId', 'csms', 'controller', 'dataDir', 'diagnosticsSocket', 'identity', 'leds', 'logLevel']);

  const chargePointId = requireString('chargePointId', root['chargePointId'], CHARGE_POINT_ID_EXPECTED);
  if (!CHARGE_POINT_ID.test(chargePointId)) fail('chargePointId', CHARGE_POINT_ID_EXPECTED, chargePointId);

  const csms = objectAt('csms', orDefault(root['csms'], {}));
  onlyKeys('csms', csms, ['url', 'securityProfile', 'basicAuthPassword', 'caFile', 'clientCertFile', 'clientKeyFile']);
  const securityProfile = oneOf('csms.securityProfile', csms['securityProfile'], SECURITY_PROFILES, CONFIG_DEFAULTS.securityProfile);
  const url = csmsUrl(csms['url'], securityProfile);
  const basicAuthPassword = password('csms.basicAuthPassword', csms['basicAuthPassword']);
  const caFile = optionalPath('csms.caFile', csms['caFile'], opts.baseDir);
  const clientCertFile = optionalPath('csms.clientCertFile', csms['clientCertFile'], opts.baseDir);
  const clientKeyFile = optionalPath('csms.clientKeyFile', csms['clientKeyFile'], opts.baseDir);
  provisionedCertificate(clientCertFile, clientKeyFile);
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

  return {
    chargePointId,
    csms: { url, securityProfile, basicAuthPassword, caFile, clientCertFile, clientKeyFile },
    controller,
    dataDir,
    diagnosticsSocket,
    identity,
    leds,
    logLevel,
  };
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

// ---- generic checks: each throws the one line for its field ----

function fail(path: string, expected: string, got: unknown): never {
  const where = path === '' ? '' : `${path}: `;
  const what = got === undefined ? `required, expected ${expected}` : `expected ${expected}, got ${describe(got)}`;
  throw new ConfigError(`config error: ${where}${what}`, path === '' ? undefined : path);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return String(value);
}

/** Absent means default; an explicit null is a wrong type (only fields documented as nullable take null). */
function orDefault(value: unknown, fallback: unknown): unknown {
  return value === undefined ? fallback : value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function objectAt(path: string, value: unknown): Record<string, unknown> {
  if (!isPlainObject(value)) fail(path, path === '' ? 'a JSON object' : 'an object', value);
  return value;
}

/** Typos must not pass silently: every key not in `allowed` is an error naming it. */
function onlyKeys(path: string, obj: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(obj)) {
    if (allowed.includes(key)) continue;
    const full = path === '' ? key : `${path}.${key}`;
    const near = allowed.find((a) => a.toLowerCase() === key.toLowerCase() || editDistance(a, key) <= 2);
    const hint = near !== undefined ? `did you mean "${near}"?` : `expected one of ${allowed.join(', ')}`;
    throw new ConfigError(`config error: ${full}: unknown key (${hint})`, full);
  }
}

function requireString(path: string, value: unknown, expected: string): string {
  if (typeof value !== 'string') fail(path, expected, value);
  return value;
}

function nonEmpty(path: string, value: unknown, note?: string): string {
  const expected = note === undefined ? 'a non-empty string' : `a non-empty string ${note}`;
  if (typeof value !== 'string' || value === '') fail(path, expected, value);
  return value;
}

function ciString(path: string, value: unknown, maxLength: number): string {
  const expected = `a string of 1..${maxLength} characters`;
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) {
    if (typeof value === 'string' && value.length > maxLength) {
      throw new ConfigError(`config error: ${path}: expected ${expected}, got ${value.length} characters`, path);
    }
    fail(path, expected, value);
  }
  return value;
}

function oneOf<T extends string | number>(path: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly unknown[]).includes(value)) fail(path, `one of ${allowed.join(', ')}`, value);
  return value as T;
}

/** controller-serial.md ENABLE: 6.0..80.0 A with at most one fraction digit. */
function currentLimit(path: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 6 && value <= 80) || Math.round(value * 10) !== value * 10) {
    fail(path, 'a current in A from 6 to 80 with at most one decimal', value);
  }
  return value;
}

function optionalBoolean(path: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') fail(path, 'true or false', value);
  return value;
}

function pathAt(path: string, value: unknown, baseDir: string | undefined): string {
  const text = nonEmpty(path, value);
  return baseDir === undefined || isAbsolute(text) ? text : join(baseDir, text);
}

function optionalPath(path: string, value: unknown, baseDir: string | undefined): string | null {
  return value === undefined || value === null ? null : pathAt(path, value, baseDir);
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

// ---- file helpers ----

function readProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'file not found';
  if (code === 'EACCES' || code === 'EPERM') return 'cannot read the file (permission denied)';
  if (code === 'EISDIR') return 'is a directory, expected a JSON file';
  return `cannot read the file (${code ?? String(err)})`;
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - (before.lastIndexOf('\n') + 1) + 1 };
}

class JsonStop {
  constructor(
    readonly offset: number,
    readonly problem: string,
  ) {}
}

/** Where a JSON text first goes wrong, found by a small RFC 8259 scanner (JSON.parse has already failed). */
export function locateJsonError(text: string): { offset: number; problem: string } {
  let i = 0;
  const stop = (problem: string): never => {
    throw new JsonStop(i, i >= text.length ? 'unexpected end of file' : problem);
  };
  const unexpected = (): never => stop(`unexpected ${JSON.stringify(text[i])}`);
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const str = (): void => {
    i++;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) stop('control character in a string (use \\n, \\t)');
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 6;
        else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else {
          i++;
          stop('bad escape in a string');
        }
        continue;
      }
      i++;
    }
    stop('unterminated string');
  };
  const NUMBER = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') stop(`expected a "quoted" property name, got ${JSON.stringify(text[i])}`);
        str();
        ws();
        if (text[i] !== ':') stop(`expected ':', got ${JSON.stringify(text[i])}`);
        i++;
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        stop(`expected ',' or '}', got ${JSON.stringify(text[i])}`);
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        stop(`expected ',' or ']', got ${JSON.stringify(text[i])}`);
      }
    }
    if (c === '"') return str();
    NUMBER.lastIndex = i;
    if (c !== undefined && '-0123456789'.includes(c) && NUMBER.test(text)) {
      i = NUMBER.lastIndex;
      return;
    }
    for (const literal of ['true', 'false', 'null']) {
      if (text.startsWith(literal, i)) {
        i += literal.length;
        return;
      }
    }
    unexpected();
  };
  try {
    value();
    ws();
    if (i < text.length) stop(`unexpected ${JSON.stringify(text[i])} after the end of the JSON value`);
  } catch (e) {
    if (e instanceof JsonStop) return { offset: e.offset, problem: e.problem };
    throw e;
  }
  return { offset: 0, problem: 'not valid JSON' };
}
