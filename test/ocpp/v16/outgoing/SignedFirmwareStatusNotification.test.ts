// Security whitepaper SignedFirmwareStatusNotification (outgoing/SignedFirmwareStatusNotification.ts):
// the request carries the status and the SignedUpdateFirmware's requestId; not triggerable by
// TriggerMessage (ExtendedTriggerMessage is not supported yet). A failed download of a signed
// update on the real agent sends Downloading then DownloadFailed, schema-valid.
import { describe, expect, it } from 'vitest';
import { OUTGOING_ACTIONS } from '../../../../src/ocpp/v16/outgoing/index.js';
import { signedFirmwareStatusNotificationRequest } from '../../../../src/ocpp/v16/outgoing/SignedFirmwareStatusNotification.js';
import { CertificateStore } from '../../../../src/security/certificate-store.js';
import { useAgentFixture } from '../../../helpers/action-fixture.js';
import { TestPki } from '../../../helpers/test-pki.js';
import { waitFor } from '../../../helpers/wait.js';

const fx = useAgentFixture();

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
      const root = pki.root('Manufacturer Root');
      const signer = pki.issue('Firmware Signer', root);
      const h = await fx.start();
      new CertificateStore({ dataDir: h.dataDir }).install('ManufacturerRootCertificate', root.cert);
      const firmware = { location: 'http://127.0.0.1:9/none.tar.gz', retrieveDateTime: new Date().toISOString(), signingCertificate: signer.cert, signature: 'AAAA' };
      expect(await h.call('SignedUpdateFirmware', { requestId: 5, retries: 0, firmware })).toEqual({ status: 'Accepted' });
      await waitFor(() => h.csms.callsOf('SignedFirmwareStatusNotification').length >= 2, 20_000, 'DownloadFailed');
      expect(h.csms.callsOf('SignedFirmwareStatusNotification').map((c) => c.params)).toEqual([
        { status: 'Downloading', requestId: 5 },
        { status: 'DownloadFailed', requestId: 5 },
      ]);
      expect(h.csms.strictFailures).toEqual([]);
    } finally {
      pki.cleanup();
    }
  });
});
