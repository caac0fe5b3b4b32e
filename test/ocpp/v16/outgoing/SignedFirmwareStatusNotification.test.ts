// Security whitepaper SignedFirmwareStatusNotification (outgoing/SignedFirmwareStatusNotification.ts):
// the request carries the status and the SignedUpdateFirmware's requestId. A failed download of a
// signed update on the real agent sends Downloading then DownloadFailed, schema-valid. A triggered
// FirmwareStatusNotification (ExtendedTriggerMessage or TriggerMessage) while a signed update runs,
// or after one ended other than Installed, goes out as this message with its requestId (the
// whitepaper: the last status sent, Idle only after Installed); a plain update keeps the 1.6 one.
import { describe, expect, it } from 'vitest';
import { OUTGOING_ACTIONS } from '../../../../src/ocpp/v16/outgoing/index.js';
import { signedFirmwareStatusNotificationRequest } from '../../../../src/ocpp/v16/outgoing/SignedFirmwareStatusNotification.js';
import { triggeredFirmwareMessage } from '../../../../src/ocpp/v16/firmware-status.js';
import { CertificateStore } from '../../../../src/security/certificate-store.js';
import { useAgentFixture } from '../../../helpers/action-fixture.js';
import { TestPki } from '../../../helpers/test-pki.js';
import { waitFor } from '../../../helpers/wait.js';

const fx = useAgentFixture();

/**
 * The agent with a ManufacturerRootCertificate installed, and a signed update's firmware field
 * (signed under that root) whose file cannot be fetched, already due.
 */
async function startWithSigner(pki: TestPki) {
  const root = pki.root('Manufacturer Root');
  const signer = pki.issue('Firmware Signer', root);
  const h = await fx.start();
  new CertificateStore({ dataDir: h.dataDir }).install('ManufacturerRootCertificate', root.cert);
  // Already due, by a margin over the agent clock's lag.
  const firmware = { location: 'http://127.0.0.1:9/none.tar.gz', retrieveDateTime: new Date(Date.now() - 60_000).toISOString(), signingCertificate: signer.cert, signature: 'AAAA' };
  return { h, firmware };
}

describe('SignedFirmwareStatusNotification (security whitepaper)', () => {
  it('the request carries the status and the requestId; the registry sends it only with an update', () => {
    expect(signedFirmwareStatusNotificationRequest('SignatureVerified', 3)).toEqual({ status: 'SignatureVerified', requestId: 3 });
    expect(signedFirmwareStatusNotificationRequest('Idle', null)).toEqual({ status: 'Idle' });
    const entry = OUTGOING_ACTIONS.SignedFirmwareStatusNotification;
    expect(entry !== 'NotSent' && entry.trigger).toBeUndefined();
  });

  it('a signed update whose file cannot be fetched: Downloading, DownloadFailed', async () => {
    const pki = new TestPki();
    try {
      const { h, firmware } = await startWithSigner(pki);
      expect(await h.call('SignedUpdateFirmware', { requestId: 5, retries: 0, firmware })).toEqual({ status: 'Accepted' });
      await waitFor(() => h.csms.callsOf('SignedFirmwareStatusNotification').length >= 2, 20_000, 'DownloadFailed');
      expect(h.csms.callsOf('SignedFirmwareStatusNotification').map((c) => c.params)).toEqual([
        { status: 'Downloading', requestId: 5 },
        { status: 'DownloadFailed', requestId: 5 },
      ]);
      // Ended, not Installed: a trigger gets that last status, with the requestId.
      const m = h.mark();
      expect(await h.call('ExtendedTriggerMessage', { requestedMessage: 'FirmwareStatusNotification' })).toEqual({ status: 'Accepted' });
      const [sent] = await h.waitCalls(m, 'SignedFirmwareStatusNotification');
      expect(sent!.params).toEqual({ status: 'DownloadFailed', requestId: 5 });
      expect(h.csms.callsOf('FirmwareStatusNotification')).toEqual([]);
      expect(h.csms.strictFailures).toEqual([]);
    } finally {
      pki.cleanup();
    }
  });

  it('triggered while a signed update runs: SignedFirmwareStatusNotification with its requestId, by either trigger', async () => {
    const pki = new TestPki();
    try {
      const { h, firmware } = await startWithSigner(pki);
      expect(await h.call('SignedUpdateFirmware', { requestId: 21, retries: 5, retryInterval: 3600, firmware })).toEqual({ status: 'Accepted' });
      await waitFor(() => h.csms.callsOf('SignedFirmwareStatusNotification').length === 1, 20_000, 'Downloading');
      let m = h.mark();
      expect(await h.call('ExtendedTriggerMessage', { requestedMessage: 'FirmwareStatusNotification' })).toEqual({ status: 'Accepted' });
      expect((await h.waitCalls(m, 'SignedFirmwareStatusNotification'))[0]!.params).toEqual({ status: 'Downloading', requestId: 21 });
      m = h.mark();
      expect(await h.call('TriggerMessage', { requestedMessage: 'FirmwareStatusNotification' })).toEqual({ status: 'Accepted' });
      expect((await h.waitCalls(m, 'SignedFirmwareStatusNotification'))[0]!.params).toEqual({ status: 'Downloading', requestId: 21 });
      expect(h.csms.callsOf('FirmwareStatusNotification')).toEqual([]);
      // A plain update replaces it: the trigger follows the running update's kind.
      await h.call('UpdateFirmware', { location: 'http://127.0.0.1:9/none.tar.gz', retrieveDate: new Date().toISOString(), retries: 5, retryInterval: 3600 });
      await waitFor(() => h.csms.callsOf('FirmwareStatusNotification').length === 1, 20_000, 'plain Downloading');
      m = h.mark();
      expect(await h.call('ExtendedTriggerMessage', { requestedMessage: 'FirmwareStatusNotification' })).toEqual({ status: 'Accepted' });
      expect((await h.waitCalls(m, 'FirmwareStatusNotification'))[0]!.params).toEqual({ status: 'Downloading' });
      expect(h.csms.strictFailures).toEqual([]);
    } finally {
      pki.cleanup();
    }
  });

  it('the trigger content: a signed update\'s status with its requestId; Idle after Installed or with nothing run', () => {
    expect(triggeredFirmwareMessage({ status: 'InstallScheduled', signed: true, requestId: 4 })).toEqual({ message: 'SignedFirmwareStatusNotification', status: 'InstallScheduled', requestId: 4 });
    expect(triggeredFirmwareMessage({ status: 'Idle', signed: true, requestId: null })).toEqual({ message: 'SignedFirmwareStatusNotification', status: 'Idle', requestId: null });
    expect(triggeredFirmwareMessage({ status: 'InstallScheduled', signed: false, requestId: null })).toEqual({ message: 'FirmwareStatusNotification', status: 'Downloaded' });
    expect(triggeredFirmwareMessage({ status: 'Idle', signed: false, requestId: null })).toEqual({ message: 'FirmwareStatusNotification', status: 'Idle' });
  });
});
