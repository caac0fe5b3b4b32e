// Diagnostics socket server (issue 6, "Diagnostics socket"): the hello and version handshake,
// mode 0660 and the admin group, and that bad requests (not JSON, unknown command, wrong
// arguments, overlong lines, silent or trickling clients, clients that never read, hundreds of
// connections or follow requests) get an error answer or are cut off without blocking the
// agent. Real Unix sockets and a real agent on the simulator.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAgentHost, type AgentHost } from '../../src/diagnostics/agent-host.js';
import { DIAG_COMMANDS } from '../../src/diagnostics/commands/index.js';
import { DiagnosticsServer, groupIdIn, type DiagnosticsServerOptions } from '../../src/diagnostics/server.js';
import type { AgentLogger } from '../../src/platform/logger.js';
import { logRingOf } from '../../src/platform/logger.js';
import { waitFor } from '../helpers/wait.js';
import { LineClient, startAgentFixture, type AgentFixture } from './agent-fixture.js';

let fx: AgentFixture;
let host: AgentHost;
let n = 0;

beforeAll(async () => {
  fx = await startAgentFixture();
  host = createAgentHost(fx.agent, { cfg: fx.cfg, clock: { offsetMs: 0, synced: false }, logger: fx.logger });
}, 30_000);

afterAll(async () => {
  host?.dispose();
  await fx?.stop();
});

/** A second server over the same agent, with its own limits and path. */
async function extraServer(limits: Partial<DiagnosticsServerOptions> = {}): Promise<DiagnosticsServer> {
  const dir = join(fx.dir, `extra-${++n}`);
  mkdirSync(dir, { recursive: true });
  const server = new DiagnosticsServer({ path: join(dir, 'diag.sock'), host, ...limits });
  await server.start();
  return server;
}

describe('the agent socket', { timeout: 60_000 }, () => {
  it('listens at diagnosticsSocket with mode 0660', () => {
    const st = statSync(fx.socketPath);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o660);
  });

  it('answers the hello with its protocol version and the agent', async () => {
    const c = await LineClient.connect(fx.socketPath);
    c.send({ hello: 'charger-agent-diag', version: 1 });
    const hello = await c.next();
    expect(hello).toMatchObject({ hello: 'charger-agent-diag', version: 1, ok: true, agent: { chargePointId: 'CP-DIAG' } });
    expect(typeof (hello['agent'] as Record<string, unknown>)['version']).toBe('string');
    expect(await c.request(1, 'status')).toMatchObject({ id: 1, ok: true });
    c.close();
  });

  it('refuses a request before the hello and closes the connection', async () => {
    const c = await LineClient.connect(fx.socketPath);
    c.send({ id: 1, cmd: 'status' });
    expect(await c.next()).toMatchObject({ ok: false, error: { code: 'handshake' } });
    await waitFor(() => c.closed, 5_000, 'close');
  });

  it('refuses an unsupported protocol version, naming the one it speaks', async () => {
    const c = await LineClient.connect(fx.socketPath);
    c.send({ hello: 'charger-agent-diag', version: 2 });
    const answer = await c.next();
    expect(answer).toMatchObject({ hello: 'charger-agent-diag', version: 1, ok: false, error: { code: 'unsupported_version' } });
    expect(JSON.stringify(answer)).toMatch(/speaks 1/);
    await waitFor(() => c.closed, 5_000, 'close');
  });

  it('answers each bad request with an error and keeps serving the connection', async () => {
    const c = await LineClient.hello(fx.socketPath);
    c.send('this is not json');
    expect(await c.next()).toMatchObject({ id: null, ok: false, error: { code: 'bad_json' } });
    c.send('[1,2,3]');
    expect(await c.next()).toMatchObject({ id: null, ok: false, error: { code: 'bad_request' } });
    c.send({ id: 7 });
    expect(await c.next()).toMatchObject({ id: 7, ok: false, error: { code: 'bad_request' } });
    c.send({ id: 8, cmd: 'status', args: [] });
    expect(await c.next()).toMatchObject({ id: 8, ok: false, error: { code: 'bad_request' } });
    expect(await c.request(9, 'frobnicate')).toMatchObject({ id: 9, ok: false, error: { code: 'unknown_command' } });
    expect(await c.request(10, 'status', { verbose: true })).toMatchObject({ ok: false, error: { code: 'bad_args' } });
    expect(await c.request(11, 'config.get', { keys: 5 })).toMatchObject({ ok: false, error: { code: 'bad_args' } });
    expect(await c.request(12, 'logs', { lines: -1 })).toMatchObject({ ok: false, error: { code: 'bad_args' } });
    expect(await c.request(13, 'trigger', { message: 'Reset' })).toMatchObject({ ok: false, error: { code: 'bad_args' } });
    expect(await c.request(14, 'config.set', { key: 'HeartbeatInterval' })).toMatchObject({ ok: false, error: { code: 'bad_args' } });
    // Still the same connection, still answering.
    expect(await c.request(15, 'status')).toMatchObject({ id: 15, ok: true });
    expect(c.closed).toBe(false);
    c.close();
  });

  it('cuts off a line longer than 64 KiB, and the agent keeps serving others', async () => {
    const c = await LineClient.hello(fx.socketPath);
    c.socket.write('{"id":1,"cmd":"status","args":{"pad":"' + 'x'.repeat(70 * 1024));
    expect(await c.next()).toMatchObject({ ok: false, error: { code: 'line_too_long' } });
    await waitFor(() => c.closed, 5_000, 'close');
    const d = await LineClient.hello(fx.socketPath);
    expect(await d.request(1, 'status')).toMatchObject({ ok: true });
    d.close();
  });
});

describe('limits', { timeout: 60_000 }, () => {
  it('with every slot taken by idle clients, each newcomer evicts the longest-idle one: hundreds of them never lock anyone out', async () => {
    const server = await extraServer({ maxConnections: 32 });
    const clients = await Promise.all(Array.from({ length: 200 }, () => LineClient.connect(server.path)));
    for (const c of clients) c.send({ hello: 'charger-agent-diag', version: 1 });
    await waitFor(() => server.stats.evicted === 168, 15_000, '168 evicted');
    const evicted = (c: LineClient): boolean => (c.received as Array<Record<string, unknown>>).some((m) => (m['error'] as Record<string, unknown> | undefined)?.['code'] === 'evicted');
    await waitFor(() => clients.filter((c) => c.closed).length === 168 && clients.filter(evicted).length === 168, 10_000, 'evicted clients told and closed');
    expect(server.stats).toMatchObject({ accepted: 200, evicted: 168, refusedBusy: 0, connections: 32 });
    // A newcomer is served at once (it evicts one more), and the one it evicted is the longest idle.
    const survivors = clients.filter((c) => !evicted(c));
    // All but survivors[7] do something, so survivors[7] is the longest idle.
    for (const c of survivors) await c.next(); // the hello answer
    await Promise.all(survivors.filter((_, i) => i !== 7).map((c) => c.request(1, 'status')));
    const admin = await LineClient.hello(server.path);
    expect(await admin.request(1, 'status')).toMatchObject({ ok: true });
    expect(server.stats.evicted).toBe(169);
    await waitFor(() => survivors.filter((c) => c.closed).length === 1, 10_000, 'one survivor evicted');
    expect(survivors.findIndex((c) => c.closed)).toBe(7);
    admin.close();
    for (const c of clients) c.close();
    await waitFor(() => server.stats.connections === 0, 10_000, 'all closed');
    await server.stop();
  });

  it('answers busy only when no slot is idle: clients running a request or following the logs (and reading) are kept', async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const commands = new Map(DIAG_COMMANDS);
    commands.set('wait', { name: 'wait', summary: 'test: answers when released', run: async () => (await released, { done: true }) });
    const server = await extraServer({ maxConnections: 4, commands });
    const followers = [await LineClient.hello(server.path), await LineClient.hello(server.path)];
    for (const f of followers) {
      f.send({ id: 1, cmd: 'logs', args: { lines: 0, follow: true } });
      expect(await f.next()).toMatchObject({ id: 1, ok: true });
    }
    const waiters = [await LineClient.hello(server.path), await LineClient.hello(server.path)];
    for (const w of waiters) w.send({ id: 1, cmd: 'wait' });
    await waitFor(() => server.stats.requests === 4, 10_000, 'both waits running');
    const refused = await LineClient.connect(server.path);
    expect(await refused.next()).toMatchObject({ id: null, ok: false, error: { code: 'busy' } });
    expect(server.stats).toMatchObject({ refusedBusy: 1, evicted: 0, connections: 4 });
    // Once answered, the waiters are idle: a newcomer evicts the one that finished first, never a follower.
    release();
    for (const w of waiters) await w.next();
    const newcomer = await LineClient.hello(server.path);
    expect(await newcomer.request(1, 'status')).toMatchObject({ ok: true });
    await waitFor(() => waiters.filter((w) => w.closed).length === 1, 10_000, 'a waiter evicted');
    expect(followers.every((f) => !f.closed)).toBe(true);
    for (const c of [...followers, ...waiters, newcomer, refused]) c.close();
    await server.stop();
  });

  it('evicts a follower that stopped reading (its answers pile up) before one that reads', async () => {
    const server = await extraServer({ maxConnections: 2, maxBufferedBytes: 16 * 1024 * 1024 });
    const stalled = await LineClient.hello(server.path);
    stalled.send({ id: 1, cmd: 'logs', args: { lines: 0, follow: true } });
    expect(await stalled.next()).toMatchObject({ id: 1, ok: true });
    const reader = await LineClient.hello(server.path);
    reader.send({ id: 1, cmd: 'logs', args: { lines: 0, follow: true } });
    expect(await reader.next()).toMatchObject({ id: 1, ok: true });
    stalled.socket.pause(); // never reads again
    // About 1.4 MB of log lines: more than the kernel holds for the stalled client.
    const pad = 'x'.repeat(700);
    for (let i = 0; i < 2_000; i++) fx.logger.info({ pad, i, marker: 'stall-test' }, 'filler for a stalled follower');
    const lastSeen = (): boolean => reader.received.some((m) => typeof (m as Record<string, unknown>)['line'] === 'string' && String((m as Record<string, unknown>)['line']).includes('"i":1999,"marker":"stall-test"'));
    await waitFor(lastSeen, 15_000, 'the reader got every line');
    const newcomer = await LineClient.hello(server.path);
    expect(await newcomer.request(1, 'status')).toMatchObject({ ok: true });
    expect(server.stats.evicted).toBe(1);
    expect(server.stats.followers).toBe(1); // the stalled one's slot was freed at eviction
    expect(reader.closed).toBe(false);
    for (const c of [stalled, reader, newcomer]) c.close();
    await server.stop();
  });

  it('cuts off a client that never reads, instead of buffering for it without end', async () => {
    const server = await extraServer({ maxBufferedBytes: 64 * 1024 });
    const slow = await LineClient.hello(server.path);
    slow.send({ id: 1, cmd: 'logs', args: { lines: 0, follow: true } });
    expect(await slow.next()).toMatchObject({ id: 1, ok: true });
    slow.socket.pause(); // never reads again
    // About 1.5 MB of log lines: more than the kernel buffer plus the 64 KiB allowed.
    const pad = 'x'.repeat(700);
    for (let i = 0; i < 2_000 && server.stats.droppedSlow === 0; i++) fx.logger.info({ pad, i }, 'filler for a slow reader');
    await waitFor(() => server.stats.droppedSlow === 1 && server.stats.connections === 0, 10_000, 'slow client dropped');
    const fast = await LineClient.hello(server.path);
    expect(await fast.request(1, 'status')).toMatchObject({ ok: true });
    fast.close();
    slow.close();
    await server.stop();
  });

  it('closes clients that stay silent, before and after the hello, but not one following logs', async () => {
    const server = await extraServer({ handshakeTimeoutMs: 300, idleTimeoutMs: 300 });
    const follower = await LineClient.hello(server.path);
    follower.send({ id: 1, cmd: 'logs', args: { lines: 0, follow: true } });
    expect(await follower.next()).toMatchObject({ id: 1, ok: true, result: { following: true } });
    const silent = await LineClient.connect(server.path);
    const idle = await LineClient.hello(server.path);
    await waitFor(() => silent.closed && idle.closed, 10_000, 'silent clients closed');
    expect(server.stats.timedOut).toBe(2);
    expect(follower.closed).toBe(false);
    follower.close();
    await server.stop();
  });

  it('limits requests in flight per connection by reading no further: the waiting ones run after, in order, none refused', async () => {
    const server = await extraServer({ maxInFlight: 1 });
    const c = await LineClient.hello(server.path);
    // The CSMS is connected, so trigger waits for the Heartbeat answer; the others meet it in flight.
    c.send({ id: 1, cmd: 'trigger', args: { message: 'Heartbeat' } });
    for (let id = 2; id <= 10; id++) c.send({ id, cmd: 'status' });
    const answers: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 10; i++) answers.push(await c.next());
    expect(answers.map((a) => a['id'])).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(answers.every((a) => a['ok'] === true)).toBe(true);
    expect(c.closed).toBe(false);
    c.close();
    await server.stop();
  });
});

/** Answers (not log events) received so far. */
function answersOf(c: LineClient): Array<Record<string, unknown>> {
  return (c.received as Array<Record<string, unknown>>).filter((m) => 'ok' in m && !('hello' in m));
}

describe('log followers', { timeout: 60_000 }, () => {
  it('a connection follows the logs once: hundreds of follow requests on it cost one listener', async () => {
    const server = await extraServer();
    const ring = logRingOf(fx.logger)!;
    const before = ring.followers;
    const c = await LineClient.hello(server.path);
    const flood = Array.from({ length: 300 }, (_, i) => JSON.stringify({ id: i + 1, cmd: 'logs', args: { lines: 0, follow: true } }));
    c.socket.write(`${flood.join('\n')}\n`);
    await waitFor(() => answersOf(c).length === 300, 15_000, 'every follow request answered');
    const answers = answersOf(c);
    expect(answers.filter((a) => a['ok'] === true)).toHaveLength(1);
    const busy = answers.filter((a) => (a['error'] as Record<string, unknown> | undefined)?.['code'] === 'busy');
    expect(busy).toHaveLength(299);
    expect(busy[0]).toMatchObject({ error: { message: 'this connection already follows the logs' } });
    expect(ring.followers).toBe(before + 1);
    expect(server.stats.followers).toBe(1);
    // The one follow still streams.
    fx.logger.warn({ marker: 'after-the-flood' }, 'still followed');
    await waitFor(() => c.received.some((m) => (m as Record<string, unknown>)['event'] === 'log' && String((m as Record<string, unknown>)['line']).includes('after-the-flood')), 10_000, 'the event');
    c.close();
    await waitFor(() => ring.followers === before && server.stats.followers === 0, 10_000, 'unsubscribed');
    await server.stop();
  });

  it('serves at most 8 followers at once; the ninth gets busy; a follower that leaves frees its slot', async () => {
    const server = await extraServer();
    const clients = await Promise.all(Array.from({ length: 9 }, () => LineClient.hello(server.path)));
    const answers: Array<Record<string, unknown>> = [];
    for (const c of clients) answers.push(await c.request(1, 'logs', { lines: 0, follow: true }));
    expect(answers.slice(0, 8).every((a) => a['ok'] === true)).toBe(true);
    expect(answers[8]).toMatchObject({ ok: false, error: { code: 'busy', message: 'at most 8 clients may follow the logs at once' } });
    expect(server.stats.followers).toBe(8);
    // The refused client is still served otherwise.
    expect(await clients[8]!.request(2, 'status')).toMatchObject({ ok: true });
    clients[0]!.close();
    await waitFor(() => server.stats.followers === 7, 10_000, 'slot freed');
    expect(await clients[8]!.request(3, 'logs', { lines: 0, follow: true })).toMatchObject({ ok: true, result: { following: true } });
    for (const c of clients) c.close();
    await waitFor(() => server.stats.followers === 0, 10_000, 'all gone');
    await server.stop();
  });
});

/** Writes one character of `text` (cycling) every 20 ms until stopped or the client is closed. */
function trickle(c: LineClient, text: string): () => void {
  let i = 0;
  const timer = setInterval(() => {
    if (!c.closed) c.socket.write(text[i++ % text.length]!);
  }, 20);
  return () => clearInterval(timer);
}

describe('slow clients', { timeout: 60_000 }, () => {
  it('closes a client that trickles bytes but never finishes its hello: a deadline, not an idle timeout', async () => {
    const server = await extraServer({ handshakeTimeoutMs: 300 });
    const c = await LineClient.connect(server.path);
    const stop = trickle(c, JSON.stringify({ hello: 'charger-agent-diag', version: 1 }));
    try {
      await waitFor(() => c.closed, 10_000, 'the trickling client closed');
    } finally {
      stop();
    }
    expect(server.stats.timedOut).toBe(1);
    await server.stop();
  });

  it('after the hello, a line must be complete within lineTimeoutMs of its first byte; whole lines may come slowly', async () => {
    const server = await extraServer({ lineTimeoutMs: 300, idleTimeoutMs: 60_000 });
    const c = await LineClient.hello(server.path);
    // Complete lines, far apart: no deadline applies between lines.
    for (let id = 1; id <= 3; id++) {
      expect(await c.request(id, 'status')).toMatchObject({ ok: true });
      await new Promise((r) => setTimeout(r, 200));
    }
    c.socket.write('{"id":4,"cmd":"status","args":{"pad":"');
    const stop = trickle(c, 'x');
    try {
      expect(await c.next()).toMatchObject({ id: null, ok: false, error: { code: 'bad_request', message: 'a line must be complete within 300 ms of its first byte' } });
      await waitFor(() => c.closed, 10_000, 'the trickling client closed');
    } finally {
      stop();
    }
    expect(server.stats.timedOut).toBe(1);
    await server.stop();
  });
});

describe('socket group', { timeout: 60_000 }, () => {
  /** A gid the socket can be given: any as root, else our own. */
  const adminGid = process.getuid?.() === 0 ? 4321 : process.getegid!();

  it('gives the socket to the charger-agent-admin group found in the group file, mode 0660', async () => {
    const groupFile = join(fx.dir, 'group-with-admin');
    writeFileSync(groupFile, `root:x:0:\ncharger-agent:x:990:\ncharger-agent-admin:x:${adminGid}:alice,bob\n`);
    const server = await extraServer({ groupFile });
    const st = statSync(server.path);
    expect([st.gid, st.mode & 0o777]).toEqual([adminGid, 0o660]);
    await server.stop();
  });

  it('keeps the service group, and says so (warn under systemd, info on a development machine), when the group file has no charger-agent-admin', async () => {
    const groupFile = join(fx.dir, 'group-without-admin');
    writeFileSync(groupFile, 'root:x:0:\ncharger-agent:x:990:\ncharger-agent-administrators:x:4322:\n');
    const saved = process.env['INVOCATION_ID'];
    try {
      for (const [invocation, level] of [[undefined, 'info'], ['0123abcd', 'warn']] as const) {
        if (invocation === undefined) delete process.env['INVOCATION_ID'];
        else process.env['INVOCATION_ID'] = invocation;
        const lines: Array<{ level: string; obj: object; msg: string | undefined }> = [];
        const at = (l: string) => (obj: object, msg?: string) => void lines.push({ level: l, obj, msg });
        const logger: AgentLogger = { debug: () => {}, info: at('info'), error: at('error'), warn: at('warn') };
        const dir = join(fx.dir, `no-admin-group-${level}`);
        mkdirSync(dir);
        const server = new DiagnosticsServer({ path: join(dir, 'diag.sock'), host, groupFile, logger });
        await server.start();
        const st = statSync(server.path);
        expect([st.gid, st.mode & 0o777]).toEqual([statSync(dir).gid, 0o660]);
        const said = lines.filter((l) => /^admin group not found; the diagnostics socket keeps the service group/.test(l.msg ?? ''));
        expect(said).toEqual([{ level, obj: expect.objectContaining({ group: 'charger-agent-admin', file: groupFile }), msg: expect.any(String) }]);
        await server.stop();
      }
    } finally {
      if (saved === undefined) delete process.env['INVOCATION_ID'];
      else process.env['INVOCATION_ID'] = saved;
    }
  });

  it('groupIdIn reads the gid of exactly that name', () => {
    const text = 'charger-agent:x:990:\ncharger-agent-admin:x:991:alice\nbroken-line\n';
    expect(groupIdIn(text, 'charger-agent-admin')).toBe(991);
    expect(groupIdIn(text, 'charger-agent')).toBe(990);
    expect(groupIdIn(text, 'charger')).toBeNull();
    expect(groupIdIn(text, 'broken-line')).toBeNull();
  });
});

describe('socket file', { timeout: 60_000 }, () => {
  it('removes a stale socket file left by a dead agent', async () => {
    const dir = join(fx.dir, 'stale');
    mkdirSync(dir);
    const path = join(dir, 'diag.sock');
    // A socket file nobody listens on, as after kill -9.
    const r = spawnSync('python3', ['-c', 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])', path]);
    expect(r.status).toBe(0);
    expect(statSync(path).isSocket()).toBe(true);
    const server = new DiagnosticsServer({ path, host });
    await server.start();
    const c = await LineClient.hello(path);
    expect(await c.request(1, 'status')).toMatchObject({ ok: true });
    c.close();
    await server.stop();
    expect(existsSync(path)).toBe(false);
  });

  it('does not take over a socket another agent listens on', async () => {
    const first = await extraServer();
    const second = new DiagnosticsServer({ path: first.path, host });
    await expect(second.start()).rejects.toThrow(/another process is listening/);
    const c = await LineClient.hello(first.path);
    expect(await c.request(1, 'status')).toMatchObject({ ok: true });
    c.close();
    await first.stop();
  });

  it('does not remove a file that is not a socket', async () => {
    const path = join(fx.dir, 'not-a-socket');
    writeFileSync(path, 'keep me');
    await expect(new DiagnosticsServer({ path, host }).start()).rejects.toThrow(/not a socket/);
    expect(readFileSync(path, 'utf8')).toBe('keep me');
  });
});
