// Downloading a firmware file from the location the CSMS gives: http, https or ftp, streamed to
// `<dest>.part` with a size bound (the bytes never sit in memory), fsync'd, then renamed to
// `dest`, so `dest` is a whole download or absent. A short body (the server or the link died),
// a refused status, a timeout or a file over the bound throw a DownloadError with the reason.
import { closeSync, createWriteStream, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { dirname } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { Client as FtpClient } from 'basic-ftp';
import { fsyncDirSync } from '../launcher/durable.js';

export interface DownloadOptions {
  /** Largest file accepted. */
  maxBytes: number;
  /** No byte for this long (or no connection) ends the attempt. */
  idleTimeoutMs: number;
  /** The CAs an https location must chain to; Node's own when absent. */
  ca?: (string | Buffer)[];
}

/** Fetches `location` into `dest` (whole or absent); resolves with the size. */
export type Downloader = (location: string, dest: string, opts: DownloadOptions) => Promise<number>;

export class DownloadError extends Error {
  override name = 'DownloadError';
}

const MAX_REDIRECTS = 5;

/** Counts the bytes going by and fails the stream once they pass `max`. */
class ByteBound extends Transform {
  bytes = 0;
  constructor(private readonly max: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.max) done(new DownloadError(`the file is over the ${this.max}-byte limit`));
    else done(null, chunk);
  }
}

function fsyncFile(path: string): void {
  const fd = openSync(path, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function open(url: URL, idleTimeoutMs: number, ca: (string | Buffer)[] | undefined): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const options = { timeout: idleTimeoutMs, headers: { 'user-agent': 'charger-agent' } };
    const req = url.protocol === 'https:' ? httpsGet(url, ca ? { ...options, ca } : options, resolve) : httpGet(url, options, resolve);
    req.on('timeout', () => req.destroy(new DownloadError(`no answer from ${url.host} within ${idleTimeoutMs / 1000} s`)));
    req.on('error', (err) => reject(err instanceof DownloadError ? err : new DownloadError(`${url.host}: ${err.message}`)));
  });
}

async function httpDownload(location: URL, part: string, opts: DownloadOptions): Promise<number> {
  let url = location;
  for (let hop = 0; ; hop++) {
    const res = await open(url, opts.idleTimeoutMs, opts.ca);
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && res.headers.location !== undefined) {
      res.resume();
      if (hop >= MAX_REDIRECTS) throw new DownloadError(`more than ${MAX_REDIRECTS} redirects`);
      url = new URL(res.headers.location, url);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new DownloadError(`redirected to an unsupported ${url.protocol} location`);
      continue;
    }
    if (status !== 200) {
      res.resume();
      throw new DownloadError(`${url.host} answered HTTP ${status}`);
    }
    const length = res.headers['content-length'] === undefined ? null : Number(res.headers['content-length']);
    if (length !== null && length > opts.maxBytes) {
      res.destroy();
      throw new DownloadError(`the file is ${length} bytes, over the ${opts.maxBytes}-byte limit`);
    }
    res.setTimeout(opts.idleTimeoutMs, () => res.destroy(new DownloadError(`the download stalled for ${opts.idleTimeoutMs / 1000} s`)));
    const bound = new ByteBound(opts.maxBytes);
    try {
      await pipeline(res, bound, createWriteStream(part));
    } catch (err) {
      throw err instanceof DownloadError ? err : new DownloadError(`the download broke off after ${bound.bytes} bytes: ${(err as Error).message}`);
    }
    if (length !== null && bound.bytes !== length) throw new DownloadError(`the download broke off: ${bound.bytes} of ${length} bytes`);
    return bound.bytes;
  }
}

async function ftpDownload(location: URL, part: string, opts: DownloadOptions): Promise<number> {
  const client = new FtpClient(opts.idleTimeoutMs);
  let out: ReturnType<typeof createWriteStream> | null = null;
  try {
    await client.access({
      host: location.hostname,
      port: location.port === '' ? 21 : Number(location.port),
      user: location.username === '' ? 'anonymous' : decodeURIComponent(location.username),
      password: location.password === '' ? 'anonymous@' : decodeURIComponent(location.password),
      secure: false,
    });
    const path = decodeURIComponent(location.pathname);
    const size = await client.size(path).catch(() => null);
    if (size !== null && size > opts.maxBytes) throw new DownloadError(`the file is ${size} bytes, over the ${opts.maxBytes}-byte limit`);
    const bound = new ByteBound(opts.maxBytes);
    out = createWriteStream(part);
    bound.pipe(out);
    const written = finished(out);
    written.catch(() => undefined); // awaited below; a failed transfer is reported by downloadTo
    // basic-ftp ends `bound` when the transfer is over (or failed).
    await client.downloadTo(bound, path);
    await written;
    if (size !== null && bound.bytes !== size) throw new DownloadError(`the download broke off: ${bound.bytes} of ${size} bytes`);
    return bound.bytes;
  } catch (err) {
    // The write stream opens its file asynchronously: close it before the caller removes the
    // part file, or the file would appear again after its removal.
    const stream = out;
    if (stream !== null && !stream.closed) await new Promise<void>((resolve) => stream.once('close', () => resolve()).destroy());
    throw err instanceof DownloadError ? err : new DownloadError(`ftp ${location.host}: ${(err as Error).message}`);
  } finally {
    client.close();
  }
}

/** The real downloader: http, https and ftp. */
export const downloadFile: Downloader = async (location, dest, opts) => {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    throw new DownloadError(`${JSON.stringify(location)} is not a URL`);
  }
  const part = `${dest}.part`;
  rmSync(part, { force: true });
  try {
    let bytes: number;
    if (url.protocol === 'http:' || url.protocol === 'https:') bytes = await httpDownload(url, part, opts);
    else if (url.protocol === 'ftp:') bytes = await ftpDownload(url, part, opts);
    else throw new DownloadError(`${url.protocol.replace(/:$/, '')} locations are not supported (http, https, ftp)`);
    fsyncFile(part);
    renameSync(part, dest);
    fsyncDirSync(dirname(dest));
    return bytes;
  } catch (err) {
    rmSync(part, { force: true });
    throw err instanceof DownloadError ? err : new DownloadError((err as Error).message);
  }
};
