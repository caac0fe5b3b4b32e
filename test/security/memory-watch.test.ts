// MemoryExhaustion on the injected clock, through the real recorder and SQLite security log: the
// resident memory (injected reading) over the bound is reported once, not every minute while it
// stays high, and again only after it came back under 90 % of the bound.
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { MemoryWatch, MEMORY_CHECK_MS } from '../../src/security/memory-watch.js';
import { SecurityEventRecorder, type ForwardedSecurityEvent } from '../../src/security/security-event-recorder.js';
import { SqliteSecurityLog } from '../../src/store/security-log-repo.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { TempDatabases } from '../helpers/temp-agent-db.js';

const dbs = new TempDatabases();
afterEach(() => dbs.cleanup());
const MB = 1_048_576;

describe('MemoryWatch', () => {
  it('reports crossing the bound once, and again after coming back under 90 %', () => {
    const clock = new FakeClock();
    const log = new SqliteSecurityLog(dbs.open().db);
    const recorder = new SecurityEventRecorder(log, clock, pino({ level: 'silent' }), { forwardWindowMs: 1 });
    const forwarded: ForwardedSecurityEvent[] = [];
    recorder.forwardTo({ forward: (e) => forwarded.push(e) });
    let rss = 100 * MB;
    const watch = new MemoryWatch(200 * MB, recorder, clock, () => rss);
    watch.start();
    clock.advance(5 * MEMORY_CHECK_MS);
    expect(forwarded).toEqual([]);
    rss = 250 * MB;
    clock.advance(10 * MEMORY_CHECK_MS);
    expect(forwarded.map((e) => e.techInfo)).toEqual(['resident memory 250.0 MB is over the 200.0 MB bound']);
    rss = 190 * MB; // under the bound, not under 90 %: still the same episode
    clock.advance(MEMORY_CHECK_MS);
    rss = 210 * MB;
    clock.advance(MEMORY_CHECK_MS);
    expect(forwarded).toHaveLength(1);
    rss = 150 * MB;
    clock.advance(MEMORY_CHECK_MS);
    rss = 230 * MB;
    clock.advance(MEMORY_CHECK_MS);
    expect(forwarded).toHaveLength(2);
    expect(log.entries().map((e) => e.type)).toEqual(['MemoryExhaustion', 'MemoryExhaustion']);
    watch.stop();
    clock.advance(10 * MEMORY_CHECK_MS);
    expect(forwarded).toHaveLength(2);
  });
});
