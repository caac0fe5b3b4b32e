// Logging seam (src/platform/logger.ts): JSON lines, levels, module children, and secrets
// (OCPP 1.6 security whitepaper AuthorizationKey, private keys, Authorization) never logged.
import { describe, expect, expectTypeOf, it } from 'vitest';
import { pino, type Logger } from 'pino';
import type { HalLogger } from '../../hal/log.js';
import {
  REDACTED,
  ROOT_MODULE,
  childLogger,
  chooseLogFormat,
  createLogger,
  redactOcppPayload,
  setLogLevel,
  type LogLevel,
} from '../../src/platform/logger.js';
import { parseStrictJson } from './strict-json.js';

function capture(level: LogLevel = 'trace') {
  const lines: string[] = [];
  const logger = createLogger({ level, destination: { write: (s: string) => void lines.push(s) } });
  const records = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { logger, lines, records };
}

const SECRET = 'verySecretPassword0123';

describe('createLogger', () => {
  it('writes one JSON object per line with level, time and msg', () => {
    const { logger, lines, records } = capture('info');
    logger.info({ connectorId: 1 }, 'charging started');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith('\n')).toBe(true);
    expect(records()[0]).toMatchObject({ level: 30, msg: 'charging started', connectorId: 1 });
    expect(typeof records()[0]!['time']).toBe('number');
  });

  it('drops lines below the configured level', () => {
    const { logger, records } = capture('warn');
    logger.info('hidden');
    logger.debug('hidden');
    logger.warn('shown');
    logger.error('shown too');
    expect(records().map((r) => r['msg'])).toEqual(['shown', 'shown too']);
  });

  it('writes synchronously to stdout (fd 1) when no destination is given, so a crash loses no line', () => {
    const logger = createLogger({ level: 'silent' });
    const stream = (logger as unknown as Record<symbol, { fd?: number; sync?: boolean }>)[pino.symbols.streamSym];
    expect(stream).toMatchObject({ fd: 1, sync: true });
  });

  it.each([
    ['AuthorizationKey at the top', { AuthorizationKey: SECRET }],
    ['AuthorizationKey one level down', { config: { AuthorizationKey: SECRET } }],
    ['authorizationKey', { authorizationKey: SECRET }],
    ['basicAuthPassword', { basicAuthPassword: SECRET }],
    ['nested basicAuthPassword', { csms: { basicAuthPassword: SECRET } }],
    ['privateKey', { privateKey: SECRET }],
    ['nested privateKey', { cert: { privateKey: SECRET } }],
    ['headers.authorization', { headers: { authorization: `Basic ${SECRET}` } }],
    ['req.headers.authorization', { req: { headers: { authorization: `Basic ${SECRET}` } } }],
    ['headers.Authorization', { headers: { Authorization: `Basic ${SECRET}` } }],
  ])('redacts %s', (_name, obj) => {
    const { logger, lines } = capture();
    logger.info(obj, 'connecting');
    expect(lines[0]).not.toContain(SECRET);
    expect(lines[0]).toContain(REDACTED);
  });

  it('keeps everything that is not a secret, and does not modify the logged object', () => {
    const { logger, records } = capture();
    const obj = { csms: { url: 'wss://csms.example/ocpp', basicAuthPassword: SECRET } };
    logger.info(obj, 'connecting');
    expect(records()[0]!['csms']).toEqual({ url: 'wss://csms.example/ocpp', basicAuthPassword: REDACTED });
    expect(obj.csms.basicAuthPassword).toBe(SECRET);
  });
});

describe('childLogger', () => {
  it('tags every line with the module and keeps the root level and redaction', () => {
    const { logger, records } = capture('info');
    const child = childLogger(logger, 'ocpp.rpc');
    child.debug('hidden');
    child.info({ basicAuthPassword: SECRET }, 'open');
    expect(records()).toHaveLength(1);
    expect(records()[0]).toMatchObject({ module: 'ocpp.rpc', msg: 'open', basicAuthPassword: REDACTED });
  });
});

describe('keys once, module on every line', () => {
  it('a child given a key its parent has (hal adds module "controller" to the controller child) writes it once', () => {
    const lines: string[] = [];
    const root = createLogger({ level: 'info', bindings: { chargePointId: 'CP-1' }, destination: { write: (s: string) => void lines.push(s) } });
    const controller = childLogger(root, 'controller');
    const hal = controller.child({ module: 'controller', port: '/dev/ttyS1' });
    root.info('root line');
    controller.info('module line');
    hal.info({ connectorId: 1 }, 'hal line');
    childLogger(hal, 'other').info('renamed');
    root.child({ connectorId: 2 }).info('plain child');
    const parsed = lines.map((l) => parseStrictJson(l));
    expect(parsed.flatMap((p) => p.duplicates)).toEqual([]);
    expect(parsed.map((p) => (p.value as Record<string, unknown>)['module'])).toEqual([ROOT_MODULE, 'controller', 'controller', 'other', ROOT_MODULE]);
    expect(parsed[2]!.value).toMatchObject({ chargePointId: 'CP-1', port: '/dev/ttyS1', connectorId: 1, pid: process.pid, hostname: expect.any(String) });
    expect(parsed[3]!.value).toMatchObject({ chargePointId: 'CP-1', port: '/dev/ttyS1', module: 'other' });
  });

  it('the strict reader catches what pino wrote before: a key twice', () => {
    expect(parseStrictJson('{"module":"controller","a":{"b":1,"b":2},"module":"controller"}').duplicates).toEqual(['a.b', 'module']);
  });

  it('setLogLevel on the root reaches every module child, also those rebuilt for a new module', () => {
    const { logger, records } = capture('info');
    const store = childLogger(logger, 'store');
    const hal = childLogger(logger, 'controller').child({ module: 'controller', port: 'x' });
    store.debug('hidden');
    setLogLevel(logger, 'debug');
    store.debug('store debug');
    hal.debug('hal debug');
    setLogLevel(logger, 'warn');
    store.info('hidden');
    hal.info('hidden');
    expect(records().map((r) => r['msg'])).toEqual(['store debug', 'hal debug']);
  });
});

describe('pretty format', () => {
  it('writes time, level, [module], msg and key=value, with secrets redacted and controls escaped', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', format: 'pretty', bindings: { chargePointId: 'CP-1' }, destination: { write: (s: string) => void lines.push(s) } });
    childLogger(logger, 'ocpp').warn({ err: 'connect ECONNREFUSED 127.0.0.1:9', attempt: 2, basicAuthPassword: SECRET, tag: 'a\u001b[2Jb' }, 'CSMS connection problem');
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    expect(() => JSON.parse(line)).toThrow();
    expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z WARN  \[ocpp\] CSMS connection problem err="connect ECONNREFUSED 127.0.0.1:9" attempt=2 basicAuthPassword=\[Redacted\] tag=a\\x1b\[2Jb\n$/);
    expect(line).not.toContain(SECRET);
  });

  it('the diagnostics ring keeps JSON lines in pretty mode (diag logs reads them)', async () => {
    const { logRingOf } = await import('../../src/platform/logger.js');
    const logger = createLogger({ level: 'info', format: 'pretty', destination: { write: () => {} } });
    logger.info({ n: 1 }, 'kept');
    expect(JSON.parse(logRingOf(logger)!.tail()[0]!)).toMatchObject({ msg: 'kept', n: 1, module: ROOT_MODULE });
  });

  it('chooses pretty at a terminal and JSON otherwise; --log-format forces either; anything else is an error', () => {
    expect(chooseLogFormat(undefined, true)).toBe('pretty');
    expect(chooseLogFormat(undefined, false)).toBe('json');
    expect(chooseLogFormat('json', true)).toBe('json');
    expect(chooseLogFormat('pretty', false)).toBe('pretty');
    expect(() => chooseLogFormat('yaml', false)).toThrow(/json or pretty/);
  });
});

describe('redactOcppPayload', () => {
  it('censors the value of ChangeConfiguration AuthorizationKey, case-insensitively (CiString)', () => {
    const req = { key: 'AuthorizationKey', value: SECRET };
    expect(redactOcppPayload('ChangeConfiguration', req)).toEqual({ key: 'AuthorizationKey', value: REDACTED });
    expect(redactOcppPayload('ChangeConfiguration', { key: 'authorizationkey', value: SECRET })).toEqual({
      key: 'authorizationkey',
      value: REDACTED,
    });
    expect(req.value).toBe(SECRET); // a copy, the payload to send is untouched
  });

  it('leaves other ChangeConfiguration keys readable', () => {
    const req = { key: 'HeartbeatInterval', value: '300' };
    expect(redactOcppPayload('ChangeConfiguration', req)).toEqual(req);
  });

  it('censors AuthorizationKey in a GetConfiguration response list only', () => {
    const conf = {
      configurationKey: [
        { key: 'HeartbeatInterval', readonly: false, value: '300' },
        { key: 'AuthorizationKey', readonly: false, value: SECRET },
      ],
      unknownKey: [],
    };
    const out = redactOcppPayload('GetConfiguration', conf);
    expect(out.configurationKey[0]).toEqual({ key: 'HeartbeatInterval', readonly: false, value: '300' });
    expect(out.configurationKey[1]).toEqual({ key: 'AuthorizationKey', readonly: false, value: REDACTED });
    expect(conf.configurationKey[1]!.value).toBe(SECRET);
  });

  it('censors a 2.0.1 SetVariables BasicAuthPassword attributeValue', () => {
    const req = {
      setVariableData: [
        { component: { name: 'SecurityCtrlr' }, variable: { name: 'BasicAuthPassword' }, attributeValue: SECRET },
        { component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' }, attributeValue: '300' },
      ],
    };
    const out = redactOcppPayload('SetVariables', req);
    expect(out.setVariableData[0]!.attributeValue).toBe(REDACTED);
    expect(out.setVariableData[1]!.attributeValue).toBe('300');
  });

  it('censors secret-named properties in any action, and passes non-objects through', () => {
    expect(JSON.stringify(redactOcppPayload('DataTransfer', { data: { privateKey: SECRET, n: 1 } }))).not.toContain(SECRET);
    expect(redactOcppPayload('Heartbeat', {})).toEqual({});
    expect(redactOcppPayload('X', null)).toBeNull();
    expect(redactOcppPayload('X', 'text')).toBe('text');
  });
});

describe('types', () => {
  it("pino's Logger is assignable to hal's HalLogger", () => {
    expectTypeOf<Logger>().toExtend<HalLogger>();
    // Checked by tsc too: main.ts hands a pino child to hal/.
    const hal: HalLogger = childLogger(createLogger({ level: 'silent' }), 'hal.gpio');
    expect(typeof hal.child({ pin: 17 }).info).toBe('function');
  });
});
