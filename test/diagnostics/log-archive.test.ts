// The diagnostics / log archive (GetDiagnostics, GetLog): built from the real parts (a logger
// with its ring, a real SQLite file, the OCPP configuration store) and opened with the
// system's tar. Secrets never in it; log lines only from the requested window; the security
// log through its reader port (an in-memory one here, honouring the range like the real one).
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { createLogger, logRingOf, REDACTED, redactOcppPayload, stripUrlCredentials } from '../../src/platform/logger.js';
import { parseAgentConfig } from '../../src/config/agent-config.js';
import { ConfigurationStore } from '../../src/ocpp/v16/configuration-store.js';
import { SqliteConfigurationRepo } from '../../src/store/configuration-repo.js';
import { summarizeDatabase } from '../../src/store/database-summary.js';
import { buildLogArchive, linesInWindow, redactConfig, type ArchiveSources } from '../../src/diagnostics/log-archive.js';
import { archiveSources } from '../../src/composition/diagnostics-upload-service.js';
import type { SecurityLogEntry, SecurityLogReader } from '../../src/security/security-events.js';
import { TempDatabases } from '../helpers/temp-agent-db.js';
import { TempDirs } from '../helpers/temp-dirs.js';
import { SystemClock } from '../../src/platform/clock.js';
import { untar } from '../helpers/upload-servers.js';

const dbs = new TempDatabases();
const dirs = new TempDirs();
afterEach(() => {
  dbs.cleanup();
  dirs.removeAll();
});

const AUTH_KEY = '0123456789abcdef0123456789abcdef';
const BASIC_PASSWORD = 'basic-password-42';

/** An in-memory SecurityLogReader: the port's contract (inclusive range, oldest first). */
function memorySecurityLog(entries: SecurityLogEntry[]): SecurityLogReader {
  return {
    entries: (range) => entries.filter((e) => (range?.fromMs === undefined || e.atMs >= range.fromMs) && (range?.toMs === undefined || e.atMs <= range.toMs)),
  };
}

function realParts(securityLog?: SecurityLogReader) {
  const { db, dir } = dbs.open();
  const config = new ConfigurationStore(new SqliteConfigurationRepo(db));
  expect(config.change('AuthorizationKey', AUTH_KEY).result).toBe('Accepted');
  const cfg = parseAgentConfig({
    chargePointId: 'CP-ARCH-1',
    csms: { url: 'ws://csms.example.com/ocpp', securityProfile: 1, basicAuthPassword: BASIC_PASSWORD },
    controller: { simulated: true },
    dataDir: dir,
    diagnosticsSocket: join(dir, 'diag.sock'),
    identity: { vendor: 'Acme', model: 'AC22', serialNumber: 'SN0042', firmwareVersion: '1.2.3' },
  });
  const lines: string[] = [];
  const log = createLogger({ level: 'info', destination: { write: (s: string) => void lines.push(s) } });
  const parts = {
    database: db,
    config,
    messenger: { queueDepth: 3 },
    station: { evseIds: () => [1, 2] },
    controller: { info: { protocolVersion: 1, firmwareVersion: 'ctl-4.5', connectorCount: 2, serialNumber: 'CTL-77', capabilities: [], uptimeSeconds: 5 } },
    clock: new SystemClock(),
    ...(securityLog ? { securityLog } : {}),
  };
  return { db, cfg, log, ring: logRingOf(log)!, sources: archiveSources(cfg, parts, log) };
}

async function open(sources: ArchiveSources, kind: 'diagnostics' | 'security', window = {}): Promise<Map<string, string>> {
  const built = await buildLogArchive({ kind, window, fileName: 'diag-test.tar.gz', createdAt: new Date('2026-01-02T03:04:05Z') }, sources);
  expect(built.data.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b])); // gzip
  return untar(built.data, join(dirs.make('ca-arch-'), 'out'));
}

const at = (iso: string): number => Date.parse(iso);
const line = (iso: string, msg: string, extra: Record<string, unknown> = {}): string => JSON.stringify({ level: 30, time: at(iso), module: 'test', msg, ...extra });

describe('diagnostics archive', () => {
  it('holds the log lines of the window, the configuration without secrets, the database summary and the identity', async () => {
    const { sources, ring, log } = realParts();
    // Through pino: the password field is redacted before the ring sees the line.
    log.info({ password: BASIC_PASSWORD, authorizationKey: AUTH_KEY }, 'connecting');
    const before = ring.size;
    ring.push(line('2026-01-01T09:59:59Z', 'too early'));
    ring.push(line('2026-01-01T10:00:00Z', 'first in window'));
    ring.push(line('2026-01-01T10:30:00Z', `upload to ftp://user:${BASIC_PASSWORD}@host/x`));
    ring.push(line('2026-01-01T11:00:00Z', 'last in window'));
    ring.push(line('2026-01-01T11:00:01Z', 'too late'));
    ring.push('not json at all');
    expect(ring.size).toBe(before + 6);

    const files = await open(sources, 'diagnostics', { fromMs: at('2026-01-01T10:00:00Z'), toMs: at('2026-01-01T11:00:00Z') });
    expect([...files.keys()].sort()).toEqual(['diag-test/agent.log', 'diag-test/config.json', 'diag-test/database.json', 'diag-test/identity.json', 'diag-test/manifest.json']);
    const everything = [...files.values()].join('\n');
    expect(everything).not.toContain(AUTH_KEY);
    expect(everything).not.toContain(BASIC_PASSWORD);

    const logLines = files.get('diag-test/agent.log')!.trim().split('\n').map((l) => JSON.parse(l) as { msg: string });
    expect(logLines.map((l) => l.msg)).toEqual(['first in window', `upload to ftp://${REDACTED}@host/x`, 'last in window']);

    const config = JSON.parse(files.get('diag-test/config.json')!) as { agent: { csms: Record<string, unknown>; chargePointId: string }; ocpp: { key: string; value?: string }[] };
    expect(config.agent.chargePointId).toBe('CP-ARCH-1');
    expect(config.agent.csms['basicAuthPassword']).toBe(REDACTED);
    expect(config.ocpp.find((k) => k.key === 'HeartbeatInterval')?.value).toMatch(/^\d+$/);
    expect(config.ocpp.find((k) => k.key === 'AuthorizationKey')?.value ?? REDACTED).toBe(REDACTED);

    const database = JSON.parse(files.get('diag-test/database.json')!) as { outboxDepth: number; schemaVersion: number; tables: Record<string, number>; migrationsApplied: unknown[]; fileBytes: number };
    expect(database.outboxDepth).toBe(3);
    expect(database.tables['configuration']).toBeGreaterThanOrEqual(1);
    expect(database.migrationsApplied).toHaveLength(database.schemaVersion);
    expect(database.fileBytes).toBeGreaterThan(0);

    expect(JSON.parse(files.get('diag-test/identity.json')!)).toEqual({
      firmwareVersion: '1.2.3',
      serialNumber: 'SN0042',
      controller: { firmwareVersion: 'ctl-4.5', serialNumber: 'CTL-77', protocolVersion: 1 },
      connectorCount: 2,
    });
    expect(JSON.parse(files.get('diag-test/manifest.json')!)).toMatchObject({ kind: 'DiagnosticsLog', logLines: 3, window: { from: '2026-01-01T10:00:00.000Z', to: '2026-01-01T11:00:00.000Z' } });
  });

  it('without a window: every line of the ring, the redacted pino line included', async () => {
    const { sources, log } = realParts();
    log.info({ password: BASIC_PASSWORD }, 'hello');
    const files = await open(sources, 'diagnostics');
    const text = files.get('diag-test/agent.log')!;
    expect(text).toContain('"msg":"hello"');
    expect(text).toContain(`"password":"${REDACTED}"`);
    expect(text).not.toContain(BASIC_PASSWORD);
  });

  it('a secret value in a free-text log message is scrubbed by value', async () => {
    const { sources, log } = realParts();
    log.warn({}, `someone typed the key ${AUTH_KEY} into a message`);
    const files = await open(sources, 'diagnostics');
    expect(files.get('diag-test/agent.log')).toContain(`the key ${REDACTED} into`);
    expect([...files.values()].join('')).not.toContain(AUTH_KEY);
  });

  it('the window is in the agent\'s (CSMS-corrected) time: a log line\'s system time is shifted by the clock offset', async () => {
    const { sources, ring } = realParts();
    ring.push(line('1970-01-01T00:00:10Z', 'logged before the sync, by a board clock at 1970'));
    ring.push(line('1970-01-01T00:00:20Z', 'later'));
    const offset = at('2026-01-01T10:00:00Z') - at('1970-01-01T00:00:00Z');
    const files = await open({ ...sources, logTimeOffsetMs: () => offset }, 'diagnostics', { fromMs: at('2026-01-01T10:00:15Z') });
    expect(files.get('diag-test/agent.log')).toContain('"msg":"later"');
    expect(files.get('diag-test/agent.log')).not.toContain('by a board clock');
  });

  it('a source that fails costs only its own file', async () => {
    const { sources } = realParts();
    const broken: ArchiveSources = { ...sources, databaseSummary: () => { throw new Error('disk I/O error'); } };
    const files = await open(broken, 'diagnostics');
    expect(JSON.parse(files.get('diag-test/database.json')!)).toEqual({ outboxDepth: 3, error: 'the database could not be read: disk I/O error' });
    expect(files.has('diag-test/identity.json')).toBe(true);
  });
});

describe('security log archive', () => {
  const entries: SecurityLogEntry[] = [
    { seq: 1, atMs: at('2026-01-01T08:00:00Z'), type: 'StartupOfTheDevice', techInfo: null },
    { seq: 2, atMs: at('2026-01-01T09:00:00Z'), type: 'InvalidCentralSystemCertificate', techInfo: 'self-signed' },
    { seq: 3, atMs: at('2026-01-01T10:00:00Z'), type: 'SettingSystemTime', techInfo: null },
  ];

  it('holds the security events of the window through the reader port, and no configuration', async () => {
    const { sources } = realParts(memorySecurityLog(entries));
    const files = await open(sources, 'security', { fromMs: at('2026-01-01T08:30:00Z') });
    expect([...files.keys()].sort()).toEqual(['diag-test/identity.json', 'diag-test/manifest.json', 'diag-test/security-log.jsonl']);
    const events = files.get('diag-test/security-log.jsonl')!.trim().split('\n').map((l) => JSON.parse(l) as unknown);
    expect(events).toEqual([
      { seq: 2, time: '2026-01-01T09:00:00.000Z', type: 'InvalidCentralSystemCertificate', techInfo: 'self-signed' },
      { seq: 3, time: '2026-01-01T10:00:00.000Z', type: 'SettingSystemTime', techInfo: null },
    ]);
    expect(JSON.parse(files.get('diag-test/manifest.json')!)).toMatchObject({ kind: 'SecurityLog', securityEvents: 2 });
  });

  it('the empty reader wired until the durable log exists gives an empty, valid archive', async () => {
    const { sources } = realParts();
    const files = await open(sources, 'security');
    expect(files.get('diag-test/security-log.jsonl')).toBe('');
  });
});

describe('redaction helpers', () => {
  it('strip user:password from URLs anywhere in a text', () => {
    expect(stripUrlCredentials('to ftp://u:p@h:21/d and https://x@y/z, not mail a@b')).toBe(`to ftp://${REDACTED}@h:21/d and https://${REDACTED}@y/z, not mail a@b`);
  });

  it('OCPP payloads in the frame log lose the credentials of their locations', () => {
    expect(redactOcppPayload('GetDiagnostics', { location: 'ftp://diag:pw-1@h/d/', retries: 1 })).toEqual({ location: `ftp://${REDACTED}@h/d/`, retries: 1 });
    expect(redactOcppPayload('GetLog', { requestId: 1, logType: 'SecurityLog', log: { remoteLocation: 'https://u:p@h/up' } })).toEqual({ requestId: 1, logType: 'SecurityLog', log: { remoteLocation: `https://${REDACTED}@h/up` } });
  });

  it('replace secret-named fields at any depth, case-insensitively', () => {
    expect(redactConfig({ csms: { BasicAuthPassword: 'x', url: 'wss://a:b@h/' }, list: [{ privateKey: 'k' }], none: null })).toEqual({
      csms: { BasicAuthPassword: REDACTED, url: `wss://${REDACTED}@h/` },
      list: [{ privateKey: REDACTED }],
      none: null,
    });
  });

  it('lines outside the window, or without a time, are left out only when there is a window', () => {
    const lines = [line('2026-01-01T10:00:00Z', 'a'), 'garbage', JSON.stringify({ time: '2026-01-01T12:00:00Z', msg: 'iso' })];
    expect(linesInWindow(lines, {})).toEqual(lines);
    expect(linesInWindow(lines, { fromMs: at('2026-01-01T11:00:00Z') })).toEqual([lines[2]]);
  });

  it('the database summary counts rows of a real file', () => {
    const { db } = dbs.open();
    const s = summarizeDatabase(db);
    expect(s.schemaVersion).toBeGreaterThanOrEqual(7);
    expect(Object.keys(s.tables)).toContain('configuration');
    expect(Object.values(s.tables).every((n) => Number.isInteger(n) && n >= 0)).toBe(true);
  });
});
