// The TLS matrix for security profiles 2/3 against real TLS servers on 127.0.0.1 with openssl-made
// certificates: every bad server is refused before the WebSocket upgrade (the server sees no HTTP
// request at all) with the security event class a later module maps; a good server is accepted.
import { once } from 'node:events';
import { createServer, type ServerOptions } from 'node:https';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { TransportError } from '../../src/ocpp/transport/transport.js';
import { WsTransport } from '../../src/ocpp/transport/ws-transport.js';
import { TlsCheckError, tlsFailureClass, type TlsFailureClass } from '../../src/security/tls-server-check.js';
import type { SecurityEventType } from '../../src/security/security-events.js';
import { opensslDate, TestPki, type Issued } from '../helpers/test-pki.js';
import { waitFor } from '../helpers/wait.js';

let pki: TestPki;
let root: Issued;
beforeAll(() => {
  pki = new TestPki();
  root = pki.root('Matrix CSMS Root');
});
afterAll(() => pki.cleanup());

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Csms {
  url: string;
  handshakes: number;
  httpRequests: number;
}

/** HTTPS + WebSocket server; counts finished TLS handshakes and every HTTP request or upgrade it sees. */
async function startCsms(options: ServerOptions): Promise<Csms> {
  const https = createServer(options);
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (p) => (p.has('ocpp1.6') ? 'ocpp1.6' : false) });
  const csms: Csms = { url: '', handshakes: 0, httpRequests: 0 };
  https.on('secureConnection', () => csms.handshakes++);
  https.on('request', (_req, res) => {
    csms.httpRequests++;
    res.end();
  });
  https.on('upgrade', (req, socket, head) => {
    csms.httpRequests++;
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  https.on('tlsClientError', () => undefined);
  https.listen(0, '127.0.0.1');
  await once(https, 'listening');
  csms.url = `wss://127.0.0.1:${(https.address() as AddressInfo).port}/ocpp`;
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        https.closeAllConnections();
        https.close(() => resolve());
      }),
  );
  return csms;
}

function connect(url: string, extra: { ca?: string[]; validationTime?: () => Date } = {}) {
  const t = new WsTransport({
    url,
    chargePointId: 'CP-MATRIX',
    securityProfile: 2,
    authorizationKey: 'matrix-key-0123456789',
    ca: extra.ca ?? [root.cert],
    ...(extra.validationTime !== undefined ? { validationTime: extra.validationTime } : {}),
    pingIntervalSeconds: 0,
    handshakeTimeoutMs: 10_000,
    reconnect: { baseDelayMs: 60_000, maxDelayMs: 60_000 },
    securityEvents: { report: (type) => void log.events.push(type) },
  });
  cleanups.push(() => t.close());
  const log = { opens: 0, closes: 0, errors: [] as TransportError[], events: [] as SecurityEventType[] };
  t.on('open', () => log.opens++);
  t.on('close', () => log.closes++);
  t.on('error', (e) => log.errors.push(e));
  t.open();
  return log;
}

async function expectRefused(server: ServerOptions, expected: TlsFailureClass, extra: Parameters<typeof connect>[1] = {}): Promise<TransportError> {
  const csms = await startCsms(server);
  const log = connect(csms.url, extra);
  await waitFor(() => log.closes === 1, 10_000, `refusal (${expected})`);
  expect(log.opens).toBe(0);
  expect(log.errors).toHaveLength(1);
  const err = log.errors[0]!;
  expect(err.kind).toBe('tls');
  expect(tlsFailureClass(err), err.message).toBe(expected);
  expect(log.events).toEqual([expected]); // the security event the transport reports (whitepaper appendix 1)
  expect(csms.httpRequests).toBe(0); // no upgrade request, no Basic auth header sent to this server
  return err;
}

const serverOf = (leaf: Issued, extra: ServerOptions = {}): ServerOptions => ({ cert: leaf.cert, key: leaf.key, ...extra });
const problemOf = (err: TransportError) => (err.cause instanceof TlsCheckError ? err.cause.problem : undefined);
const LEGACY = { ciphers: 'DEFAULT@SECLEVEL=0' }; // lets the test server load deliberately weak material

describe('TLS server checks (profiles 2 and 3)', () => {
  it('accepts a good server: TLS 1.2+, chain to the installed root, right host', async () => {
    const csms = await startCsms(serverOf(pki.server(root)));
    const log = connect(csms.url);
    await waitFor(() => log.opens === 1, 10_000, 'open');
    expect(csms.httpRequests).toBe(1);
    expect(log.errors).toEqual([]);
  });

  it('accepts a chain with an intermediate sent by the server', async () => {
    const mid = pki.issue('Matrix Intermediate', root, { ca: true, key: 'rsa2048' });
    const leaf = pki.server(mid, { key: 'rsa2048' });
    const csms = await startCsms({ cert: `${leaf.cert}${mid.cert}`, key: leaf.key });
    const log = connect(csms.url);
    await waitFor(() => log.opens === 1, 10_000, 'open');
  });

  const certCases: [string, () => ServerOptions, string][] = [
    ['expired', () => serverOf(pki.server(root, { start: '20200101000000Z', end: '20210101000000Z' })), 'expired'],
    ['not yet valid', () => serverOf(pki.server(root, { start: '20400101000000Z', end: '20410101000000Z' })), 'not-yet-valid'],
    ['wrong host', () => serverOf(pki.issue('csms.example.com', root, { san: 'DNS:csms.example.com', eku: 'serverAuth' })), 'host-mismatch'],
    ['untrusted root', () => serverOf(pki.server(pki.root('Stranger Root'))), 'untrusted'],
    ['self-signed', () => serverOf(pki.issue('localhost', undefined, { san: 'DNS:localhost,IP:127.0.0.1' })), 'untrusted'],
    ['RSA-1024 key', () => serverOf(pki.server(root, { key: 'rsa1024' }), LEGACY), 'weak-key'],
    ['SHA-1 signature', () => serverOf(pki.server(root, { md: 'sha1' }), LEGACY), 'weak-signature'],
    ['client-only certificate', () => serverOf(pki.issue('localhost', root, { san: 'IP:127.0.0.1', eku: 'clientAuth' })), 'wrong-purpose'],
  ];
  for (const [name, server, problem] of certCases) {
    it(`refuses a server with a certificate that is ${name}: InvalidCentralSystemCertificate`, async () => {
      const err = await expectRefused(server(), 'InvalidCentralSystemCertificate');
      expect(problemOf(err)).toBe(problem);
    });
  }

  it('refuses a TLS 1.1-only server: InvalidTLSVersion', async () => {
    await expectRefused(serverOf(pki.server(root), { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ...LEGACY }), 'InvalidTLSVersion');
  });

  it('refuses a server offering only CBC cipher suites: InvalidTLSCipherSuite', async () => {
    await expectRefused(serverOf(pki.server(root), { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA' }), 'InvalidTLSCipherSuite');
  });

  it('uses the system CAs only when no root is installed (the dev root is not one of them)', async () => {
    const csms = await startCsms(serverOf(pki.server(root)));
    const t = new WsTransport({ url: csms.url, chargePointId: 'CP-MATRIX', securityProfile: 2, authorizationKey: 'matrix-key-0123456789', pingIntervalSeconds: 0 });
    cleanups.push(() => t.close());
    const errors: TransportError[] = [];
    t.on('error', (e) => errors.push(e));
    t.open();
    await waitFor(() => errors.length === 1, 10_000, 'refusal');
    expect(tlsFailureClass(errors[0]!)).toBe('InvalidCentralSystemCertificate');
    expect(csms.httpRequests).toBe(0);
  });
});

describe('failures that are not TLS refusals', () => {
  it('a server that never answers the TLS handshake times out (not classified as a certificate problem)', async () => {
    const sockets: Socket[] = [];
    const tcp = createTcpServer((s) => sockets.push(s)).listen(0, '127.0.0.1');
    await once(tcp, 'listening');
    cleanups.push(() => {
      for (const s of sockets) s.destroy();
      tcp.close();
    });
    const t = new WsTransport({
      url: `wss://127.0.0.1:${(tcp.address() as AddressInfo).port}/ocpp`,
      chargePointId: 'CP-MATRIX',
      securityProfile: 2,
      authorizationKey: 'matrix-key-0123456789',
      ca: [root.cert],
      handshakeTimeoutMs: 300,
      pingIntervalSeconds: 0,
      reconnect: { baseDelayMs: 60_000, maxDelayMs: 60_000 },
    });
    cleanups.push(() => t.close());
    const errors: TransportError[] = [];
    t.on('error', (e) => errors.push(e));
    t.open();
    await waitFor(() => errors.length === 1, 10_000, 'handshake timeout');
    expect(errors[0]?.message).toMatch(/TLS handshake not done within 300 ms/);
    expect(tlsFailureClass(errors[0]!)).toBeUndefined();
  });

  it('a closed port is a network error without a security class', async () => {
    const tcp = createTcpServer().listen(0, '127.0.0.1');
    await once(tcp, 'listening');
    const port = (tcp.address() as AddressInfo).port;
    await new Promise<void>((r) => tcp.close(() => r()));
    const log = connect(`wss://127.0.0.1:${port}/ocpp`);
    await waitFor(() => log.errors.length === 1, 10_000, 'refused');
    expect(log.errors[0]?.kind).toBe('network');
    expect(tlsFailureClass(log.errors[0]!)).toBeUndefined();
  });
});

describe('clock behind the build date (RTC at 1970)', () => {
  // OpenSSL checks validity with the system time; here the certificate starts an hour after the system
  // time, and the floored validation time (as the build date would give) is two hours ahead.
  const later = (hours: number) => () => new Date(Date.now() + hours * 3600_000);

  it('accepts a certificate OpenSSL finds not yet valid when the floored time says it is valid', async () => {
    const leaf = pki.server(root, { start: opensslDate(later(1)()) });
    const csms = await startCsms(serverOf(leaf));
    const log = connect(csms.url, { validationTime: later(2) });
    await waitFor(() => log.opens === 1, 10_000, 'open');
  });

  it('still refuses that certificate without the floor, and a bad chain with it', async () => {
    const leaf = pki.server(root, { start: opensslDate(later(1)()) });
    const err = await expectRefused(serverOf(leaf), 'InvalidCentralSystemCertificate');
    expect(problemOf(err)).toBe('not-yet-valid');
    const stranger = pki.server(pki.root('Future Stranger'), { start: opensslDate(later(1)()) });
    const err2 = await expectRefused(serverOf(stranger), 'InvalidCentralSystemCertificate', { validationTime: later(2) });
    expect(problemOf(err2)).toBe('untrusted');
  });
});
