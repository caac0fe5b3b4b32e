// One upload of one file to the location a CSMS gave (GetDiagnostics, GetLog): FTP through
// basic-ftp (the location's path is the directory, the file keeps its own name), or HTTP(S) as
// a POST of multipart/form-data (one part "file", RFC 7578) written here over node:http(s).
// The location's user:password is used to log in and never appears in a message or a log line.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { Client, FTPError } from 'basic-ftp';
import { errorText } from '../platform/errors.js';
import { stripUrlCredentials } from '../platform/logger.js';

/** Why an upload failed, in neutral words (the OCPP modules map them to their statuses). */
export type UploadFailure =
  /** The location is not a URL, or its scheme is not ftp, http or https. */
  | 'unsupported-location'
  /** Login refused or writing not allowed (FTP 530, 550; HTTP 401, 403). */
  | 'permission-denied'
  /** The server does not do what was asked (FTP 502, 504; HTTP 405, 501). */
  | 'not-supported-by-server'
  /** The server took our request for malformed (FTP 500, 501; HTTP 400). */
  | 'bad-message'
  /** Anything else: refused or lost connection, timeout, a server error. */
  | 'failed';

export class UploadError extends Error {
  override name = 'UploadError';
  constructor(
    readonly failure: UploadFailure,
    message: string,
  ) {
    super(stripUrlCredentials(message));
  }
}

export interface UploadTarget {
  scheme: 'ftp' | 'http' | 'https';
  url: URL;
}

/** The target of a location text; throws UploadError('unsupported-location') with a clear reason. */
export function parseUploadLocation(location: string): UploadTarget {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    throw new UploadError('unsupported-location', `not a URL: ${JSON.stringify(displayLocation(location))}`);
  }
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  if (scheme !== 'ftp' && scheme !== 'http' && scheme !== 'https') {
    throw new UploadError('unsupported-location', `unsupported scheme ${JSON.stringify(scheme)}: ftp, http or https only`);
  }
  if (url.hostname === '') throw new UploadError('unsupported-location', `no host in ${displayLocation(location)}`);
  return { scheme, url };
}

/** The location fit for a log line: user:password taken out, length bounded. */
export function displayLocation(location: string): string {
  const text = stripUrlCredentials(location);
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

export interface TransferOptions {
  /** Aborts the transfer (a cancel, or the transfer's time bound). */
  signal: AbortSignal;
  /** Socket inactivity bound, ms. */
  idleTimeoutMs: number;
  /** Trusted CA certificates for https (PEM); Node's own when absent. */
  ca?: (string | Buffer)[];
}

export async function uploadFile(target: UploadTarget, fileName: string, data: Buffer, opts: TransferOptions): Promise<void> {
  if (opts.signal.aborted) throw new UploadError('failed', 'aborted');
  return target.scheme === 'ftp' ? uploadFtp(target.url, fileName, data, opts) : uploadHttp(target, fileName, data, opts);
}

// ---------------------------------------------------------------- FTP

async function uploadFtp(url: URL, fileName: string, data: Buffer, opts: TransferOptions): Promise<void> {
  const client = new Client(opts.idleTimeoutMs);
  const abort = (): void => client.close();
  opts.signal.addEventListener('abort', abort, { once: true });
  try {
    await client.access({
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port === '' ? 21 : Number(url.port),
      user: url.username === '' ? 'anonymous' : decodeURIComponent(url.username),
      password: url.password === '' ? 'anonymous@' : decodeURIComponent(url.password),
      secure: false,
    });
    const dir = decodeURIComponent(url.pathname);
    if (dir !== '' && dir !== '/') await client.cd(dir);
    await client.uploadFrom(Readable.from([data]), fileName);
  } catch (err) {
    if (opts.signal.aborted) throw new UploadError('failed', `FTP upload aborted: ${abortReason(opts.signal)}`);
    throw ftpFailure(err);
  } finally {
    opts.signal.removeEventListener('abort', abort);
    client.close();
  }
}

function ftpFailure(err: unknown): UploadError {
  if (err instanceof FTPError) {
    const text = `FTP server answered ${err.message}`;
    if ([530, 532, 534, 550, 553].includes(err.code)) return new UploadError('permission-denied', text);
    if ([502, 504].includes(err.code)) return new UploadError('not-supported-by-server', text);
    if ([500, 501].includes(err.code)) return new UploadError('bad-message', text);
    return new UploadError('failed', text);
  }
  return new UploadError('failed', `FTP: ${errorText(err)}`);
}

// ---------------------------------------------------------------- HTTP(S)

/** The most of a response body read (and dropped): a server's page must not fill memory. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/** A multipart/form-data body with one file part named "file" (RFC 7578). */
export function multipartBody(fileName: string, data: Buffer, boundary: string): Buffer {
  // A quote or line break in the name would break the header: the name is ours, but stay safe.
  const safeName = fileName.replace(/["\r\n\\]/g, '_');
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${safeName}"\r\nContent-Type: application/gzip\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'utf8'), data, Buffer.from(`\r\n--${boundary}--\r\n`, 'utf8')]);
}

function uploadHttp(target: UploadTarget, fileName: string, data: Buffer, opts: TransferOptions): Promise<void> {
  const { url } = target;
  const boundary = `charger-agent-${randomBytes(16).toString('hex')}`;
  const body = multipartBody(fileName, data, boundary);
  const headers: Record<string, string | number> = {
    'Content-Type': `multipart/form-data; boundary=${boundary}`,
    'Content-Length': body.length,
  };
  if (url.username !== '' || url.password !== '') {
    headers['Authorization'] = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
  }
  // Host, port and path given apart: the URL with its credentials is never handed to node:http.
  const options = {
    method: 'POST',
    hostname: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port === '' ? undefined : Number(url.port),
    path: `${url.pathname}${url.search}`,
    headers,
    signal: opts.signal,
    timeout: opts.idleTimeoutMs,
    ...(target.scheme === 'https' && opts.ca ? { ca: opts.ca } : {}),
  };
  return new Promise<void>((resolve, reject) => {
    const fail = (err: UploadError): void => {
      req.destroy();
      reject(err);
    };
    const onResponse = (res: IncomingMessage): void => {
      let seen = 0;
      res.on('data', (chunk: Buffer) => {
        seen += chunk.length;
        if (seen > MAX_RESPONSE_BYTES) res.destroy();
      });
      res.on('error', () => undefined);
      res.on('close', () => {
        const code = res.statusCode ?? 0;
        if (code >= 200 && code < 300) resolve();
        else reject(httpFailure(code, res.statusMessage ?? ''));
      });
    };
    const req = target.scheme === 'https' ? httpsRequest(options, onResponse) : httpRequest(options, onResponse);
    req.on('timeout', () => fail(new UploadError('failed', `HTTP: no data for ${opts.idleTimeoutMs} ms`)));
    req.on('error', (err) => {
      if (opts.signal.aborted) reject(new UploadError('failed', `HTTP upload aborted: ${abortReason(opts.signal)}`));
      else reject(new UploadError('failed', `HTTP: ${errorText(err)}`));
    });
    req.end(body);
  });
}

function httpFailure(code: number, message: string): UploadError {
  const text = `HTTP server answered ${code} ${message}`.trim();
  if (code === 401 || code === 403 || code === 407) return new UploadError('permission-denied', text);
  if (code === 405 || code === 501 || code === 505) return new UploadError('not-supported-by-server', text);
  if (code === 400 || code === 411 || code === 413 || code === 415) return new UploadError('bad-message', text);
  return new UploadError('failed', text);
}

function abortReason(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'cancelled';
}
