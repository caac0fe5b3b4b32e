// Install and clear rules of the profile stack (OCPP 1.6 §3.13.2, §5.5, §5.16): replacement by
// id and by purpose + stack level + target, Tx profiles only during a transaction, the
// station's limits as reasons, clear by id or by criteria, identical profiles detected.
import { describe, expect, it } from 'vitest';
import { ProfileStack, type InstallContext, type StackLimits } from '../../../src/domain/smart-charging/profile-stack.js';
import { MONDAY, profile } from './profiles.js';

const limits: StackLimits = { maxStackLevel: 5, maxPeriods: 4, maxInstalled: 4, allowedUnits: ['A', 'W'] };
const noTx: InstallContext = { nowMs: MONDAY, transactionOn: () => undefined };
const txOn1: InstallContext = { nowMs: MONDAY, transactionOn: (e) => (e === 1 ? 'T1' : undefined) };
const ids = (s: ProfileStack) => s.profiles().map((p) => p.id).sort((a, b) => a - b);

describe('ProfileStack', () => {
  it('same purpose, stack level and target replaces; another target does not', () => {
    const s = new ProfileStack(() => limits);
    expect(s.install(profile({ id: 1, evseId: 1 }), noTx)).toMatchObject({ status: 'Accepted', identical: false, replaced: [] });
    expect(s.install(profile({ id: 2, evseId: 2 }), noTx)).toMatchObject({ status: 'Accepted', replaced: [] });
    const r = s.install(profile({ id: 3, evseId: 1, limits: [[0, 10]] }), noTx);
    expect(r.status === 'Accepted' && r.replaced.map((p) => p.id)).toEqual([1]);
    expect(ids(s)).toEqual([2, 3]);
  });

  it('same id replaces whatever it was', () => {
    const s = new ProfileStack(() => limits);
    s.install(profile({ id: 7, stackLevel: 1 }), noTx);
    s.install(profile({ id: 7, stackLevel: 2, purpose: 'StationMax', evseId: 0 }), noTx);
    expect(s.profiles()).toHaveLength(1);
    expect(s.profiles()[0]).toMatchObject({ id: 7, purpose: 'StationMax' });
  });

  it('a Tx profile needs a transaction on its EVSE (and the one it names); it goes when the transaction ends', () => {
    const s = new ProfileStack(() => limits);
    expect(s.install(profile({ id: 1, purpose: 'Tx' }), noTx)).toMatchObject({ status: 'Rejected', reason: 'NoTransaction' });
    expect(s.install(profile({ id: 1, purpose: 'Tx', evseId: 2 }), txOn1)).toMatchObject({ status: 'Rejected', reason: 'NoTransaction' });
    expect(s.install(profile({ id: 1, purpose: 'Tx', transactionId: 'T9' }), txOn1)).toMatchObject({ status: 'Rejected', reason: 'WrongTransaction' });
    expect(s.install(profile({ id: 1, purpose: 'Tx', transactionId: 'T1' }), txOn1)).toMatchObject({ status: 'Accepted' });
    s.install(profile({ id: 2 }), noTx);
    expect(s.transactionEnded(1, 'T1').map((p) => p.id)).toEqual([1]);
    expect(ids(s)).toEqual([2]);
  });

  it("rejects beyond the station's limits with the reason", () => {
    const s = new ProfileStack(() => ({ ...limits, allowedUnits: ['A'] }));
    expect(s.install(profile({ stackLevel: 6 }), noTx)).toMatchObject({ status: 'Rejected', reason: 'StackLevelTooHigh' });
    expect(s.install(profile({ limits: [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5]] }), noTx)).toMatchObject({ status: 'Rejected', reason: 'TooManyPeriods' });
    expect(s.install(profile({ schedule: { startScheduleMs: MONDAY, unit: 'W', periods: [{ startPeriod: 0, limit: 1000 }] } }), noTx)).toMatchObject({ status: 'Rejected', reason: 'UnitNotAllowed' });
    for (let i = 1; i <= 4; i++) expect(s.install(profile({ id: i, stackLevel: i }), noTx).status).toBe('Accepted');
    expect(s.install(profile({ id: 5, stackLevel: 5 }), noTx)).toMatchObject({ status: 'Rejected', reason: 'TooManyProfiles' });
    // A replacement does not count as one more.
    expect(s.install(profile({ id: 9, stackLevel: 4, limits: [[0, 9]] }), noTx).status).toBe('Accepted');
    expect(s.profiles()).toHaveLength(4);
  });

  it('rejects malformed profiles with a clear reason, never throws', () => {
    const s = new ProfileStack(() => limits);
    const bad = [
      profile({ limits: [[5, 10]] }),
      profile({ limits: [[0, 10], [0, 12]] }),
      profile({ limits: [[0, -1]] }),
      profile({ purpose: 'StationMax', evseId: 1 }),
      profile({ purpose: 'Tx', evseId: 0 }),
      profile({ kind: 'Recurring' }),
      profile({ kind: 'Recurring', recurrency: 'Daily', schedule: { unit: 'A', periods: [{ startPeriod: 0, limit: 1 }] } }),
      profile({ validFromMs: MONDAY + 10, validToMs: MONDAY }),
      profile({ schedule: { unit: 'A', periods: [] } }),
      profile({ schedule: { unit: 'A', periods: [{ startPeriod: 0, limit: 6, numberPhases: 4 }] } }),
      { ...profile(), schedule: undefined } as unknown as ReturnType<typeof profile>,
      profile({ schedule: { unit: 'A', periods: [null] } as unknown as ReturnType<typeof profile>['schedule'] }),
    ];
    for (const p of bad) {
      const r = s.install(p, txOn1);
      expect(r.status, JSON.stringify(p)).toBe('Rejected');
      expect(r.status === 'Rejected' && r.reason).toBe('Invalid');
    }
    expect(s.profiles()).toHaveLength(0);
  });

  it('detects identical profiles: same id and content, or same purpose/stack/target and content', () => {
    const s = new ProfileStack(() => limits);
    const p = profile({ id: 1, limits: [[0, 10], [60, 12]] });
    s.install(p, noTx);
    // Same content, fields in another order.
    const again = { schedule: { periods: [{ limit: 10, startPeriod: 0 }, { limit: 12, startPeriod: 60 }], unit: 'A' as const, startScheduleMs: MONDAY }, evseId: 1, kind: 'Absolute' as const, purpose: 'TxDefault' as const, stackLevel: 0, id: 1 };
    expect(s.isIdentical(again)).toBe(true);
    expect(s.install(again, noTx)).toMatchObject({ status: 'Accepted', identical: true, replaced: [] });
    expect(s.isIdentical({ ...p, id: 2 })).toBe(false);
    expect(s.isIdentical(profile({ id: 1, limits: [[0, 10], [60, 13]] }))).toBe(false);
  });

  it('an Absolute profile without startSchedule starts at validFrom, else on arrival; still identical when re-sent', () => {
    const s = new ProfileStack(() => limits);
    const bare = profile({ id: 1, schedule: { unit: 'A', periods: [{ startPeriod: 0, limit: 10 }] } });
    const r = s.install(bare, { ...noTx, nowMs: MONDAY + 5000 });
    expect(r.status === 'Accepted' && r.profile.schedule.startScheduleMs).toBe(MONDAY + 5000);
    expect(s.install(bare, { ...noTx, nowMs: MONDAY + 9000 })).toMatchObject({ identical: true });
    const withFrom = s.install(profile({ id: 2, stackLevel: 1, validFromMs: MONDAY + 7, schedule: { unit: 'A', periods: [{ startPeriod: 0, limit: 10 }] } }), noTx);
    expect(withFrom.status === 'Accepted' && withFrom.profile.schedule.startScheduleMs).toBe(MONDAY + 7);
  });

  it('clears by id, or by any combination of EVSE, purpose and stack level; says whether anything matched', () => {
    const s = new ProfileStack(() => ({ ...limits, maxInstalled: 10 }));
    s.install(profile({ id: 1, evseId: 0, purpose: 'StationMax', stackLevel: 0 }), noTx);
    s.install(profile({ id: 2, evseId: 1, stackLevel: 0 }), noTx);
    s.install(profile({ id: 3, evseId: 1, stackLevel: 1 }), noTx);
    s.install(profile({ id: 4, evseId: 2, stackLevel: 1 }), noTx);
    s.install(profile({ id: 5, evseId: 0, stackLevel: 1 }), noTx);
    expect(s.clear({ id: 42 })).toEqual([]);
    expect(s.clear({ id: 2, evseId: 2 }).map((p) => p.id)).toEqual([2]);
    expect(s.clear({ evseId: 1, purpose: 'StationMax' })).toEqual([]);
    expect(s.clear({ purpose: 'TxDefault', stackLevel: 1, evseId: 2 }).map((p) => p.id)).toEqual([4]);
    expect(s.clear({ stackLevel: 1 }).map((p) => p.id).sort()).toEqual([3, 5]);
    expect(s.clear({}).map((p) => p.id)).toEqual([1]);
    expect(s.profiles()).toHaveLength(0);
  });

  it('load restores persisted profiles and skips malformed ones', () => {
    const s = new ProfileStack(() => limits);
    s.load([profile({ id: 1 }), profile({ id: 2, limits: [[3, 1]] })]);
    expect(ids(s)).toEqual([1]);
    expect(s.isIdentical(profile({ id: 1 }))).toBe(true);
  });
});
