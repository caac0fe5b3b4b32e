// Security whitepaper GetLog (actions/GetLog.ts) on the real agent against the strict DevCsms:
// SecurityLog and DiagnosticsLog uploaded to real servers, LogStatusNotification with the
// requestId (Uploading, then Uploaded or the failure's status), AcceptedCanceled when a new
// request replaces a running one (which reports nothing more), Rejected for a bad location, and a
// status that falls due while the CSMS is unreachable sent once the charger is Accepted again.
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useAgentFixture } from '../../../helpers/action-fixture.js';
import { parsedFrames, type Harness } from '../../../helpers/agent-harness.js';
import { TempDirs } from '../../../helpers/temp-dirs.js';
import { waitFor } from '../../../helpers/wait.js';
import { freePort, UploadServers, untar } from '../../../helpers/upload-servers.js';

const fx = useAgentFixture();
const dirs = new TempDirs();
const servers = new UploadServers(dirs);
afterEach(async () => {
  await servers.stopAll();
  dirs.removeAll();
});

const FTP_PASSWORD = 'ftp-Log-6610';

function notes(h: Harness, mark: number): { status: string; requestId?: number }[] {
  return h.callsSince(mark, 'LogStatusNotification').map((c) => c.params as { status: string; requestId?: number });
}

const waitNotes = (h: Harness, mark: number, count: number): Promise<void> =>
  waitFor(() => notes(h, mark).length >= count, 20_000, `${count} LogStatusNotification`);

describe('GetLog (security whitepaper)', () => {
  it('SecurityLog over HTTP: Accepted with the file name, Uploading then Uploaded with the requestId', async () => {
    const server = await servers.http();
    const h = await fx.start();
    const m = h.mark();
    const answer = await h.call('GetLog', { logType: 'SecurityLog', requestId: 41, log: { remoteLocation: `${server.url}/security` } });
    expect(answer.status).toBe('Accepted');
    expect(answer.filename).toMatch(new RegExp(`^security-log-${h.cpId}-\\d{8}T\\d{6}Z\\.tar\\.gz$`));
    await waitNotes(h, m, 2);
    expect(notes(h, m)).toEqual([
      { status: 'Uploading', requestId: 41 },
      { status: 'Uploaded', requestId: 41 },
    ]);
    // The answer went out before the first notification.
    const out = parsedFrames(h, 'out');
    const answered = out.findIndex((f) => f[0] === 3 && (f[2] as { filename?: string }).filename === answer.filename);
    const firstNote = out.findIndex((f) => f[0] === 2 && f[2] === 'LogStatusNotification');
    expect(answered).toBeGreaterThanOrEqual(0);
    expect(answered).toBeLessThan(firstNote);
    const [got] = server.received;
    expect(got!.fileName).toBe(answer.filename);
    const files = untar(got!.data, join(dirs.make('ca-untar-'), 'x'));
    const stem = answer.filename!.replace('.tar.gz', '');
    // The durable security log: this start's StartupOfTheDevice is in it.
    const events = files.get(`${stem}/security-log.jsonl`)!.trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    expect(events.map((e) => e.type)).toContain('StartupOfTheDevice');
    expect(JSON.parse(files.get(`${stem}/manifest.json`)!)).toMatchObject({ kind: 'SecurityLog' });
    expect(h.csms.strictFailures).toEqual([]);
  });

  it('DiagnosticsLog over FTP, oldest..latest timestamps: the diagnostics archive', async () => {
    const server = await servers.ftp('logs', FTP_PASSWORD);
    const h = await fx.start({ agentLogger: true });
    const m = h.mark();
    const oldest = new Date(Date.now() - 3_600_000).toISOString();
    const latest = new Date(Date.now() + 3_600_000).toISOString();
    const answer = await h.call('GetLog', { logType: 'DiagnosticsLog', requestId: 5, retries: 1, retryInterval: 1, log: { remoteLocation: `ftp://logs:${FTP_PASSWORD}@127.0.0.1:${server.port}`, oldestTimestamp: oldest, latestTimestamp: latest } });
    expect(answer.status).toBe('Accepted');
    await waitNotes(h, m, 2);
    expect(notes(h, m).map((n) => n.status)).toEqual(['Uploading', 'Uploaded']);
    const files = untar(readFileSync(join(server.dir, answer.filename!)), join(dirs.make('ca-untar-'), 'x'));
    const stem = answer.filename!.replace('.tar.gz', '');
    expect(files.get(`${stem}/agent.log`)).toContain('BootNotification answered');
    expect(JSON.parse(files.get(`${stem}/manifest.json`)!)).toMatchObject({ kind: 'DiagnosticsLog', window: { from: new Date(oldest).toISOString(), to: new Date(latest).toISOString() } });
    expect(JSON.stringify(h.logs)).not.toContain(FTP_PASSWORD);
  });

  it('failures carry the whitepaper status: PermissionDenied, NotSupportedOperation, BadMessage, UploadFailure', async () => {
    const readOnly = await servers.ftp('logs', FTP_PASSWORD, false);
    const h = await fx.start();
    const cases: [string, string][] = [
      [`ftp://logs:${FTP_PASSWORD}@127.0.0.1:${readOnly.port}/`, 'PermissionDenied'],
      [(await servers.http([405])).url, 'NotSupportedOperation'],
      [(await servers.http([400])).url, 'BadMessage'],
      [`http://127.0.0.1:${await freePort()}/`, 'UploadFailure'],
    ];
    let requestId = 100;
    for (const [remoteLocation, status] of cases) {
      const m = h.mark();
      expect((await h.call('GetLog', { logType: 'SecurityLog', requestId: ++requestId, retries: 0, log: { remoteLocation } })).status).toBe('Accepted');
      await waitNotes(h, m, 2);
      expect(notes(h, m)).toEqual([
        { status: 'Uploading', requestId },
        { status, requestId },
      ]);
    }
    expect(h.csms.strictFailures).toEqual([]);
  });

  it('a new request while one runs: AcceptedCanceled, the old one reports nothing more', async () => {
    const stalled = await servers.stalled();
    const server = await servers.http();
    const h = await fx.start();
    const m = h.mark();
    expect((await h.call('GetLog', { logType: 'DiagnosticsLog', requestId: 1, retries: 0, log: { remoteLocation: stalled.url } })).status).toBe('Accepted');
    await waitFor(() => stalled.requests() === 1, 20_000, 'the first upload to reach its server');
    const second = await h.call('GetLog', { logType: 'SecurityLog', requestId: 2, log: { remoteLocation: server.url } });
    expect(second.status).toBe('AcceptedCanceled');
    expect(second.filename).toMatch(/^security-log-/);
    await waitNotes(h, m, 3);
    await new Promise((r) => setTimeout(r, 200));
    expect(notes(h, m)).toEqual([
      { status: 'Uploading', requestId: 1 },
      { status: 'Uploading', requestId: 2 },
      { status: 'Uploaded', requestId: 2 },
    ]);
    expect(h.csms.strictFailures).toEqual([]);
  });

  it('a location that cannot be used: Rejected, nothing sent, nothing cancelled', async () => {
    const stalled = await servers.stalled();
    const h = await fx.start();
    const m = h.mark();
    expect((await h.call('GetLog', { logType: 'SecurityLog', requestId: 9, log: { remoteLocation: stalled.url } })).status).toBe('Accepted');
    await waitFor(() => stalled.requests() === 1, 20_000, 'the upload to reach its server');
    for (const remoteLocation of ['gopher://example.com/x', 'no scheme here']) {
      expect(await h.call('GetLog', { logType: 'DiagnosticsLog', requestId: 10, log: { remoteLocation } })).toEqual({ status: 'Rejected' });
    }
    expect(h.agent.session.outgoing.uploads?.current()).toEqual({ kind: 'security', requestId: 9 });
    expect(notes(h, m)).toEqual([{ status: 'Uploading', requestId: 9 }]);
    expect(h.csms.strictFailures).toEqual([]);
  });

  it('a status that falls due while the CSMS is unreachable is sent once the charger is Accepted again', async () => {
    const gated = await servers.gated();
    const h = await fx.start();
    const m = h.mark();
    expect((await h.call('GetLog', { logType: 'DiagnosticsLog', requestId: 61, retries: 0, log: { remoteLocation: gated.url } })).status).toBe('Accepted');
    await waitNotes(h, m, 1);
    await waitFor(() => gated.requests() === 1, 20_000, 'the upload to reach its server');
    await h.csms.stop();
    await waitFor(() => !h.agent.csms.isConnected, 20_000, 'the agent to see the CSMS gone');
    gated.release();
    await gated.answered;
    // The agent has tried to tell the CSMS (kept now; before, dropped with a log line).
    await waitFor(() => h.logs.some((l) => l['action'] === 'LogStatusNotification' && l['status'] === 'Uploaded'), 20_000, 'Uploaded to fall due');
    const boots = h.csms.callsOf('BootNotification').length;
    await h.csms.start();
    await waitNotes(h, m, 2);
    expect(h.csms.callsOf('BootNotification').length).toBeGreaterThan(boots);
    expect(notes(h, m)).toEqual([
      { status: 'Uploading', requestId: 61 },
      { status: 'Uploaded', requestId: 61 },
    ]);
    expect(h.csms.strictFailures).toEqual([]);
  }, 60_000);
});
