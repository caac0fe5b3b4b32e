// Writes that survive a power cut at any instant: a file is written to a temporary name,
// fsync'd, renamed over the old one, and its directory fsync'd, so a reader sees either the
// old content or the new, never a mix; a symlink is swapped the same way (rename(2) replaces
// the link atomically). Node built-ins only: the launcher, which belongs to no release, uses it.
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, symlinkSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** A temporary name beside `path`, in the same directory (so rename stays on one filesystem). */
export function tempNameBeside(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Makes a directory's entries (created, renamed, removed names) durable. */
export function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export function writeFileAtomicSync(path: string, data: string | Buffer, mode = 0o644): void {
  const tmp = tempNameBeside(path);
  try {
    const fd = openSync(tmp, 'wx', mode);
    try {
      const buf = typeof data === 'string' ? Buffer.from(data) : data;
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDirSync(dirname(path));
}

/** Points the symlink `linkPath` at `target` atomically: a new link beside it renamed over it. */
export function swapSymlinkSync(linkPath: string, target: string): void {
  const tmp = tempNameBeside(linkPath);
  symlinkSync(target, tmp);
  try {
    renameSync(tmp, linkPath);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDirSync(dirname(linkPath));
}
