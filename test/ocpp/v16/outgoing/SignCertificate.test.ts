// Security whitepaper SignCertificate and the charge-point certificate's renewal on an injected
// clock, against the real agent and the strict DevCsms: no certificate, no request; a certificate
// expiring within 30 days is renewed at the 12-hourly check; a refusal is retried after a minute,
// an accepted CSR that no CertificateSigned answers within the hour is retried after two more; the
// CSMS's CA signs the last CSR (openssl) and CertificateSigned ends the renewal. With the EC key
// option the CSR carries a P-256 key; without CpoName it has no O.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { useAgentFixture } from '../../../helpers/action-fixture.js';
import { signCsr } from '../../../helpers/csr-signer.js';
import { FakeClock } from '../../../helpers/fake-clock.js';
import { opensslOutput, TestPki } from '../../../helpers/test-pki.js';
import { TempDirs } from '../../../helpers/temp-dirs.js';
import { waitFor } from '../../../helpers/wait.js';
import { CertificateRenewal } from '../../../../src/ocpp/v16/certificate-renewal.js';
import { signCertificateRequest } from '../../../../src/ocpp/v16/outgoing/SignCertificate.js';
import { ConfigurationStore } from '../../../../src/ocpp/v16/configuration-store.js';
import { CertificateStore } from '../../../../src/security/certificate-store.js';
import type { RpcCaller } from '../../../../src/ocpp/v16/outgoing/context.js';

const fx = useAgentFixture();
const pki = new TestPki();
const temp = new TempDirs();
afterAll(() => {
  pki.cleanup();
  temp.removeAll();
});
const HOUR = 3600_000;

describe('SignCertificate and renewal (security whitepaper)', () => {
  it('renews a certificate that expires within 30 days: retried after a refusal and after an unanswered CSR, ended by CertificateSigned', async () => {
    const clock = new FakeClock();
    const answers = ['Rejected', 'Accepted', 'Accepted'];
    const h = await fx.start({ clock, ocppConfig: { CpoName: 'Example CPO' }, csms: { heartbeatIntervalS: 0, answers: { SignCertificate: () => ({ status: answers.shift() ?? 'Accepted' }) } } });
    const renewal = h.agent.security.renewal!;
    const requests = () => h.csms.callsOf('SignCertificate');
    const root = pki.root('Renewal Root');
    const cpCa = pki.issue('Renewal CA', root, { ca: true });
    expect(await h.call('InstallCertificate', { certificateType: 'CentralSystemRootCertificate', certificate: root.cert })).toEqual({ status: 'Accepted' });

    // No charge-point certificate: the checks ask for none.
    await clock.advanceAsync(12 * HOUR);
    expect(requests()).toHaveLength(0);

    // A certificate that expires in 10 days (as if installed long ago), through the CSMS-initiated path.
    answers.unshift('Accepted');
    await h.call('ExtendedTriggerMessage', { requestedMessage: 'SignChargePointCertificate' });
    await waitFor(() => requests().length === 1 && renewal.stats.accepted === 1, 10_000, 'triggered CSR');
    expect(await h.call('CertificateSigned', { certificateChain: signCsr(pki, String(requests()[0]!.params.csr), cpCa, { days: 10 }) + cpCa.cert })).toEqual({ status: 'Accepted' });
    expect(renewal.due()).toBe(true);

    await clock.advanceAsync(12 * HOUR); // the check: due, CSR sent, the CSMS rejects it
    await waitFor(() => renewal.stats.rejected === 1, 10_000, 'first renewal CSR rejected');
    await clock.advanceAsync(59_000);
    expect(requests()).toHaveLength(2);
    await clock.advanceAsync(1_000); // one minute after the refusal
    await waitFor(() => renewal.stats.accepted === 2, 10_000, 'second renewal CSR accepted');
    await clock.advanceAsync(HOUR); // no CertificateSigned within the hour
    await clock.advanceAsync(119_000);
    expect(requests()).toHaveLength(3);
    await clock.advanceAsync(1_000); // back-off doubled: two minutes
    await waitFor(() => renewal.stats.accepted === 3, 10_000, 'third renewal CSR accepted');

    const last = String(requests().at(-1)!.params.csr);
    expect(await h.call('CertificateSigned', { certificateChain: signCsr(pki, last, cpCa, { days: 365 }) + cpCa.cert })).toEqual({ status: 'Accepted' });
    expect(renewal.due()).toBe(false);
    expect(renewal.renewing).toBe(false);
    await clock.advanceAsync(24 * HOUR);
    expect(requests()).toHaveLength(4);
    expect(h.csms.strictFailures).toEqual([]);
  });

  it('EC P-256 when configured; no O while CpoName is not set', async () => {
    const dataDir = temp.make('sign-cert-');
    const clock = new FakeClock();
    const sent: string[] = [];
    const rpc = {
      call: (action: string, payload: { csr: string }) => {
        if (action === 'SignCertificate') sent.push(payload.csr);
        return Promise.resolve({ status: 'Accepted' });
      },
    } as unknown as RpcCaller;
    const renewal = new CertificateRenewal(
      { rpc, certificates: new CertificateStore({ dataDir }), config: new ConfigurationStore(), clock, log: pino({ level: 'silent' }), canSend: () => true, canSendTriggered: () => true, current: () => undefined },
      { chargePointId: 'CP-EC-1', keyType: 'ec-p256', renewBeforeDays: 30 },
    );
    expect(await renewal.request('triggered')).toBe('Accepted');
    const file = join(dataDir, 'ec.csr');
    writeFileSync(file, sent[0]!);
    const text = opensslOutput(['req', '-in', file, '-noout', '-verify', '-subject', '-text']);
    expect(text).toMatch(/verify OK/i);
    expect(text).toContain('subject=CN = CP-EC-1');
    expect(text).toMatch(/ASN1 OID: prime256v1/);
    expect(signCertificateRequest('PEM')).toEqual({ csr: 'PEM' });
  });
});
