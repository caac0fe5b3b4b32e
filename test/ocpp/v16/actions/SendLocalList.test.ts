// OCPP 1.6 §5.15 SendLocalList against the real agent and the DevCsms (ocpp-rpc strict mode):
// Full and Differential, VersionMismatch, Failed leaving the old list whole, removal by an entry
// without idTagInfo, NotSupported when the list is disabled, the largest allowed update on the wire.
import { describe, expect, it } from 'vitest';
import type { AuthorizationData } from '../../../../src/ocpp/v16/generated/types.js';
import { useAgentFixture } from '../../../helpers/action-fixture.js';

const fx = useAgentFixture();

const ok = (idTag: string, parentIdTag?: string): AuthorizationData => ({ idTag, idTagInfo: { status: 'Accepted', ...(parentIdTag ? { parentIdTag } : {}) } });

describe('SendLocalList (OCPP 1.6 §5.15)', () => {
  it('Full then Differential (TC_043): Accepted, the list and its version follow', async () => {
    const h = await fx.start();
    const list = h.agent.authorization.localList;
    expect(await h.call('SendLocalList', { listVersion: 1, updateType: 'Full', localAuthorizationList: [ok('AAA', 'GRP'), ok('BBB')] })).toEqual({ status: 'Accepted' });
    expect(list.lookup('aaa')).toEqual({ status: 'Accepted', groupId: { value: 'GRP', type: 'Central' } });
    const diff = await h.call('SendLocalList', {
      listVersion: 2,
      updateType: 'Differential',
      localAuthorizationList: [{ idTag: 'AAA', idTagInfo: { status: 'Blocked', expiryDate: '2031-01-01T00:00:00.000Z' } }, { idTag: 'BBB' }, ok('CCC')],
    });
    expect(diff).toEqual({ status: 'Accepted' });
    expect(list.lookup('AAA')).toEqual({ status: 'Blocked', expiresAt: new Date('2031-01-01T00:00:00.000Z') });
    expect(list.lookup('BBB')).toBeNull(); // no idTagInfo in a Differential update: removed
    expect(list.lookup('CCC')).toEqual({ status: 'Accepted' });
    expect(await h.call('GetLocalListVersion', {})).toEqual({ listVersion: 2 });
  });

  it('Differential not newer than the list (TC_043_2): VersionMismatch, nothing applied', async () => {
    const h = await fx.start();
    await h.call('SendLocalList', { listVersion: 5, updateType: 'Full', localAuthorizationList: [ok('AAA')] });
    expect(await h.call('SendLocalList', { listVersion: 5, updateType: 'Differential', localAuthorizationList: [ok('NEW')] })).toEqual({ status: 'VersionMismatch' });
    expect(await h.call('SendLocalList', { listVersion: 3, updateType: 'Differential', localAuthorizationList: [ok('NEW')] })).toEqual({ status: 'VersionMismatch' });
    expect(h.agent.authorization.localList.lookup('NEW')).toBeNull();
    expect(await h.call('GetLocalListVersion', {})).toEqual({ listVersion: 5 });
  });

  it('an invalid update (TC_043_3) is Failed and leaves the old list whole', async () => {
    const h = await fx.start();
    await h.call('SendLocalList', { listVersion: 1, updateType: 'Full', localAuthorizationList: [ok('KEEP1'), ok('KEEP2')] });
    // A Full update whose last entry has no idTagInfo: refused as a whole.
    expect(await h.call('SendLocalList', { listVersion: 2, updateType: 'Full', localAuthorizationList: [ok('NEW1'), { idTag: 'NEW2' }] })).toEqual({ status: 'Failed' });
    // Duplicate identifiers (case-insensitive).
    expect(await h.call('SendLocalList', { listVersion: 2, updateType: 'Differential', localAuthorizationList: [ok('NEW1'), ok('new1')] })).toEqual({ status: 'Failed' });
    const list = h.agent.authorization.localList;
    expect(list.size()).toBe(2);
    expect(list.lookup('KEEP1')).not.toBeNull();
    expect(list.lookup('KEEP2')).not.toBeNull();
    expect(list.lookup('NEW1')).toBeNull();
    expect(await h.call('GetLocalListVersion', {})).toEqual({ listVersion: 1 });
  });

  it('a Full list of LocalAuthListMaxLength worst-case entries fits one SendLocalList; one more is Failed', async () => {
    const h = await fx.start();
    const max = h.agent.config.getInt('SendLocalListMaxLength');
    // A Full update replaces the whole list and cannot be split: one update carries all of it.
    expect(max).toBe(h.agent.config.getInt('LocalAuthListMaxLength'));
    expect(max).toBe(10_000);
    // Worst-case entries: 20-character tags, parent and expiry on each.
    const entry = (i: number): AuthorizationData => ({
      idTag: `T${String(i).padStart(19, '0')}`,
      idTagInfo: { status: 'ConcurrentTx', expiryDate: '2031-01-01T00:00:00.000+00:00', parentIdTag: 'P'.repeat(20) },
    });
    const tooMany = Array.from({ length: max + 1 }, (_, i) => entry(i));
    expect(await h.call('SendLocalList', { listVersion: 1, updateType: 'Full', localAuthorizationList: tooMany })).toEqual({ status: 'Failed' });
    expect(h.agent.authorization.localList.size()).toBe(0);
    expect(await h.call('SendLocalList', { listVersion: 1, updateType: 'Full', localAuthorizationList: tooMany.slice(0, max) })).toEqual({ status: 'Accepted' });
    expect(h.agent.authorization.localList.size()).toBe(max);
  });

  it('LocalAuthListEnabled false (TC_043_1): NotSupported and the list is untouched', async () => {
    const h = await fx.start();
    await h.call('SendLocalList', { listVersion: 1, updateType: 'Full', localAuthorizationList: [ok('KEEP')] });
    expect(await h.call('ChangeConfiguration', { key: 'LocalAuthListEnabled', value: 'false' })).toEqual({ status: 'Accepted' });
    expect(await h.call('SendLocalList', { listVersion: 2, updateType: 'Full', localAuthorizationList: [ok('NEW')] })).toEqual({ status: 'NotSupported' });
    h.agent.config.change('LocalAuthListEnabled', 'true');
    expect(h.agent.authorization.localList.lookup('KEEP')).not.toBeNull();
    expect(h.agent.authorization.localList.lookup('NEW')).toBeNull();
  });

  it('a Full update without a list empties it', async () => {
    const h = await fx.start();
    await h.call('SendLocalList', { listVersion: 3, updateType: 'Full', localAuthorizationList: [ok('AAA')] });
    expect(await h.call('SendLocalList', { listVersion: 4, updateType: 'Full' })).toEqual({ status: 'Accepted' });
    expect(h.agent.authorization.localList.size()).toBe(0);
    expect(await h.call('GetLocalListVersion', {})).toEqual({ listVersion: 0 });
  });
});
