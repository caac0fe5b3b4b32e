// OCPP 1.6 §5.3 ChangeConfiguration against the real agent and the DevCsms, over the §9 key
// catalogue: booleans accept true/false and 0/1, unknown key NotSupported, read-only and out of
// range Rejected, reboot-required RebootRequired, AuthorizationKey write-only and never logged,
// values persisted across a reboot.
import { describe, expect, it } from 'vitest';
import type { Harness } from '../../../helpers/agent-harness.js';
import { useAgentFixture } from '../../../helpers/action-fixture.js';

const fx = useAgentFixture();

async function valueOf(x: Harness, key: string): Promise<string | undefined> {
  const conf = await x.call('GetConfiguration', { key: [key] });
  return conf.configurationKey?.find((k) => k.key === key)?.value;
}

describe('ChangeConfiguration (OCPP 1.6 §5.3)', () => {
  it('booleans accept true/false and 1/0 (stored as true/false), nothing else', async () => {
    const h = await fx.start();
    const key = 'StopTransactionOnEVSideDisconnect';
    for (const [given, stored] of [
      ['0', 'false'],
      ['1', 'true'],
      ['false', 'false'],
      ['TRUE', 'true'],
    ] as const) {
      expect(await h.call('ChangeConfiguration', { key, value: given })).toEqual({ status: 'Accepted' });
      expect(await valueOf(h, key)).toBe(stored);
    }
    expect(await h.call('ChangeConfiguration', { key, value: 'yes' })).toEqual({ status: 'Rejected' });
    expect(await valueOf(h, key)).toBe('true');
  });

  it('integers: in range Accepted, out of range or not a number Rejected (value unchanged)', async () => {
    const h = await fx.start();
    expect(await h.call('ChangeConfiguration', { key: 'ConnectionTimeOut', value: '90' })).toEqual({ status: 'Accepted' });
    expect(await h.call('ChangeConfiguration', { key: 'ConnectionTimeOut', value: '0' })).toEqual({ status: 'Rejected' });
    expect(await h.call('ChangeConfiguration', { key: 'ConnectionTimeOut', value: '999999' })).toEqual({ status: 'Rejected' });
    expect(await h.call('ChangeConfiguration', { key: 'ConnectionTimeOut', value: '1.5' })).toEqual({ status: 'Rejected' });
    expect(await h.call('ChangeConfiguration', { key: 'ConnectionTimeOut', value: 'soon' })).toEqual({ status: 'Rejected' });
    expect(await valueOf(h, 'ConnectionTimeOut')).toBe('90');
  });

  it('comma-separated lists: only supported measurands', async () => {
    const h = await fx.start();
    expect(await h.call('ChangeConfiguration', { key: 'MeterValuesSampledData', value: 'Voltage, Current.Import' })).toEqual({ status: 'Accepted' });
    expect(await valueOf(h, 'MeterValuesSampledData')).toBe('Voltage,Current.Import');
    expect(await h.call('ChangeConfiguration', { key: 'MeterValuesSampledData', value: 'SoC' })).toEqual({ status: 'Rejected' });
    expect(await valueOf(h, 'MeterValuesSampledData')).toBe('Voltage,Current.Import');
  });

  it('a read-only key is Rejected', async () => {
    const h = await fx.start();
    expect(await h.call('ChangeConfiguration', { key: 'NumberOfConnectors', value: '4' })).toEqual({ status: 'Rejected' });
    expect(await h.call('ChangeConfiguration', { key: 'SupportedFeatureProfiles', value: 'Core,SmartCharging' })).toEqual({ status: 'Rejected' });
    expect(await valueOf(h, 'NumberOfConnectors')).toBe('1');
  });

  it('an unknown key is NotSupported', async () => {
    const h = await fx.start();
    expect(await h.call('ChangeConfiguration', { key: 'FrobnicationLevel', value: '3' })).toEqual({ status: 'NotSupported' });
  });

  it('a key applied only at start answers RebootRequired (and is stored)', async () => {
    const h = await fx.start();
    expect(await h.call('ChangeConfiguration', { key: 'WebSocketPingInterval', value: '30' })).toEqual({ status: 'RebootRequired' });
    expect(await valueOf(h, 'WebSocketPingInterval')).toBe('30');
  });

  it('AuthorizationKey: accepted when valid, never returned, never logged', async () => {
    const h = await fx.start();
    const secret = '5ec2e7a1b0c4d9e8f7a6b5c4d3e2f1a0';
    expect(await h.call('ChangeConfiguration', { key: 'AuthorizationKey', value: 'short' })).toEqual({ status: 'Rejected' });
    // 16..20 bytes as hex only (whitepaper): printable text, 15 or 21 bytes, or an odd digit count are Rejected.
    for (const value of ['S3cretKey-0123456789abcdef0123456', 'ab'.repeat(15), 'ab'.repeat(21), `${'ab'.repeat(16)}a`]) {
      expect(await h.call('ChangeConfiguration', { key: 'AuthorizationKey', value })).toEqual({ status: 'Rejected' });
    }
    expect(await h.call('ChangeConfiguration', { key: 'AuthorizationKey', value: secret })).toEqual({ status: 'Accepted' });
    const all = await h.call('GetConfiguration', {});
    expect(all.configurationKey?.map((k) => k.key)).not.toContain('AuthorizationKey');
    const asked = await h.call('GetConfiguration', { key: ['AuthorizationKey'] });
    expect(asked.configurationKey ?? []).toEqual([]);
    expect(asked.unknownKey).toEqual(['AuthorizationKey']);
    expect(JSON.stringify(h.logs)).not.toContain(secret);
  });

  it('values survive a reboot', async () => {
    const h = await fx.start();
    expect(await h.call('ChangeConfiguration', { key: 'MeterValueSampleInterval', value: '15' })).toEqual({ status: 'Accepted' });
    expect(await h.call('ChangeConfiguration', { key: 'StopTransactionOnInvalidId', value: '0' })).toEqual({ status: 'Accepted' });
    await h.restart();
    expect(await valueOf(h, 'MeterValueSampleInterval')).toBe('15');
    expect(await valueOf(h, 'StopTransactionOnInvalidId')).toBe('false');
  });
});
