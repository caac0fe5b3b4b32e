// certs/make-dev-pki.sh: the development PKI is complete, idempotent, verifies with openssl, signs a
// CSR made by the agent, and works end to end for profile 3 (server + client certificates).
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { WsTransport } from '../../src/ocpp/transport/ws-transport.js';
import { CertificateStore } from '../../src/security/certificate-store.js';
import { createCsr } from '../../src/security/csr.js';
import { opensslOutput } from '../helpers/test-pki.js';
import { TempDirs } from '../helpers/temp-dirs.js';
import { waitFor } from '../helpers/wait.js';

const SCRIPT = new URL('../../certs/make-dev-pki.sh', import.meta.url).pathname;
const dirs = new TempDirs();
let out: string;
const file = (name: string) => join(out, name);
const read = (name: string) => readFileSync(file(name), 'utf8');

beforeAll(() => {
  out = join(dirs.make('dev-pki-'), 'pki');
  execFileSync(SCRIPT, [out], { stdio: 'pipe' });
});
afterAll(() => dirs.removeAll());

describe('make-dev-pki.sh', () => {
  it('makes the roots, the server and charge-point certificates, keys 0600, all verifying with openssl', () => {
    for (const name of ['csms-root-ca', 'manufacturer-root-ca', 'charge-point-ca', 'csms-server', 'charge-point']) {
      expect(statSync(file(`${name}.key`)).mode & 0o777, name).toBe(0o600);
    }
    expect(opensslOutput(['verify', '-CAfile', file('csms-root-ca.crt'), file('csms-server.crt')])).toContain(': OK');
    expect(opensslOutput(['verify', '-CAfile', file('csms-root-ca.crt'), '-untrusted', file('charge-point-ca.crt'), file('charge-point.crt')])).toContain(': OK');
    expect(opensslOutput(['x509', '-in', file('csms-server.crt'), '-noout', '-ext', 'subjectAltName'])).toMatch(/DNS:localhost, IP Address:127\.0\.0\.1/);
  });

  it('is idempotent: a second run changes nothing', () => {
    const before = readdirSync(out).map((n) => [n, read(n)]);
    execFileSync(SCRIPT, [out], { stdio: 'pipe' });
    expect(readdirSync(out).map((n) => [n, read(n)])).toEqual(before);
  });

  it('signs a CSR made by the agent, which the certificate store then installs', async () => {
    const store = new CertificateStore({ dataDir: dirs.make('dev-pki-store-') });
    expect(store.install('CentralSystemRootCertificate', read('csms-root-ca.crt')).status).toBe('Accepted');
    expect(store.install('ManufacturerRootCertificate', read('manufacturer-root-ca.crt')).status).toBe('Accepted');
    const csr = await createCsr({ commonName: 'CP-DEV-9', organization: 'Dev CPO' });
    store.savePendingKey(csr.keyPem);
    const csrFile = join(out, '..', 'cp9.csr');
    writeFileSync(csrFile, csr.csrPem);
    const chain = execFileSync(SCRIPT, ['--sign-csr', csrFile, out], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(store.installChargePointCertificate(chain)).toEqual({ status: 'Accepted' });
  });

  it('profile 3 end to end: the agent checks the dev server, the server checks the dev client certificate', async () => {
    const https = createServer({ cert: read('csms-server-chain.crt'), key: read('csms-server.key'), requestCert: true, rejectUnauthorized: true, ca: [read('csms-root-ca.crt')] });
    const wss = new WebSocketServer({ server: https, handleProtocols: () => 'ocpp1.6' });
    const peers: string[] = [];
    wss.on('connection', (_ws, req) => peers.push(String((req.socket as TLSSocket).getPeerCertificate().subject.CN)));
    https.listen(0, '127.0.0.1');
    await once(https, 'listening');
    const t = new WsTransport({
      url: `wss://127.0.0.1:${(https.address() as AddressInfo).port}/ocpp`,
      chargePointId: 'CP-DEV-1',
      securityProfile: 3,
      ca: [read('csms-root-ca.crt')],
      clientCert: file('charge-point-chain.crt'),
      clientKey: file('charge-point.key'),
      pingIntervalSeconds: 0,
    });
    try {
      t.open();
      await waitFor(() => peers.length === 1, 10_000, 'mTLS connection');
      expect(peers).toEqual(['CP-DEV-1']);
    } finally {
      await t.close();
      https.closeAllConnections();
      https.close();
    }
  });
});
