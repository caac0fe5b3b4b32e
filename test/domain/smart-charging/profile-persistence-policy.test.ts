// The flash-sparing persistence policy on the injected clock: identical profiles write nothing;
// a simulated day of 1,440 distinct profiles costs at most 10 writes while the live limit
// follows every one; after a restart at any minute the agent never offers more than the most
// restrictive limit the CSMS set since the write it restores.
import { describe, expect, it } from 'vitest';
import { offeredCurrent } from '../../../src/domain/smart-charging/current-limiter.js';
import { compositeExposure, ProfilePersistencePolicy, type PersistedProfiles } from '../../../src/domain/smart-charging/profile-persistence-policy.js';
import { ProfileStack } from '../../../src/domain/smart-charging/profile-stack.js';
import type { ChargingProfile } from '../../../src/domain/smart-charging/profile.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { MONDAY, profile } from './profiles.js';

const CONFIGURED_A = 32;
const MIN = 60_000;
const limits = { maxStackLevel: 5, maxPeriods: 8, maxInstalled: 10, allowedUnits: ['A', 'W'] as const };
const noTx = (nowMs: number) => ({ nowMs, transactionOn: () => undefined });
const exposure = compositeExposure({ evseIds: [1], electrical: () => ({ voltageV: 230, phases: 3 }), transactionOn: () => undefined, unlimitedA: CONFIGURED_A });

/** A StationMax profile holding `limitA` from now on (the same id and stack level: it replaces the last). */
const stationMax = (limitA: number, atMs: number): ChargingProfile =>
  profile({ id: 100, purpose: 'StationMax', evseId: 0, schedule: { startScheduleMs: atMs, unit: 'A', periods: [{ startPeriod: 0, limit: limitA }] } });

const offerOf = (profiles: readonly ChargingProfile[], nowMs: number, envelopeA?: number | null) =>
  offeredCurrent({ profiles, nowMs, evseId: 1, electrical: { voltageV: 230, phases: 3 }, ...(envelopeA != null ? { envelopeA } : {}) }, { configuredMaxA: CONFIGURED_A }).limitA;

function setup(restored: PersistedProfiles | null = null, over: { write?: (s: PersistedProfiles) => void; errors?: unknown[] } = {}) {
  const clock = new FakeClock({ systemTime: MONDAY });
  const written: PersistedProfiles[] = [];
  const policy = new ProfilePersistencePolicy(
    { clock, exposure, write: over.write ?? ((s) => void written.push(structuredClone(s))), onError: (e) => over.errors?.push(e) },
    restored,
  );
  return { clock, policy, written };
}

/** Drives one simulated day: one distinct profile a minute, a restart checked every minute. */
function simulateDay(limitAt: (minute: number) => number) {
  const { clock, policy, written } = setup();
  const stack = new ProfileStack(() => limits);
  const changes: { atMs: number; limitA: number }[] = [];
  let checkedRestarts = 0;
  for (let m = 0; m < 1440; m++) {
    const now = clock.now().getTime();
    const limitA = limitAt(m);
    const r = stack.install(stationMax(limitA, now), noTx(now));
    expect(r.status).toBe('Accepted');
    changes.push({ atMs: now, limitA });
    policy.changed(stack.profiles());
    // The live limit follows the newest profile at once.
    expect(offerOf(stack.profiles(), now)).toBe(Math.min(limitA, CONFIGURED_A));
    clock.advance(MIN - 1);
    // A power cut now: the agent restarts from the last write.
    const last = written[written.length - 1];
    const restartAt = clock.now().getTime();
    const restored = last ? offerOf(last.profiles, restartAt, last.envelopeA) : CONFIGURED_A;
    const window = changes.filter((c) => !last || c.atMs > last.writtenAtMs).map((c) => c.limitA);
    if (window.length > 0) {
      expect(restored, `restart at minute ${m}`).toBeLessThanOrEqual(Math.min(...window));
      checkedRestarts++;
    }
    clock.advance(1);
  }
  return { policy, written, stack, checkedRestarts };
}

/** Deterministic pseudo-random numbers (the test must replay identically). */
function lcg(seed: number) {
  let x = seed;
  return () => {
    x = (x * 1_103_515_245 + 12_345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

describe('ProfilePersistencePolicy', () => {
  it('100 identical profiles write nothing', () => {
    const p = profile({ id: 1, limits: [[0, 10]] });
    const { clock, policy, written } = setup({ profiles: [p], envelopeA: null, writtenAtMs: MONDAY - MIN });
    const stack = new ProfileStack(() => limits);
    stack.load([p]);
    for (let i = 0; i < 100; i++) {
      const r = stack.install(profile({ id: 1, limits: [[0, 10]] }), noTx(clock.now().getTime()));
      expect(r).toMatchObject({ status: 'Accepted', identical: true });
      policy.changed(stack.profiles());
      clock.advance(MIN);
    }
    clock.advance(86_400_000);
    policy.shutdown();
    expect(written).toHaveLength(0);
    expect(policy.writeCount()).toBe(0);
  });

  it('a day of 1,440 random distinct profiles: at most 10 writes, the live limit follows each, a restart never offers more than the window allowed', () => {
    const rnd = lcg(7);
    const { policy, written, stack, checkedRestarts } = simulateDay(() => 6 + Math.round(rnd() * 260) / 10);
    expect(policy.writeCount()).toBeLessThanOrEqual(10);
    expect(written.length).toBeLessThanOrEqual(10);
    expect(checkedRestarts).toBeGreaterThan(1000);
    policy.shutdown();
    expect(written[written.length - 1]?.profiles).toEqual(stack.profiles());
  });

  it('a CSMS that lowers the limit every minute all day: still at most 10 writes, and safe', () => {
    const { policy, checkedRestarts, written } = simulateDay((m) => Math.round(320 - (m * 260) / 1440) / 10);
    expect(policy.writeCount()).toBeLessThanOrEqual(10);
    expect(checkedRestarts).toBeGreaterThan(1000);
    // The budget's last write carried the floor envelope.
    expect(written[written.length - 1]?.envelopeA).toBe(0);
  });

  it('a CSMS that only raises: writes are coalesced and spaced, and shutdown writes what is pending', () => {
    const { policy, written } = simulateDay((m) => Math.round(60 + (m * 260) / 1440) / 10);
    expect(policy.writeCount()).toBeLessThanOrEqual(10);
    const gaps = written.slice(1).map((w, i) => w.writtenAtMs - (written[i] as PersistedProfiles).writtenAtMs);
    // The first one (from nothing to a limit) is a lowering; the rest are routine, 2.4 h apart at least.
    expect(gaps.slice(1).every((g) => g >= 2.4 * 3_600_000)).toBe(true);
    const before = written.length;
    policy.shutdown();
    expect(written.length).toBe(before + (policy.pending() ? 0 : 1));
  });

  it('a burst of lowered profiles costs one write after the debounce', () => {
    const { clock, policy, written } = setup();
    const stack = new ProfileStack(() => limits);
    for (const [i, a] of [20, 18, 16, 12, 10].entries()) {
      stack.install(profile({ id: i + 1, evseId: 1, stackLevel: i, limits: [[0, a]] }), noTx(clock.now().getTime()));
      policy.changed(stack.profiles());
      clock.advance(200);
    }
    expect(written).toHaveLength(0);
    clock.advance(5_000);
    expect(written).toHaveLength(1);
    expect(written[0]?.profiles).toHaveLength(5);
    expect(written[0]?.envelopeA).toBe(10);
  });

  it('the restored envelope holds until the profiles first change', () => {
    const p = stationMax(20, MONDAY);
    const { policy } = setup({ profiles: [p], envelopeA: 8, writtenAtMs: MONDAY });
    expect(policy.envelopeA()).toBe(8);
    policy.changed([p]);
    expect(policy.envelopeA()).toBe(8);
    policy.changed([stationMax(25, MONDAY)]);
    expect(policy.envelopeA()).toBeNull();
  });

  it('a failed write is reported, not counted, and retried', () => {
    const errors: unknown[] = [];
    let fail = true;
    const written: PersistedProfiles[] = [];
    const { clock, policy } = setup(null, { errors, write: (s) => {
      if (fail) throw new Error('disk full');
      written.push(s);
    } });
    policy.changed([stationMax(10, MONDAY)]);
    clock.advance(5_000);
    expect(errors).toHaveLength(1);
    expect(policy.writeCount()).toBe(0);
    fail = false;
    clock.advance(60_000);
    expect(written).toHaveLength(1);
    expect(policy.pending()).toBe(false);
  });
});
