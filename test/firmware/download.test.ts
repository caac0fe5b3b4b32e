// The firmware downloader (src/firmware/download.ts) against real servers: HTTP (with a redirect,
// an error status, a body cut short, a file over the bound) and FTP (pyftpdlib: a whole file, one
// over the bound, a missing one). The destination is a whole file or absent, never a part.
// https trusts csms.caFile and the installed CentralSystemRootCertificates (firmwareCas).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DownloadError, downloadFile } from '../../src/firmware/download.js';
import { createServer } from 'node:https';
import { firmwareCas } from '../../src/composition/firmware-manager.js';
import { CertificateStore } from '../../src/security/certificate-store.js';
import { createLogger } from '../../src/platform/logger.js';
import { TempDirs } from '../helpers/temp-dirs.js';
import { TestPki } from '../helpers/test-pki.js';
import { serveFtp, serveHttp, type FtpFiles, type HttpFiles } from './file-servers.js';

const temp = new TempDirs();
const data = randomBytes(300_000);
let http: HttpFiles;
let ftp: FtpFiles;

beforeAll(async () => {
  const dir = temp.make('fw-files-');
  writeFileSync(join(dir, 'fw.bin'), data);
  http = await serveHttp(dir);
  ftp = await serveFtp(dir);
});

afterAll(async () => {
  await http.close();
  await ftp.close();
  temp.removeAll();
});

const opts = { maxBytes: 1_000_000, idleTimeoutMs: 10_000 };

async function refused(location: string, o = opts): Promise<{ message: string; left: string[] }> {
  const dir = temp.make('fw-dest-');
  const err = await downloadFile(location, join(dir, 'out'), o).then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(DownloadError);
  return { message: (err as Error).message, left: readdirSync(dir) };
}

describe('firmware download', () => {
  it('http and ftp: the whole file, through a redirect too', async () => {
    for (const location of [http.url('fw.bin'), http.url('redirect/fw.bin'), ftp.url('fw.bin')]) {
      const dest = join(temp.make('fw-dest-'), 'out');
      expect(await downloadFile(location, dest, opts)).toBe(data.length);
      expect(readFileSync(dest).equals(data)).toBe(true);
      expect(existsSync(`${dest}.part`)).toBe(false);
    }
  });

  it('refusals name the reason and leave nothing behind', async () => {
    http.truncateNext();
    expect(await refused(http.url('fw.bin'))).toEqual({ message: expect.stringMatching(/broke off/) as string, left: [] });
    expect(await refused(http.url('missing.bin'))).toEqual({ message: expect.stringMatching(/HTTP 404/) as string, left: [] });
    expect(await refused(http.url('fw.bin'), { ...opts, maxBytes: 1000 })).toEqual({ message: expect.stringMatching(/over the 1000-byte limit/) as string, left: [] });
    expect(await refused(ftp.url('fw.bin'), { ...opts, maxBytes: 1000 })).toEqual({ message: expect.stringMatching(/over the 1000-byte limit/) as string, left: [] });
    expect((await refused(ftp.url('missing.bin'))).left).toEqual([]);
    expect((await refused('file:///etc/passwd')).message).toMatch(/file locations are not supported/);
    expect((await refused('not a url')).message).toMatch(/is not a URL/);
    expect((await refused('http://127.0.0.1:9/x')).message).toMatch(/127\.0\.0\.1:9/);
  });

  it('https: a server whose certificate no trusted CA issued is refused', async () => {
    const pki = new TestPki();
    const leaf = pki.server(pki.root('Unknown CA'));
    const server = createServer({ cert: leaf.cert, key: leaf.key }, (_req, res) => res.end('x'));
    try {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const port = (server.address() as { port: number }).port;
      expect((await refused(`https://127.0.0.1:${port}/fw.bin`)).message).toMatch(/certificate/);
    } finally {
      server.close();
      pki.cleanup();
    }
  });

  it('https: trusted through csms.caFile or an installed CentralSystemRootCertificate', async () => {
    const pki = new TestPki();
    const csmsCa = pki.root('CSMS CA');
    const storeCa = pki.root('Store CA');
    const log = createLogger({ level: 'silent' });
    const emptyStore = new CertificateStore({ dataDir: temp.make('fw-certs-') });
    const store = new CertificateStore({ dataDir: temp.make('fw-certs-') });
    expect(store.install('CentralSystemRootCertificate', storeCa.cert)).toEqual({ status: 'Accepted' });
    const servers = [csmsCa, storeCa].map((ca) => {
      const leaf = pki.server(ca);
      return createServer({ cert: leaf.cert, key: leaf.key }, (_req, res) => res.end(data));
    });
    try {
      const urls: string[] = [];
      for (const server of servers) {
        await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
        urls.push(`https://127.0.0.1:${(server.address() as { port: number }).port}/fw.bin`);
      }
      const [viaCaFile, viaStore] = urls as [string, string];
      const fetched = async (location: string, ca: (string | Buffer)[]): Promise<boolean> => {
        const dest = join(temp.make('fw-dest-'), 'out');
        await downloadFile(location, dest, { ...opts, ca });
        return readFileSync(dest).equals(data);
      };
      expect(await fetched(viaCaFile, firmwareCas(csmsCa.certPath, emptyStore, log))).toBe(true);
      expect(await fetched(viaStore, firmwareCas(null, store, log))).toBe(true);
      // Each trust is its own: the store's root does not vouch for the caFile's server.
      await expect(fetched(viaCaFile, firmwareCas(null, store, log))).rejects.toThrow(/certificate/);
      // An unreadable caFile is logged and skipped; the rest still applies.
      expect(await fetched(viaStore, firmwareCas('/nonexistent/ca.pem', store, log))).toBe(true);
    } finally {
      for (const server of servers) server.close();
      pki.cleanup();
    }
  });
});
