// `charger-agent dev-csms` as a real child process: it prints the URL for the config, a real
// WebSocket client speaking ocpp1.6 gets its BootNotification Accepted, and SIGINT or SIGTERM
// stop it with exit 0. Bad options are one line and exit 2.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WsTransport } from '../src/ocpp/transport/ws-transport.js';
import WebSocket from 'ws';
import { waitFor } from './helpers/wait.js';

const ROOT = new URL('..', import.meta.url).pathname;
const CLI = join(ROOT, 'dist/src/cli.js');
const children: ChildProcess[] = [];

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error('run `npm run build` first (npm test does)');
});

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

interface Running {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
}

function startDevCsms(args: string[]): Running {
  const child = spawn(process.execPath, [CLI, 'dev-csms', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out: () => out, exited };
}

async function configUrl(running: Running): Promise<string> {
  await waitFor(() => /"url": "ws:\/\/[^"]+"/.test(running.out()), 15_000, 'dev-csms to print its URL');
  return /"url": "(ws:\/\/[^"]+)"/.exec(running.out())![1]!;
}

function bootNotification(url: string): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url}/CP-BRINGUP`, 'ocpp1.6');
    ws.on('error', reject);
    ws.on('open', () => {
      expect(ws.protocol).toBe('ocpp1.6');
      ws.send(JSON.stringify([2, 'boot-1', 'BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'AC22' }]));
    });
    ws.on('message', (data: Buffer) => {
      ws.close(1000);
      resolve(JSON.parse(data.toString()) as unknown[]);
    });
  });
}

describe('charger-agent dev-csms', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`accepts a BootNotification over ocpp1.6, prints the frames, and stops on ${signal} with exit 0`, async () => {
      const running = startDevCsms(['--port', '0', '--host', '127.0.0.1']);
      const url = await configUrl(running);
      expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/ocpp$/);
      const answer = await bootNotification(url);
      expect(answer[0]).toBe(3);
      expect(answer[1]).toBe('boot-1');
      expect(answer[2]).toMatchObject({ status: 'Accepted', interval: expect.any(Number), currentTime: expect.any(String) });
      await waitFor(() => running.out().includes('BootNotification'), 10_000, 'the frame to be printed');
      expect(running.out()).toMatch(/connected: CP-BRINGUP \(subprotocol ocpp1\.6\)/);
      running.child.kill(signal);
      expect(await running.exited).toBe(0);
    });
  }

  it('bad options: one line naming the problem, usage, exit 2', () => {
    const bad = [['--port', 'abc'], ['--port', '70000'], ['--port'], ['--host', 'a b'], ['--bogus'], ['--security-profile', '4'], ['--authorization-key', 'not-hex-at-all']];
    for (const args of bad) {
      const r = spawnSync(process.execPath, [CLI, 'dev-csms', ...args], { encoding: 'utf8', timeout: 15_000 });
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.split('\n')[0], args.join(' ')).toMatch(/^charger-agent dev-csms: (--port|--host|--security-profile|--authorization-key|unknown argument)/);
      expect(r.stderr, args.join(' ')).not.toMatch(/\n\s+at /);
    }
  });

  it('--security-profile 2: serves wss:// with the dev PKI, admits TLS + the Basic key, refuses plain ws:// with 401', async () => {
    const pki = mkdtempSync(join(tmpdir(), 'dev-csms-pki-'));
    try {
      const key = '0123456789abcdef0123456789abcdef';
      const running = startDevCsms(['--port', '0', '--security-profile', '2', '--authorization-key', key, '--pki-dir', pki]);
      await waitFor(() => /"url": "wss:\/\/[^"]+"/.test(running.out()), 30_000, 'dev-csms to print its wss URL');
      const url = /"url": "(wss:\/\/[^"]+)"/.exec(running.out())![1]!;
      expect(running.out()).not.toContain(key);
      const t = new WsTransport({ url, chargePointId: 'CP-BRINGUP', securityProfile: 2, authorizationKey: key, ca: join(pki, 'csms-root-ca.crt'), pingIntervalSeconds: 0 });
      t.open();
      await waitFor(() => t.isOpen(), 15_000, 'a profile 2 connection');
      await t.close();
      await expect(bootNotification(url.replace('wss:', 'ws:'))).rejects.toThrow(/401/);
      await waitFor(() => running.out().includes('refused (401): CP-BRINGUP: profile 0 below the required 2'), 10_000, 'the refusal to be printed');
      running.child.kill('SIGTERM');
      expect(await running.exited).toBe(0);
    } finally {
      rmSync(pki, { recursive: true, force: true });
    }
  });

  it('a port in use: one line, exit 1', async () => {
    const first = startDevCsms(['--port', '0']);
    const port = /:(\d+)\/ocpp/.exec(await configUrl(first))![1]!;
    const r = spawnSync(process.execPath, [CLI, 'dev-csms', '--port', port], { encoding: 'utf8', timeout: 15_000 });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(new RegExp(`^charger-agent dev-csms: cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
  });
});
