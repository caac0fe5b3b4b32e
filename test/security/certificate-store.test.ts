// CertificateStore on a real data dir with openssl-made certificates: install rules, hash-data listing,
// delete (never the last CSMS root), the CSR -> CertificateSigned flow, file modes and crash leftovers.
import { X509Certificate } from 'node:crypto';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateHashData } from '../../src/security/certificate-hash.js';
import { CertificateStore } from '../../src/security/certificate-store.js';
import { createCsr } from '../../src/security/csr.js';
import { openssl, TestPki, type Issued } from '../helpers/test-pki.js';
import { TempDirs } from '../helpers/temp-dirs.js';

let pki: TestPki;
let root: Issued;
let cpCa: Issued;
const dirs = new TempDirs();
beforeAll(() => {
  pki = new TestPki();
  root = pki.root('Store CSMS Root');
  cpCa = pki.issue('Store CP CA', root, { ca: true });
});
afterAll(() => {
  pki.cleanup();
  dirs.removeAll();
});

function logged() {
  const lines: string[] = [];
  const line = (o: object, m?: string): void => void lines.push(`${m} ${JSON.stringify(o)}`);
  const logger = { debug: line, info: line, warn: line, error: line };
  return { lines, logger };
}

const hashOf = (i: Issued) => certificateHashData(new X509Certificate(i.cert), new X509Certificate(i.cert));

describe('install / list / delete', () => {
  it('accepts a valid self-signed CA once, lists its hash data, survives a reopen', () => {
    const dataDir = dirs.make('store-');
    const store = new CertificateStore({ dataDir });
    expect(store.install('CentralSystemRootCertificate', root.cert)).toEqual({ status: 'Accepted' });
    expect(store.install('CentralSystemRootCertificate', root.cert)).toEqual({ status: 'Accepted' }); // idempotent
    expect(store.list('CentralSystemRootCertificate')).toEqual([hashOf(root)]);
    expect(store.list('ManufacturerRootCertificate')).toEqual([]);
    expect(new CertificateStore({ dataDir }).list('CentralSystemRootCertificate')).toEqual([hashOf(root)]);
  });

  it('rejects what the whitepaper forbids, naming why', () => {
    const store = new CertificateStore({ dataDir: dirs.make('store-') });
    const cases: [string, string, RegExp][] = [
      ['leaf', pki.server(root).cert, /not a CA/],
      ['intermediate', cpCa.cert, /self-signed/],
      ['expired', pki.root('Old', { start: '20200101000000Z', end: '20210101000000Z' }).cert, /expired/],
      ['future', pki.root('Future', { start: '20400101000000Z', end: '20410101000000Z' }).cert, /not valid before/],
      ['RSA 1024', pki.root('Small', { key: 'rsa1024' }).cert, /below the minimum/],
      ['SHA-1', pki.root('Sha1', { md: 'sha1' }).cert, /signature algorithm/],
      ['two certificates', `${root.cert}${cpCa.cert}`, /one certificate/],
      ['garbage', 'hello', /no PEM/],
    ];
    for (const [name, pem, reason] of cases) {
      const r = store.install('ManufacturerRootCertificate', pem);
      expect(r.status, name).toBe('Rejected');
      expect(r.status !== 'Accepted' && r.reason, name).toMatch(reason);
    }
    expect(store.list('ManufacturerRootCertificate')).toEqual([]);
  });

  it('accepts a not-yet-valid-by-the-system-clock root when the clock is at 1970 (build-date floor)', () => {
    // Valid since before the build date: the floor (not 1970) decides.
    const old = pki.root('Long-lived Root', { start: '20250101000000Z', end: '20350101000000Z' });
    const store = new CertificateStore({ dataDir: dirs.make('store-'), now: () => new Date(0) });
    expect(store.install('CentralSystemRootCertificate', old.cert)).toEqual({ status: 'Accepted' });
    expect(store.certificateExpiry()[0]?.daysLeft).toBeGreaterThan(365);
  });

  it('deletes by hash data (any case, SHA-384 too) but never the last CentralSystemRootCertificate', () => {
    const store = new CertificateStore({ dataDir: dirs.make('store-') });
    const second = pki.root('Second CSMS Root', { key: 'rsa2048' });
    const maker = pki.root('Maker Root');
    store.install('CentralSystemRootCertificate', root.cert);
    store.install('CentralSystemRootCertificate', second.cert);
    store.install('ManufacturerRootCertificate', maker.cert);
    const h = hashOf(second);
    expect(store.delete({ ...h, issuerKeyHash: h.issuerKeyHash.toUpperCase() })).toBe('Accepted');
    expect(store.delete(h)).toBe('NotFound');
    expect(store.delete(hashOf(root))).toBe('Failed');
    expect(store.list('CentralSystemRootCertificate')).toEqual([hashOf(root)]);
    const h384 = certificateHashData(new X509Certificate(maker.cert), new X509Certificate(maker.cert), 'SHA384');
    expect(store.delete(h384)).toBe('Accepted');
    expect(store.list('ManufacturerRootCertificate')).toEqual([]);
  });

  it('refuses beyond the store limit', () => {
    const store = new CertificateStore({ dataDir: dirs.make('store-'), maxCertificates: 1 });
    expect(store.install('CentralSystemRootCertificate', root.cert).status).toBe('Accepted');
    const r = store.install('ManufacturerRootCertificate', pki.root('One too many').cert);
    expect(r.status).toBe('Rejected');
  });
});

describe('charge point certificate', () => {
  function sign(csrPem: string, issuer: Issued): string {
    const file = join(pki.dir, `store-${Math.random().toString(36).slice(2)}.csr`);
    writeFileSync(file, csrPem);
    const ext = `${file}.ext`;
    writeFileSync(ext, 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
    return openssl(['x509', '-req', '-in', file, '-CA', issuer.certPath, '-CAkey', issuer.keyPath, '-CAcreateserial', '-days', '30', '-extfile', ext]).toString();
  }

  it('installs a signed chain that matches a pending key; key file 0600; pending keys removed; key never logged', async () => {
    const { lines, logger } = logged();
    const store = new CertificateStore({ dataDir: dirs.make('store-'), logger });
    store.install('CentralSystemRootCertificate', root.cert);
    expect(store.chargePointCertificate()).toBeUndefined();
    const csr = await createCsr({ commonName: 'CP-STORE-1', organization: 'CPO', keyType: 'ec-p256' });
    const id = store.savePendingKey(csr.keyPem);
    expect(store.pendingKeyIds()).toEqual([id]);
    expect(statSync(join(store.dir, 'pending', `${id}.key`)).mode & 0o777).toBe(0o600);

    const chain = `${sign(csr.csrPem, cpCa)}${cpCa.cert}`;
    expect(store.installChargePointCertificate(chain)).toEqual({ status: 'Accepted' });
    const cp = store.chargePointCertificate();
    expect(cp?.key.trim()).toBe(csr.keyPem.trim());
    expect(new X509Certificate(cp?.cert ?? '').subject).toContain('CN=CP-STORE-1');
    expect(statSync(join(store.dir, 'charge-point.pem')).mode & 0o777).toBe(0o600);
    expect(store.pendingKeyIds()).toEqual([]);
    expect(lines.join('\n')).not.toMatch(/PRIVATE KEY/);
    expect(store.certificateExpiry().map((e) => e.use).sort()).toEqual(['CentralSystemRootCertificate', 'ChargePointCertificate']);
    expect(store.certificateExpiry().find((e) => e.use === 'ChargePointCertificate')?.daysLeft).toBeGreaterThanOrEqual(28);
  });

  it('rejects a certificate for another key, a chain to an unknown root, and a missing intermediate', async () => {
    const store = new CertificateStore({ dataDir: dirs.make('store-') });
    store.install('CentralSystemRootCertificate', root.cert);
    const mine = await createCsr({ commonName: 'CP-1', organization: 'CPO', keyType: 'ec-p256' });
    const theirs = await createCsr({ commonName: 'CP-1', organization: 'CPO', keyType: 'ec-p256' });
    store.savePendingKey(mine.keyPem);
    const reasons = [
      store.installChargePointCertificate(`${sign(theirs.csrPem, cpCa)}${cpCa.cert}`),
      store.installChargePointCertificate(sign(mine.csrPem, pki.root('Stranger Root'))),
      store.installChargePointCertificate(sign(mine.csrPem, cpCa)),
    ].map((r) => (r.status === 'Rejected' ? r.reason : 'accepted'));
    expect(reasons[0]).toMatch(/pending CSR key/);
    expect(reasons[1]).toMatch(/no installed root/);
    expect(reasons[2]).toMatch(/no installed root/);
    expect(store.chargePointCertificate()).toBeUndefined();
    expect(store.pendingKeyIds()).toHaveLength(1);
  });

  it('keeps only the newest pending keys and clears crash leftovers at open', async () => {
    const dataDir = dirs.make('store-');
    const store = new CertificateStore({ dataDir, maxPendingKeys: 2 });
    const keys = await Promise.all([1, 2, 3].map(() => createCsr({ commonName: 'CP', organization: 'O', keyType: 'ec-p256' })));
    for (const k of keys) store.savePendingKey(k.keyPem);
    expect(store.pendingKeyIds()).toHaveLength(2);
    writeFileSync(join(store.dir, 'central-system-root', '.x.pem.tmp-abc'), 'half a certi');
    new CertificateStore({ dataDir });
    expect(readdirSync(join(store.dir, 'central-system-root'))).toEqual([]);
    expect(() => store.savePendingKey('not a key')).toThrow();
  });
});
