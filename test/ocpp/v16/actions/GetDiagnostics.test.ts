// OCPP 1.6 §5.9 GetDiagnostics (actions/GetDiagnostics.ts) on the real agent against the strict
// DevCsms, uploading to a real FTP server (pyftpdlib) and a real HTTP server: the answer names
// the file, DiagnosticsStatusNotification says Uploading then Uploaded / UploadFailed in that
// order, the archive holds the log lines of startTime..stopTime and no secret, a failed attempt
// is retried, a bad location gets no file name and UploadFailed, TriggerMessage tells
// Uploading while an upload runs and Idle after, and a final status that falls due while the
// CSMS is unreachable is sent once the charger is Accepted again.
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useAgentFixture } from '../../../helpers/action-fixture.js';
import type { Harness } from '../../../helpers/agent-harness.js';
import { TempDirs } from '../../../helpers/temp-dirs.js';
import { waitFor } from '../../../helpers/wait.js';
import { UploadServers, untar } from '../../../helpers/upload-servers.js';

const fx = useAgentFixture();
const dirs = new TempDirs();
const servers = new UploadServers(dirs);
afterEach(async () => {
  await servers.stopAll();
  dirs.removeAll();
});

const FTP_PASSWORD = 'ftp-Diag-5521';
const AUTH_KEY = 'fedcba9876543210fedcba9876543210';

function statuses(h: Harness, mark: number): string[] {
  return h.callsSince(mark, 'DiagnosticsStatusNotification').map((c) => String(c.params.status));
}

const waitStatuses = (h: Harness, mark: number, want: string[]): Promise<void> =>
  waitFor(() => statuses(h, mark).length >= want.length, 20_000, `DiagnosticsStatusNotification ${want.join(', ')}`);

describe('GetDiagnostics (OCPP 1.6 §5.9)', () => {
  it('FTP: answers the file name, Uploading then Uploaded; the archive holds the window and no secret', async () => {
    const server = await servers.ftp('diag', FTP_PASSWORD);
    const h = await fx.start({ agentLogger: true, ocppConfig: { AuthorizationKey: AUTH_KEY } });
    const from = new Date(Date.now() + 1);
    await new Promise((r) => setTimeout(r, 5));
    const m0 = h.mark();
    expect(await h.call('TriggerMessage', { requestedMessage: 'BootNotification' })).toEqual({ status: 'Accepted' });
    await h.waitCalls(m0, 'BootNotification');
    await waitFor(() => h.logs.some((l) => l.msg === 'BootNotification answered' && Number(l['time']) >= from.getTime()), 10_000, 'a line in the window');
    await new Promise((r) => setTimeout(r, 5));
    const to = new Date();

    const m = h.mark();
    const answer = await h.call('GetDiagnostics', { location: `ftp://diag:${FTP_PASSWORD}@127.0.0.1:${server.port}/`, startTime: from.toISOString(), stopTime: to.toISOString() });
    expect(answer.fileName).toMatch(new RegExp(`^diagnostics-${h.cpId}-\\d{8}T\\d{6}Z\\.tar\\.gz$`));
    await waitStatuses(h, m, ['Uploading', 'Uploaded']);
    expect(statuses(h, m)).toEqual(['Uploading', 'Uploaded']);

    const stem = answer.fileName!.replace('.tar.gz', '');
    const files = untar(readFileSync(join(server.dir, answer.fileName!)), join(dirs.make('ca-untar-'), 'x'));
    const lines = files.get(`${stem}/agent.log`)!.trim().split('\n').map((l) => JSON.parse(l) as { time: number; msg: string });
    expect(lines.map((l) => l.msg)).toContain('BootNotification answered');
    expect(lines.every((l) => l.time >= from.getTime() && l.time <= to.getTime())).toBe(true);
    expect(h.logs.some((l) => Number(l['time']) < from.getTime())).toBe(true); // start-up lines existed, left out
    const everything = [...files.values()].join('\n');
    expect(everything).not.toContain(AUTH_KEY);
    expect(everything).not.toContain(FTP_PASSWORD);
    expect(JSON.parse(files.get(`${stem}/identity.json`)!)).toMatchObject({
      serialNumber: 'SN0042',
      connectorCount: h.agent.station.evseIds().length,
      controller: { serialNumber: h.agent.controller.info!.serialNumber },
    });
    expect(JSON.stringify(h.logs)).not.toContain(FTP_PASSWORD);
    expect(h.csms.strictFailures).toEqual([]);
  });

  it('HTTP: a refused first attempt is retried after retryInterval; the statuses stay Uploading, Uploaded', async () => {
    const server = await servers.http([503, 200]);
    const h = await fx.start();
    const m = h.mark();
    const answer = await h.call('GetDiagnostics', { location: `${server.url}/upload`, retries: 2, retryInterval: 1 });
    await waitStatuses(h, m, ['Uploading', 'Uploaded']);
    expect(statuses(h, m)).toEqual(['Uploading', 'Uploaded']);
    expect(server.received.map((r) => r.fileName)).toEqual([answer.fileName, answer.fileName]);
    expect(h.csms.strictFailures).toEqual([]);
  });

  it('a server that keeps refusing: UploadFailed after the retries', async () => {
    const server = await servers.http([500]);
    const h = await fx.start();
    const m = h.mark();
    await h.call('GetDiagnostics', { location: server.url, retries: 1, retryInterval: 1 });
    await waitStatuses(h, m, ['Uploading', 'UploadFailed']);
    expect(statuses(h, m)).toEqual(['Uploading', 'UploadFailed']);
    expect(server.received).toHaveLength(2);
  });

  it('an unsupported location: no file name, UploadFailed, the agent carries on', async () => {
    const h = await fx.start();
    const m = h.mark();
    expect(await h.call('GetDiagnostics', { location: 'sftp://user:pw@host/dir' })).toEqual({});
    await waitStatuses(h, m, ['UploadFailed']);
    expect(statuses(h, m)).toEqual(['UploadFailed']);
    expect(await h.call('TriggerMessage', { requestedMessage: 'Heartbeat' })).toEqual({ status: 'Accepted' });
    expect(h.csms.strictFailures).toEqual([]);
  });

  it('TriggerMessage: Uploading while an upload runs, Idle once it ended', async () => {
    const stalled = await servers.stalled();
    const h = await fx.start();
    const m = h.mark();
    await h.call('GetDiagnostics', { location: stalled.url, retries: 0 });
    await waitFor(() => stalled.requests() === 1, 20_000, 'the upload to reach the server');
    await h.call('TriggerMessage', { requestedMessage: 'DiagnosticsStatusNotification' });
    await waitStatuses(h, m, ['Uploading', 'Uploading']);
    stalled.dropConnections(); // the upload fails
    await waitStatuses(h, m, ['Uploading', 'Uploading', 'UploadFailed']);
    await h.call('TriggerMessage', { requestedMessage: 'DiagnosticsStatusNotification' });
    await waitStatuses(h, m, ['Uploading', 'Uploading', 'UploadFailed', 'Idle']);
    expect(statuses(h, m)).toEqual(['Uploading', 'Uploading', 'UploadFailed', 'Idle']);
    expect(h.csms.strictFailures).toEqual([]);
  });

  it('the final status, due while the CSMS is unreachable, is sent after the next accepted BootNotification', async () => {
    const server = await servers.http([500, 200]);
    const h = await fx.start();
    const m = h.mark();
    await h.call('GetDiagnostics', { location: `${server.url}/upload`, retries: 1, retryInterval: 5 });
    await waitStatuses(h, m, ['Uploading']);
    await waitFor(() => server.received.length === 1, 20_000, 'the refused first attempt');
    await h.csms.stop();
    await waitFor(() => !h.agent.csms.isConnected, 20_000, 'the agent to see the CSMS gone');
    await waitFor(() => server.received.length === 2, 20_000, 'the second attempt');
    await waitFor(() => h.logs.some((l) => l['action'] === 'DiagnosticsStatusNotification' && l['status'] === 'Uploaded'), 20_000, 'Uploaded to fall due');
    await h.csms.start();
    await waitStatuses(h, m, ['Uploading', 'Uploaded']);
    expect(statuses(h, m)).toEqual(['Uploading', 'Uploaded']);
    expect(h.csms.strictFailures).toEqual([]);
  }, 60_000);
});
