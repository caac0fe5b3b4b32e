// Diagnostics / log uploads against real servers: pyftpdlib and a node:http server reading the
// multipart POST. The archive arrives whole (opened with the system's tar); a failure then a
// success on the retry (the FakeClock makes the retry due); a server that keeps refusing gives
// the failure after the retries; bad locations are refused with a reason, never a crash; the
// location's password never appears in a log line; a stalled transfer ends at its bound; https
// trusts the CA it is given.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { LogUploads, type UploadListener, type UploadOutcome, type UploadRequest, type AttemptFailure } from '../../src/diagnostics/log-upload.js';
import type { ArchiveSources } from '../../src/diagnostics/log-archive.js';
import type { AgentLogger } from '../../src/platform/logger.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { TempDirs } from '../helpers/temp-dirs.js';
import { waitFor } from '../helpers/wait.js';
import { makeDevCerts } from '../helpers/dev-certs.js';
import { freePort, parseMultipart, startFtpServer, startHttpUploadServer, untar, type FtpServer, type HttpUploadServer } from '../helpers/upload-servers.js';

const FTP_PASSWORD = 'ftp-Pw-7731';
const HTTP_PASSWORD = 'http-Pw-9902';
const dirs = new TempDirs();
const stoppers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const s of stoppers.splice(0).reverse()) await s();
  dirs.removeAll();
});

const SOURCES: ArchiveSources = {
  logLines: () => [JSON.stringify({ level: 30, time: Date.parse('2026-01-01T10:00:00Z'), msg: 'a line' })],
  agentConfig: () => ({ chargePointId: 'CP-UP-1' }),
  ocppConfiguration: () => [{ key: 'HeartbeatInterval', readonly: false, value: '300' }],
  databaseSummary: () => ({ tables: { configuration: 1 } }),
  outboxDepth: () => 0,
  identity: () => ({ firmwareVersion: '1.0.0', serialNumber: 'SN1', controller: null, connectorCount: 1 }),
  securityLog: { entries: () => [] },
  secretValues: () => [],
};

function rig(opts: { attemptTimeoutMs?: number; ca?: string[] } = {}) {
  const clock = new FakeClock({ systemTime: Date.parse('2026-03-04T05:06:07Z') });
  const logged: string[] = [];
  const record = (obj: object, msg?: string): void => void logged.push(`${msg ?? ''} ${JSON.stringify(obj)}`);
  const log: AgentLogger = { debug: record, info: record, warn: record, error: record };
  const uploads = new LogUploads({ clock, log, sources: SOURCES, chargePointId: 'CP-UP-1', idleTimeoutMs: 10_000, ...opts });
  stoppers.push(() => uploads.stop());
  const failures: AttemptFailure[] = [];
  uploads.onAttemptFailed((f) => failures.push(f));
  return { clock, logged, uploads, failures };
}

function listen(): UploadListener & { events: string[]; outcome: UploadOutcome | null } {
  const l = {
    events: [] as string[],
    outcome: null as UploadOutcome | null,
    uploading: () => void l.events.push('Uploading'),
    finished: (o: UploadOutcome) => {
      l.events.push(o.status);
      l.outcome = o;
    },
  };
  return l;
}

async function ftp(opts: { writable?: boolean; port?: number } = {}): Promise<FtpServer> {
  const dir = dirs.make('ca-ftp-');
  const server = await startFtpServer(dir, { user: 'diag', password: FTP_PASSWORD, ...opts });
  stoppers.push(() => server.stop());
  return server;
}

async function http(statuses?: number[]): Promise<HttpUploadServer> {
  const server = await startHttpUploadServer(statuses);
  stoppers.push(() => server.stop());
  return server;
}

function start(uploads: LogUploads, req: Partial<UploadRequest> & { location: string }) {
  const l = listen();
  const result = uploads.start({ kind: 'diagnostics', window: {}, retries: 0, retryIntervalS: 60, ...req }, l);
  return { l, result };
}

const done = (l: { outcome: UploadOutcome | null }): Promise<void> => waitFor(() => l.outcome !== null, 20_000, 'the upload outcome');

describe('FTP upload (pyftpdlib)', () => {
  it('stores the archive under its file name in the location directory; the password is never logged', async () => {
    const server = await ftp();
    mkdirSync(join(server.dir, 'incoming'));
    const { uploads, logged } = rig();
    const { l, result } = start(uploads, { location: `ftp://diag:${FTP_PASSWORD}@127.0.0.1:${server.port}/incoming/` });
    expect(result).toEqual({ accepted: true, fileName: 'diagnostics-CP-UP-1-20260304T050607Z.tar.gz', canceledPrevious: false });
    expect(uploads.current()).toEqual({ kind: 'diagnostics' });
    await done(l);
    expect(l.events).toEqual(['Uploading', 'Uploaded']);
    expect(uploads.current()).toBeNull();
    const file = join(server.dir, 'incoming', 'diagnostics-CP-UP-1-20260304T050607Z.tar.gz');
    const files = untar(readFileSync(file), join(dirs.make('ca-untar-'), 'x'));
    expect(files.get('diagnostics-CP-UP-1-20260304T050607Z/agent.log')).toContain('a line');
    expect(logged.join('\n')).toContain('log uploaded');
    expect(logged.join('\n')).not.toContain(FTP_PASSWORD);
  });

  it('a wrong password or a read-only server: PermissionDenied-class failure after the retries', async () => {
    const server = await ftp({ writable: false });
    const { uploads, clock, failures, logged } = rig();
    const { l } = start(uploads, { location: `ftp://diag:${FTP_PASSWORD}@127.0.0.1:${server.port}/`, retries: 1 });
    await waitFor(() => failures.length === 1, 20_000, 'first failed attempt');
    expect(failures[0]).toMatchObject({ attempt: 1, failure: 'permission-denied', retryInMs: 60_000 });
    clock.advance(60_000);
    await done(l);
    expect(l.outcome).toMatchObject({ status: 'Failed', failure: 'permission-denied' });
    expect(failures).toHaveLength(2);
    const { l: l2 } = start(uploads, { location: `ftp://diag:wrong-${FTP_PASSWORD}@127.0.0.1:${server.port}/` });
    await done(l2);
    expect(l2.outcome).toMatchObject({ status: 'Failed', failure: 'permission-denied' });
    expect(logged.join('\n')).not.toContain(FTP_PASSWORD);
  });

  it('no server at first, one there for the retry: Uploaded', async () => {
    const port = await freePort();
    const { uploads, clock, failures } = rig();
    const { l } = start(uploads, { location: `ftp://diag:${FTP_PASSWORD}@127.0.0.1:${port}/`, retries: 2, retryIntervalS: 30 });
    await waitFor(() => failures.length === 1, 20_000, 'first failed attempt');
    expect(failures[0]).toMatchObject({ failure: 'failed', retryInMs: 30_000 });
    expect(l.events).toEqual(['Uploading']);
    const server = await ftp({ port });
    clock.advance(30_000);
    await done(l);
    expect(l.events).toEqual(['Uploading', 'Uploaded']);
    expect(existsSync(join(server.dir, 'diagnostics-CP-UP-1-20260304T050607Z.tar.gz'))).toBe(true);
  });
});

describe('HTTP upload (multipart/form-data POST)', () => {
  it('posts one part "file" with the file name, Basic credentials from the URL, the whole archive', async () => {
    const server = await http();
    const { uploads, logged } = rig();
    const { l, result } = start(uploads, { kind: 'security', location: `${server.url.replace('//', `//diag:${HTTP_PASSWORD}@`)}/logs?cp=1`, requestId: 7 });
    expect(result.accepted && result.fileName).toBe('security-log-CP-UP-1-20260304T050607Z.tar.gz');
    expect(uploads.current()).toEqual({ kind: 'security', requestId: 7 });
    await done(l);
    expect(l.events).toEqual(['Uploading', 'Uploaded']);
    const [got] = server.received;
    expect(got).toMatchObject({ method: 'POST', url: '/logs?cp=1', fieldName: 'file', fileName: 'security-log-CP-UP-1-20260304T050607Z.tar.gz' });
    expect(got!.contentType).toMatch(/^multipart\/form-data; boundary=/);
    expect(got!.authorization).toBe(`Basic ${Buffer.from(`diag:${HTTP_PASSWORD}`).toString('base64')}`);
    const files = untar(got!.data, join(dirs.make('ca-untar-'), 'x'));
    expect([...files.keys()].sort()).toEqual(['security-log-CP-UP-1-20260304T050607Z/identity.json', 'security-log-CP-UP-1-20260304T050607Z/manifest.json', 'security-log-CP-UP-1-20260304T050607Z/security-log.jsonl']);
    expect(logged.join('\n')).not.toContain(HTTP_PASSWORD);
  });

  it('503 then 200: the retry after retryInterval succeeds', async () => {
    const server = await http([503, 200]);
    const { uploads, clock, failures } = rig();
    const { l } = start(uploads, { location: `${server.url}/up`, retries: 3, retryIntervalS: 120 });
    await waitFor(() => failures.length === 1, 20_000, 'first failed attempt');
    expect(failures[0]).toMatchObject({ attempt: 1, failure: 'failed', retryInMs: 120_000, reason: 'HTTP server answered 503 Service Unavailable' });
    clock.advance(119_000);
    expect(server.received).toHaveLength(1);
    clock.advance(1_000);
    await done(l);
    expect(l.events).toEqual(['Uploading', 'Uploaded']);
    expect(server.received).toHaveLength(2);
  });

  it('a server that keeps refusing: the failure after 1 + retries attempts, classified by status', async () => {
    const cases: [number, string][] = [
      [500, 'failed'],
      [403, 'permission-denied'],
      [405, 'not-supported-by-server'],
      [400, 'bad-message'],
    ];
    for (const [status, failure] of cases) {
      const server = await http([status]);
      const { uploads, clock, failures } = rig();
      const { l } = start(uploads, { location: server.url, retries: 2, retryIntervalS: 10 });
      for (let n = 1; n <= 2; n++) {
        await waitFor(() => failures.length === n, 20_000, `failed attempt ${n}`);
        clock.advance(10_000);
      }
      await done(l);
      expect(l.outcome).toMatchObject({ status: 'Failed', failure });
      expect(server.received).toHaveLength(3);
      expect(failures.at(-1)!.retryInMs).toBeNull();
    }
  });

  it('https: trusts the CA it is given, and refuses a server signed by another', async () => {
    const certs = makeDevCerts();
    stoppers.push(() => certs.cleanup());
    const names: (string | null)[] = [];
    const server = createHttpsServer({ cert: certs.server.cert, key: certs.server.key }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        names.push(parseMultipart(Buffer.concat(chunks), req.headers['content-type'] ?? '').fileName);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    stoppers.push(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
    const location = `https://127.0.0.1:${(server.address() as AddressInfo).port}/up`;
    const trusting = rig({ ca: [certs.ca.cert] });
    const ok = start(trusting.uploads, { location });
    await done(ok.l);
    expect(ok.l.events).toEqual(['Uploading', 'Uploaded']);
    expect(names).toEqual([ok.result.accepted && ok.result.fileName]);
    const other = rig({ ca: [certs.otherCa.cert] });
    const refused = start(other.uploads, { location });
    await done(refused.l);
    expect(refused.l.outcome).toMatchObject({ status: 'Failed', failure: 'failed' });
    expect(names).toHaveLength(1);
  });

  it('nothing listening: failed, with the reason', async () => {
    const { uploads } = rig();
    const { l } = start(uploads, { location: `http://127.0.0.1:${await freePort()}/` });
    await done(l);
    expect(l.outcome).toMatchObject({ status: 'Failed', failure: 'failed' });
    expect(l.outcome!.status === 'Failed' && l.outcome!.reason).toMatch(/ECONNREFUSED/);
  });

  it('a server that never answers: the attempt ends at its time bound', async () => {
    let requests = 0;
    const stalled: Server = createServer(() => void requests++);
    await new Promise<void>((r) => stalled.listen(0, '127.0.0.1', r));
    stoppers.push(() => new Promise<void>((r) => (stalled.closeAllConnections(), stalled.close(() => r()))));
    const { uploads, clock } = rig({ attemptTimeoutMs: 90_000 });
    const { l } = start(uploads, { location: `http://127.0.0.1:${(stalled.address() as AddressInfo).port}/` });
    await waitFor(() => requests === 1, 20_000, 'the request to arrive');
    clock.advance(90_000);
    await done(l);
    expect(l.outcome).toMatchObject({ status: 'Failed', failure: 'failed', reason: 'HTTP upload aborted: no upload within 90 s' });
  });
});

describe('requests', () => {
  it('bad locations are refused with a reason, and nothing starts', () => {
    const { uploads, logged } = rig();
    for (const location of ['sftp://u:secret-pw@host/dir', 'not a url', 'file:///etc/passwd', 'http://']) {
      const { l, result } = start(uploads, { location });
      expect(result).toMatchObject({ accepted: false, failure: 'unsupported-location' });
      expect(l.events).toEqual([]);
    }
    expect(uploads.current()).toBeNull();
    expect(logged.join('\n')).not.toContain('secret-pw');
  });

  it('replaced while its archive is being built: the old upload never goes out', async () => {
    const server = await http();
    const { uploads } = rig();
    const second = listen();
    const first = listen();
    const firstUploading = first.uploading;
    // The old upload's Uploading is told just before its archive is built: replace it right then.
    first.uploading = () => {
      firstUploading();
      uploads.start({ kind: 'security', location: server.url, window: {}, retries: 0, requestId: 2 }, second);
    };
    uploads.start({ kind: 'diagnostics', location: server.url, window: {}, retries: 0 }, first);
    await done(second);
    await new Promise((r) => setTimeout(r, 100));
    expect(first.events).toEqual(['Uploading']);
    expect(server.received.map((r) => r.fileName)).toEqual([expect.stringMatching(/^security-log-/)]);
  });

  it('a new request cancels the running one, which says nothing more', async () => {
    const server = await http([503, 200]);
    const { uploads, clock, failures } = rig();
    const first = start(uploads, { location: server.url, retries: 5, retryIntervalS: 60, requestId: 1 });
    await waitFor(() => failures.length === 1, 20_000, 'first failed attempt');
    const second = start(uploads, { kind: 'security', location: server.url, requestId: 2 });
    expect(second.result).toMatchObject({ accepted: true, canceledPrevious: true });
    expect(uploads.current()).toEqual({ kind: 'security', requestId: 2 });
    await done(second.l);
    expect(second.l.events).toEqual(['Uploading', 'Uploaded']);
    clock.advance(600_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(first.l.events).toEqual(['Uploading']);
    expect(server.received).toHaveLength(2);
    expect(clock.pendingTimers()).toBe(0);
  });
});
