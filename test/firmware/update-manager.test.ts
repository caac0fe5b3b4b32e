// The firmware update manager (src/firmware/update-manager.ts) over real parts: bundles made by
// the bundle code, served by a real HTTP server, downloaded by the real downloader, verified and
// installed into an install root laid out as install.sh makes it; the clock is a FakeClock (the
// retrieve time, the retry interval) and the station a small in-memory site. Checked: the status
// order, retries, truncated/corrupt/oversize downloads (nothing installed), the wait for running
// transactions with the station Inoperative, the state kept across a restart (a scheduled update,
// an install whose outcome the next release reports), RequireSignedFirmware, and signed updates
// (good signature, bad signature, certificate not under a ManufacturerRootCertificate).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FirmwareUpdateManager, type FirmwareSite, type FirmwareUpdateRequest, type FirmwareUpdateStatus } from '../../src/firmware/update-manager.js';
import { downloadFile } from '../../src/firmware/download.js';
import { verifyBundle } from '../../src/firmware/bundle.js';
import { installBundle } from '../../src/firmware/install.js';
import { signFile } from '../../src/firmware/signature.js';
import type { SecurityEventType } from '../../src/security/security-events.js';
import { createLogger } from '../../src/platform/logger.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { TempDirs } from '../helpers/temp-dirs.js';
import { TestPki, type Issued } from '../helpers/test-pki.js';
import { waitFor } from '../helpers/wait.js';
import { layOutRoot, standInBundle } from './fixtures.js';
import { serveHttp, type HttpFiles } from './file-servers.js';

const temp = new TempDirs();
const pki = new TestPki();
let http: HttpFiles;
let served: string;
let manufacturer: Issued;
let signer: Issued;
let stranger: Issued;

beforeAll(async () => {
  served = temp.make('fw-served-');
  copyFileSync(await standInBundle(temp, '1.1.0', 'healthy'), join(served, 'good.tar.gz'));
  copyFileSync(await standInBundle(temp, '1.0.0', 'healthy'), join(served, 'same.tar.gz'));
  writeFileSync(join(served, 'corrupt.tar.gz'), Buffer.alloc(4096, 0x5a));
  http = await serveHttp(served);
  manufacturer = pki.root('Manufacturer Root');
  signer = pki.issue('Firmware Signer', manufacturer);
  stranger = pki.issue('Someone Else', pki.root('Other Root'));
}, 60_000);

afterAll(async () => {
  await http.close();
  temp.removeAll();
  pki.cleanup();
});

class Site implements FirmwareSite {
  active = 0;
  availability: 'Operative' | 'Inoperative' = 'Operative';
  private listeners = new Set<() => void>();
  activeTransactions(): number {
    return this.active;
  }
  onTransactionEnded(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  stationAvailability(): 'Operative' | 'Inoperative' {
    return this.availability;
  }
  setStationAvailability(a: 'Operative' | 'Inoperative'): void {
    this.availability = a;
  }
  drainTransactionMessages(): Promise<void> {
    return Promise.resolve();
  }
  endTransaction(): void {
    this.active--;
    for (const l of this.listeners) l();
  }
}

interface Rig {
  manager: FirmwareUpdateManager;
  statuses: FirmwareUpdateStatus[];
  requestIds: Array<number | null>;
  events: SecurityEventType[];
  restarts: number;
  clock: FakeClock;
  site: Site;
  root: string;
  dataDir: string;
}

function rig(o: { root?: string; dataDir?: string; running?: string; site?: Site; clock?: FakeClock; requireSigned?: boolean; maxBytes?: number } = {}): Rig {
  const root = o.root ?? layOutRoot(temp, '1.0.0', 'healthy');
  const dataDir = o.dataDir ?? temp.make('fw-data-');
  const r: Omit<Rig, 'manager'> = { statuses: [], requestIds: [], events: [], restarts: 0, clock: o.clock ?? new FakeClock({ systemTime: Date.now() }), site: o.site ?? new Site(), root, dataDir };
  const manager = new FirmwareUpdateManager({
    dataDir,
    clock: r.clock,
    download: downloadFile,
    installer: {
      verify: async (p) => (await verifyBundle(p)).manifest.version,
      install: async (p) => (await installBundle(p, { installRoot: root })).version,
      runningVersion: () => o.running ?? '1.0.0',
    },
    site: r.site,
    status: {
      report: (status, u) => {
        r.statuses.push(status);
        r.requestIds.push(u.requestId);
        return Promise.resolve();
      },
    },
    security: { report: (type) => void r.events.push(type) },
    manufacturerRoots: () => [new X509Certificate(manufacturer.cert)],
    requireSigned: () => o.requireSigned ?? false,
    restart: () => void r.restarts++,
    log: createLogger({ level: 'silent' }),
    limits: { idleTimeoutMs: 10_000, ...(o.maxBytes !== undefined ? { maxBytes: o.maxBytes } : {}) },
  });
  return Object.assign(r, { manager });
}

const plain = (location: string, extra: Partial<FirmwareUpdateRequest> = {}): FirmwareUpdateRequest => ({
  requestId: null,
  location,
  retrieveAt: new Date(0).toISOString(),
  installAt: null,
  retries: 0,
  retryIntervalS: 30,
  signature: null,
  ...extra,
});

const releases = (root: string): string[] => readdirSync(join(root, 'releases')).sort();
const FINAL = new Set<FirmwareUpdateStatus>(['DownloadFailed', 'InstallationFailed', 'InvalidSignature', 'InstallVerificationFailed', 'Installed']);
const ended = (r: Rig): boolean => r.restarts > 0 || r.statuses.some((s) => FINAL.has(s));

describe('firmware update manager', () => {
  it('downloads, installs and restarts; the release started next reports Installed once and restores the availability', async () => {
    const r = rig();
    expect(r.manager.request(plain(http.url('good.tar.gz')))).toBe('Accepted');
    await waitFor(() => ended(r), 20_000, 'the install');
    expect(r.statuses).toEqual(['Downloading', 'Downloaded', 'Installing', 'InstallRebooting']);
    expect(r.restarts).toBe(1);
    expect(readlinkSync(join(r.root, 'current'))).toBe('releases/1.1.0');
    expect(r.site.availability).toBe('Inoperative');
    // The restart: the new release's manager over the same data dir.
    const after = rig({ root: r.root, dataDir: r.dataDir, running: '1.1.0', site: r.site });
    after.manager.resume();
    expect(after.manager.currentStatus()).toBe('InstallRebooting');
    await after.manager.registered({ version: '1.1.0', outcome: 'Installed', reason: 'healthy', at: new Date().toISOString() });
    await after.manager.registered(null);
    expect(after.statuses).toEqual(['Installed']);
    expect(after.events).toEqual(['FirmwareUpdated']);
    expect(after.site.availability).toBe('Operative');
    expect(after.manager.currentStatus()).toBe('Idle');
    expect(readdirSync(join(r.dataDir, 'firmware'))).toEqual([]);
  });

  it('the release the launcher came back to reports InstallationFailed, and the rollback as FirmwareUpdated', async () => {
    const r = rig();
    r.manager.request(plain(http.url('good.tar.gz')));
    await waitFor(() => ended(r), 20_000, 'the install');
    const back = rig({ root: r.root, dataDir: r.dataDir, running: '1.0.0', site: r.site });
    back.manager.resume();
    await back.manager.registered({ version: '1.1.0', outcome: 'InstallationFailed', reason: 'not marked healthy after 3 starts', at: new Date().toISOString() });
    expect(back.statuses).toEqual(['InstallationFailed']);
    expect(back.events).toEqual(['FirmwareUpdated']);
    expect(back.site.availability).toBe('Operative');
  });

  it('waits for the retrieve time, across a restart', async () => {
    const r = rig();
    const at = new Date(r.clock.now().getTime() + 3_600_000).toISOString();
    r.manager.request(plain(http.url('good.tar.gz'), { retrieveAt: at }));
    await waitFor(() => r.statuses.length > 0, 5_000, 'DownloadScheduled');
    r.manager.stop();
    expect(r.statuses).toEqual(['DownloadScheduled']);
    const again = rig({ root: r.root, dataDir: r.dataDir, clock: r.clock });
    again.manager.resume();
    await new Promise((res) => setTimeout(res, 200));
    expect(again.statuses).toEqual(['DownloadScheduled']);
    r.clock.advance(3_600_000);
    await waitFor(() => ended(again), 20_000, 'the install');
    expect(again.statuses).toEqual(['DownloadScheduled', 'Downloading', 'Downloaded', 'Installing', 'InstallRebooting']);
  });

  it('a new request replaces one still waiting (AcceptedCanceled); the replaced one never runs', async () => {
    const r = rig();
    const later = new Date(r.clock.now().getTime() + 600_000).toISOString();
    expect(r.manager.request(plain(http.url('corrupt.tar.gz'), { retrieveAt: later }))).toBe('Accepted');
    await waitFor(() => r.statuses.length === 1, 5_000, 'DownloadScheduled');
    expect(r.manager.request(plain(http.url('good.tar.gz')))).toBe('AcceptedCanceled');
    await waitFor(() => ended(r), 20_000, 'the install');
    r.clock.advance(600_000);
    await new Promise((res) => setTimeout(res, 200));
    expect(r.statuses).toEqual(['DownloadScheduled', 'Downloading', 'Downloaded', 'Installing', 'InstallRebooting']);
    expect(readlinkSync(join(r.root, 'current'))).toBe('releases/1.1.0');
  });

  it('a retrieve time a month ahead waits (beyond the 24.8 days one timer can wait)', async () => {
    const r = rig();
    r.manager.request(plain(http.url('good.tar.gz'), { retrieveAt: new Date(r.clock.now().getTime() + 30 * 86_400_000).toISOString() }));
    await waitFor(() => r.statuses.length > 0, 5_000, 'DownloadScheduled');
    for (let i = 0; i < 3; i++) {
      r.clock.advance(60_000);
      await new Promise((res) => setTimeout(res, 20));
    }
    await new Promise((res) => setTimeout(res, 200));
    expect(r.statuses).toEqual(['DownloadScheduled']);
    r.manager.stop();
  });

  it('retries a failed download retryInterval apart, and gives up with DownloadFailed', async () => {
    const r = rig();
    http.failNext(2);
    r.manager.request(plain(http.url('good.tar.gz'), { retries: 2, retryIntervalS: 30 }));
    for (let i = 1; i <= 2; i++) {
      await waitFor(() => r.statuses.length === i && http.requests.length > 0, 10_000, `attempt ${i}`);
      await new Promise((res) => setTimeout(res, 50));
      r.clock.advance(30_000);
    }
    await waitFor(() => ended(r), 20_000, 'the install');
    expect(r.statuses).toEqual(['Downloading', 'Downloading', 'Downloading', 'Downloaded', 'Installing', 'InstallRebooting']);

    const g = rig();
    http.failNext(10);
    g.manager.request(plain(http.url('good.tar.gz'), { retries: 1, retryIntervalS: 5 }));
    await waitFor(() => g.statuses.length === 1, 10_000, 'the first attempt');
    await new Promise((res) => setTimeout(res, 100));
    g.clock.advance(5_000);
    await waitFor(() => ended(g), 10_000, 'DownloadFailed');
    http.failNext(0);
    expect(g.statuses).toEqual(['Downloading', 'Downloading', 'DownloadFailed']);
    expect(releases(g.root)).toEqual(['1.0.0']);
  });

  it('a truncated, a corrupt or an oversize download: DownloadFailed, nothing installed, nothing left', async () => {
    for (const [name, prepare, maxBytes] of [
      ['good.tar.gz', () => http.truncateNext(), undefined],
      ['corrupt.tar.gz', () => undefined, undefined],
      ['good.tar.gz', () => undefined, 1000],
      ['missing.tar.gz', () => undefined, undefined],
    ] as const) {
      const r = rig(maxBytes !== undefined ? { maxBytes } : {});
      prepare();
      r.manager.request(plain(http.url(name)));
      await waitFor(() => ended(r), 10_000, `${name} to fail`);
      expect(r.statuses, name).toEqual(['Downloading', 'DownloadFailed']);
      expect(releases(r.root)).toEqual(['1.0.0']);
      expect(readlinkSync(join(r.root, 'current'))).toBe('releases/1.0.0');
      expect(readdirSync(join(r.dataDir, 'firmware'))).toEqual([]);
      expect(r.site.availability).toBe('Operative');
    }
  });

  it('makes the station Inoperative and installs only once the running transaction ended', async () => {
    const r = rig();
    r.site.active = 1;
    r.manager.request(plain(http.url('good.tar.gz')));
    await waitFor(() => r.statuses.includes('InstallScheduled'), 20_000, 'the wait');
    expect(r.statuses).toEqual(['Downloading', 'Downloaded', 'InstallScheduled']);
    expect(r.site.availability).toBe('Inoperative');
    await new Promise((res) => setTimeout(res, 200));
    expect(r.restarts).toBe(0);
    expect(r.manager.currentStatus()).toBe('InstallScheduled');
    r.site.endTransaction();
    await waitFor(() => ended(r), 20_000, 'the install');
    expect(r.statuses.slice(3)).toEqual(['Installing', 'InstallRebooting']);
  });

  it('an availability asked for while the update holds the station is kept, across the restart, and applies at the end', async () => {
    const r = rig();
    expect(r.manager.holdAvailability('Inoperative')).toBe(false); // nothing holds the station: it applies now
    r.site.active = 1;
    r.manager.request(plain(http.url('good.tar.gz')));
    await waitFor(() => r.statuses.includes('InstallScheduled'), 20_000, 'the wait');
    expect(r.manager.holdAvailability('Inoperative')).toBe(true);
    expect(r.site.availability).toBe('Inoperative');
    r.site.endTransaction();
    await waitFor(() => ended(r), 20_000, 'the install');
    const after = rig({ root: r.root, dataDir: r.dataDir, running: '1.1.0', site: r.site });
    after.manager.resume();
    expect(after.manager.holdAvailability('Operative')).toBe(true);
    expect(after.manager.holdAvailability('Inoperative')).toBe(true);
    await after.manager.registered({ version: '1.1.0', outcome: 'Installed', reason: 'healthy', at: new Date().toISOString() });
    expect(after.statuses).toEqual(['Installed']);
    expect(after.site.availability).toBe('Inoperative');
    expect(after.manager.holdAvailability('Operative')).toBe(false);
  });

  it('a transaction that started while the last one\'s messages went out is waited for too', async () => {
    class BusySite extends Site {
      drains = 0;
      override drainTransactionMessages(): Promise<void> {
        // The CSMS made the station operative again and a session began meanwhile.
        if (this.drains++ === 0) this.active = 1;
        return Promise.resolve();
      }
    }
    const site = new BusySite();
    const r = rig({ site });
    r.manager.request(plain(http.url('good.tar.gz')));
    await waitFor(() => r.statuses.includes('InstallScheduled'), 20_000, 'the wait');
    await new Promise((res) => setTimeout(res, 200));
    expect(r.restarts).toBe(0);
    expect(r.statuses).toEqual(['Downloading', 'Downloaded', 'InstallScheduled']);
    site.endTransaction();
    await waitFor(() => ended(r), 20_000, 'the install');
    expect(site.drains).toBe(2);
  });

  it('a restart while it waits for a transaction: the next start waits on, then installs', async () => {
    const r = rig();
    r.site.active = 1;
    r.manager.request(plain(http.url('good.tar.gz')));
    await waitFor(() => r.statuses.includes('InstallScheduled'), 20_000, 'the wait');
    r.manager.stop();
    // The agent restarts; the station recovered the transaction, still Inoperative.
    const again = rig({ root: r.root, dataDir: r.dataDir, site: r.site, clock: r.clock });
    again.manager.resume();
    await new Promise((res) => setTimeout(res, 200));
    expect(again.manager.currentStatus()).toBe('InstallScheduled');
    expect(again.restarts).toBe(0);
    r.site.endTransaction();
    await waitFor(() => ended(again), 20_000, 'the install');
    expect(again.statuses).toEqual(['Installing', 'InstallRebooting']);
    expect(readlinkSync(join(r.root, 'current'))).toBe('releases/1.1.0');
    // The availability to restore is the one from before the update, not the Inoperative it set.
    const after = rig({ root: r.root, dataDir: r.dataDir, running: '1.1.0', site: r.site });
    after.manager.resume();
    await after.manager.registered({ version: '1.1.0', outcome: 'Installed', reason: 'healthy', at: new Date().toISOString() });
    expect(r.site.availability).toBe('Operative');
  });

  it('an install that is refused: InstallationFailed, the availability restored', async () => {
    const r = rig();
    r.site.availability = 'Inoperative';
    r.manager.request(plain(http.url('same.tar.gz')));
    await waitFor(() => ended(r), 20_000, 'the refusal');
    expect(r.statuses).toEqual(['Downloading', 'Downloaded', 'Installing', 'InstallationFailed']);
    expect(r.site.availability).toBe('Inoperative');
    expect(r.restarts).toBe(0);
  });

  it('RequireSignedFirmware: a plain update is refused with a security event, nothing downloaded', async () => {
    const r = rig({ requireSigned: true });
    const before = http.requests.length;
    expect(r.manager.request(plain(http.url('good.tar.gz')))).toBe('Rejected');
    expect(r.events).toEqual(['InvalidFirmwareSignature']);
    await new Promise((res) => setTimeout(res, 100));
    expect(r.statuses).toEqual([]);
    expect(http.requests.length).toBe(before);
  });

  it('signed: a good signature installs; a bad one is InvalidSignature; a foreign certificate InvalidCertificate', async () => {
    const signature = await signFile(join(served, 'good.tar.gz'), signer.key);
    const signed = (sig: string, cert = signer.cert): FirmwareUpdateRequest =>
      plain(http.url('good.tar.gz'), { requestId: 42, signature: { certificatePem: cert, signatureBase64: sig } });

    const good = rig({ requireSigned: true });
    expect(good.manager.request(signed(signature))).toBe('Accepted');
    await waitFor(() => ended(good), 20_000, 'the install');
    expect(good.statuses).toEqual(['Downloading', 'Downloaded', 'SignatureVerified', 'Installing', 'InstallRebooting']);
    expect(new Set(good.requestIds)).toEqual(new Set([42]));
    expect(good.manager.triggerStatus()).toEqual({ status: 'InstallRebooting', signed: true, requestId: 42 });
    // The new release reports Installed; a trigger then gets Idle (the whitepaper: Idle after Installed).
    const next = rig({ root: good.root, dataDir: good.dataDir, running: '1.1.0', site: good.site });
    next.manager.resume();
    await next.manager.registered({ version: '1.1.0', outcome: 'Installed', reason: 'healthy', at: new Date().toISOString() });
    expect(next.manager.triggerStatus()).toEqual({ status: 'Idle', signed: true, requestId: null });

    const bad = rig();
    const other = await signFile(join(served, 'corrupt.tar.gz'), signer.key);
    expect(bad.manager.request(signed(other))).toBe('Accepted');
    await waitFor(() => ended(bad), 20_000, 'the refusal');
    expect(bad.statuses).toEqual(['Downloading', 'Downloaded', 'InvalidSignature']);
    // Ended other than Installed: a trigger gets that last status with its requestId.
    expect(bad.manager.triggerStatus()).toEqual({ status: 'InvalidSignature', signed: true, requestId: 42 });
    expect(bad.events).toEqual(['InvalidFirmwareSignature']);
    expect(releases(bad.root)).toEqual(['1.0.0']);
    expect(readdirSync(join(bad.dataDir, 'firmware'))).toEqual([]);

    const foreign = rig();
    expect(foreign.manager.request(signed(await signFile(join(served, 'good.tar.gz'), stranger.key), stranger.cert))).toBe('InvalidCertificate');
    expect(foreign.events).toEqual(['InvalidFirmwareSigningCertificate']);
    expect(foreign.statuses).toEqual([]);
  });
});
