// Test fixture for the diagnostics tests: a real agent (startAgent with the simulated
// controller on a pty) against the bundled DevCsms, with its diagnostics socket in a temp dir,
// plus a raw line-JSON socket client for protocol-level tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { parseAgentConfig, type AgentConfig } from '../../src/config/agent-config.js';
import { DevCsms, type DevCsmsOptions } from '../../src/devtools/dev-csms.js';
import { startAgent, type RunningAgent } from '../../src/main.js';
import { createLogger, type LogLevel } from '../../src/platform/logger.js';
import { waitFor } from '../helpers/wait.js';

export interface AgentFixture {
  agent: RunningAgent;
  csms: DevCsms;
  cfg: AgentConfig;
  logger: Logger;
  /** Every JSON log line the agent wrote (the stdout stand-in). */
  logLines: string[];
  dir: string;
  socketPath: string;
  stop(): Promise<void>;
}

export const BASIC_AUTH_SECRET = 'fixture-password-0123456789';

export async function startAgentFixture(
  opts: { csms?: DevCsmsOptions; config?: Record<string, unknown>; level?: LogLevel } = {},
): Promise<AgentFixture> {
  const csms = new DevCsms({ heartbeatIntervalS: 3600, ...opts.csms });
  await csms.start();
  const dir = mkdtempSync(join(tmpdir(), 'ca-diag-'));
  const socketPath = join(dir, 'run', 'diag.sock');
  const cfg = parseAgentConfig({
    chargePointId: 'CP-DIAG',
    // Profile 0 with a password configured: it must never show in status or logs.
    csms: { url: csms.url, securityProfile: 0, basicAuthPassword: BASIC_AUTH_SECRET },
    controller: { simulated: true },
    identity: { vendor: 'Acme', model: 'AC22', serialNumber: 'SN-DIAG' },
    dataDir: join(dir, 'data'),
    diagnosticsSocket: socketPath,
    logLevel: opts.level ?? 'info',
    ...opts.config,
  });
  const logLines: string[] = [];
  const logger = createLogger({ level: cfg.logLevel, destination: { write: (s: string) => void logLines.push(s) } });
  const agent = await startAgent(cfg, { logger, simTimeScale: 60 });
  await waitFor(() => csms.callsOf('StatusNotification').length >= 2, 15_000, 'boot and first statuses');
  return {
    agent,
    csms,
    cfg,
    logger,
    logLines,
    dir,
    socketPath,
    stop: async () => {
      await agent.stop();
      await csms.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A raw client: send lines, read answer lines as parsed JSON. */
export class LineClient {
  readonly socket: Socket;
  readonly received: unknown[] = [];
  closed = false;
  private buffer = '';

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (t: string) => {
      this.buffer += t;
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) !== -1) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        this.received.push(JSON.parse(line));
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => (this.closed = true));
  }

  static connect(path: string): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const s = createConnection(path);
      s.once('connect', () => resolve(new LineClient(s)));
      s.once('error', reject);
    });
  }

  static async hello(path: string): Promise<LineClient> {
    const c = await LineClient.connect(path);
    c.send({ hello: 'charger-agent-diag', version: 1 });
    await c.next();
    return c;
  }

  send(value: unknown): void {
    this.socket.write(`${typeof value === 'string' ? value : JSON.stringify(value)}\n`);
  }

  /** The n-th message received (0-based), waiting for it. */
  async nth(n: number, what = `message ${n}`): Promise<Record<string, unknown>> {
    await waitFor(() => this.received.length > n || this.closed, 15_000, what);
    if (this.received.length <= n) throw new Error(`connection closed before ${what}`);
    return this.received[n] as Record<string, unknown>;
  }

  private consumed = 0;

  /** The next message not yet returned by next(). */
  async next(): Promise<Record<string, unknown>> {
    const m = await this.nth(this.consumed);
    this.consumed++;
    return m;
  }

  /** Send a request and wait for the answer with that id (events are skipped). */
  async request(id: number, cmd: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    this.send({ id, cmd, args });
    for (;;) {
      const m = await this.next();
      if (m['id'] === id && !('event' in m)) return m;
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
