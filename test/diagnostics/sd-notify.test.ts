// systemd readiness and watchdog (issue 6, "systemd"; sd_notify(3)): the real systemd-notify
// sends to a notification socket played by notify-receiver.py (PID 1's part: receive the
// datagram, close the barrier descriptor). The agent run under NOTIFY_SOCKET says READY=1 with
// its PID and keeps sending WATCHDOG=1 from its event loop.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DevCsms } from '../../src/devtools/dev-csms.js';
import { SystemdNotifier } from '../../src/diagnostics/sd-notify.js';
import { waitFor } from '../helpers/wait.js';
import { TempDirs } from '../helpers/temp-dirs.js';

const ROOT = new URL('../..', import.meta.url).pathname;

/** Temp dirs made by this file, removed at the end. */
const tempDirs = new TempDirs();
const tempDir = (prefix: string): string => tempDirs.make(prefix);
const CLI = join(ROOT, 'dist/src/cli.js');
const RECEIVER = join(ROOT, 'test/diagnostics/notify-receiver.py');

interface Receiver {
  path: string;
  messages: string[];
  proc: ChildProcess;
}

const running: ChildProcess[] = [];

async function startReceiver(): Promise<Receiver> {
  const path = join(tempDir('ca-notify-'), 'notify.sock');
  const proc = spawn('python3', [RECEIVER, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  running.push(proc);
  const messages: string[] = [];
  let listening = false;
  let buf = '';
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) !== -1) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line === 'listening') listening = true;
      else messages.push(line);
    }
  });
  await waitFor(() => listening, 15_000, 'notify receiver');
  return { path, messages, proc };
}

function logger() {
  const lines: Array<{ level: string; msg: string; obj: object }> = [];
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, msg: msg ?? '', obj });
  return { log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error('run `npm run build` first (npm test does)');
});

afterEach(() => {
  for (const p of running.splice(0)) p.kill('SIGKILL');
});

describe('SystemdNotifier', { timeout: 60_000 }, () => {
  it('is off without NOTIFY_SOCKET and says so once', async () => {
    const { log, lines } = logger();
    const n = new SystemdNotifier({ logger: log, env: {} });
    expect(n.enabled).toBe(false);
    expect(n.watchdogIntervalMs).toBeNull();
    await n.ready();
    expect(await n.notify('WATCHDOG=1')).toBe(false);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.msg).toMatch(/NOTIFY_SOCKET is not set/);
  });

  it('feeds the watchdog every WATCHDOG_USEC/2, only when WATCHDOG_PID is this process', () => {
    const { log } = logger();
    expect(new SystemdNotifier({ logger: log, env: { NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '30000000' } }).watchdogIntervalMs).toBe(15_000);
    expect(new SystemdNotifier({ logger: log, env: { NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '30000000', WATCHDOG_PID: String(process.pid) } }).watchdogIntervalMs).toBe(15_000);
    expect(new SystemdNotifier({ logger: log, env: { NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '30000000', WATCHDOG_PID: '1' } }).watchdogIntervalMs).toBeNull();
    expect(new SystemdNotifier({ logger: log, env: { NOTIFY_SOCKET: '/x' } }).watchdogIntervalMs).toBeNull();
  });

  it('sends READY=1 with MAINPID, then WATCHDOG=1 repeatedly, then STOPPING=1 through systemd-notify', async () => {
    const r = await startReceiver();
    const { log, lines } = logger();
    const n = new SystemdNotifier({ logger: log, env: { ...process.env, NOTIFY_SOCKET: r.path, WATCHDOG_USEC: '100000' }, pid: process.pid });
    expect(n.watchdogIntervalMs).toBe(50);
    await n.ready();
    expect(r.messages.some((m) => m.includes('READY=1') && m.includes(`MAINPID=${process.pid}`))).toBe(true);
    await waitFor(() => n.watchdogsSent >= 3, 10_000, 'three watchdog messages');
    expect(r.messages.filter((m) => m.includes('WATCHDOG=1')).length).toBeGreaterThanOrEqual(3);
    await n.stopping();
    expect(r.messages.some((m) => m.includes('STOPPING=1'))).toBe(true);
    expect(lines.some((l) => l.msg === 'systemd watchdog on')).toBe(true);
    expect(lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('logs clearly when systemd-notify cannot be run, once, and never throws', async () => {
    const { log, lines } = logger();
    const n = new SystemdNotifier({ logger: log, env: { NOTIFY_SOCKET: '/run/none', WATCHDOG_USEC: '1000000' }, command: '/nonexistent/systemd-notify' });
    expect(await n.notify('READY=1')).toBe(false);
    expect(await n.notify('WATCHDOG=1')).toBe(false);
    const errors = lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toMatch(/systemd-notify not found/);
  });
});

describe('the agent under Type=notify', { timeout: 60_000 }, () => {
  it('`charger-agent run` sends READY=1 with its PID and feeds the watchdog from its event loop', async () => {
    const r = await startReceiver();
    const csms = new DevCsms();
    await csms.start();
    try {
      const dir = tempDir('ca-notify-run-');
      const config = join(dir, 'config.json');
      writeFileSync(
        config,
        JSON.stringify({
          chargePointId: 'CP-NOTIFY',
          csms: { url: csms.url },
          controller: { simulated: true },
          identity: { vendor: 'Acme', model: 'AC22' },
          dataDir: join(dir, 'data'),
          diagnosticsSocket: join(dir, 'diag.sock'),
        }),
      );
      const child = spawn(process.execPath, [CLI, 'run', '--config', config], {
        env: { ...process.env, NOTIFY_SOCKET: r.path, WATCHDOG_USEC: '200000' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      running.push(child);
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
      await waitFor(() => r.messages.some((m) => m.includes('READY=1')), 15_000, 'READY=1');
      expect(r.messages.find((m) => m.includes('READY=1'))).toContain(`MAINPID=${child.pid}`);
      // The diagnostics socket is up before READY goes out.
      expect(existsSync(join(dir, 'diag.sock'))).toBe(true);
      const fed = (): number => r.messages.filter((m) => m.includes('WATCHDOG=1')).length;
      await waitFor(() => fed() >= 3, 15_000, 'watchdog messages');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      await waitFor(() => r.messages.some((m) => m.includes('STOPPING=1')), 5_000, 'STOPPING=1');
      expect(out).toMatch(/"msg":"systemd watchdog on"/);
    } finally {
      await csms.stop();
    }
  });
});

afterAll(() => {
  tempDirs.removeAll();
});
