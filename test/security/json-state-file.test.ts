// JsonStateFile on a real directory, and its two users (the firmware update state and the security
// switch record) reading back what they wrote and treating a damaged file as they always did.
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { JsonStateFile } from '../../src/security/json-state-file.js';
import { UpdateStateFile, type PersistedUpdate } from '../../src/firmware/update-state.js';
import { PendingSwitchFile } from '../../src/security/pending-switch-file.js';
import type { AgentLogger } from '../../src/platform/logger.js';
import { TempDirs } from '../helpers/temp-dirs.js';

const dirs = new TempDirs();
afterAll(() => dirs.removeAll());

const asNumber = (raw: unknown): { n: number } | null => (typeof (raw as { n?: unknown }).n === 'number' ? { n: (raw as { n: number }).n } : null);

describe('JsonStateFile', () => {
  it('reads absent, then what it wrote (mode as asked, no temp file left), then absent after remove', () => {
    const dir = dirs.make('json-state-');
    const f = new JsonStateFile<{ n: number }>(join(dir, 's.json'), { mode: 0o600 });
    expect(f.read(asNumber)).toEqual({ kind: 'absent' });
    f.write({ n: 7 });
    expect(f.read(asNumber)).toEqual({ kind: 'ok', value: { n: 7 } });
    expect(statSync(f.path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['s.json']);
    expect(f.remove()).toBe(true);
    expect(f.remove()).toBe(false);
    expect(f.read(asNumber)).toEqual({ kind: 'absent' });
  });

  it('calls not-JSON, a refused shape and a throwing validator damage', () => {
    const path = join(dirs.make('json-state-'), 's.json');
    const f = new JsonStateFile<{ n: number }>(path, { mode: 0o600 });
    for (const text of ['{"n":', '{"n":"x"}', 'null']) {
      writeFileSync(path, text);
      expect(f.read(asNumber)).toEqual({ kind: 'damaged' });
    }
  });

  it('creates its directory on write only when given a mode for it', () => {
    const dir = dirs.make('json-state-');
    expect(() => new JsonStateFile(join(dir, 'a/s.json'), { mode: 0o600 }).write({ n: 1 })).toThrow(/ENOENT/);
    new JsonStateFile(join(dir, 'b/s.json'), { mode: 0o600, dirMode: 0o700 }).write({ n: 1 });
    expect(statSync(join(dir, 'b')).mode & 0o777).toBe(0o700);
  });
});

describe('the state files built on it', () => {
  it('UpdateStateFile reads back its update, ignores a damaged file, and clear removes the state and the downloads', () => {
    const dataDir = dirs.make('update-state-');
    const file = new UpdateStateFile(dataDir);
    const state: PersistedUpdate = {
      request: { requestId: 3, location: 'ftp://x/fw', retrieveAt: '2026-01-01T00:00:00.000Z', installAt: null, retries: 1, retryIntervalS: 30, signature: null },
      phase: 'scheduled',
      status: 'DownloadScheduled',
      availabilityBefore: null,
      version: null,
      bundle: UpdateStateFile.bundleName(),
    };
    expect(file.read()).toBeNull();
    file.write(state);
    expect(file.read()).toEqual(state);
    writeFileSync(file.bundlePath(state), 'bundle');
    writeFileSync(file.path, '{"phase":"scheduled"}');
    expect(file.read()).toBeNull();
    file.clear();
    expect(readdirSync(file.dir)).toEqual([]);
  });

  it('PendingSwitchFile reads back its record, and drops a damaged one', () => {
    const path = join(dirs.make('pending-switch-'), 'security-switch.json');
    const warnings: string[] = [];
    const log: AgentLogger = { debug: () => {}, info: () => {}, warn: (_o, msg) => warnings.push(msg ?? ''), error: () => {} };
    const file = new PendingSwitchFile(path, log);
    expect(file.load()).toBeUndefined();
    file.save({ profile: 1, storedKey: 'k' });
    expect(file.load()).toEqual({ profile: 1, storedKey: 'k' });
    writeFileSync(path, '{"profile":9}');
    expect(file.load()).toBeUndefined();
    expect(existsSync(path)).toBe(false);
    expect(warnings).toEqual(['unreadable security switch record ignored']);
    file.save({ profile: 2, storedKey: '' });
    file.clear();
    expect(existsSync(path)).toBe(false);
  });
});
