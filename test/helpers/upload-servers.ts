// Real servers for the upload tests: pyftpdlib (Debian's python3) as a child process, and a
// node:http server that parses the multipart/form-data POST it receives. Plus `untar`, which
// opens an archive with the system's tar (an implementation independent of ours).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export async function freePort(): Promise<number> {
  const srv = createNetServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export interface FtpServer {
  port: number;
  dir: string;
  stop(): Promise<void>;
}

/** pyftpdlib on 127.0.0.1 with one user; `writable: false` makes every STOR a 550. */
export async function startFtpServer(dir: string, opts: { user: string; password: string; writable?: boolean; port?: number }): Promise<FtpServer> {
  const port = opts.port ?? (await freePort());
  const args = ['-m', 'pyftpdlib', '-i', '127.0.0.1', '-p', String(port), '-d', dir, '-u', opts.user, '-P', opts.password];
  if (opts.writable ?? true) args.push('-w');
  const child: ChildProcess = spawn('/usr/bin/python3', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pyftpdlib did not start:\n${output}`)), 15_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('starting FTP server on')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`pyftpdlib exited with ${code}:\n${output}`));
    });
  });
  return {
    port,
    dir,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export interface ReceivedUpload {
  method: string;
  url: string;
  authorization: string | undefined;
  contentType: string;
  fileName: string | null;
  fieldName: string | null;
  data: Buffer;
}

export interface HttpUploadServer {
  url: string;
  received: ReceivedUpload[];
  /** Answers each POST with the next status (the last one repeats). */
  statuses: number[];
  stop(): Promise<void>;
}

/** Parses a one-part multipart/form-data body by its boundary (enough to check what we send). */
export function parseMultipart(body: Buffer, contentType: string): { fieldName: string | null; fileName: string | null; data: Buffer } {
  const m = /boundary=([^;]+)/.exec(contentType);
  if (!m) throw new Error(`no boundary in ${contentType}`);
  const boundary = Buffer.from(`--${m[1]}`);
  const start = body.indexOf(boundary);
  const headEnd = body.indexOf('\r\n\r\n', start);
  const end = body.indexOf(Buffer.from(`\r\n--${m[1]}--`), headEnd);
  if (start !== 0 || headEnd < 0 || end < 0) throw new Error('malformed multipart body');
  const head = body.subarray(start + boundary.length, headEnd).toString();
  return {
    fieldName: /name="([^"]*)"/.exec(head)?.[1] ?? null,
    fileName: /filename="([^"]*)"/.exec(head)?.[1] ?? null,
    data: body.subarray(headEnd + 4, end),
  };
}

export async function startHttpUploadServer(statuses: number[] = [200]): Promise<HttpUploadServer> {
  const received: ReceivedUpload[] = [];
  const state = { statuses, answered: 0 };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const contentType = req.headers['content-type'] ?? '';
      const body = Buffer.concat(chunks);
      let part: { fieldName: string | null; fileName: string | null; data: Buffer } = { fieldName: null, fileName: null, data: body };
      try {
        part = parseMultipart(body, contentType);
      } catch {
        // kept raw: the test sees fileName null
      }
      received.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, contentType, ...part });
      const list = state.statuses;
      const status = list[Math.min(state.answered++, list.length - 1)] ?? 200;
      res.writeHead(status, { 'Content-Type': 'text/plain' }).end(status < 300 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    get statuses() {
      return state.statuses;
    },
    set statuses(v: number[]) {
      state.statuses = v;
    },
    stop: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

/** Unpacks a tar.gz with the system's tar into `dir`; returns file path (relative) -> text. */
export function untar(archive: Buffer, dir: string): Map<string, string> {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, '..', `${dir.split('/').at(-1)}.tar.gz`);
  writeFileSync(file, archive);
  execFileSync('tar', ['-xzf', file, '-C', dir]);
  const out = new Map<string, string>();
  const walk = (d: string, rel: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name), `${rel}${e.name}/`);
      else out.set(`${rel}${e.name}`, readFileSync(join(d, e.name), 'utf8'));
    }
  };
  walk(dir, '');
  return out;
}
