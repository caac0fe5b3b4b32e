// OCPP 1.6 §5.19 UpdateFirmware on the real agent (simulated controller, DevCsms in strict mode),
// the file served by a real HTTP server. Without the launcher there is no install root, so a good
// bundle gets as far as Installing and fails there (the install itself: test/e2e/firmware-update).
// Checked: the statuses in the specification's order, the station Unavailable while installing and
// Available again, a corrupt file is DownloadFailed, a TriggerMessage gets the current status
// (Idle when none runs), statuses kept while offline go out after the next registration,
// RequireSignedFirmware makes the agent ignore it, a ChangeAvailability of the station while the
// update holds it Inoperative is Scheduled and applies after the update.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCharging, useAgentFixture } from '../../../helpers/action-fixture.js';
import { TempDirs } from '../../../helpers/temp-dirs.js';
import { waitFor } from '../../../helpers/wait.js';
import { standInBundle } from '../../../firmware/fixtures.js';
import { serveHttp, type HttpFiles } from '../../../firmware/file-servers.js';

const fx = useAgentFixture();
const temp = new TempDirs();
let http: HttpFiles;

beforeAll(async () => {
  const served = temp.make('fw-served-');
  copyFileSync(await standInBundle(temp, '9.9.9', 'healthy'), join(served, 'good.tar.gz'));
  writeFileSync(join(served, 'corrupt.tar.gz'), 'not a bundle');
  http = await serveHttp(served);
});

afterAll(async () => {
  await http.close();
  temp.removeAll();
});

const statuses = (h: { csms: { callsOf(a: string): Array<{ params: Record<string, unknown> }> } }): string[] =>
  h.csms.callsOf('FirmwareStatusNotification').map((c) => String(c.params['status']));

describe('UpdateFirmware (OCPP 1.6 §5.19)', () => {
  it('a good bundle without a launcher: Downloading, Downloaded, Installing, InstallationFailed; the station comes back', async () => {
    const h = await fx.start();
    const m = h.mark();
    expect(await h.call('UpdateFirmware', { location: http.url('good.tar.gz'), retrieveDate: new Date().toISOString(), retries: 0 })).toEqual({});
    await waitFor(() => statuses(h).includes('InstallationFailed'), 20_000, 'InstallationFailed');
    expect(statuses(h)).toEqual(['Downloading', 'Downloaded', 'Installing', 'InstallationFailed']);
    // Free connectors went Unavailable for the install, and come back.
    expect(h.statusesSince(m, 1)).toContain('Unavailable');
    await h.waitStatus(1, 'Available');
    expect(h.agent.station.availability({ scope: 'station' })).toBe('Operative');
    expect(h.csms.strictFailures).toEqual([]);
  });

  it('a corrupt file: Downloading, DownloadFailed; a TriggerMessage then gets Idle', async () => {
    const h = await fx.start();
    await h.call('UpdateFirmware', { location: http.url('corrupt.tar.gz'), retrieveDate: new Date().toISOString(), retries: 0 });
    await waitFor(() => statuses(h).includes('DownloadFailed'), 20_000, 'DownloadFailed');
    expect(statuses(h)).toEqual(['Downloading', 'DownloadFailed']);
    const m = h.mark();
    await h.call('TriggerMessage', { requestedMessage: 'FirmwareStatusNotification' });
    const [sent] = await h.waitCalls(m, 'FirmwareStatusNotification');
    expect(sent!.params).toEqual({ status: 'Idle' });
    expect(h.csms.strictFailures).toEqual([]);
  });

  it('while downloads are retried, a TriggerMessage gets Downloading', async () => {
    const h = await fx.start();
    await h.call('UpdateFirmware', { location: 'http://127.0.0.1:9/none.tar.gz', retrieveDate: new Date().toISOString(), retries: 5, retryInterval: 3600 });
    await waitFor(() => statuses(h).length === 1, 20_000, 'Downloading');
    const m = h.mark();
    await h.call('TriggerMessage', { requestedMessage: 'FirmwareStatusNotification' });
    const [sent] = await h.waitCalls(m, 'FirmwareStatusNotification');
    expect(sent!.params).toEqual({ status: 'Downloading' });
  });

  it('statuses that could not be sent go out, in order, after the next accepted BootNotification', async () => {
    const h = await fx.start();
    await h.call('UpdateFirmware', { location: 'http://127.0.0.1:9/none.tar.gz', retrieveDate: new Date().toISOString(), retries: 1, retryInterval: 2 });
    await waitFor(() => statuses(h).length === 1, 20_000, 'Downloading');
    await h.csms.stop();
    // The update ends (its state file goes) while the CSMS is away.
    await waitFor(() => !existsSync(join(h.dataDir, 'firmware/update.json')), 20_000, 'the update to give up');
    const boots = h.csms.callsOf('BootNotification').length;
    await h.csms.start();
    await waitFor(() => statuses(h).length === 3, 30_000, 'the kept statuses');
    expect(statuses(h)).toEqual(['Downloading', 'Downloading', 'DownloadFailed']);
    expect(h.csms.callsOf('BootNotification').length).toBeGreaterThan(boots);
  }, 60_000);

  it('a station ChangeAvailability while the update holds it is Scheduled; the last one asked for applies after', async () => {
    const h = await fx.start();
    const transactionId = await startCharging(h);
    await h.call('UpdateFirmware', { location: http.url('good.tar.gz'), retrieveDate: new Date().toISOString(), retries: 0 });
    // Downloaded, then waiting for the transaction with the station Inoperative.
    await waitFor(() => h.agent.station.availability({ scope: 'station' }) === 'Inoperative', 20_000, 'the update to hold the station');
    expect(statuses(h)).toEqual(['Downloading', 'Downloaded']);
    expect(await h.call('ChangeAvailability', { connectorId: 0, type: 'Operative' })).toEqual({ status: 'Scheduled' });
    expect(await h.call('ChangeAvailability', { connectorId: 0, type: 'Inoperative' })).toEqual({ status: 'Scheduled' });
    // Still held: no new transaction may start before the install.
    expect(h.agent.station.availability({ scope: 'station' })).toBe('Inoperative');
    expect(await h.call('RemoteStopTransaction', { transactionId })).toEqual({ status: 'Accepted' });
    await waitFor(() => statuses(h).includes('InstallationFailed'), 20_000, 'InstallationFailed');
    // Before the update the station was Operative; the CSMS asked for Inoperative last.
    expect(h.agent.station.availability({ scope: 'station' })).toBe('Inoperative');
    expect(await h.call('ChangeAvailability', { connectorId: 0, type: 'Operative' })).toEqual({ status: 'Accepted' });
    expect(h.csms.strictFailures).toEqual([]);
  }, 60_000);

  it('RequireSignedFirmware: ignored, nothing downloaded', async () => {
    const h = await fx.start({ ocppConfig: { RequireSignedFirmware: 'true' } });
    const before = http.requests.length;
    expect(await h.call('UpdateFirmware', { location: http.url('good.tar.gz'), retrieveDate: new Date().toISOString() })).toEqual({});
    await new Promise((r) => setTimeout(r, 500));
    expect(http.requests.length).toBe(before);
    expect(statuses(h)).toEqual([]);
  });
});
