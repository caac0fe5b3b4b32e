// WsTransport against REAL ws servers on 127.0.0.1 (OCPP-J 1.6 §3; Security Whitepaper profiles 0-1):
// endpoint URL, subprotocol agreement, Basic auth, reconnect with jittered backoff (FakeClock + injected
// random), stable-period reset, ping/pong liveness, graceful close, payload cap.
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type ServerOptions, type WebSocket as ServerSocket } from 'ws';
import { TransportError, type TransportCloseInfo } from '../../../src/ocpp/transport/transport.js';
import { WsTransport, endpointUrl, type WsTransportOptions } from '../../../src/ocpp/transport/ws-transport.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { waitFor } from '../../helpers/wait.js';

const ACCEPT_OCPP16 = (protocols: Set<string>): string | false => (protocols.has('ocpp1.6') ? 'ocpp1.6' : false);

interface Server {
  wss: WebSocketServer;
  url: string;
  requests: IncomingMessage[];
  sockets: ServerSocket[];
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startServer(options: ServerOptions = {}): Promise<Server> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: ACCEPT_OCPP16, ...options });
  await once(wss, 'listening');
  const server: Server = { wss, url: '', requests: [], sockets: [] };
  wss.on('connection', (ws, req) => {
    server.requests.push(req);
    server.sockets.push(ws);
  });
  const addr = wss.address();
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  server.url = `ws://127.0.0.1:${addr.port}/ocpp/`;
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  );
  return server;
}

function transportFor(url: string, extra: Partial<WsTransportOptions> = {}): WsTransport {
  const t = new WsTransport({ url, chargePointId: 'CP-1', securityProfile: 0, pingIntervalSeconds: 0, ...extra });
  cleanups.push(() => t.close());
  return t;
}

function record(t: WsTransport) {
  const log = { opens: 0, closes: [] as TransportCloseInfo[], errors: [] as TransportError[], messages: [] as string[] };
  t.on('open', () => log.opens++);
  t.on('close', (info) => log.closes.push(info));
  t.on('error', (e) => log.errors.push(e));
  t.on('message', (m) => log.messages.push(m));
  return log;
}

describe('endpoint and options (OCPP-J 1.6 §3.1.1)', () => {
  it('appends the charge point id, tolerating trailing slashes and encoding it', () => {
    expect(endpointUrl('ws://h:9000/ocpp/', 'CP-1')).toBe('ws://h:9000/ocpp/CP-1');
    expect(endpointUrl('ws://h:9000/ocpp//', 'CP 1/x')).toBe('ws://h:9000/ocpp/CP%201%2Fx');
    expect(endpointUrl('wss://h', 'CP-1')).toBe('wss://h/CP-1');
  });

  it('refuses options that contradict the security profile', () => {
    const base = { chargePointId: 'CP-1', pingIntervalSeconds: 0 };
    expect(() => new WsTransport({ ...base, url: 'ws://h', securityProfile: 2, authorizationKey: 'k' })).toThrow(TransportError);
    expect(() => new WsTransport({ ...base, url: 'wss://h', securityProfile: 0 })).toThrow(/ws:\/\//);
    expect(() => new WsTransport({ ...base, url: 'ws://h', securityProfile: 1 })).toThrow(/AuthorizationKey/);
    expect(() => new WsTransport({ ...base, url: 'wss://h', securityProfile: 3 })).toThrow(/clientCert/);
    expect(() => new WsTransport({ ...base, chargePointId: 'a:b', url: 'ws://h', securityProfile: 1, authorizationKey: 'k' })).toThrow(/":"/);
  });
});

describe('connection', () => {
  it('connects to <url>/<id> with subprotocol ocpp1.6 and exchanges text messages', async () => {
    const server = await startServer();
    const t = transportFor(server.url);
    const log = record(t);
    t.open();
    await once(t, 'open');
    expect(server.requests[0]?.url).toBe('/ocpp/CP-1');
    expect(server.sockets[0]?.protocol).toBe('ocpp1.6');
    expect(t.send('[2,"1","Heartbeat",{}]')).toBe(true);
    const [data] = (await once(server.sockets[0] as ServerSocket, 'message')) as [Buffer];
    expect(String(data)).toBe('[2,"1","Heartbeat",{}]');
    server.sockets[0]?.send(Buffer.from([1, 2, 3]), { binary: true }); // OCPP-J is text: dropped
    server.sockets[0]?.send('[3,"1",{}]');
    await waitFor(() => log.messages.length > 0);
    expect(log.messages).toEqual(['[3,"1",{}]']);
  });

  it('reports a server that does not agree to ocpp1.6 as subprotocol-rejected and never opens', async () => {
    const server = await startServer({ handleProtocols: () => false });
    const t = transportFor(server.url, { reconnect: { baseDelayMs: 60_000, maxDelayMs: 60_000 } });
    const log = record(t);
    t.open();
    await waitFor(() => log.closes.length > 0);
    expect(log.opens).toBe(0);
    expect(log.errors[0]?.kind).toBe('subprotocol-rejected');
    expect(log.closes[0]).toMatchObject({ wasOpen: false, willReconnect: true });
  });

  it('profile 1 sends HTTP Basic base64(id:AuthorizationKey); a 401 is reported as handshake-rejected', async () => {
    const server = await startServer({
      verifyClient: (info: { req: IncomingMessage }, done: (ok: boolean, code?: number) => void) =>
        done(info.req.headers.authorization === `Basic ${Buffer.from('CP-1:s3cret-key').toString('base64')}`, 401),
    });
    const good = transportFor(server.url, { securityProfile: 1, authorizationKey: 's3cret-key' });
    good.open();
    await once(good, 'open');
    expect(server.requests[0]?.headers.authorization).toBe('Basic Q1AtMTpzM2NyZXQta2V5');

    const bad = transportFor(server.url, { securityProfile: 1, authorizationKey: 'wrong', reconnect: { baseDelayMs: 60_000, maxDelayMs: 60_000 } });
    const log = record(bad);
    bad.open();
    await waitFor(() => log.closes.length > 0);
    expect(log.errors[0]).toMatchObject({ kind: 'handshake-rejected', statusCode: 401 });
    expect(log.opens).toBe(0);
  });
});

describe('reconnect', () => {
  it('reconnects after the server drops the connection (small real backoff)', async () => {
    const server = await startServer();
    const t = transportFor(server.url, { reconnect: { baseDelayMs: 20, maxDelayMs: 50 } });
    const log = record(t);
    t.open();
    await waitFor(() => log.opens === 1);
    server.sockets[0]?.terminate();
    await waitFor(() => log.opens === 2, 8_000, 'second open');
    expect(log.closes[0]).toMatchObject({ wasOpen: true, willReconnect: true });
    expect(server.requests).toHaveLength(2);
    expect(t.isOpen()).toBe(true);
  });

  it('grows the backoff per failed attempt, jittered by the injected random', async () => {
    const server = await startServer({ handleProtocols: () => false }); // every attempt fails fast
    const clock = new FakeClock();
    const randoms = [0.5, 0.25, 0.75, 0.5, 1];
    const t = transportFor(server.url, { timers: clock, random: () => randoms.shift() ?? 0, reconnect: { baseDelayMs: 100, maxDelayMs: 300 } });
    const log = record(t);
    t.open();
    for (let attempt = 1; attempt <= 5; attempt++) {
      await waitFor(() => log.closes.length === attempt, 8_000, `attempt ${attempt}`);
      clock.advance(log.closes[attempt - 1]?.reconnectDelayMs ?? 0);
    }
    // caps 100, 200, 300 (max), 300, 300 times the random values
    expect(log.closes.map((c) => c.reconnectDelayMs)).toEqual([50, 50, 225, 150, 300]);
    expect(log.opens).toBe(0);
    expect(server.requests.length).toBeGreaterThanOrEqual(5); // each delay was followed by a real attempt
  });

  it('resets the backoff only after the connection stayed up for stableAfterMs', async () => {
    const server = await startServer();
    const clock = new FakeClock();
    const t = transportFor(server.url, { timers: clock, random: () => 0.5, reconnect: { baseDelayMs: 100, maxDelayMs: 10_000, stableAfterMs: 5_000 } });
    const log = record(t);
    const dropAndReopen = async (n: number, upForMs: number): Promise<number | undefined> => {
      await waitFor(() => log.opens === n, 8_000, `open ${n}`);
      clock.advance(upForMs);
      server.sockets[n - 1]?.terminate();
      await waitFor(() => log.closes.length === n, 8_000, `close ${n}`);
      const delay = log.closes[n - 1]?.reconnectDelayMs;
      clock.advance(delay ?? 0);
      return delay;
    };
    t.open();
    expect(await dropAndReopen(1, 1_000)).toBe(50); // unstable: caps 100, 200, 400 ...
    expect(await dropAndReopen(2, 1_000)).toBe(100);
    expect(await dropAndReopen(3, 4_999)).toBe(200);
    expect(await dropAndReopen(4, 5_000)).toBe(50); // stayed up 5 s: back to the base
  });
});

describe('liveness and shutdown', () => {
  it('pings every interval and terminates when no pong came back', async () => {
    const server = await startServer({ autoPong: false });
    const clock = new FakeClock();
    const t = transportFor(server.url, { timers: clock, pingIntervalSeconds: 10, reconnect: { baseDelayMs: 60_000, maxDelayMs: 60_000 } });
    const log = record(t);
    t.open();
    await waitFor(() => log.opens === 1);
    const pinged = once(server.sockets[0] as ServerSocket, 'ping');
    clock.advance(10_000);
    await pinged;
    clock.advance(10_000); // no pong (autoPong off)
    await waitFor(() => log.closes.length === 1);
    expect(log.errors[0]?.kind).toBe('pong-timeout');
    expect(log.closes[0]).toMatchObject({ wasOpen: true, willReconnect: true });
  });

  it('keeps the connection when pongs arrive', async () => {
    const server = await startServer();
    server.wss.on('connection', (ws) => ws.on('ping', () => ws.send('after-ping'))); // queued behind the pong
    const clock = new FakeClock();
    const t = transportFor(server.url, { timers: clock, pingIntervalSeconds: 10 });
    const log = record(t);
    t.open();
    await waitFor(() => log.opens === 1);
    for (let i = 1; i <= 3; i++) {
      clock.advance(10_000);
      await waitFor(() => log.messages.length === i, 8_000, `pong ${i}`);
    }
    expect(log.closes).toEqual([]);
    expect(t.isOpen()).toBe(true);
  });

  it('close() sends 1000 and does not reconnect; open() after close() works again', async () => {
    const server = await startServer();
    const clock = new FakeClock();
    const t = transportFor(server.url, { timers: clock });
    const log = record(t);
    t.open();
    await waitFor(() => log.opens === 1);
    const closedAtServer = once(server.sockets[0] as ServerSocket, 'close');
    await t.close();
    const [code] = (await closedAtServer) as [number];
    expect(code).toBe(1000);
    expect(log.closes).toEqual([expect.objectContaining({ code: 1000, willReconnect: false })]);
    expect(clock.pendingTimers()).toBe(0);
    expect(t.send('x')).toBe(false);
    t.open();
    await waitFor(() => log.opens === 2);
  });

  it('a message above maxPayloadBytes closes the connection (1009) and reconnects', async () => {
    const server = await startServer();
    const t = transportFor(server.url, { maxPayloadBytes: 1024, reconnect: { baseDelayMs: 60_000, maxDelayMs: 60_000 } });
    const log = record(t);
    t.open();
    await waitFor(() => log.opens === 1);
    const serverClosed = once(server.sockets[0] as ServerSocket, 'close');
    server.sockets[0]?.send('x'.repeat(2048));
    await waitFor(() => log.closes.length === 1);
    expect(((await serverClosed) as [number])[0]).toBe(1009); // "message too big", sent by our side
    expect(log.closes[0]).toMatchObject({ wasOpen: true, willReconnect: true });
    expect(log.errors[0]?.message).toMatch(/WS_ERR_UNSUPPORTED_MESSAGE_LENGTH/);
    expect(log.messages).toEqual([]);
  });
});
