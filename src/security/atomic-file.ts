// Crash-safe file replacement for the certificate store and the state files: write a new file, fsync it,
// rename it over the old one, fsync the directory (launcher/durable.ts does it, for the launcher too).
// After a power loss the path holds the old or the new content, never half.
import { readdirSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fsyncDirSync, writeFileAtomicSync } from '../launcher/durable.js';

/** What every temp name written by writeFileAtomic (launcher/durable.ts's tempNameBeside) holds. */
const TMP_MARK = '.tmp-';

/** Replace `path` with `data`, created with `mode` (the temp file has it from the start: a key is never world-readable). */
export function writeFileAtomic(path: string, data: string | Buffer, mode: number): void {
  writeFileAtomicSync(path, data, mode);
}

/** Move `from` over `to` in one rename (same directory), durably. */
export function moveFileDurably(from: string, to: string): void {
  renameSync(from, to);
  fsyncDirSync(dirname(to));
}

/** Remove `path` durably; false when it did not exist. */
export function removeFileDurably(path: string): boolean {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  fsyncDirSync(dirname(path));
  return true;
}

/** Delete temp files a crash left behind in `dir`. */
export function removeLeftoverTemps(dir: string): number {
  let n = 0;
  for (const name of readdirSync(dir)) {
    if (name.startsWith('.') && name.includes(TMP_MARK)) {
      rmSync(join(dir, name), { force: true });
      n++;
    }
  }
  return n;
}
