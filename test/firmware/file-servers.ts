// Real servers for firmware downloads in tests: an HTTP server (node:http) over a directory that
// can fail the next requests, cut a body short, or redirect; and an anonymous read-only FTP server
// (pyftpdlib, run with Debian's python3) over a directory.
import { createReadStream, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { startFtpServer } from '../helpers/upload-servers.js';

export interface HttpFiles {
  url(name: string): string;
  /** The next `n` requests get HTTP 503. */
  failNext(n: number): void;
  /** The next request for a file sends its full Content-Length but only half the body, then closes. */
  truncateNext(): void;
  requests: string[];
  close(): Promise<void>;
}

export async function serveHttp(dir: string): Promise<HttpFiles> {
  let failing = 0;
  let truncate = false;
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '/').split('?')[0]!.slice(1));
    requests.push(name);
    if (name.startsWith('redirect/')) {
      res.writeHead(302, { location: `/${name.slice('redirect/'.length)}` }).end();
      return;
    }
    if (failing > 0) {
      failing--;
      res.writeHead(503).end();
      return;
    }
    let size: number;
    try {
      size = statSync(join(dir, name)).size;
    } catch {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-length': size, 'content-type': 'application/gzip' });
    if (truncate) {
      truncate = false;
      createReadStream(join(dir, name), { end: Math.floor(size / 2) })
        .on('end', () => res.destroy())
        .pipe(res, { end: false });
      return;
    }
    createReadStream(join(dir, name)).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: (name) => `http://127.0.0.1:${port}/${name}`,
    failNext: (n) => void (failing = n),
    truncateNext: () => void (truncate = true),
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

export interface FtpFiles {
  url(name: string): string;
  close(): Promise<void>;
}

/** pyftpdlib, anonymous and read-only, on a free port of 127.0.0.1. */
export async function serveFtp(dir: string): Promise<FtpFiles> {
  const server = await startFtpServer(dir);
  return {
    url: (name) => `ftp://127.0.0.1:${server.port}/${name}`,
    close: () => server.stop(),
  };
}
