// The in-memory log ring behind `diag logs` and the runtime log level (issue 6, "Logs"):
// bounded in lines and bytes, fed after redaction, stdout left as it was, level changes
// reaching module loggers.
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { LogRing, childLogger, createLogger, isLogLevel, logRingOf, setLogLevel } from '../../src/platform/logger.js';

function capture(level: 'info' | 'debug' = 'info', ringLines?: number) {
  const lines: string[] = [];
  const logger = createLogger({ level, destination: { write: (s: string) => void lines.push(s) }, ...(ringLines !== undefined ? { ringLines } : {}) });
  return { logger, lines, ring: logRingOf(logger)! };
}

describe('LogRing', () => {
  it('keeps the last maxLines lines, oldest first', () => {
    const ring = new LogRing({ maxLines: 3 });
    for (let i = 1; i <= 5; i++) ring.push(`{"i":${i}}\n`);
    expect(ring.tail()).toEqual(['{"i":3}', '{"i":4}', '{"i":5}']);
    expect(ring.tail(2)).toEqual(['{"i":4}', '{"i":5}']);
    expect(ring.tail(0)).toEqual([]);
    expect(ring.size).toBe(3);
  });

  it('stays within maxBytes, and replaces a huge line by a notice', () => {
    const ring = new LogRing({ maxLines: 1000, maxBytes: 1000, maxLineBytes: 300 });
    for (let i = 0; i < 100; i++) ring.push(`{"pad":"${'x'.repeat(90)}","i":${i}}`);
    const kept = ring.tail();
    expect(kept.reduce((n, l) => n + l.length, 0)).toBeLessThanOrEqual(1000);
    expect(kept.at(-1)).toContain('"i":99');
    ring.push('y'.repeat(5000));
    expect(JSON.parse(ring.tail(1)[0]!)).toMatchObject({ msg: '[log line of 5000 characters not kept]' });
  });

  it('holds no more than maxLines after many thousand lines (compaction)', () => {
    const ring = new LogRing({ maxLines: 10 });
    for (let i = 0; i < 5000; i++) ring.push(`{"i":${i}}`);
    expect(ring.size).toBe(10);
    expect(ring.tail(1)).toEqual(['{"i":4999}']);
  });

  it('tells followers each new line until they unsubscribe; a throwing follower does not break logging', () => {
    const ring = new LogRing({ maxLines: 0 });
    const got: string[] = [];
    const stop = ring.follow((l) => got.push(l));
    ring.follow(() => {
      throw new Error('broken follower');
    });
    ring.push('{"a":1}\n');
    stop();
    ring.push('{"a":2}\n');
    expect(got).toEqual(['{"a":1}']);
    expect(ring.size).toBe(0); // maxLines 0 keeps nothing, followers still hear
  });
});

describe('createLogger and the ring', () => {
  it('tees every written line, after redaction, into the ring a child logger also finds', () => {
    const { logger, lines, ring } = capture();
    const child = childLogger(logger, 'ocpp');
    expect(logRingOf(child)).toBe(ring);
    child.info({ AuthorizationKey: 'ring-secret-0123456789' }, 'configured');
    expect(lines).toHaveLength(1);
    expect(ring.tail()).toEqual([lines[0]!.trimEnd()]);
    expect(ring.tail()[0]).not.toContain('ring-secret');
    expect(JSON.parse(ring.tail()[0]!)).toMatchObject({ module: 'ocpp', AuthorizationKey: '[Redacted]' });
  });

  it('keeps no lines with ringLines 0, and a plain pino logger has no ring', () => {
    const { logger, ring } = capture('info', 0);
    logger.info('x');
    expect(ring.size).toBe(0);
    expect(logRingOf(pino({ level: 'silent' }))).toBeNull();
  });

  it('still writes synchronously to fd 1 when no destination is given', () => {
    const logger = createLogger({ level: 'silent' });
    const stream = (logger as unknown as Record<symbol, { fd?: number; sync?: boolean }>)[pino.symbols.streamSym];
    expect(stream).toMatchObject({ fd: 1, sync: true });
  });

  it('bindings appear on every line (chargePointId), beside pid and hostname', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', bindings: { chargePointId: 'CP-9' }, destination: { write: (s: string) => void lines.push(s) } });
    childLogger(logger, 'session').info('hello');
    expect(JSON.parse(lines[0]!)).toMatchObject({ chargePointId: 'CP-9', module: 'session', pid: process.pid, hostname: expect.any(String) });
  });
});

describe('setLogLevel', () => {
  it('changes the level of the root and of module loggers made before', () => {
    const { logger, lines } = capture('info');
    const mod = childLogger(logger, 'controller');
    mod.debug('hidden');
    setLogLevel(logger, 'debug');
    mod.debug('shown');
    setLogLevel(logger, 'warn');
    mod.info('hidden again');
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['shown']);
  });

  it('isLogLevel accepts exactly the pino levels and silent', () => {
    expect(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].every(isLogLevel)).toBe(true);
    expect(isLogLevel('verbose')).toBe(false);
    expect(isLogLevel(3)).toBe(false);
  });
});
