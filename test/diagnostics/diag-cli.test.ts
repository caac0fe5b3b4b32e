// `charger-agent diag` as a real child process (issue 6, "Diagnostics socket"): tables for
// people, one JSON document with --json, the socket found through --config, a clear message
// and exit 3 when the agent is not running or the user may not use the socket, exit 2 on bad
// usage, exit 1 when the agent refuses. Review fixes: secrets through stdin (`config set KEY -`),
// --force for raw controller commands that act on the charger, control characters escaped in
// human output. Also the whole path: `run` opens the socket, logs with chargePointId and OCPP
// frames at debug, and removes the socket on SIGTERM.
import { statusOf } from '../../src/ocpp/v16/mappers.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DevCsms } from '../../src/devtools/dev-csms.js';
import { createAgentHost } from '../../src/diagnostics/agent-host.js';
import { DiagClient, DiagClientError, describeConnectError } from '../../src/diagnostics/client.js';
import { DiagnosticsServer } from '../../src/diagnostics/server.js';
import { logRingOf } from '../../src/platform/logger.js';
import { waitFor } from '../helpers/wait.js';
import { LineClient, startAgentFixture, type AgentFixture } from './agent-fixture.js';
import { TempDirs } from '../helpers/temp-dirs.js';

const ROOT = new URL('../..', import.meta.url).pathname;

/** Temp dirs made by this file, removed at the end. */
const tempDirs = new TempDirs();
const tempDir = (prefix: string): string => tempDirs.make(prefix);
const CLI = join(ROOT, 'dist/src/cli.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Asynchronous on purpose: the agent answering lives in this very process. */
function runCli(args: string[], opts: { uid?: number; gid?: number; input?: string } = {}): Promise<Run> {
  const { input, ...ids } = opts;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], ...ids });
    if (input !== undefined) child.stdin!.end(input);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

let fx: AgentFixture;

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error('run `npm run build` first (npm test does)');
  fx = await startAgentFixture();
}, 30_000);

afterAll(async () => {
  await fx?.stop();
});

describe('diag against a running agent', { timeout: 60_000 }, () => {
  it('status prints readable tables', async () => {
    const r = await runCli(['diag', 'status', '--socket', fx.socketPath]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Charge point +CP-DIAG {3}up /m);
    expect(r.stdout).toMatch(/^CSMS +connected, registration Accepted, security profile 0/m);
    expect(r.stdout).toMatch(/^Controller +link up on simulated/m);
    expect(r.stdout).toMatch(/^CONNECTOR +PILOT +STATUS +OFFERED +CONTACTOR +TRANSACTION +ENERGY +METER$/m);
    expect(r.stdout).toMatch(/^1 +A +Available /m);
  });

  it('security-log shows the security events; security-log clear empties it, which is recorded and sent to the CSMS', async () => {
    const shown = await runCli(['diag', 'security-log', '--socket', fx.socketPath]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^TIME +EVENT +DETAIL$/m);
    expect(shown.stdout).toMatch(/^\d{4}-\d\d-\d\dT\S+ +StartupOfTheDevice +agent started, firmware /m);
    const cleared = await runCli(['diag', 'security-log', 'clear', '--socket', fx.socketPath]);
    expect(cleared.code).toBe(0);
    expect(cleared.stdout).toMatch(/^removed: [1-9]\d*$/m);
    const after = await runCli(['diag', 'security-log', '--lines', '5', '--json', '--socket', fx.socketPath]);
    const entries = (JSON.parse(after.stdout) as { entries: Array<{ type: string; techInfo: string }> }).entries;
    expect(entries.map((e) => e.type)).toEqual(['SecurityLogWasCleared']);
    expect(entries[0]!.techInfo).toMatch(/entries removed: requested through diagnostics$/);
    await waitFor(() => fx.csms.callsOf('SecurityEventNotification').some((c) => c.params.type === 'SecurityLogWasCleared'), 10_000, 'SecurityLogWasCleared at the CSMS');
    const bad = await runCli(['diag', 'security-log', 'clear', '--lines', '3', '--socket', fx.socketPath]);
    expect(bad.code).toBe(2);
  });

  it('status --json prints exactly one JSON document', async () => {
    const r = await runCli(['diag', 'status', '--json', '--socket', fx.socketPath]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(doc).toMatchObject({ chargePointId: 'CP-DIAG', csms: { connected: true }, connectors: [{ connector: 1 }] });
  });

  it('finds the socket through --config', async () => {
    const config = join(fx.dir, 'config.json');
    writeFileSync(config, JSON.stringify({ chargePointId: 'CP-DIAG', csms: { url: fx.csms.url }, controller: { simulated: true }, identity: { vendor: 'A', model: 'B' }, diagnosticsSocket: fx.socketPath }));
    const r = await runCli(['diag', '--config', config, 'config', 'get', 'HeartbeatInterval']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^KEY +ACCESS +VALUE$/m);
    expect(r.stdout).toMatch(/^HeartbeatInterval +RW +\d+$/m);
  });

  it('config get: an unknown key exits 1, as for config set, still showing the known ones', async () => {
    const r = await runCli(['diag', 'config', 'get', 'HeartbeatInterval', 'NoSuchKey', '--socket', fx.socketPath]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^HeartbeatInterval +RW +\d+$/m);
    expect(r.stderr).toBe('charger-agent diag: unknown configuration key(s): NoSuchKey\n');
    const json = await runCli(['diag', 'config', 'get', 'NoSuchKey', '--json', '--socket', fx.socketPath]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({ keys: [], unknown: ['NoSuchKey'] });
    const set = await runCli(['diag', 'config', 'set', 'NoSuchKey', '1', '--socket', fx.socketPath]);
    expect(set.code).toBe(1);
  });

  it('an administrator always gets in: 100 idle connections (silent, hello only, paused followers) do not block diag status', async () => {
    const idle: LineClient[] = [];
    for (let i = 0; i < 50; i++) idle.push(await LineClient.connect(fx.socketPath)); // never say hello
    for (let i = 0; i < 42; i++) idle.push(await LineClient.hello(fx.socketPath)); // hello, then nothing
    for (let i = 0; i < 8; i++) {
      // Follow, then never read: with quiet logs they cannot be told from readers, so they are kept.
      const f = await LineClient.hello(fx.socketPath);
      f.send({ id: 1, cmd: 'logs', args: { lines: 0, follow: true } });
      await f.next();
      f.socket.pause();
      idle.push(f);
    }
    try {
      const r = await runCli(['diag', 'status', '--json', '--socket', fx.socketPath]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ chargePointId: 'CP-DIAG' });
    } finally {
      for (const c of idle) c.close();
    }
  });

  it('config set: Accepted exits 0; a value ChangeConfiguration rejects exits 1 with the reason', async () => {
    const good = await runCli(['diag', 'config', 'set', 'MeterValueSampleInterval', '30', '--json', '--socket', fx.socketPath]);
    expect(good.code).toBe(0);
    expect(JSON.parse(good.stdout)).toEqual({ key: 'MeterValueSampleInterval', result: 'Accepted' });
    const bad = await runCli(['diag', 'config', 'set', 'MeterValueSampleInterval', 'often', '--socket', fx.socketPath]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^charger-agent diag: Rejected: /);
    const badJson = await runCli(['diag', 'config', 'set', 'MeterValueSampleInterval', 'often', '--json', '--socket', fx.socketPath]);
    expect(JSON.parse(badJson.stdout)).toMatchObject({ ok: false, error: { code: 'rejected' } });
  });

  it('config set KEY - reads the value from stdin (first line, line ending removed); the positional form still works', async () => {
    const secret = '5d1a0000000000000000000000000001';
    const r = await runCli(['diag', 'config', 'set', 'AuthorizationKey', '-', '--json', '--socket', fx.socketPath], { input: `${secret}\n` });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ key: 'AuthorizationKey', result: 'Accepted' });
    expect(fx.agent.config.get('AuthorizationKey')).toBe(secret);
    const crlf = await runCli(['diag', 'config', 'set', 'AuthorizationKey', '-', '--socket', fx.socketPath], { input: '5d1a0000000000000000000000000002\r\nnot this line\n' });
    expect(crlf.code).toBe(0);
    expect(fx.agent.config.get('AuthorizationKey')).toBe('5d1a0000000000000000000000000002');
    const noNewline = await runCli(['diag', 'config', 'set', 'AuthorizationKey', '-', '--socket', fx.socketPath], { input: '5d1a0000000000000000000000000003' });
    expect(noNewline.code).toBe(0);
    expect(fx.agent.config.get('AuthorizationKey')).toBe('5d1a0000000000000000000000000003');
    const positional = await runCli(['diag', 'config', 'set', 'AuthorizationKey', '5d1a0000000000000000000000000004', '--socket', fx.socketPath]);
    expect(positional.code).toBe(0);
    expect(fx.agent.config.get('AuthorizationKey')).toBe('5d1a0000000000000000000000000004');
    const empty = await runCli(['diag', 'config', 'set', 'AuthorizationKey', '-', '--socket', fx.socketPath], { input: '' });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/^charger-agent diag: config set KEY -: stdin held no value$/m);
    expect(fx.agent.config.get('AuthorizationKey')).toBe('5d1a0000000000000000000000000004');
  });

  it('controller: queries go as they are; commands that act on the charger need --force', async () => {
    const read = await runCli(['diag', 'controller', 'READ', '1', '--json', '--socket', fx.socketPath]);
    expect(read.stderr).toBe('');
    expect(JSON.parse(read.stdout)).toEqual({ type: 'READ', fields: ['1'], acked: true });
    for (const command of [['ENABLE', '1', '16'], ['reset']]) {
      const refused = await runCli(['diag', 'controller', ...command, '--socket', fx.socketPath]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(new RegExp(`^charger-agent diag: controller ${command[0]!.toUpperCase()} acts on the live charger, .*: add --force if you mean it$`, 'm'));
    }
    const forced = await runCli(['diag', 'controller', 'CONFIG', 'METER_MS', '1000', '--force', '--json', '--socket', fx.socketPath]);
    expect(forced.stderr).toBe('');
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout)).toEqual({ type: 'CONFIG', fields: ['METER_MS', '1000'], acked: true });
  });

  it('human output shows control characters from log lines escaped; --json keeps the data as it is', async () => {
    fx.logger.warn({ idTag: '\u001b]0;pwned\u0007' }, 'escape test \u001b[2J');
    const r = await runCli(['diag', 'logs', '--lines', '20', '--socket', fx.socketPath]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('escape test \\x1b[2J idTag=\\x1b]0;pwned\\x07');
    expect(r.stdout.split('\n').join('')).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    const j = await runCli(['diag', 'logs', '--lines', '20', '--json', '--socket', fx.socketPath]);
    const doc = JSON.parse(j.stdout) as { lines: Array<Record<string, unknown>> };
    expect(doc.lines.find((l) => l['msg'] === 'escape test \u001b[2J')).toMatchObject({ idTag: '\u001b]0;pwned\u0007' });
  });

  it('simulate and transactions', async () => {
    expect((await runCli(['diag', 'simulate', 'plug', '1', '--cable', '32', '--socket', fx.socketPath])).code).toBe(0);
    await waitFor(() => statusOf(fx.agent.station, 1) === 'Preparing', 15_000, 'Preparing');
    expect((await runCli(['diag', 'simulate', 'card', '04A1B2C3', '--socket', fx.socketPath])).code).toBe(0);
    await waitFor(() => fx.agent.station.activeTransactions().length === 1, 15_000, 'transaction');
    const t = await runCli(['diag', 'transactions', '--socket', fx.socketPath]);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/^CONNECTOR +ID +LOCAL ID +ID TAG +STARTED +STOPPED +ENERGY$/m);
    expect(t.stdout).toMatch(/04A1B2C3 .* active /);
    expect((await runCli(['diag', 'simulate', 'unplug', '1', '--socket', fx.socketPath])).code).toBe(0);
    await waitFor(() => fx.agent.station.activeTransactions().length === 0, 15_000, 'stopped');
  });

  it('logs prints recent lines readably; --json gives them as objects', async () => {
    fx.logger.warn({ connector: 1 }, 'a line for the tail');
    const r = await runCli(['diag', 'logs', '--lines', '3', '--socket', fx.socketPath]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\d{4}-\d\d-\d\dT\S+ (WARN |INFO |DEBUG) /m);
    const j = await runCli(['diag', 'logs', '--lines', '3', '--json', '--socket', fx.socketPath]);
    const doc = JSON.parse(j.stdout) as { lines: Array<Record<string, unknown>> };
    expect(doc.lines.length).toBeGreaterThan(0);
    expect(typeof doc.lines[0]!['level']).toBe('number');
  });

  it('logs --follow streams new lines until Ctrl-C, then exits 0', async () => {
    const ring = logRingOf(fx.logger)!;
    const before = ring.followers;
    const child = spawn(process.execPath, [CLI, 'diag', 'logs', '--lines', '0', '--follow', '--socket', fx.socketPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    await waitFor(() => ring.followers === before + 1, 10_000, 'the follower');
    fx.logger.error({ marker: 'followed' }, 'streamed to the follower');
    await waitFor(() => out.includes('streamed to the follower'), 10_000, 'the streamed line');
    expect(out).toMatch(/ERROR .*streamed to the follower marker=followed/);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  });

  it('log-level changes the level of the running agent', async () => {
    const r = await runCli(['diag', 'log-level', 'warn', '--json', '--socket', fx.socketPath]);
    expect(JSON.parse(r.stdout)).toEqual({ level: 'warn', previous: 'info' });
    expect(fx.logger.level).toBe('warn');
    expect((await runCli(['diag', 'log-level', 'info', '--socket', fx.socketPath])).stdout).toBe('level: info\nprevious: warn\n');
  });
});

describe('diag when the agent cannot be reached', { timeout: 60_000 }, () => {
  it('agent not running: a clear message and exit 3; --json puts the error on stdout', async () => {
    const missing = join(tempDir('ca-none-'), 'diag.sock');
    const r = await runCli(['diag', 'status', '--socket', missing]);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`charger-agent diag: charger-agent is not running: nothing listens on ${missing} (systemctl status charger-agent)\n`);
    const j = await runCli(['diag', 'status', '--json', '--socket', missing]);
    expect(j.code).toBe(3);
    expect(JSON.parse(j.stdout)).toMatchObject({ ok: false, error: { code: 'not_running' } });
  });

  it('permission denied on the socket: a clear message and exit 3', async () => {
    let socket = fx.socketPath;
    let ids: { uid?: number; gid?: number } = {};
    let server: DiagnosticsServer | null = null;
    const host = createAgentHost(fx.agent, { cfg: fx.cfg, clock: { offsetMs: 0, synced: false }, logger: fx.logger });
    if (process.getuid?.() === 0) {
      // Root passes every permission check: run the CLI as nobody (the temp dir is 0700 root).
      ids = { uid: 65534, gid: 65534 };
    } else {
      const dir = join(fx.dir, 'locked');
      mkdirSync(dir);
      server = new DiagnosticsServer({ path: join(dir, 'diag.sock'), host, socketMode: 0o000 });
      await server.start();
      socket = server.path;
    }
    const r = await runCli(['diag', 'status', '--socket', socket], ids);
    await server?.stop();
    host.dispose();
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(`charger-agent diag: permission denied on ${socket}: run as root or as a member of the charger-agent-admin group (usermod -aG charger-agent-admin USER, then log in again)\n`);
  });

  it('maps connect errors to the problem a person can act on', () => {
    const err = (code: string): NodeJS.ErrnoException => Object.assign(new Error(code), { code });
    expect(describeConnectError(err('EACCES'), '/s').problem).toBe('permission');
    expect(describeConnectError(err('EPERM'), '/s').problem).toBe('permission');
    expect(describeConnectError(err('ENOENT'), '/s').problem).toBe('not_running');
    expect(describeConnectError(err('ECONNREFUSED'), '/s').problem).toBe('not_running');
    expect(describeConnectError(err('EMFILE'), '/s')).toMatchObject({ problem: 'failed', message: 'cannot connect to /s: EMFILE' });
  });

  it('the client turns an EACCES from connect() into the permission message', async () => {
    const fake = (): Socket => {
      const s = new EventEmitter() as unknown as Socket;
      (s as unknown as { destroy: () => void }).destroy = () => {};
      setImmediate(() => s.emit('error', Object.assign(new Error('connect EACCES'), { code: 'EACCES' })));
      return s;
    };
    const failure = await DiagClient.connect('/run/charger-agent/diag.sock', { connect: fake }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(DiagClientError);
    expect(failure).toMatchObject({ problem: 'permission', message: expect.stringMatching(/^permission denied on \/run\/charger-agent\/diag\.sock/) });
  });

  it('a stale socket file (agent died) reads as not running', async () => {
    const dir = tempDir('ca-stale-');
    const path = join(dir, 'diag.sock');
    const py = spawn('python3', ['-c', 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])', path]);
    await new Promise((r) => py.on('close', r));
    chmodSync(path, 0o666);
    const r = await runCli(['diag', 'status', '--socket', path]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/is not running/);
  });
});

describe('diag usage', { timeout: 60_000 }, () => {
  it.each([
    [['diag']],
    [['diag', 'frobnicate']],
    [['diag', 'config', 'set', 'HeartbeatInterval']],
    [['diag', 'simulate', 'plug', 'one']],
    [['diag', 'status', '--lines', '3']],
    [['diag', 'status', '--socket', '/a', '--config', '/b']],
  ])('%j: usage on stderr, exit 2', async (args) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/usage: charger-agent diag <command>/);
  });

  it('diag help prints the commands, exit 0', async () => {
    const r = await runCli(['diag', 'help']);
    expect(r.code).toBe(0);
    for (const c of ['status', 'config get', 'config set', 'config set KEY -', 'transactions', 'logs', 'log-level', 'trigger', 'controller', '--force', 'simulate']) expect(r.stdout).toContain(c);
  });

  it('an explicit --config that is broken is a configuration error, exit 2', async () => {
    const r = await runCli(['diag', 'status', '--config', join(tmpdir(), 'no-such-config.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/config error/);
  });
});

describe('the service path: run, diag, SIGTERM', { timeout: 60_000 }, () => {
  it('run opens the socket, logs with chargePointId and OCPP frames at debug, and removes the socket on exit', async () => {
    const csms = new DevCsms();
    await csms.start();
    try {
      const dir = tempDir('ca-run-diag-');
      const socket = join(dir, 'run', 'diag.sock');
      const config = join(dir, 'config.json');
      writeFileSync(
        config,
        JSON.stringify({
          chargePointId: 'CP-RUN',
          csms: { url: csms.url, securityProfile: 0, basicAuthPassword: 'run-password-0123456789' },
          controller: { simulated: true },
          identity: { vendor: 'Acme', model: 'AC22' },
          dataDir: join(dir, 'data'),
          diagnosticsSocket: socket,
          logLevel: 'debug',
        }),
      );
      const child = spawn(process.execPath, [CLI, 'run', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      await waitFor(() => csms.callsOf('StatusNotification').length >= 1, 15_000, 'boot');
      const r = await runCli(['diag', '--config', config, 'status', '--json']);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ chargePointId: 'CP-RUN', csms: { connected: true } });
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(existsSync(socket)).toBe(false);
      const records = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(records.every((l) => l['chargePointId'] === 'CP-RUN')).toBe(true);
      expect(records.find((l) => l['action'] === 'BootNotification' && l['messageType'] === 'CALL')).toMatchObject({ level: 20, direction: 'out', messageId: expect.any(String) });
      expect(records.find((l) => l['action'] === 'BootNotification' && l['messageType'] === 'CALLRESULT')).toMatchObject({ direction: 'in' });
      expect(out).not.toContain('run-password-0123456789');
    } finally {
      await csms.stop();
    }
  });
});

afterAll(() => {
  tempDirs.removeAll();
});
