// The generic field checks of the installer configuration: each throws ConfigError with the one
// line for its field (dotted path, what was expected, what was given: never a secret's value).
import { isAbsolute, join } from 'node:path';

/** A bad configuration; `message` is the one line to print, `field` the dotted path when there is one. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}


export function fail(path: string, expected: string, got: unknown): never {
  const where = path === '' ? '' : `${path}: `;
  const what = got === undefined ? `required, expected ${expected}` : `expected ${expected}, got ${describe(got)}`;
  throw new ConfigError(`config error: ${where}${what}`, path === '' ? undefined : path);
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return String(value);
}

/** Absent means default; an explicit null is a wrong type (only fields documented as nullable take null). */
export function orDefault(value: unknown, fallback: unknown): unknown {
  return value === undefined ? fallback : value;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function objectAt(path: string, value: unknown): Record<string, unknown> {
  if (!isPlainObject(value)) fail(path, path === '' ? 'a JSON object' : 'an object', value);
  return value;
}

/** Typos must not pass silently: every key not in `allowed` is an error naming it. */
export function onlyKeys(path: string, obj: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(obj)) {
    if (allowed.includes(key)) continue;
    const full = path === '' ? key : `${path}.${key}`;
    const near = allowed.find((a) => a.toLowerCase() === key.toLowerCase() || editDistance(a, key) <= 2);
    const hint = near !== undefined ? `did you mean "${near}"?` : `expected one of ${allowed.join(', ')}`;
    throw new ConfigError(`config error: ${full}: unknown key (${hint})`, full);
  }
}

export function requireString(path: string, value: unknown, expected: string): string {
  if (typeof value !== 'string') fail(path, expected, value);
  return value;
}

export function nonEmpty(path: string, value: unknown, note?: string): string {
  const expected = note === undefined ? 'a non-empty string' : `a non-empty string ${note}`;
  if (typeof value !== 'string' || value === '') fail(path, expected, value);
  return value;
}

export function ciString(path: string, value: unknown, maxLength: number): string {
  const expected = `a string of 1..${maxLength} characters`;
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) {
    if (typeof value === 'string' && value.length > maxLength) {
      throw new ConfigError(`config error: ${path}: expected ${expected}, got ${value.length} characters`, path);
    }
    fail(path, expected, value);
  }
  return value;
}

export function oneOf<T extends string | number>(path: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly unknown[]).includes(value)) fail(path, `one of ${allowed.join(', ')}`, value);
  return value as T;
}

/** controller-serial.md ENABLE: 6.0..80.0 A with at most one fraction digit. */
export function currentLimit(path: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 6 && value <= 80) || Math.round(value * 10) !== value * 10) {
    fail(path, 'a current in A from 6 to 80 with at most one decimal', value);
  }
  return value;
}

export function optionalBoolean(path: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') fail(path, 'true or false', value);
  return value;
}

export function pathAt(path: string, value: unknown, baseDir: string | undefined): string {
  const text = nonEmpty(path, value);
  return baseDir === undefined || isAbsolute(text) ? text : join(baseDir, text);
}

export function optionalPath(path: string, value: unknown, baseDir: string | undefined): string | null {
  return value === undefined || value === null ? null : pathAt(path, value, baseDir);
}

export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

// ---- file helpers ----

export function readProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'file not found';
  if (code === 'EACCES' || code === 'EPERM') return 'cannot read the file (permission denied)';
  if (code === 'EISDIR') return 'is a directory, expected a JSON file';
  return `cannot read the file (${code ?? String(err)})`;
}

export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - (before.lastIndexOf('\n') + 1) + 1 };
}

class JsonStop {
  constructor(
    readonly offset: number,
    readonly problem: string,
  ) {}
}

/** Where a JSON text first goes wrong, found by a small RFC 8259 scanner (JSON.parse has already failed). */
export function locateJsonError(text: string): { offset: number; problem: string } {
  let i = 0;
  const stop = (problem: string): never => {
    throw new JsonStop(i, i >= text.length ? 'unexpected end of file' : problem);
  };
  const unexpected = (): never => stop(`unexpected ${JSON.stringify(text[i])}`);
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const str = (): void => {
    i++;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) stop('control character in a string (use \\n, \\t)');
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 6;
        else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else {
          i++;
          stop('bad escape in a string');
        }
        continue;
      }
      i++;
    }
    stop('unterminated string');
  };
  const NUMBER = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') stop(`expected a "quoted" property name, got ${JSON.stringify(text[i])}`);
        str();
        ws();
        if (text[i] !== ':') stop(`expected ':', got ${JSON.stringify(text[i])}`);
        i++;
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        stop(`expected ',' or '}', got ${JSON.stringify(text[i])}`);
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        stop(`expected ',' or ']', got ${JSON.stringify(text[i])}`);
      }
    }
    if (c === '"') return str();
    NUMBER.lastIndex = i;
    if (c !== undefined && '-0123456789'.includes(c) && NUMBER.test(text)) {
      i = NUMBER.lastIndex;
      return;
    }
    for (const literal of ['true', 'false', 'null']) {
      if (text.startsWith(literal, i)) {
        i += literal.length;
        return;
      }
    }
    unexpected();
  };
  try {
    value();
    ws();
    if (i < text.length) stop(`unexpected ${JSON.stringify(text[i])} after the end of the JSON value`);
  } catch (e) {
    if (e instanceof JsonStop) return { offset: e.offset, problem: e.problem };
    throw e;
  }
  return { offset: 0, problem: 'not valid JSON' };
}
