// Security whitepaper DeleteCertificate: against the real agent (security profile 0) a root named
// by its hash data goes (Accepted), then NotFound; hex case and the serial's leading zeroes do not
// matter; at profile 0 even the last CentralSystemRootCertificate may go. The handler with a real
// certificate store at profiles 2 and 3: the last CentralSystemRootCertificate is kept (Failed).
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useAgentFixture } from '../../../helpers/action-fixture.js';
import { TestPki } from '../../../helpers/test-pki.js';
import { DeleteCertificate } from '../../../../src/ocpp/v16/actions/DeleteCertificate.js';
import type { HandlerContext } from '../../../../src/ocpp/v16/actions/context.js';
import { CertificateStore } from '../../../../src/security/certificate-store.js';

const fx = useAgentFixture();
const pki = new TestPki();
afterAll(() => pki.cleanup());
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('DeleteCertificate (security whitepaper)', () => {
  it('Accepted, then NotFound; case and leading zeroes of the hash data do not matter', async () => {
    const h = await fx.start();
    const roots = [pki.root('Del A', { serial: '01c0' }), pki.root('Del B')];
    for (const r of roots) await h.call('InstallCertificate', { certificateType: 'CentralSystemRootCertificate', certificate: r.cert });
    const [first] = (await h.call('GetInstalledCertificateIds', { certificateType: 'CentralSystemRootCertificate' })).certificateHashData!;
    const asTyped = { ...first!, issuerNameHash: first!.issuerNameHash.toUpperCase(), serialNumber: `00${first!.serialNumber}` };
    expect(await h.call('DeleteCertificate', { certificateHashData: asTyped })).toEqual({ status: 'Accepted' });
    expect(await h.call('DeleteCertificate', { certificateHashData: first! })).toEqual({ status: 'NotFound' });
    // Profile 0 does not need it: the last one may go too.
    const [last] = (await h.call('GetInstalledCertificateIds', { certificateType: 'CentralSystemRootCertificate' })).certificateHashData!;
    expect(await h.call('DeleteCertificate', { certificateHashData: last! })).toEqual({ status: 'Accepted' });
    expect(await h.call('GetInstalledCertificateIds', { certificateType: 'CentralSystemRootCertificate' })).toEqual({ status: 'NotFound' });
    expect(h.csms.strictFailures).toEqual([]);
  });

  it.each([2, 3])('security profile %i: the last CentralSystemRootCertificate is kept (Failed), a manufacturer root may go', (profile) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'del-cert-'));
    dirs.push(dataDir);
    const certificates = new CertificateStore({ dataDir });
    for (const [use, name] of [['CentralSystemRootCertificate', 'Only CSMS Root'], ['ManufacturerRootCertificate', 'Only Maker Root']] as const) {
      expect(certificates.install(use, pki.root(name).cert)).toEqual({ status: 'Accepted' });
    }
    const ctx = { security: { certificates, securityProfile: () => profile } } as unknown as HandlerContext;
    const [csms] = certificates.list('CentralSystemRootCertificate');
    const [maker] = certificates.list('ManufacturerRootCertificate');
    expect(DeleteCertificate({ certificateHashData: csms! }, ctx)).toEqual({ status: 'Failed' });
    expect(DeleteCertificate({ certificateHashData: maker! }, ctx)).toEqual({ status: 'Accepted' });
    expect(certificates.roots('CentralSystemRootCertificate')).toHaveLength(1);
  });
});
