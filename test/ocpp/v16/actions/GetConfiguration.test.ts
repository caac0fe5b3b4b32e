// OCPP 1.6 §5.8 GetConfiguration against the real agent and the DevCsms: every §9 key of the
// catalogue with its access, unknown keys listed apart, write-only AuthorizationKey never
// returned, SupportedFeatureProfiles listing only what works.
import { describe, expect, it } from 'vitest';
import { CONFIGURATION_KEYS } from '../../../../src/ocpp/v16/configuration-keys.js';
import { INCOMING_ACTIONS } from '../../../../src/ocpp/v16/actions/index.js';
import { useAgentFixture } from '../../../helpers/action-fixture.js';

const PROFILE_ACTIONS: Record<string, Array<keyof typeof INCOMING_ACTIONS>> = {
  Core: ['ChangeAvailability', 'ChangeConfiguration', 'ClearCache', 'DataTransfer', 'GetConfiguration', 'RemoteStartTransaction', 'RemoteStopTransaction', 'Reset', 'UnlockConnector'],
  FirmwareManagement: ['GetDiagnostics', 'UpdateFirmware'],
  LocalAuthListManagement: ['GetLocalListVersion', 'SendLocalList'],
  Reservation: ['ReserveNow', 'CancelReservation'],
  SmartCharging: ['SetChargingProfile', 'ClearChargingProfile', 'GetCompositeSchedule'],
  RemoteTrigger: ['TriggerMessage'],
};

/** OCPP 1.6 §9.1 Core profile keys, required and optional, in the spec's order (9.1.1-9.1.34). */
const CORE_KEYS_9_1 = [
  'AllowOfflineTxForUnknownId', 'AuthorizationCacheEnabled', 'AuthorizeRemoteTxRequests', 'BlinkRepeat',
  'ClockAlignedDataInterval', 'ConnectionTimeOut', 'ConnectorPhaseRotation', 'ConnectorPhaseRotationMaxLength',
  'GetConfigurationMaxKeys', 'HeartbeatInterval', 'LightIntensity', 'LocalAuthorizeOffline', 'LocalPreAuthorize',
  'MaxEnergyOnInvalidId', 'MeterValuesAlignedData', 'MeterValuesAlignedDataMaxLength', 'MeterValuesSampledData',
  'MeterValuesSampledDataMaxLength', 'MeterValueSampleInterval', 'MinimumStatusDuration', 'NumberOfConnectors',
  'ResetRetries', 'StopTransactionOnEVSideDisconnect', 'StopTransactionOnInvalidId', 'StopTxnAlignedData',
  'StopTxnAlignedDataMaxLength', 'StopTxnSampledData', 'StopTxnSampledDataMaxLength', 'SupportedFeatureProfiles',
  'SupportedFeatureProfilesMaxLength', 'TransactionMessageAttempts', 'TransactionMessageRetryInterval',
  'UnlockConnectorOnEVSideDisconnect', 'WebSocketPingInterval',
];

const fx = useAgentFixture();

describe('GetConfiguration (OCPP 1.6 §5.8)', () => {
  it('without keys: every catalogue key but the write-only one, with its access', async () => {
    const h = await fx.start();
    const conf = await h.call('GetConfiguration', {});
    const got = new Map((conf.configurationKey ?? []).map((k) => [k.key, k]));
    const expected = Object.entries(CONFIGURATION_KEYS).filter(([, spec]) => !('writeOnly' in spec && spec.writeOnly));
    expect([...got.keys()].sort()).toEqual(expected.map(([k]) => k).sort());
    for (const [key, spec] of expected) expect(got.get(key)?.readonly, key).toBe(spec.access === 'R');
    expect(conf.unknownKey).toBeUndefined();
    // Values the charger knows about itself.
    expect(got.get('NumberOfConnectors')?.value).toBe('1');
    expect(got.get('HeartbeatInterval')?.value).toBe('300'); // from the BootNotification answer
    // Only profiles whose CSMS-initiated actions are all handled (OCPP 1.6 §3.3 profile table).
    const profiles = got.get('SupportedFeatureProfiles')?.value?.split(',') ?? [];
    expect(profiles).toContain('Core');
    for (const p of profiles) {
      for (const action of PROFILE_ACTIONS[p] ?? []) expect(INCOMING_ACTIONS[action], `${p}: ${action}`).not.toBe('NotSupported');
    }
  });

  it('without keys: every Core key of §9.1, required and optional, within GetConfigurationMaxKeys', async () => {
    const h = await fx.start();
    const conf = await h.call('GetConfiguration', {});
    const got = new Map((conf.configurationKey ?? []).map((k) => [k.key, k]));
    expect(CORE_KEYS_9_1).toHaveLength(34);
    expect(CORE_KEYS_9_1.filter((k) => !got.has(k))).toEqual([]);
    expect(got.get('BlinkRepeat')).toEqual({ key: 'BlinkRepeat', readonly: false, value: '3' });
    expect(got.get('LightIntensity')).toEqual({ key: 'LightIntensity', readonly: false, value: '100' });
    const profiles = got.get('SupportedFeatureProfiles')?.value?.split(',') ?? [];
    expect(got.get('SupportedFeatureProfilesMaxLength')).toEqual({ key: 'SupportedFeatureProfilesMaxLength', readonly: true, value: String(profiles.length) });
    expect(got.size).toBeLessThanOrEqual(Number(got.get('GetConfigurationMaxKeys')?.value));
  });

  it('asked keys: known ones with values, the rest in unknownKey', async () => {
    const h = await fx.start();
    const conf = await h.call('GetConfiguration', { key: ['ConnectionTimeOut', 'NoSuchKey', 'MeterValuesSampledData', 'AuthorizationKey'] });
    expect(conf.configurationKey).toEqual([
      { key: 'ConnectionTimeOut', readonly: false, value: '60' },
      { key: 'MeterValuesSampledData', readonly: false, value: 'Energy.Active.Import.Register,Power.Active.Import' },
    ]);
    expect(conf.unknownKey).toEqual(['NoSuchKey', 'AuthorizationKey']);
  });

  it('reflects a ChangeConfiguration', async () => {
    const h = await fx.start();
    expect(await h.call('ChangeConfiguration', { key: 'LocalAuthorizeOffline', value: '0' })).toEqual({ status: 'Accepted' });
    const conf = await h.call('GetConfiguration', { key: ['LocalAuthorizeOffline'] });
    expect(conf.configurationKey).toEqual([{ key: 'LocalAuthorizeOffline', readonly: false, value: 'false' }]);
  });
});
