// Security whitepaper SignedUpdateFirmware on the real agent (DevCsms in strict mode, which knows
// the security edition's schemas): the signing certificate must chain to a ManufacturerRootCertificate
// installed in the agent's certificate store (InvalidCertificate otherwise), the signature is checked
// over the downloaded file (SignatureVerified or InvalidSignature), and each status goes out as
// SignedFirmwareStatusNotification with the requestId. Without a launcher the install fails.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { signFile } from '../../../../src/firmware/signature.js';
import { CertificateStore } from '../../../../src/security/certificate-store.js';
import { useAgentFixture } from '../../../helpers/action-fixture.js';
import { TempDirs } from '../../../helpers/temp-dirs.js';
import { TestPki, type Issued } from '../../../helpers/test-pki.js';
import { waitFor } from '../../../helpers/wait.js';
import { standInBundle } from '../../../firmware/fixtures.js';
import { serveHttp, type HttpFiles } from '../../../firmware/file-servers.js';

const fx = useAgentFixture();
const temp = new TempDirs();
const pki = new TestPki();
let http: HttpFiles;
let served: string;
let root: Issued;
let signer: Issued;

beforeAll(async () => {
  served = temp.make('fw-served-');
  copyFileSync(await standInBundle(temp, '9.9.9', 'healthy'), join(served, 'good.tar.gz'));
  http = await serveHttp(served);
  root = pki.root('Manufacturer Root');
  signer = pki.issue('Firmware Signer', root);
});

afterAll(async () => {
  await http.close();
  temp.removeAll();
  pki.cleanup();
});

const signedStatuses = (h: { csms: { callsOf(a: string): Array<{ params: Record<string, unknown> }> } }): unknown[] =>
  h.csms.callsOf('SignedFirmwareStatusNotification').map((c) => c.params);

describe('SignedUpdateFirmware (security whitepaper)', () => {
  it('no ManufacturerRootCertificate: InvalidCertificate, nothing downloaded', async () => {
    const h = await fx.start();
    const before = http.requests.length;
    const firmware = { location: http.url('good.tar.gz'), retrieveDateTime: new Date(Date.now() - 60_000).toISOString() /* already due, by a margin over the agent clock's lag */, signingCertificate: signer.cert, signature: 'AAAA' };
    expect(await h.call('SignedUpdateFirmware', { requestId: 1, firmware })).toEqual({ status: 'InvalidCertificate' });
    await new Promise((r) => setTimeout(r, 300));
    expect(http.requests.length).toBe(before);
    expect(h.csms.strictFailures).toEqual([]);
  });

  it('a good signature is verified, a bad one is InvalidSignature; each status carries the requestId', async () => {
    const h = await fx.start();
    expect(new CertificateStore({ dataDir: h.dataDir }).install('ManufacturerRootCertificate', root.cert)).toEqual({ status: 'Accepted' });
    const signature = await signFile(join(served, 'good.tar.gz'), signer.key);
    const firmware = { location: http.url('good.tar.gz'), retrieveDateTime: new Date(Date.now() - 60_000).toISOString() /* already due, by a margin over the agent clock's lag */, signingCertificate: signer.cert, signature };
    expect(await h.call('SignedUpdateFirmware', { requestId: 7, retries: 0, firmware })).toEqual({ status: 'Accepted' });
    await waitFor(() => signedStatuses(h).some((p) => (p as { status: string }).status === 'InstallationFailed'), 20_000, 'the end of the update');
    expect(signedStatuses(h)).toEqual(
      ['Downloading', 'Downloaded', 'SignatureVerified', 'Installing', 'InstallationFailed'].map((status) => ({ status, requestId: 7 })),
    );

    const forged = Buffer.from(signature, 'base64');
    forged[forged.length - 5]! ^= 0xff;
    await h.call('SignedUpdateFirmware', { requestId: 8, retries: 0, firmware: { ...firmware, signature: forged.toString('base64') } });
    await waitFor(() => signedStatuses(h).some((p) => (p as { requestId: number }).requestId === 8 && (p as { status: string }).status === 'InvalidSignature'), 20_000, 'InvalidSignature');
    expect(signedStatuses(h).filter((p) => (p as { requestId: number }).requestId === 8)).toEqual(
      ['Downloading', 'Downloaded', 'InvalidSignature'].map((status) => ({ status, requestId: 8 })),
    );
    expect(h.csms.strictFailures).toEqual([]);
  });

  it('an update waiting for its retrieve time survives a restart: a trigger names it, a new request replaces it (AcceptedCanceled)', async () => {
    const h = await fx.start();
    expect(new CertificateStore({ dataDir: h.dataDir }).install('ManufacturerRootCertificate', root.cert)).toEqual({ status: 'Accepted' });
    const signature = await signFile(join(served, 'good.tar.gz'), signer.key);
    const later = { location: http.url('good.tar.gz'), retrieveDateTime: new Date(Date.now() + 3600_000).toISOString(), signingCertificate: signer.cert, signature };
    expect(await h.call('SignedUpdateFirmware', { requestId: 9, retries: 0, firmware: later })).toEqual({ status: 'Accepted' });
    await waitFor(() => signedStatuses(h).length === 1, 10_000, 'DownloadScheduled');
    expect(signedStatuses(h)).toEqual([{ status: 'DownloadScheduled', requestId: 9 }]);

    await h.restart();
    expect(await h.call('ExtendedTriggerMessage', { requestedMessage: 'FirmwareStatusNotification' })).toEqual({ status: 'Accepted' });
    await waitFor(() => signedStatuses(h).length >= 2, 10_000, 'the triggered status');
    expect(signedStatuses(h)[1]).toEqual({ status: 'DownloadScheduled', requestId: 9 });

    const now = { ...later, retrieveDateTime: new Date(Date.now() - 60_000).toISOString() /* already due, by a margin over the agent clock's lag */ };
    expect(await h.call('SignedUpdateFirmware', { requestId: 10, retries: 0, firmware: now })).toEqual({ status: 'AcceptedCanceled' });
    await waitFor(() => signedStatuses(h).some((p) => (p as { status: string }).status === 'InstallationFailed'), 20_000, 'the end of the update');
    expect(signedStatuses(h).filter((p) => (p as { requestId: number }).requestId === 10)).toEqual(
      ['Downloading', 'Downloaded', 'SignatureVerified', 'Installing', 'InstallationFailed'].map((status) => ({ status, requestId: 10 })),
    );
    expect(h.csms.strictFailures).toEqual([]);
  });
});
