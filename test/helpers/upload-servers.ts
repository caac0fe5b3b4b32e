// Real servers for the upload tests: pyftpdlib (Debian's python3) as a child process, and a
// node:http server that parses the multipart/form-data POST it receives. Plus `untar`, which
// opens an archive with the system's tar (an implementation independent of ours). UploadServers
// starts them for a test and stops them after it, with an HTTP server that never answers and one
// that answers when released.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TempDirs } from './temp-dirs.js';

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

/**
 * pyftpdlib on 127.0.0.1: with one user (`writable: false` makes every STOR a 550), or anonymous and
 * read-only without one. On a free port it picks itself unless `port` is given.
 */
export async function startFtpServer(dir: string, opts: { user?: string; password?: string; writable?: boolean; port?: number } = {}): Promise<FtpServer> {
  const args = ['-m', 'pyftpdlib', '-i', '127.0.0.1', '-p', String(opts.port ?? 0), '-d', dir];
  if (opts.user !== undefined) {
    args.push('-u', opts.user, '-P', opts.password ?? '');
    if (opts.writable ?? true) args.push('-w');
  }
  const child: ChildProcess = spawn('/usr/bin/python3', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pyftpdlib did not start:\n${output}`)), 15_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const m = /starting FTP server on 127\.0\.0\.1:(\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
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

export interface StalledServer {
  url: string;
  /** Requests received (none is ever answered). */
  requests(): number;
  /** Cuts every open connection: the upload in progress fails. */
  dropConnections(): void;
}

/** An HTTP server that takes requests and never answers them (an upload that hangs). */
async function startStalledServer(): Promise<StalledServer & { stop(): Promise<void> }> {
  let requests = 0;
  const server: Server = createServer(() => void requests++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    requests: () => requests,
    dropConnections: () => server.closeAllConnections(),
    stop: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

export interface GatedServer {
  url: string;
  requests(): number;
  /** Answers the held requests, and every later one at once, with 200. */
  release(): void;
  /** Resolves once an answer went out. */
  answered: Promise<void>;
}

/** An HTTP upload server that answers 200 only when released. */
async function startGatedServer(): Promise<GatedServer & { stop(): Promise<void> }> {
  let requests = 0;
  let open = false;
  const held: Array<() => void> = [];
  let done: () => void = () => undefined;
  const answered = new Promise<void>((r) => (done = r));
  const server: Server = createServer((req, res) => {
    requests++;
    req.resume();
    req.on('end', () => {
      const answer = (): void => void res.end('ok', done);
      if (open) answer();
      else held.push(answer);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const release = (): void => {
    open = true;
    for (const answer of held.splice(0)) answer();
  };
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    requests: () => requests,
    release,
    answered,
    stop: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

/** The upload servers a test starts, each stopped by stopAll() (call it in afterEach). FTP dirs come from `dirs`. */
export class UploadServers {
  private readonly stoppers: (() => Promise<void>)[] = [];

  constructor(private readonly dirs: TempDirs) {}

  /** pyftpdlib with one user, writable unless told otherwise. */
  async ftp(user: string, password: string, writable = true): Promise<FtpServer> {
    return this.keep(await startFtpServer(this.dirs.make('ca-ftp-'), { user, password, writable }));
  }

  /** The multipart HTTP server, answering each POST with the next of `statuses`. */
  async http(statuses: number[] = [200]): Promise<HttpUploadServer> {
    return this.keep(await startHttpUploadServer(statuses));
  }

  async stalled(): Promise<StalledServer> {
    return this.keep(await startStalledServer());
  }

  async gated(): Promise<GatedServer> {
    return this.keep(await startGatedServer());
  }

  async stopAll(): Promise<void> {
    for (const stop of this.stoppers.splice(0)) await stop();
  }

  private keep<S extends { stop(): Promise<void> }>(server: S): S {
    this.stoppers.push(() => server.stop());
    return server;
  }
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
