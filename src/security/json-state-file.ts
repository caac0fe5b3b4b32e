// A small JSON state file kept across restarts and replaced atomically (atomic-file.ts): a reader
// sees the old state or the new, never half, so content that does not parse or validate is damage.
// The owner decides what damage means (ignore it, log it, remove it) and how the content is validated.
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { removeFileDurably, writeFileAtomic } from './atomic-file.js';

export type JsonStateRead<T> = { kind: 'absent' } | { kind: 'damaged' } | { kind: 'ok'; value: T };

export interface JsonStateFileOptions {
  /** The file's mode (0600 where it may hold a secret). */
  mode: number;
  /** Create the file's directory with this mode on write; by default it must exist. */
  dirMode?: number;
}

export class JsonStateFile<T> {
  constructor(
    readonly path: string,
    private readonly opts: JsonStateFileOptions,
  ) {}

  /** The state through `validate` (null, or a throw, for content it refuses); absent when there is no readable file. */
  read(validate: (raw: unknown) => T | null): JsonStateRead<T> {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch {
      return { kind: 'absent' };
    }
    try {
      const value = validate(JSON.parse(text));
      if (value !== null) return { kind: 'ok', value };
    } catch {
      // not JSON, or not the expected shape: damage, below
    }
    return { kind: 'damaged' };
  }

  write(value: T): void {
    if (this.opts.dirMode !== undefined) mkdirSync(dirname(this.path), { recursive: true, mode: this.opts.dirMode });
    writeFileAtomic(this.path, `${JSON.stringify(value)}\n`, this.opts.mode);
  }

  /** Remove the file durably; false when there was none. */
  remove(): boolean {
    return removeFileDurably(this.path);
  }
}
