// Security profile 3 end to end (OCPP 1.6 Security Whitepaper §2.4): the compiled agent as a child
// process (simulated controller) against a real wss:// CSMS that demands a client certificate
// issued by the charge-point CA. The agent presents csms.clientCertFile / csms.clientKeyFile, so the
// CSMS sees the charge point id as the certificate's CN; a certificate from another CA is refused
// at the TLS layer, and the agent logs it and keeps retrying without crashing.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer, type WebSocket } from 'ws';
import { makeDevCerts, type CertPair, type DevCerts } from '../helpers/dev-certs.js';
import { waitFor } from '../helpers/wait.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const CLI = join(ROOT, 'dist/src/cli.js');
const CP_ID = 'CP-TLS-3';

let certs: DevCerts;
beforeAll(() => {
  if (!existsSync(CLI)) throw new Error('run `npm run build` first (npm test does)');
  certs = makeDevCerts(CP_ID);
});
afterAll(() => certs.cleanup());

interface Peer {
  readonly url: string | undefined;
  readonly cn: string;
  readonly authorized: boolean;
  readonly authorization: string | undefined;
}

interface Call {
  readonly action: string;
  readonly payload: Record<string, unknown>;
}

/**
 * A minimal OCPP 1.6J CSMS over mutual TLS: node's https server verifies the client certificate
 * against the charge-point CA (requestCert + rejectUnauthorized), ws serves the upgrade with
 * subprotocol ocpp1.6, and the CALLs the agent sends at boot are answered.
 */
class MtlsCsms {
  readonly peers: Peer[] = [];
  readonly calls: Call[] = [];
  /** TLS handshakes the server refused: OpenSSL's verdict on the client certificate (node then drops the socket). */
  readonly refused: string[] = [];
  private readonly https: Server;
  private readonly wss: WebSocketServer;

  constructor(clientCa: string) {
    this.https = createServer({ cert: certs.server.cert, key: certs.server.key, requestCert: true, rejectUnauthorized: true, ca: [clientCa] });
    this.https.on('tlsClientError', (err: Error & { code?: string }, socket: TLSSocket) =>
      this.refused.push(String(socket.authorizationError ?? err.code ?? err.message)),
    );
    this.wss = new WebSocketServer({ server: this.https, handleProtocols: (p) => (p.has('ocpp1.6') ? 'ocpp1.6' : false) });
    this.wss.on('connection', (ws, req) => this.accept(ws, req));
  }

  async start(): Promise<string> {
    this.https.listen(0, '127.0.0.1');
    await once(this.https, 'listening');
    return `wss://127.0.0.1:${(this.https.address() as AddressInfo).port}/ocpp`;
  }

  async stop(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    this.wss.close();
    this.https.closeAllConnections();
    await new Promise<void>((resolve) => this.https.close(() => resolve()));
  }

  private accept(ws: WebSocket, req: IncomingMessage): void {
    const socket = req.socket as TLSSocket;
    this.peers.push({
      url: req.url,
      cn: String(socket.getPeerCertificate().subject.CN),
      authorized: socket.authorized,
      authorization: req.headers.authorization,
    });
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as unknown[];
      if (frame[0] !== 2) return;
      const [, id, action, payload] = frame as [number, string, string, Record<string, unknown>];
      this.calls.push({ action, payload });
      const now = new Date().toISOString();
      const answers: Record<string, object> = {
        BootNotification: { status: 'Accepted', currentTime: now, interval: 300 },
        Heartbeat: { currentTime: now },
        StatusNotification: {},
      };
      const answer = answers[action];
      ws.send(JSON.stringify(answer !== undefined ? [3, id, answer] : [4, id, 'NotImplemented', `${action} not implemented here`, {}]));
    });
  }
}

interface Agent {
  readonly child: ChildProcess;
  readonly lines: string[];
  logged(msg: string): Array<Record<string, unknown>>;
}

function startAgent(url: string, client: CertPair, dir: string): Agent {
  const file = join(dir, 'config.json');
  writeFileSync(
    file,
    JSON.stringify({
      chargePointId: CP_ID,
      csms: { url, securityProfile: 3, caFile: certs.ca.certPath, clientCertFile: client.certPath, clientKeyFile: client.keyPath },
      controller: { simulated: true },
      dataDir: join(dir, 'data'),
      diagnosticsSocket: join(dir, 'diag.sock'),
      identity: { vendor: 'Acme', model: 'AC22', serialNumber: 'SN0042' },
      logLevel: 'info',
    }),
  );
  const child = spawn(process.execPath, [CLI, 'run', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let partial = '';
  for (const s of [child.stdout!, child.stderr!]) {
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      const parts = (partial + d).split('\n');
      partial = parts.pop() ?? '';
      lines.push(...parts);
    });
  }
  const logged = (msg: string): Array<Record<string, unknown>> =>
    lines.flatMap((l) => {
      try {
        const o = JSON.parse(l) as Record<string, unknown>;
        return o['msg'] === msg ? [o] : [];
      } catch {
        return [];
      }
    });
  return { child, lines, logged };
}

function alive(agent: Agent): true {
  if (agent.child.exitCode !== null || agent.child.signalCode !== null) {
    throw new Error(`agent exited (${agent.child.exitCode ?? agent.child.signalCode}):\n${agent.lines.slice(-20).join('\n')}`);
  }
  return true;
}

describe('security profile 3: the compiled agent with a client certificate', () => {
  let csms: MtlsCsms | null = null;
  let agent: Agent | null = null;
  let dir = '';
  afterEach(async () => {
    if (agent !== null && agent.child.exitCode === null && agent.child.signalCode === null) {
      const exited = once(agent.child, 'exit');
      agent.child.kill('SIGKILL');
      await exited;
    }
    agent = null;
    await csms?.stop();
    csms = null;
    rmSync(dir, { recursive: true, force: true });
  });

  it('connects over mutual TLS: the CSMS sees CN = chargePointId and gets the BootNotification', async () => {
    csms = new MtlsCsms(certs.ca.cert);
    dir = mkdtempSync(join(tmpdir(), 'ca-prof3-'));
    const a = startAgent(await csms.start(), certs.client, dir);
    agent = a;
    await waitFor(() => alive(a) && csms!.calls.some((c) => c.action === 'BootNotification'), 30_000, 'BootNotification over mTLS');
    expect(csms.peers[0]).toEqual({ url: `/ocpp/${CP_ID}`, cn: CP_ID, authorized: true, authorization: undefined });
    expect(csms.calls.find((c) => c.action === 'BootNotification')?.payload).toMatchObject({ chargePointVendor: 'Acme', chargePointModel: 'AC22' });
    await waitFor(() => alive(a) && csms!.calls.filter((c) => c.action === 'StatusNotification').length >= 2, 30_000, 'statuses after Accepted');
    expect(csms.refused).toEqual([]);
    const exited = once(a.child, 'exit');
    a.child.kill('SIGTERM');
    expect((await exited)[0]).toBe(0);
  }, 60_000);

  it('a client certificate from another CA: the CSMS refuses it, the agent logs it and retries', async () => {
    csms = new MtlsCsms(certs.ca.cert);
    dir = mkdtempSync(join(tmpdir(), 'ca-prof3-'));
    const a = startAgent(await csms.start(), certs.strangerClient, dir);
    agent = a;
    // Two refused handshakes: the first attempt and at least one retry after the backoff.
    await waitFor(() => alive(a) && csms!.refused.length >= 2 && a.logged('connection closed, reconnecting').length >= 2, 45_000, 'refusals and retries');
    for (const reason of csms.refused) expect(reason).toMatch(/^UNABLE_TO_(VERIFY_LEAF_SIGNATURE|GET_ISSUER_CERT)/);
    expect(csms.peers).toEqual([]);
    expect(csms.calls).toEqual([]);
    const problems = a.logged('CSMS connection problem');
    expect(problems.length).toBeGreaterThanOrEqual(1);
    // Node's server drops an unauthorized client without an alert: the agent sees a reset.
    for (const p of problems) expect(['tls', 'network']).toContain(p['kind']);
    expect(alive(a)).toBe(true);
  }, 60_000);
});
