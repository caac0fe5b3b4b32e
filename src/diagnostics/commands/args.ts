// Argument checks shared by the diagnostics commands: each failure is one DiagError('bad_args')
// naming the argument, so a wrong request gets an answer instead of an exception.
import { DiagError, type JsonObject } from '../protocol.js';

/** Unknown arguments are an error, so a typo does not pass silently. */
export function onlyArgs(cmd: string, args: JsonObject, allowed: readonly string[]): void {
  for (const key of Object.keys(args)) {
    if (!allowed.includes(key)) {
      const expected = allowed.length === 0 ? 'no arguments' : `one of ${allowed.join(', ')}`;
      throw new DiagError('bad_args', `${cmd}: unknown argument "${key}" (expected ${expected})`);
    }
  }
}

export function requireString(cmd: string, args: JsonObject, name: string, maxLength = 256): string {
  const v = args[name];
  if (typeof v !== 'string' || v.length === 0) throw new DiagError('bad_args', `${cmd}: "${name}" must be a non-empty string`);
  if (v.length > maxLength) throw new DiagError('bad_args', `${cmd}: "${name}" is longer than ${maxLength} characters`);
  return v;
}

/** A string that may be empty (OCPP values such as an empty CSL list). */
export function requireText(cmd: string, args: JsonObject, name: string, maxLength = 1000): string {
  const v = args[name];
  if (typeof v !== 'string') throw new DiagError('bad_args', `${cmd}: "${name}" must be a string`);
  if (v.length > maxLength) throw new DiagError('bad_args', `${cmd}: "${name}" is longer than ${maxLength} characters`);
  return v;
}

export function optionalInt(cmd: string, args: JsonObject, name: string, min: number, max: number): number | undefined {
  const v = args[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new DiagError('bad_args', `${cmd}: "${name}" must be an integer from ${min} to ${max}`);
  }
  return v;
}

export function requireInt(cmd: string, args: JsonObject, name: string, min: number, max: number): number {
  const v = optionalInt(cmd, args, name, min, max);
  if (v === undefined) throw new DiagError('bad_args', `${cmd}: "${name}" is required (an integer from ${min} to ${max})`);
  return v;
}

export function optionalBoolean(cmd: string, args: JsonObject, name: string): boolean | undefined {
  const v = args[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new DiagError('bad_args', `${cmd}: "${name}" must be true or false`);
  return v;
}

export function optionalStringList(cmd: string, args: JsonObject, name: string, maxItems: number, maxLength = 256): string[] {
  const v = args[name];
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.length > maxItems || !v.every((s) => typeof s === 'string' && s.length > 0 && s.length <= maxLength)) {
    throw new DiagError('bad_args', `${cmd}: "${name}" must be a list of at most ${maxItems} non-empty strings`);
  }
  return v as string[];
}

export function oneOf<T extends string>(cmd: string, args: JsonObject, name: string, allowed: readonly T[]): T {
  const v = args[name];
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new DiagError('bad_args', `${cmd}: "${name}" must be one of ${allowed.join(', ')}`);
  }
  return v as T;
}
