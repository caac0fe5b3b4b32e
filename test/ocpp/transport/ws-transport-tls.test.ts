// WsTransport over TLS with real certificates made by openssl (Security Whitepaper §2.3 profile 2:
// TLS + Basic auth, server checked against the given CA only; §2.4 profile 3: TLS client certificate).
import { once } from 'node:events';
import { createServer, type Server as HttpsServer } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { TransportCloseInfo, TransportError } from '../../../src/ocpp/transport/transport.js';
import { WsTransport, type WsTransportOptions } from '../../../src/ocpp/transport/ws-transport.js';
import { makeDevCerts, type DevCerts } from '../../helpers/dev-certs.js';
import { waitFor } from '../../helpers/wait.js';

let certs: DevCerts;
beforeAll(() => {
  certs = makeDevCerts('CP-TLS-1');
});
afterAll(() => certs.cleanup());

interface TlsServer {
  url: string;
  requests: IncomingMessage[];
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** An HTTPS + WebSocket CSMS; with `clientCa` it demands and verifies a client certificate. */
async function startTlsServer(clientCa?: string): Promise<TlsServer> {
  const https: HttpsServer = createServer({
    cert: certs.server.cert,
    key: certs.server.key,
    ...(clientCa !== undefined ? { requestCert: true, rejectUnauthorized: true, ca: [clientCa] } : {}),
  });
  const wss = new WebSocketServer({ server: https, handleProtocols: (p) => (p.has('ocpp1.6') ? 'ocpp1.6' : false) });
  const server: TlsServer = { url: '', requests: [] };
  wss.on('connection', (_ws, req) => server.requests.push(req));
  https.listen(0, '127.0.0.1');
  await once(https, 'listening');
  server.url = `wss://127.0.0.1:${(https.address() as AddressInfo).port}/ocpp`;
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        https.closeAllConnections();
        https.close(() => resolve());
      }),
  );
  return server;
}

function connect(options: Omit<WsTransportOptions, 'chargePointId' | 'pingIntervalSeconds'>) {
  const t = new WsTransport({
    chargePointId: 'CP-TLS-1',
    pingIntervalSeconds: 0,
    reconnect: { baseDelayMs: 60_000, maxDelayMs: 60_000 },
    ...options,
  });
  cleanups.push(() => t.close());
  const log = { opens: 0, closes: [] as TransportCloseInfo[], errors: [] as TransportError[] };
  t.on('open', () => log.opens++);
  t.on('close', (i) => log.closes.push(i));
  t.on('error', (e) => log.errors.push(e));
  t.open();
  return { t, log };
}

describe('security profile 2: TLS + Basic auth', () => {
  it('verifies the server against the given CA file and sends Basic auth', async () => {
    const server = await startTlsServer();
    const { log } = connect({ url: server.url, securityProfile: 2, authorizationKey: 'key-2', ca: certs.ca.certPath });
    await waitFor(() => log.opens === 1, 8_000, 'TLS open');
    expect(server.requests[0]?.url).toBe('/ocpp/CP-TLS-1');
    expect(server.requests[0]?.headers.authorization).toBe(`Basic ${Buffer.from('CP-TLS-1:key-2').toString('base64')}`);
  });

  it('fails with a tls error when only an unrelated CA is trusted (system CAs not used)', async () => {
    const server = await startTlsServer();
    const { log } = connect({ url: server.url, securityProfile: 2, authorizationKey: 'key-2', ca: [certs.otherCa.cert] });
    await waitFor(() => log.closes.length === 1, 8_000, 'TLS failure');
    expect(log.opens).toBe(0);
    expect(log.errors[0]?.kind).toBe('tls');
    expect(server.requests).toHaveLength(0);
  });
});

describe('security profile 3: TLS client certificate', () => {
  it('presents the client certificate (no Basic auth) and the server verifies it', async () => {
    const server = await startTlsServer(certs.ca.cert);
    const { log } = connect({
      url: server.url,
      securityProfile: 3,
      ca: certs.ca.cert,
      clientCert: certs.client.certPath,
      clientKey: certs.client.key,
    });
    await waitFor(() => log.opens === 1, 8_000, 'mTLS open');
    const req = server.requests[0];
    expect(req?.headers.authorization).toBeUndefined();
    const socket = req?.socket as TLSSocket;
    expect(socket.authorized).toBe(true);
    expect(socket.getPeerCertificate().subject.CN).toBe('CP-TLS-1');
  });

  it('is refused by the server when the client certificate comes from another CA', async () => {
    const server = await startTlsServer(certs.ca.cert);
    const { log } = connect({
      url: server.url,
      securityProfile: 3,
      ca: certs.ca.cert,
      clientCert: certs.strangerClient.cert,
      clientKey: certs.strangerClient.key,
    });
    await waitFor(() => log.closes.length === 1, 8_000, 'mTLS refusal');
    expect(log.opens).toBe(0);
    expect(log.errors).toHaveLength(1);
    expect(['tls', 'network']).toContain(log.errors[0]?.kind); // TLS 1.3: often seen as a reset after the alert
    expect(server.requests).toHaveLength(0);
  });
});
