// Diagnostics commands against a real agent (issue 6, "Diagnostics socket"): status, config
// get/set with ChangeConfiguration's validation and a write-only AuthorizationKey, transactions
// through a simulated session, trigger, raw controller commands, logs tail/follow and the
// runtime log level. Real socket, real agent on the simulator, real DevCsms.
import { statusOf } from '../../src/ocpp/v16/mappers.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createAgentHost } from '../../src/diagnostics/agent-host.js';
import { formatStatus } from '../../src/diagnostics/format.js';
import type { Json } from '../../src/diagnostics/protocol.js';
import { DiagnosticsServer } from '../../src/diagnostics/server.js';
import { logRingOf } from '../../src/platform/logger.js';
import { waitFor } from '../helpers/wait.js';
import { X509Certificate } from 'node:crypto';
import { TestPki } from '../helpers/test-pki.js';
import { signCsr } from '../helpers/csr-signer.js';
import { createCsr } from '../../src/security/csr.js';
import { BASIC_AUTH_SECRET, LineClient, startAgentFixture, type AgentFixture } from './agent-fixture.js';

let fx: AgentFixture;
let c: LineClient;
let id = 0;

beforeAll(async () => {
  fx = await startAgentFixture();
  c = await LineClient.hello(fx.socketPath);
}, 30_000);

afterAll(async () => {
  c?.close();
  await fx?.stop();
});

async function ok(cmd: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const answer = await c.request(++id, cmd, args);
  expect(answer, JSON.stringify(answer)).toMatchObject({ ok: true });
  return answer['result'] as Record<string, unknown>;
}

async function failing(cmd: string, args: Record<string, unknown> = {}): Promise<{ code: string; message: string }> {
  const answer = await c.request(++id, cmd, args);
  expect(answer).toMatchObject({ ok: false });
  return answer['error'] as { code: string; message: string };
}

type Connector = { connector: number; pilot: string; status: string; transaction: Record<string, unknown> | null };

describe('status', { timeout: 60_000 }, () => {
  it('reports connectors, links, queue, clock, versions and uptime', async () => {
    const s = await ok('status');
    expect(s).toMatchObject({
      chargePointId: 'CP-DIAG',
      csms: { connected: true, registration: 'Accepted', securityProfile: 0, url: `${fx.csms.url}/CP-DIAG` },
      controller: { port: 'simulated', linkUp: true },
      versions: { firmware: expect.any(String), node: process.version, diagProtocol: 1 },
      queueDepth: 0,
      clock: { synced: true },
      certificateExpiry: null,
      installedRoots: { centralSystem: 0, manufacturer: 0 },
      logLevel: 'info',
    });
    expect(typeof s['uptimeSeconds']).toBe('number');
    expect(typeof (s['versions'] as Record<string, unknown>)['controllerFirmware']).toBe('string');
    const connectors = s['connectors'] as Connector[];
    expect(connectors.length).toBeGreaterThanOrEqual(1);
    expect(connectors[0]).toMatchObject({ connector: 1, pilot: 'A', status: 'Available', transaction: null });
  });

  it('counts the charging profiles received, written and coalesced, with the current limit per connector', async () => {
    const profile = (limit: number) => ({
      connectorId: 0,
      csChargingProfiles: { chargingProfileId: 1, stackLevel: 0, chargingProfilePurpose: 'ChargePointMaxProfile', chargingProfileKind: 'Absolute', chargingSchedule: { chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit }] } },
    });
    for (const limit of [12, 12, 20]) expect(await fx.csms.call('CP-DIAG', 'SetChargingProfile', profile(limit))).toEqual({ status: 'Accepted' });
    const s = await ok('status');
    // 12 A lowers the limit: written at once; the same again writes nothing; 20 A is coalesced.
    expect(s['smartCharging']).toMatchObject({ profilesReceived: 3, profilesIdentical: 1, profileWrites: 1, profilesCoalesced: 1, limits: [{ connector: 1, limitA: 20, binding: 'profile', paused: false }] });
    expect(formatStatus(s as unknown as Json)).toMatch(/Smart charging\s+3 profile\(s\) received \(1 identical\), 1 write\(s\) .*1 coalesced; limit 1: 20 A \(profile; W at 2\d\d(\.\d)? V x 3( assumed)?\)/);
    expect(await fx.csms.call('CP-DIAG', 'ClearChargingProfile', {})).toEqual({ status: 'Accepted' });
  });

  it('shows the charge-point certificate\'s expiry and the installed roots once there are some', async () => {
    const pki = new TestPki();
    try {
      const store = fx.agent.security.certificates;
      const root = pki.root('Diag Root');
      expect(store.install('CentralSystemRootCertificate', root.cert)).toEqual({ status: 'Accepted' });
      const csr = await createCsr({ commonName: 'CP-DIAG', keyType: 'ec-p256' });
      store.savePendingKey(csr.keyPem);
      const leaf = signCsr(pki, csr.csrPem, root, { days: 20 });
      expect(store.installChargePointCertificate(leaf, { commonName: 'CP-DIAG' })).toEqual({ status: 'Accepted' });
      const s = await ok('status');
      expect(s['installedRoots']).toEqual({ centralSystem: 1, manufacturer: 0 });
      expect(s['certificateExpiry']).toBe(new Date(new X509Certificate(leaf).validTo).toISOString());
    } finally {
      pki.cleanup();
    }
  });

  it('never shows the Basic Auth password', async () => {
    const answer = await c.request(++id, 'status');
    expect(JSON.stringify(answer)).not.toContain(BASIC_AUTH_SECRET);
  });
});

describe('config', { timeout: 60_000 }, () => {
  it('get lists the OCPP keys with access and value, and the unknown ones asked for', async () => {
    const all = await ok('config.get');
    const keys = all['keys'] as Array<{ key: string; readonly: boolean; value: string }>;
    expect(keys.find((k) => k.key === 'HeartbeatInterval')).toMatchObject({ readonly: false });
    expect(keys.find((k) => k.key === 'NumberOfConnectors')).toMatchObject({ readonly: true });
    expect(keys.some((k) => k.key === 'AuthorizationKey')).toBe(false);
    const some = await ok('config.get', { keys: ['MeterValueSampleInterval', 'NoSuchKey'] });
    expect(some).toEqual({ keys: [{ key: 'MeterValueSampleInterval', readonly: false, value: '60' }], unknown: ['NoSuchKey'] });
  });

  it('set applies ChangeConfiguration validation', async () => {
    expect(await ok('config.set', { key: 'HeartbeatInterval', value: '120' })).toEqual({ key: 'HeartbeatInterval', result: 'Accepted' });
    expect(fx.agent.config.get('HeartbeatInterval')).toBe('120');
    const bad = await failing('config.set', { key: 'HeartbeatInterval', value: 'soon' });
    expect(bad.code).toBe('rejected');
    expect(bad.message).toMatch(/^Rejected: /);
    expect(fx.agent.config.get('HeartbeatInterval')).toBe('120');
    expect((await failing('config.set', { key: 'NumberOfConnectors', value: '4' })).message).toMatch(/^Rejected: .*read-only/);
    expect((await failing('config.set', { key: 'NoSuchKey', value: '1' })).message).toMatch(/^NotSupported/);
  });

  it('AuthorizationKey can be set but is never read back, nor logged', async () => {
    const secret = 'd1a95e7a1b0c4d9e8f7a6b5c4d3e2f1a';
    expect(await ok('config.get', { keys: ['AuthorizationKey'] })).toEqual({
      keys: [{ key: 'AuthorizationKey', readonly: false, writeOnly: true, set: false }],
      unknown: [],
    });
    expect(await ok('config.set', { key: 'AuthorizationKey', value: secret })).toMatchObject({ result: 'Accepted' });
    const after = await c.request(++id, 'config.get', { keys: ['AuthorizationKey'] });
    expect(after).toMatchObject({ ok: true, result: { keys: [{ key: 'AuthorizationKey', writeOnly: true, set: true }] } });
    expect(JSON.stringify(after)).not.toContain(secret);
    const logs = await c.request(++id, 'logs', { lines: 1000 });
    expect(JSON.stringify(logs)).toMatch(/configuration change requested through diagnostics/);
    expect(JSON.stringify(logs)).not.toContain(secret);
    expect(fx.logLines.join('')).not.toContain(secret);
  });
});

describe('simulate and transactions', { timeout: 60_000 }, () => {
  it('plug, card, charge and unplug drive a real session the transactions command reports', async () => {
    expect(await ok('simulate', { action: 'plug', connector: 1, cableAmps: 32 })).toMatchObject({ action: 'plug', connector: 1 });
    await waitFor(() => statusOf(fx.agent.station, 1) === 'Preparing', 15_000, 'Preparing');
    await ok('simulate', { action: 'card', uid: '04A1B2C3' });
    await waitFor(() => fx.csms.callsOf('StartTransaction').length === 1, 15_000, 'StartTransaction');
    await ok('simulate', { action: 'charge', connector: 1 });
    await waitFor(() => statusOf(fx.agent.station, 1) === 'Charging', 15_000, 'Charging');

    const csmsId = fx.csms.callsOf('StartTransaction')[0]!.transactionId;
    await waitFor(() => fx.agent.session.csmsTransactionId(fx.agent.station.transaction(1)!.localId) !== undefined, 15_000, 'transaction id');
    const active = (await ok('transactions'))['transactions'] as Array<Record<string, unknown>>;
    expect(active).toHaveLength(1);
    expect(active[0]).toMatchObject({ connector: 1, idTag: '04A1B2C3', transactionId: csmsId, stoppedAt: null });
    const status = await ok('status');
    const conn = (status['connectors'] as Connector[])[0]!;
    expect(conn).toMatchObject({ pilot: 'C', status: 'Charging', transaction: { transactionId: csmsId } });

    await ok('simulate', { action: 'unplug', connector: 1 });
    await waitFor(() => fx.csms.callsOf('StopTransaction').length === 1, 15_000, 'StopTransaction');
    const after = (await ok('transactions'))['transactions'] as Array<Record<string, unknown>>;
    expect(after[0]).toMatchObject({ connector: 1, transactionId: csmsId, stopReason: 'EVDisconnected' });
    expect(typeof after[0]!['stoppedAt']).toBe('string');
    expect(typeof after[0]!['energyWh']).toBe('number');
  });

  it('refuses impossible or malformed simulator steps with a reason', async () => {
    expect((await failing('simulate', { action: 'card', uid: 'not-hex' })).code).toBe('rejected');
    expect((await failing('simulate', { action: 'charge', connector: 1 })).message).toMatch(/no EV/);
    expect((await failing('simulate', { action: 'fly', connector: 1 })).code).toBe('bad_args');
    expect((await failing('simulate', { action: 'plug' })).code).toBe('bad_args');
  });

  it('is unavailable when the simulated controller is not in use', async () => {
    const dir = join(fx.dir, 'nosim');
    mkdirSync(dir);
    const host = createAgentHost({ ...fx.agent, simulator: null }, { cfg: fx.cfg, clock: { offsetMs: 0, synced: false }, logger: fx.logger });
    const server = new DiagnosticsServer({ path: join(dir, 'diag.sock'), host });
    await server.start();
    const d = await LineClient.hello(server.path);
    expect(await d.request(1, 'simulate', { action: 'plug', connector: 1 })).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    d.close();
    await server.stop();
    host.dispose();
  });
});

describe('trigger', { timeout: 60_000 }, () => {
  it('sends Heartbeat, StatusNotification and BootNotification now', async () => {
    const before = { hb: fx.csms.callsOf('Heartbeat').length, st: fx.csms.callsOf('StatusNotification').length, boot: fx.csms.callsOf('BootNotification').length };
    expect(await ok('trigger', { message: 'Heartbeat' })).toEqual({ message: 'Heartbeat', sent: true });
    expect(fx.csms.callsOf('Heartbeat').length).toBe(before.hb + 1);
    await ok('trigger', { message: 'StatusNotification', connector: 1 });
    expect(fx.csms.callsOf('StatusNotification').length).toBeGreaterThan(before.st);
    await ok('trigger', { message: 'BootNotification' });
    expect(fx.csms.callsOf('BootNotification').length).toBe(before.boot + 1);
    expect((await failing('trigger', { message: 'StatusNotification', connector: 9 })).code).toBe('bad_args');
  });
});

describe('controller passthrough', { timeout: 60_000 }, () => {
  it('sends a raw command and answers once the controller ACKed it', async () => {
    const sentBefore = fx.agent.controller.counters().framesSent;
    expect(await ok('controller', { type: 'read', fields: ['1'] })).toEqual({ type: 'READ', fields: ['1'], acked: true });
    expect(fx.agent.controller.counters().framesSent).toBeGreaterThan(sentBefore);
  });

  it('refuses unknown types and fields the codec rejects, sending nothing', async () => {
    const sentBefore = fx.agent.controller.counters().framesSent;
    expect((await failing('controller', { type: 'SELFDESTRUCT' })).code).toBe('bad_args');
    expect((await failing('controller', { type: 'READ', fields: ['1', 'x,y*'] })).code).toBe('bad_args');
    expect((await failing('controller', { type: 'READ', fields: ['one'] })).code).toBe('bad_args');
    // PINGs may have gone out meanwhile, but not more than the keep-alive would send.
    expect(fx.agent.controller.counters().framesSent - sentBefore).toBeLessThan(3);
  });

  it('reports a NAK from the controller as rejected, with its reason', async () => {
    const err = await failing('controller', { type: 'READ', fields: ['9'] });
    expect(err.code).toBe('rejected');
    expect(err.message).toMatch(/BADCONN/);
  });
});

describe('logs and log level', { timeout: 60_000 }, () => {
  it('tails the recent lines (redacted JSON) from memory', async () => {
    const r = await ok('logs', { lines: 5 });
    const lines = r['lines'] as string[];
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThanOrEqual(5);
    for (const l of lines) expect(JSON.parse(l)).toMatchObject({ level: expect.any(Number), msg: expect.any(String) });
    expect(r['following']).toBe(false);
    expect(lines).toEqual(logRingOf(fx.logger)!.tail(5).slice(-lines.length));
  });

  it('follows new lines until the client hangs up', async () => {
    const follower = await LineClient.hello(fx.socketPath);
    follower.send({ id: 1, cmd: 'logs', args: { lines: 0, follow: true } });
    expect(await follower.next()).toMatchObject({ id: 1, ok: true, result: { lines: [], following: true } });
    const ring = logRingOf(fx.logger)!;
    const followersBefore = ring.followers;
    fx.logger.warn({ marker: 'follow-me' }, 'a line to follow');
    const event = await follower.next();
    expect(event).toMatchObject({ id: 1, event: 'log' });
    expect(JSON.parse(event['line'] as string)).toMatchObject({ marker: 'follow-me', msg: 'a line to follow' });
    follower.close();
    await waitFor(() => ring.followers === followersBefore - 1, 5_000, 'follower unsubscribed');
  });

  it('log-level reads and changes the level of every module at runtime', async () => {
    expect(await ok('log-level')).toEqual({ level: 'info' });
    expect(await ok('log-level', { level: 'debug' })).toEqual({ level: 'debug', previous: 'info' });
    expect(fx.logger.level).toBe('debug');
    // Module loggers made at start (children of the root) follow the root's level.
    const before = fx.logLines.length;
    await ok('status');
    const debugFromModule = (): boolean =>
      fx.logLines.slice(before).some((l) => {
        const r = JSON.parse(l) as { level: number; module?: string };
        return r.level === 20 && r.module === 'diagnostics';
      });
    await waitFor(debugFromModule, 5_000, 'a debug line from a module logger');
    expect(await ok('log-level', { level: 'info' })).toEqual({ level: 'info', previous: 'debug' });
    expect((await failing('log-level', { level: 'chatty' })).code).toBe('bad_args');
    expect(fx.logger.level).toBe('info');
  });
});
