// Reconnect policy (full-jitter exponential backoff) with an injected random source.
import { describe, expect, it } from 'vitest';
import { DEFAULT_RECONNECT, ReconnectBackoff } from '../../../src/ocpp/transport/reconnect-backoff.js';

const sequence = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length] ?? 0;
};

describe('ReconnectBackoff', () => {
  it('doubles the cap per attempt up to maxDelayMs', () => {
    const b = new ReconnectBackoff({ baseDelayMs: 100, maxDelayMs: 1_000 }, () => 0.999999);
    expect([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([99, 199, 399, 799, 999, 999]);
    expect(b.attempts).toBe(6);
  });

  it('jitters each delay uniformly below the current cap (full jitter)', () => {
    const b = new ReconnectBackoff({ baseDelayMs: 1_000, maxDelayMs: 60_000 }, sequence(0.5, 0.1, 0.9, 0));
    expect([b.next(), b.next(), b.next(), b.next()]).toEqual([500, 200, 3_600, 0]);
  });

  it('starts over after reset()', () => {
    const b = new ReconnectBackoff({ baseDelayMs: 100, maxDelayMs: 10_000 }, () => 0.5);
    b.next();
    b.next();
    b.next();
    expect(b.currentCapMs).toBe(800);
    b.reset();
    expect(b.attempts).toBe(0);
    expect(b.next()).toBe(50);
  });

  it('stays finite after very many attempts', () => {
    const b = new ReconnectBackoff({ baseDelayMs: 1_000, maxDelayMs: 120_000 }, () => 0.5);
    for (let i = 0; i < 2_000; i++) b.next();
    expect(b.next()).toBe(60_000);
  });

  it('clamps a misbehaving random source and rejects bad options', () => {
    expect(new ReconnectBackoff({ baseDelayMs: 100, maxDelayMs: 100 }, () => 7).next()).toBe(100);
    expect(new ReconnectBackoff({ baseDelayMs: 100, maxDelayMs: 100 }, () => -1).next()).toBe(0);
    expect(() => new ReconnectBackoff({ baseDelayMs: 0 })).toThrow(RangeError);
    expect(() => new ReconnectBackoff({ baseDelayMs: 500, maxDelayMs: 100 })).toThrow(RangeError);
    expect(new ReconnectBackoff().options).toEqual(DEFAULT_RECONNECT);
  });
});
