// The certificate clock floor: scripts/build-info.mjs writes the build date deterministically, and the
// compiled module reads it from dist; without a build the source floor applies.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildDate, flooredNow, SOURCE_FLOOR } from '../../src/security/clock-floor.js';
import { TempDirs } from '../helpers/temp-dirs.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const dirs = new TempDirs();
afterAll(() => dirs.removeAll());

describe('build date', () => {
  it('build-info.mjs honours SOURCE_DATE_EPOCH, else the HEAD commit time', () => {
    const out = dirs.make('build-info-');
    execFileSync(process.execPath, [join(ROOT, 'scripts/build-info.mjs'), out], { env: { ...process.env, SOURCE_DATE_EPOCH: '1893456000' } });
    expect(JSON.parse(readFileSync(join(out, 'build-info.json'), 'utf8'))).toEqual({ buildDate: '2030-01-01T00:00:00.000Z' });
    const env = { ...process.env };
    delete env['SOURCE_DATE_EPOCH'];
    execFileSync(process.execPath, [join(ROOT, 'scripts/build-info.mjs'), out], { env });
    const again = JSON.parse(readFileSync(join(out, 'build-info.json'), 'utf8')) as { buildDate: string };
    expect(Date.parse(again.buildDate)).toBeLessThanOrEqual(Date.now());
  });

  it('the compiled agent floors at dist/build-info.json (npm run build writes it)', () => {
    const info = join(ROOT, 'dist/build-info.json');
    if (!existsSync(info)) throw new Error('run `npm run build` first (npm test does)');
    const expected = JSON.parse(readFileSync(info, 'utf8')) as { buildDate: string };
    const code = "import('./dist/src/security/clock-floor.js').then((m) => process.stdout.write(m.flooredNow(new Date(0)).toISOString()))";
    const floored = execFileSync(process.execPath, ['-e', code], { cwd: ROOT, encoding: 'utf8' });
    expect(floored).toBe(new Date(Math.max(Date.parse(expected.buildDate), SOURCE_FLOOR.getTime())).toISOString());
  });

  it('from source (no build info next to it) the source floor applies; a later clock is kept', () => {
    expect(buildDate().getTime()).toBeGreaterThanOrEqual(SOURCE_FLOOR.getTime());
    expect(flooredNow(new Date(0)).getTime()).toBe(buildDate().getTime());
    const later = new Date('2100-01-01T00:00:00Z');
    expect(flooredNow(later)).toBe(later);
  });
});
