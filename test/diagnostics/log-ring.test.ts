// The in-memory log ring behind `diag logs` and the runtime log level (issue 6, "Logs"):
// bounded in lines and bytes, fed after redaction, stdout left as it was, level changes
// reaching module loggers; `logs --follow` listeners told later from a bounded queue, never
// inside pino's write (review finding: a listener per follow made every log line slow).
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { LogRing, childLogger, createLogger, isLogLevel, logRingOf, setLogLevel } from '../../src/platform/logger.js';

/** Followers are told on setImmediate: after this, every line pushed before it was delivered. */
function nextTurn(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

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

  it('tells followers each new line until they unsubscribe; a throwing follower does not break logging', async () => {
    const ring = new LogRing({ maxLines: 0 });
    const got: string[] = [];
    const stop = ring.follow((l) => got.push(l));
    ring.follow(() => {
      throw new Error('broken follower');
    });
    ring.push('{"a":1}\n');
    await nextTurn();
    stop();
    ring.push('{"a":2}\n');
    await nextTurn();
    expect(got).toEqual(['{"a":1}']);
    expect(ring.size).toBe(0); // maxLines 0 keeps nothing, followers still hear
  });

  it('never calls a follower from inside push (pino\'s write): lines reach followers on a later turn, in order', async () => {
    const { logger, ring } = capture();
    let logging = false;
    const calls: Array<{ msg: string; insideLogCall: boolean }> = [];
    ring.follow((l) => calls.push({ msg: (JSON.parse(l) as { msg: string }).msg, insideLogCall: logging }));
    for (const msg of ['one', 'two', 'three']) {
      logging = true;
      logger.info(msg);
      logging = false;
    }
    expect(calls).toEqual([]);
    await nextTurn();
    expect(calls).toEqual([
      { msg: 'one', insideLogCall: false },
      { msg: 'two', insideLogCall: false },
      { msg: 'three', insideLogCall: false },
    ]);
  });

  it('holds a bounded queue for followers: a burst drops the oldest lines and says how many', async () => {
    const ring = new LogRing({ maxLines: 10, maxQueuedLines: 5 });
    const got: string[] = [];
    ring.follow((l) => got.push(l));
    for (let i = 0; i < 100; i++) ring.push(`{"i":${i}}`);
    await nextTurn();
    expect(got).toHaveLength(6);
    expect(JSON.parse(got[0]!)).toMatchObject({ level: 40, msg: '[95 log line(s) dropped: the followers fell behind]' });
    expect(got.slice(1)).toEqual(['{"i":95}', '{"i":96}', '{"i":97}', '{"i":98}', '{"i":99}']);
    // And it delivers normally again.
    ring.push('{"i":100}');
    await nextTurn();
    expect(got.at(-1)).toBe('{"i":100}');
  });

  it('a follower hears only lines pushed after it subscribed, even within one batch', async () => {
    const ring = new LogRing({ maxLines: 10 });
    const early: string[] = [];
    const late: string[] = [];
    ring.follow((l) => early.push(l));
    ring.push('{"n":1}');
    ring.follow((l) => late.push(l));
    ring.push('{"n":2}');
    await nextTurn();
    expect(early).toEqual(['{"n":1}', '{"n":2}']);
    expect(late).toEqual(['{"n":2}']);
  });

  it('lines a follower logs while being told go out in the next batch, not recursively', async () => {
    const ring = new LogRing({ maxLines: 10 });
    const got: string[] = [];
    let depth = 0;
    let maxDepth = 0;
    ring.follow((l) => {
      depth++;
      maxDepth = Math.max(maxDepth, depth);
      got.push(l);
      if (l === '{"n":1}') ring.push('{"n":"echo"}');
      depth--;
    });
    ring.push('{"n":1}');
    await nextTurn();
    expect(got).toEqual(['{"n":1}']);
    await nextTurn();
    expect(got).toEqual(['{"n":1}', '{"n":"echo"}']);
    expect(maxDepth).toBe(1);
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
