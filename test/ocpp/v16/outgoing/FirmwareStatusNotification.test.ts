// OCPP 1.6 §4.5 FirmwareStatusNotification (outgoing/FirmwareStatusNotification.ts) from the real
// agent to the DevCsms: with no firmware update running it is never sent unasked; a TriggerMessage
// gets Idle, while Pending too (§4.2: triggered messages may be sent then). The statuses of an
// update: actions/UpdateFirmware.test.ts and test/e2e/firmware-update.test.ts.
import { describe, expect, it } from 'vitest';
import { useAgentFixture } from '../../../helpers/action-fixture.js';
import { waitFor } from '../../../helpers/wait.js';
import { OUTGOING_ACTIONS } from '../../../../src/ocpp/v16/outgoing/index.js';
import { firmwareStatusNotificationRequest } from '../../../../src/ocpp/v16/outgoing/FirmwareStatusNotification.js';
import { triggeredFirmwareStatus } from '../../../../src/ocpp/v16/firmware-status.js';

const fx = useAgentFixture();

describe('FirmwareStatusNotification (OCPP 1.6 §4.5)', () => {
  it('never sent unasked; triggered: Idle, schema-valid', async () => {
    const h = await fx.start();
    const m = h.mark();
    expect(await h.call('TriggerMessage', { requestedMessage: 'FirmwareStatusNotification' })).toEqual({ status: 'Accepted' });
    const [sent] = await h.waitCalls(m, 'FirmwareStatusNotification');
    expect(sent!.params).toEqual({ status: 'Idle' });
    expect(h.csms.callsOf('FirmwareStatusNotification')).toHaveLength(1);
    expect(h.csms.strictFailures).toEqual([]);
  });

  it('triggered while Pending: sent', async () => {
    const h = await fx.start({ waitReady: false, csms: { bootStatus: 'Pending', heartbeatIntervalS: 300 } });
    await waitFor(() => h.agent.session.registrationStatus === 'Pending', 10_000, 'Pending');
    const m = h.mark();
    expect(await h.call('TriggerMessage', { requestedMessage: 'FirmwareStatusNotification' })).toEqual({ status: 'Accepted' });
    await h.waitCalls(m, 'FirmwareStatusNotification');
  });

  it('a triggered one says where the running update is in the 1.6 sequence', () => {
    const cases = {
      Idle: 'Idle',
      DownloadScheduled: 'Idle',
      Downloading: 'Downloading',
      Downloaded: 'Downloaded',
      SignatureVerified: 'Downloaded',
      InstallScheduled: 'Downloaded',
      Installing: 'Installing',
      InstallRebooting: 'Installing',
    } as const;
    for (const [neutral, plain] of Object.entries(cases)) expect(triggeredFirmwareStatus(neutral as keyof typeof cases), neutral).toBe(plain);
  });

  it('the registry declares it triggerable; the request carries the status', () => {
    const entry = OUTGOING_ACTIONS.FirmwareStatusNotification;
    expect(entry !== 'NotSent' && typeof entry.trigger).toBe('function');
    expect(firmwareStatusNotificationRequest('Idle')).toEqual({ status: 'Idle' });
  });
});
