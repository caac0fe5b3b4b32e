// OCPP 1.6 §5.10 GetLocalListVersion against the real agent and the DevCsms: 0 while the list
// is empty, the version of the last update, -1 when LocalAuthListEnabled is false (TC_042_1).
import { describe, expect, it } from 'vitest';
import { useAgentFixture } from '../../../helpers/action-fixture.js';

const fx = useAgentFixture();

describe('GetLocalListVersion (OCPP 1.6 §5.10)', () => {
  it('0 when empty, then the version sent, -1 when the list is disabled', async () => {
    const h = await fx.start();
    expect(await h.call('GetLocalListVersion', {})).toEqual({ listVersion: 0 });
    await h.call('SendLocalList', { listVersion: 12, updateType: 'Full', localAuthorizationList: [{ idTag: 'AAA', idTagInfo: { status: 'Accepted' } }] });
    expect(await h.call('GetLocalListVersion', {})).toEqual({ listVersion: 12 });
    expect(await h.call('ChangeConfiguration', { key: 'LocalAuthListEnabled', value: 'false' })).toEqual({ status: 'Accepted' });
    expect(await h.call('GetLocalListVersion', {})).toEqual({ listVersion: -1 });
    await h.call('ChangeConfiguration', { key: 'LocalAuthListEnabled', value: 'true' });
    expect(await h.call('GetLocalListVersion', {})).toEqual({ listVersion: 12 });
  });

  it('the feature profile and its keys are announced', async () => {
    const h = await fx.start();
    const conf = await h.call('GetConfiguration', { key: ['SupportedFeatureProfiles', 'LocalAuthListEnabled', 'LocalAuthListMaxLength', 'SendLocalListMaxLength'] });
    const values = new Map((conf.configurationKey ?? []).map((k) => [k.key, k]));
    expect((values.get('SupportedFeatureProfiles')?.value ?? '').split(',')).toEqual(expect.arrayContaining(['LocalAuthListManagement', 'Reservation']));
    expect(values.get('LocalAuthListEnabled')).toEqual({ key: 'LocalAuthListEnabled', readonly: false, value: 'true' });
    expect(values.get('LocalAuthListMaxLength')).toEqual({ key: 'LocalAuthListMaxLength', readonly: true, value: '10000' });
    expect(values.get('SendLocalListMaxLength')?.readonly).toBe(true);
  });
});
