// A small streaming ustar writer and reader (POSIX.1-1988 headers, pax 'x' records for long
// names), enough for firmware bundles: regular files, directories and symlinks. Both sides
// work in 512-byte blocks and never hold more than one chunk of file data in memory.
import { once } from 'node:events';
import type { Writable } from 'node:stream';

export const BLOCK = 512;

export type TarEntryType = 'file' | 'directory' | 'symlink';

export interface TarHeader {
  path: string;
  type: TarEntryType;
  /** Permission bits only (setuid/setgid/sticky are never kept). */
  mode: number;
  size: number;
  linkTarget: string;
}

/** Thrown for anything that is not a well-formed archive of the supported kinds. */
export class TarError extends Error {
  override name = 'TarError';
}

// ---------------------------------------------------------------- writer

function writeString(buf: Buffer, offset: number, length: number, value: string): void {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > length) throw new TarError(`tar field too long: ${value}`);
  bytes.copy(buf, offset);
}

function writeOctal(buf: Buffer, offset: number, length: number, value: number): void {
  const text = value.toString(8).padStart(length - 1, '0');
  if (text.length > length - 1) throw new TarError(`tar number too large: ${value}`);
  writeString(buf, offset, length, text);
}

/** Splits a path into ustar prefix (<=155 bytes) + name (<=100 bytes), or null when it cannot be. */
function splitUstarPath(path: string): { prefix: string; name: string } | null {
  if (Buffer.byteLength(path) <= 100) return { prefix: '', name: path };
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name !== '') return { prefix, name };
  }
  return null;
}

function header(path: string, typeflag: string, mode: number, size: number, linkTarget: string): Buffer {
  const buf = Buffer.alloc(BLOCK);
  const split = splitUstarPath(path) ?? { prefix: '', name: path.slice(0, 99) };
  writeString(buf, 0, 100, Buffer.from(split.name).subarray(0, 100).toString());
  writeOctal(buf, 100, 8, mode & 0o777);
  writeOctal(buf, 108, 8, 0);
  writeOctal(buf, 116, 8, 0);
  writeOctal(buf, 124, 12, size);
  writeOctal(buf, 136, 12, 0); // mtime: bundles are reproducible; extraction does not apply it
  buf.write(typeflag, 156, 'latin1');
  if (Buffer.byteLength(linkTarget) <= 100) writeString(buf, 157, 100, linkTarget);
  buf.write('ustar\0', 257, 'latin1');
  buf.write('00', 263, 'latin1');
  writeString(buf, 345, 155, split.prefix);
  buf.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of buf) sum += b;
  writeString(buf, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return buf;
}

/** One pax record: "<len> key=value\n", where len counts the whole record including itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

export class TarWriter {
  constructor(private readonly out: Writable) {}

  private async put(chunk: Buffer): Promise<void> {
    if (!this.out.write(chunk)) await once(this.out, 'drain');
  }

  private async putHeader(path: string, typeflag: string, mode: number, size: number, linkTarget = ''): Promise<void> {
    const longPath = splitUstarPath(path) === null;
    const longLink = Buffer.byteLength(linkTarget) > 100;
    if (longPath || longLink) {
      const pax = Buffer.from((longPath ? paxRecord('path', path) : '') + (longLink ? paxRecord('linkpath', linkTarget) : ''));
      await this.put(header('PaxHeader', 'x', 0o644, pax.length, ''));
      await this.putData(pax);
    }
    await this.put(header(path, typeflag, mode, size, linkTarget));
  }

  private async putData(data: Buffer): Promise<void> {
    await this.put(data);
    const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
    if (pad > 0) await this.put(Buffer.alloc(pad));
  }

  async addBuffer(path: string, data: Buffer, mode = 0o644): Promise<void> {
    await this.putHeader(path, '0', mode, data.length);
    await this.putData(data);
  }

  /** Streams `size` bytes from `chunks`; a source that yields another length is an error. */
  async addStream(path: string, size: number, mode: number, chunks: AsyncIterable<Buffer>): Promise<void> {
    await this.putHeader(path, '0', mode, size);
    let written = 0;
    for await (const chunk of chunks) {
      written += chunk.length;
      if (written > size) throw new TarError(`${path} grew while being archived`);
      await this.put(chunk);
    }
    if (written !== size) throw new TarError(`${path} shrank while being archived`);
    const pad = (BLOCK - (size % BLOCK)) % BLOCK;
    if (pad > 0) await this.put(Buffer.alloc(pad));
  }

  async addDirectory(path: string, mode = 0o755): Promise<void> {
    await this.putHeader(path.endsWith('/') ? path : `${path}/`, '5', mode, 0);
  }

  async addSymlink(path: string, target: string): Promise<void> {
    await this.putHeader(path, '2', 0o777, 0, target);
  }

  /** The two zero blocks that end an archive; the caller ends the stream. */
  async finish(): Promise<void> {
    await this.put(Buffer.alloc(BLOCK * 2));
  }
}

// ---------------------------------------------------------------- reader

/** Exact-length reads over an async byte stream, holding at most one chunk. */
export class ByteSource {
  private buf: Buffer = Buffer.alloc(0);
  private done = false;
  /** Bytes consumed so far (for error messages). */
  offset = 0;

  constructor(private readonly it: AsyncIterator<Buffer>) {}

  private async fill(): Promise<boolean> {
    if (this.done) return false;
    const next = await this.it.next();
    if (next.done) {
      this.done = true;
      return false;
    }
    this.buf = this.buf.length === 0 ? next.value : Buffer.concat([this.buf, next.value]);
    return true;
  }

  /** Exactly n bytes (n small), or null at a clean end of stream before any byte. */
  async read(n: number): Promise<Buffer | null> {
    while (this.buf.length < n) {
      if (!(await this.fill())) {
        if (this.buf.length === 0) return null;
        throw new TarError(`archive truncated at byte ${this.offset + this.buf.length}`);
      }
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    this.offset += n;
    return out;
  }

  /** Yields exactly n bytes in chunks as they arrive. */
  async *take(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.buf.length === 0 && !(await this.fill())) throw new TarError(`archive truncated at byte ${this.offset}`);
      const part = this.buf.subarray(0, Math.min(left, this.buf.length));
      this.buf = this.buf.subarray(part.length);
      this.offset += part.length;
      left -= part.length;
      yield part;
    }
  }

  async skip(n: number): Promise<void> {
    for await (const _ of this.take(n)) void _;
  }

  /**
   * True when at most `max` bytes remain, all zero (tar tools pad the last record, 10 KiB by
   * default); a bundle that keeps going is refused rather than inflated without end.
   */
  async restIsZero(max: number): Promise<boolean> {
    let seen = 0;
    for (;;) {
      seen += this.buf.length;
      if (seen > max || this.buf.some((b) => b !== 0)) return false;
      this.buf = Buffer.alloc(0);
      if (!(await this.fill())) return true;
    }
  }
}

function readString(buf: Buffer, offset: number, length: number): string {
  const field = buf.subarray(offset, offset + length);
  const nul = field.indexOf(0);
  return field.subarray(0, nul === -1 ? length : nul).toString('utf8');
}

function readOctal(buf: Buffer, offset: number, length: number, what: string): number {
  if ((buf[offset]! & 0x80) !== 0) throw new TarError(`${what} uses the base-256 form (too large for a bundle)`);
  const text = readString(buf, offset, length).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarError(`bad ${what} field ${JSON.stringify(text)}`);
  return parseInt(text, 8);
}

function parsePax(data: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    const len = space === -1 ? NaN : Number(data.subarray(pos, space).toString('latin1'));
    if (!Number.isInteger(len) || len <= 0 || pos + len > data.length) throw new TarError('corrupt pax header');
    const record = data.subarray(space + 1, pos + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq === -1) throw new TarError('corrupt pax record');
    out.set(record.slice(0, eq), record.slice(eq + 1));
    pos += len;
  }
  return out;
}

export interface ReadTarOptions {
  /** A pax header larger than this is refused (it is read into memory). */
  maxPaxBytes?: number;
}

/**
 * Reads headers from `src` one by one; for each entry `onEntry` is given the header and an
 * iterator over exactly its data (it must consume it fully). Ends at the end-of-archive blocks.
 */
export async function readTar(
  src: ByteSource,
  onEntry: (entry: TarHeader, data: AsyncGenerator<Buffer>) => Promise<void>,
  opts: ReadTarOptions = {},
): Promise<void> {
  const maxPax = opts.maxPaxBytes ?? 64 * 1024;
  let pax: Map<string, string> | null = null;
  for (;;) {
    const at = src.offset;
    const block = await src.read(BLOCK);
    if (block === null) throw new TarError('archive truncated: no end-of-archive blocks');
    if (block.every((b) => b === 0)) {
      const second = await src.read(BLOCK);
      if (second === null || !second.every((b) => b === 0)) throw new TarError('archive truncated after the first end block');
      if (!(await src.restIsZero(1024 * 1024))) throw new TarError('data after the end of the archive');
      return;
    }
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
    if (readOctal(block, 148, 8, 'checksum') !== sum) throw new TarError(`corrupt tar header at byte ${at} (checksum mismatch)`);
    const magic = block.subarray(257, 263).toString('latin1');
    if (magic !== 'ustar\0' && magic !== 'ustar ') throw new TarError(`not a ustar header at byte ${at}`);
    const typeflag = String.fromCharCode(block[156]!);
    const size = readOctal(block, 124, 12, 'size');
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (typeflag === 'x') {
      if (size > maxPax) throw new TarError(`pax header of ${size} bytes is too large`);
      const data = await src.read(padded);
      if (data === null) throw new TarError('archive truncated in a pax header');
      pax = parsePax(data.subarray(0, size));
      continue;
    }
    const prefix = readString(block, 345, 155);
    const name = readString(block, 0, 100);
    let path = pax?.get('path') ?? (prefix ? `${prefix}/${name}` : name);
    const linkTarget = pax?.get('linkpath') ?? readString(block, 157, 100);
    pax = null;
    let type: TarEntryType;
    if (typeflag === '0' || typeflag === '\0') type = 'file';
    else if (typeflag === '5') type = 'directory';
    else if (typeflag === '2') type = 'symlink';
    else if (typeflag === '1') throw new TarError(`${path}: hard links are not allowed in a bundle`);
    else throw new TarError(`${path}: entry type ${JSON.stringify(typeflag)} is not allowed in a bundle (only files, directories, symlinks)`);
    if (type !== 'file' && size !== 0) throw new TarError(`${path}: a ${type} entry with data`);
    if (type === 'directory' && path.endsWith('/')) path = path.slice(0, -1);
    const start = src.offset;
    await onEntry({ path, type, mode: readOctal(block, 100, 8, 'mode') & 0o777, size, linkTarget }, src.take(size));
    // Whatever the callback left unread is skipped, so the next header is found regardless.
    await src.skip(start + padded - src.offset);
  }
}
