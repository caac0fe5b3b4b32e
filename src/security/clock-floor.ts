// The time certificate checks use: never earlier than the release's build date. A charger may boot
// with its RTC at 1970 (flat battery) before NTP or the CSMS set the time; OpenSSL's own checks use
// the system time, so without this floor every certificate would look not yet valid.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Lower bound kept in the source for runs without a build (tests from src/): the date of this code. */
export const SOURCE_FLOOR = new Date('2026-12-01T00:00:00Z');

let cached: Date | undefined;

/** dist/build-info.json, written by scripts/build-info.mjs after tsc (dist/src/security -> dist). */
function readBuildDate(): Date | undefined {
  try {
    const file = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'build-info.json');
    const info = JSON.parse(readFileSync(file, 'utf8')) as { buildDate?: unknown };
    const d = typeof info.buildDate === 'string' ? new Date(info.buildDate) : undefined;
    return d !== undefined && Number.isFinite(d.getTime()) ? d : undefined;
  } catch {
    return undefined;
  }
}

/** The release's build date (at least SOURCE_FLOOR). */
export function buildDate(): Date {
  if (cached === undefined) {
    const built = readBuildDate();
    cached = built !== undefined && built > SOURCE_FLOOR ? built : SOURCE_FLOOR;
  }
  return cached;
}

/** max(now, floor): the time to validate certificates at. */
export function flooredNow(now: Date = new Date(), floor: Date = buildDate()): Date {
  return now.getTime() < floor.getTime() ? floor : now;
}
