// Installer config (src/config/agent-config.ts): defaults, and ONE line naming the field for
// every kind of bad file. Limits: OCPP 1.6 BootNotification CiStrings, 1.6 security whitepaper.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  loadAgentConfig,
  locateJsonError,
  parseAgentConfig,
  type AgentConfig,
} from '../../src/config/agent-config.js';
import { packageVersion } from '../../src/platform/package-info.js';

const PASSWORD = 'sixteen-chars-pw!!';

/** The public contract example: must load as is. */
const CONTRACT = {
  chargePointId: 'CP-0001',
  csms: { url: 'ws://127.0.0.1:9000/ocpp', securityProfile: 0, basicAuthPassword: null },
  controller: { port: '/dev/ttyS1', baudRate: 115200 },
  dataDir: '/var/lib/charger-agent',
  diagnosticsSocket: '/run/charger-agent/diag.sock',
  identity: { vendor: 'Acme', model: 'AC22', serialNumber: 'SN0042', firmwareVersion: '1.0.0' },
  leds: {},
};

const MINIMAL = {
  chargePointId: 'CP-0001',
  csms: { url: 'ws://127.0.0.1:9000/ocpp' },
  controller: { port: '/dev/ttyS1' },
  identity: { vendor: 'Acme', model: 'AC22' },
};

type Json = Record<string, unknown>;

/** Deep-merge `patch` into a copy of `base`; a value `undefined` deletes the key. */
function patched(base: Json, patch: Json): Json {
  const out: Json = structuredClone(base);
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) delete out[k];
    else if (typeof v === 'object' && v !== null && !Array.isArray(v) && typeof out[k] === 'object' && out[k] !== null) {
      out[k] = patched(out[k] as Json, v as Json);
    } else out[k] = v;
  }
  return out;
}

/** The ConfigError message parseAgentConfig throws for `value` (fails the test if it does not throw). */
function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    const err = e as ConfigError;
    expect(err.message).not.toContain('\n');
    expect(err.message.startsWith('config error: ')).toBe(true);
    return err;
  }
  throw new Error('expected a ConfigError');
}
const parseError = (value: unknown) => errorOf(() => parseAgentConfig(value)).message;

const dir = mkdtempSync(join(tmpdir(), 'agent-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;
function writeConfig(text: string): string {
  const path = join(dir, `config-${fileNo++}.json`);
  writeFileSync(path, text);
  return path;
}

describe('valid files', () => {
  it('loads the public contract example unchanged, with logLevel and controller.simulated defaulted', () => {
    const cfg = loadAgentConfig(writeConfig(JSON.stringify(CONTRACT, null, 2)));
    expect(cfg).toEqual<AgentConfig>({
      chargePointId: 'CP-0001',
      csms: { url: 'ws://127.0.0.1:9000/ocpp', securityProfile: 0, basicAuthPassword: null, caFile: null, clientCertFile: null, clientKeyFile: null, securitySwitchTimeoutS: 60 },
      controller: { port: '/dev/ttyS1', baudRate: 115200, simulated: false, maxCurrentA: 32 },
      dataDir: '/var/lib/charger-agent',
      diagnosticsSocket: '/run/charger-agent/diag.sock',
      identity: { vendor: 'Acme', model: 'AC22', serialNumber: 'SN0042', firmwareVersion: '1.0.0' },
      leds: {},
      logLevel: 'info',
      smartCharging: { profileWritesPerDay: 10, failSafeCurrentA: null, failSafeAfterS: 300 },
      security: { renewBeforeDays: 30, csrKeyType: 'rsa2048', memoryLimitMb: null, notifyEvents: 'all' },
    });
  });

  it('fills every default into a minimal file; firmwareVersion is the package.json version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(packageVersion()).toBe(pkg.version);
    const cfg = parseAgentConfig(MINIMAL);
    expect(cfg.csms).toEqual({ url: 'ws://127.0.0.1:9000/ocpp', securityProfile: 0, basicAuthPassword: null, caFile: null, clientCertFile: null, clientKeyFile: null, securitySwitchTimeoutS: 60 });
    expect(cfg.controller).toEqual({ port: '/dev/ttyS1', baudRate: 115200, simulated: false, maxCurrentA: 32 });
    expect(cfg.dataDir).toBe('/var/lib/charger-agent');
    expect(cfg.diagnosticsSocket).toBe('/run/charger-agent/diag.sock');
    expect(cfg.identity).toEqual({ vendor: 'Acme', model: 'AC22', serialNumber: null, firmwareVersion: pkg.version });
    expect(cfg.leds).toEqual({});
    expect(cfg.logLevel).toBe('info');
  });

  it('normalises LEDs given as a pin or as { pin, activeLow }', () => {
    const cfg = parseAgentConfig(patched(MINIMAL, { leds: { green: 17, red: { pin: 27, activeLow: true }, blue: { pin: 22 } } }));
    expect(cfg.leds).toEqual({
      green: { pin: 17, activeLow: false },
      red: { pin: 27, activeLow: true },
      blue: { pin: 22, activeLow: false },
    });
  });

  it('takes controller.maxCurrentA from 6 to 80 A with one decimal', () => {
    for (const maxCurrentA of [6, 16.5, 80]) {
      expect(parseAgentConfig(patched(MINIMAL, { controller: { maxCurrentA } })).controller.maxCurrentA).toBe(maxCurrentA);
    }
  });

  it('a simulated controller needs no port', () => {
    const cfg = parseAgentConfig(patched(MINIMAL, { controller: { port: undefined, simulated: true } }));
    expect(cfg.controller).toEqual({ simulated: true, port: null, baudRate: 115200, maxCurrentA: 32 });
  });

  it.each([
    [0, 'ws://csms.example/ocpp'],
    [0, 'wss://csms.example/ocpp'],
    [1, 'ws://csms.example/ocpp'],
    [1, 'wss://csms.example/ocpp'],
    [2, 'wss://csms.example/ocpp'],
    [2, 'wss://csms.example:8443/ocpp/v16'], // profile 3 (needs certificate files): provisioned-certificate.test.ts
  ])('security profile %i accepts %s', (securityProfile, url) => {
    const cfg = parseAgentConfig(patched(MINIMAL, { csms: { url, securityProfile, basicAuthPassword: PASSWORD } }));
    expect(cfg.csms).toMatchObject({ url, securityProfile, basicAuthPassword: PASSWORD });
  });

  it('accepts the limits exactly: id of 48, vendor/model of 20, serial of 25, firmware of 50, password of 16 and 40', () => {
    for (const basicAuthPassword of ['p'.repeat(16), 'p'.repeat(40)]) {
      const cfg = parseAgentConfig(
        patched(MINIMAL, {
          chargePointId: 'a'.repeat(48),
          csms: { basicAuthPassword },
          identity: { vendor: 'v'.repeat(20), model: 'm'.repeat(20), serialNumber: 's'.repeat(25), firmwareVersion: 'f'.repeat(50) },
        }),
      );
      expect(cfg.identity.firmwareVersion).toHaveLength(50);
    }
  });

  it('resolves relative paths against the config file directory', () => {
    mkdirSync(join(dir, 'site'), { recursive: true });
    const path = join(dir, 'site', 'agent.json');
    writeFileSync(path, JSON.stringify(patched(MINIMAL, { dataDir: 'data', diagnosticsSocket: 'run/diag.sock', csms: { caFile: 'ca.pem' } })));
    const cfg = loadAgentConfig(path);
    expect(cfg.dataDir).toBe(join(dir, 'site', 'data'));
    expect(cfg.diagnosticsSocket).toBe(join(dir, 'site', 'run', 'diag.sock'));
    expect(cfg.csms.caFile).toBe(join(dir, 'site', 'ca.pem'));
  });

  it('accepts a UTF-8 byte order mark', () => {
    expect(loadAgentConfig(writeConfig(`\ufeff${JSON.stringify(MINIMAL)}`)).chargePointId).toBe('CP-0001');
  });
});

describe('bad files: one line naming the field', () => {
  it('the documented example line', () => {
    const err = errorOf(() => parseAgentConfig(patched(MINIMAL, { csms: { securityProfile: 7 } })));
    expect(err.message).toBe('config error: csms.securityProfile: expected one of 0, 1, 2, 3, got 7');
    expect(err.field).toBe('csms.securityProfile');
  });

  it('file missing', () => {
    const path = join(dir, 'nope.json');
    expect(errorOf(() => loadAgentConfig(path)).message).toBe(`config error: ${path}: file not found`);
  });

  it('a directory', () => {
    expect(errorOf(() => loadAgentConfig(dir)).message).toBe(`config error: ${dir}: is a directory, expected a JSON file`);
  });

  it('unreadable file', () => {
    const path = writeConfig('{}');
    chmodSync(path, 0o000);
    // root reads anything: then the same file gives the next error, still one line.
    const expected = process.getuid?.() === 0 ? /chargePointId: required/ : /permission denied/;
    expect(errorOf(() => loadAgentConfig(path)).message).toMatch(expected);
  });

  it.each([
    ['{\n  "chargePointId": "CP-0001",\n}\n', 3, 1, `expected a "quoted" property name, got "}"`],
    ['{\n  "chargePointId": "CP-0001"\n  "csms": {}\n}', 3, 3, `expected ',' or '}', got "\\""`],
    ['{"a": }', 1, 7, 'unexpected "}"'],
    ['{"a": 1', 1, 8, 'unexpected end of file'],
    ['', 1, 1, 'unexpected end of file'],
    ["{'a': 1}", 1, 2, `expected a "quoted" property name, got "'"`],
    ['{"a": tru}', 1, 7, 'unexpected "t"'],
    ['{"a": 1} x', 1, 10, 'unexpected "x" after the end of the JSON value'],
    ['{"a": "line\nbreak"}', 1, 12, 'control character in a string (use \\n, \\t)'],
  ])('not JSON: %j -> line %i column %i', (text, line, column, problem) => {
    const path = writeConfig(text);
    expect(errorOf(() => loadAgentConfig(path)).message).toBe(
      `config error: ${path}: not valid JSON at line ${line} column ${column}: ${problem}`,
    );
  });

  it('not JSON: the message never quotes the file (it may hold the password)', () => {
    const path = writeConfig(`{"csms": {"basicAuthPassword": "${PASSWORD}" }, }`);
    expect(errorOf(() => loadAgentConfig(path)).message).not.toContain(PASSWORD);
  });

  it.each([
    ['[]', 'an array'],
    ['"text"', '"text"'],
    ['42', '42'],
    ['null', 'null'],
  ])('not an object: %s', (text, got) => {
    const path = writeConfig(text);
    expect(errorOf(() => loadAgentConfig(path)).message).toBe(
      `config error: ${path}: expected a JSON object at the top level, got ${got}`,
    );
  });

  it.each<[string, Json, string]>([
    ['unknown top-level key, near a real one', { chargePointID: 'x' }, 'config error: chargePointID: unknown key (did you mean "chargePointId"?)'],
    ['unknown top-level key', { colour: 'red' }, 'config error: colour: unknown key (expected one of chargePointId, csms, controller, dataDir, diagnosticsSocket, identity, leds, logLevel, security, smartCharging)'],
    ['unknown nested key', { csms: { ur1: 'x' } }, 'config error: csms.ur1: unknown key (did you mean "url"?)'],
    ['unknown LED key', { leds: { green: { pin: 17, activelow: true } } }, 'config error: leds.green.activelow: unknown key (did you mean "activeLow"?)'],
  ])('%s', (_name, patch, message) => {
    expect(parseError(patched(MINIMAL, patch))).toBe(message);
  });

  it.each<[string, Json, string]>([
    ['chargePointId missing', { chargePointId: undefined }, 'chargePointId: required, expected 1..48 characters'],
    ['chargePointId with /', { chargePointId: 'CP/1' }, 'chargePointId: expected 1..48 characters from A-Z a-z 0-9 . _ ~ - (it ends the CSMS URL), got "CP/1"'],
    ['chargePointId with a space', { chargePointId: 'CP 1' }, 'chargePointId: expected 1..48'],
    ['chargePointId empty', { chargePointId: '' }, 'chargePointId: expected 1..48'],
    ['chargePointId of 49', { chargePointId: 'a'.repeat(49) }, 'chargePointId: expected 1..48'],
    ['chargePointId a number', { chargePointId: 1 }, 'chargePointId: expected 1..48 characters from A-Z a-z 0-9 . _ ~ - (it ends the CSMS URL), got 1'],
    ['csms missing', { csms: undefined }, 'csms.url: required, expected a ws:// or wss:// URL'],
    ['csms an array', { csms: [] }, 'csms: expected an object, got an array'],
    ['csms null', { csms: null }, 'csms: expected an object, got null'],
    ['url http', { csms: { url: 'http://csms/ocpp' } }, 'csms.url: expected a ws:// or wss:// URL, got "http://csms/ocpp"'],
    ['url not a URL', { csms: { url: 'csms:9000' } }, 'csms.url: expected a ws:// or wss:// URL, got "csms:9000"'],
    ['url with credentials', { csms: { url: 'ws://cp:secret@csms/ocpp' } }, 'csms.url: must not contain credentials (use csms.basicAuthPassword)'],
    ['url with a fragment', { csms: { url: 'ws://csms/ocpp#x' } }, 'csms.url: expected a URL without a #fragment'],
    ['profile 2 over ws', { csms: { url: 'ws://csms/ocpp', securityProfile: 2 } }, 'csms.url: security profile 2 requires wss://, got "ws://csms/ocpp"'],
    ['profile 3 over ws', { csms: { url: 'ws://csms/ocpp', securityProfile: 3 } }, 'csms.url: security profile 3 requires wss://'],
    ['profile as a string', { csms: { securityProfile: '1' } }, 'csms.securityProfile: expected one of 0, 1, 2, 3, got "1"'],
    ['password too short', { csms: { basicAuthPassword: 'short' } }, 'csms.basicAuthPassword: expected a string of 16..40 printable ASCII characters, or null, got a string of 5 characters'],
    ['password too long', { csms: { basicAuthPassword: 'p'.repeat(41) } }, 'csms.basicAuthPassword: expected a string of 16..40 printable ASCII characters, or null, got a string of 41 characters'],
    ['password a number', { csms: { basicAuthPassword: 12 } }, 'csms.basicAuthPassword: expected a string of 16..40'],
    ['switch timeout below 5 s', { csms: { securitySwitchTimeoutS: 4 } }, 'csms.securitySwitchTimeoutS: expected an integer number of seconds, 5..3600, got 4'],
    ['switch timeout a string', { csms: { securitySwitchTimeoutS: '60' } }, 'csms.securitySwitchTimeoutS: expected an integer number of seconds, 5..3600, got "60"'],
    ['switch timeout fractional', { csms: { securitySwitchTimeoutS: 7.5 } }, 'csms.securitySwitchTimeoutS: expected an integer number of seconds, 5..3600, got 7.5'],
    ['port missing', { controller: { port: undefined } }, 'controller.port: required, expected a non-empty string (or set controller.simulated: true)'],
    ['port empty', { controller: { port: '' } }, 'controller.port: expected a non-empty string (or set controller.simulated: true), got ""'],
    ['baud rate not standard', { controller: { baudRate: 100000 } }, 'controller.baudRate: expected one of 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600, got 100000'],
    ['maxCurrentA above 80', { controller: { maxCurrentA: 81 } }, 'controller.maxCurrentA: expected a current in A from 6 to 80 with at most one decimal, got 81'],
    ['maxCurrentA below 6', { controller: { maxCurrentA: 5.9 } }, 'controller.maxCurrentA: expected a current in A from 6 to 80 with at most one decimal, got 5.9'],
    ['maxCurrentA with two decimals', { controller: { maxCurrentA: 16.25 } }, 'controller.maxCurrentA: expected a current in A from 6 to 80 with at most one decimal, got 16.25'],
    ['maxCurrentA a string', { controller: { maxCurrentA: '16' } }, 'controller.maxCurrentA: expected a current in A from 6 to 80 with at most one decimal, got "16"'],
    ['simulated a string', { controller: { simulated: 'yes' } }, 'controller.simulated: expected true or false, got "yes"'],
    ['dataDir empty', { dataDir: '' }, 'dataDir: expected a non-empty string, got ""'],
    ['dataDir null', { dataDir: null }, 'dataDir: expected a non-empty string, got null'],
    ['socket path too long', { diagnosticsSocket: `/run/${'x'.repeat(120)}.sock` }, 'diagnosticsSocket: expected a unix socket path of at most 107 bytes, got "130 bytes"'],
    ['identity missing', { identity: undefined }, 'identity.vendor: required, expected a string of 1..20 characters'],
    ['vendor of 21', { identity: { vendor: 'v'.repeat(21) } }, 'identity.vendor: expected a string of 1..20 characters, got 21 characters'],
    ['model of 21', { identity: { model: 'm'.repeat(21) } }, 'identity.model: expected a string of 1..20 characters, got 21 characters'],
    ['serial of 26', { identity: { serialNumber: 's'.repeat(26) } }, 'identity.serialNumber: expected a string of 1..25 characters, got 26 characters'],
    ['firmware of 51', { identity: { firmwareVersion: 'f'.repeat(51) } }, 'identity.firmwareVersion: expected a string of 1..50 characters, got 51 characters'],
    ['vendor a number', { identity: { vendor: 5 } }, 'identity.vendor: expected a string of 1..20 characters, got 5'],
    ['leds an array', { leds: [17] }, 'leds: expected an object, got an array'],
    ['LED pin negative', { leds: { green: -1 } }, 'leds.green: expected an integer GPIO pin 0..1023, got -1'],
    ['LED pin 1024', { leds: { green: { pin: 1024 } } }, 'leds.green.pin: expected an integer GPIO pin 0..1023, got 1024'],
    ['LED pin fractional', { leds: { green: 17.5 } }, 'leds.green: expected an integer GPIO pin 0..1023, got 17.5'],
    ['LED pin missing', { leds: { green: { activeLow: true } } }, 'leds.green.pin: required, expected an integer GPIO pin 0..1023'],
    ['LED a string', { leds: { green: '17' } }, 'leds.green: expected a GPIO pin 0..1023 or { "pin": ..., "activeLow": ... }, got "17"'],
    ['LED activeLow a number', { leds: { green: { pin: 17, activeLow: 1 } } }, 'leds.green.activeLow: expected true or false, got 1'],
    ['two LEDs on one pin', { leds: { green: 17, red: { pin: 17 } } }, 'leds.red: pin 17 is already used by leds.green'],
    ['LED name with a space', { leds: { 'status led': 4 } }, 'leds: expected LED names of 1..32 characters from A-Z a-z 0-9 _ -, got "status led"'],
    ['logLevel unknown', { logLevel: 'verbose' }, 'logLevel: expected one of fatal, error, warn, info, debug, trace, silent, got "verbose"'],
    ['profile writes 0 a day', { smartCharging: { profileWritesPerDay: 0 } }, 'smartCharging.profileWritesPerDay: expected a whole number from 1 to 1440, got 0'],
    ['profile writes fractional', { smartCharging: { profileWritesPerDay: 2.5 } }, 'smartCharging.profileWritesPerDay: expected a whole number from 1 to 1440, got 2.5'],
    ['fail-safe current too high', { smartCharging: { failSafeCurrentA: 81 } }, 'smartCharging.failSafeCurrentA: expected a current in A from 0 to 80 with at most one decimal, or null, got 81'],
    ['fail-safe delay without a current', { smartCharging: { failSafeAfterS: 60 } }, 'smartCharging.failSafeCurrentA: required, expected a current (or null) when failSafeAfterS is set'],
    ['fail-safe delay 0', { smartCharging: { failSafeCurrentA: 6, failSafeAfterS: 0 } }, 'smartCharging.failSafeAfterS: expected a whole number from 1 to 86400, got 0'],
    ['smartCharging unknown key', { smartCharging: { writesPerDay: 3 } }, 'smartCharging'],
  ])('%s', (_name, patch, expected) => {
    expect(parseError(patched(MINIMAL, patch))).toContain(`config error: ${expected}`);
  });

  it('reads the smart charging settings: write budget and fail-safe', () => {
    expect(parseAgentConfig(patched(MINIMAL, { smartCharging: { profileWritesPerDay: 4, failSafeCurrentA: 6.5, failSafeAfterS: 120 } })).smartCharging).toEqual({
      profileWritesPerDay: 4,
      failSafeCurrentA: 6.5,
      failSafeAfterS: 120,
    });
    expect(parseAgentConfig(patched(MINIMAL, { smartCharging: { failSafeCurrentA: 0 } })).smartCharging).toMatchObject({ failSafeCurrentA: 0, failSafeAfterS: 300 });
    expect(parseAgentConfig(patched(MINIMAL, { smartCharging: { failSafeCurrentA: null, failSafeAfterS: 60 } })).smartCharging.failSafeCurrentA).toBeNull();
  });

  it('never echoes the password in an error', () => {
    const secret = 'this-is-the-secret-password-that-is-way-too-long';
    expect(parseError(patched(MINIMAL, { csms: { basicAuthPassword: secret } }))).not.toContain(secret);
  });

  it('parseAgentConfig rejects a non-object value', () => {
    expect(parseError([])).toBe('config error: expected a JSON object, got an array');
    expect(parseError(undefined)).toBe('config error: required, expected a JSON object');
  });
});

describe('security (certificate renewal)', () => {
  it('defaults: renew 30 days before expiry, RSA 2048 keys, every security event notified', () => {
    expect(parseAgentConfig(MINIMAL).security).toEqual({ renewBeforeDays: 30, csrKeyType: 'rsa2048', memoryLimitMb: null, notifyEvents: 'all' });
    const set = { renewBeforeDays: 60, csrKeyType: 'ec-p256', memoryLimitMb: 256, notifyEvents: 'critical' };
    expect(parseAgentConfig(patched(MINIMAL, { security: set })).security).toEqual({
      renewBeforeDays: 60,
      csrKeyType: 'ec-p256',
      memoryLimitMb: 256,
      notifyEvents: 'critical',
    });
  });

  it.each<[Json, string]>([
    [{ security: { renewBeforeDays: 0 } }, 'config error: security.renewBeforeDays: expected a whole number of days from 1 to 365, got 0'],
    [{ security: { renewBeforeDays: 7.5 } }, 'config error: security.renewBeforeDays: expected a whole number of days from 1 to 365, got 7.5'],
    [{ security: { renewBeforeDays: '30' } }, 'config error: security.renewBeforeDays: expected a whole number of days from 1 to 365, got "30"'],
    [{ security: { csrKeyType: 'rsa1024' } }, 'config error: security.csrKeyType: expected one of rsa2048, ec-p256, got "rsa1024"'],
    [{ security: { renewDays: 3 } }, 'config error: security.renewDays: unknown key (expected one of renewBeforeDays, csrKeyType, memoryLimitMb, notifyEvents)'],
    [{ security: { notifyEvents: 'some' } }, 'config error: security.notifyEvents: expected one of all, critical, got "some"'],
    [{ security: { memoryLimitMb: 8 } }, 'config error: security.memoryLimitMb: expected a whole number of MB from 32 to 65536, or null, got 8'],
  ])('%j', (patch, message) => {
    expect(parseError(patched(MINIMAL, patch))).toBe(message);
  });
});

describe('locateJsonError', () => {
  it('agrees with JSON.parse on what is valid: a valid text has no error position', () => {
    expect(locateJsonError('{"a": [1, -2.5e3, true, false, null, "x\\u00e9\\n"], "b": {}}')).toEqual({
      offset: 0,
      problem: 'not valid JSON',
    });
  });
});
