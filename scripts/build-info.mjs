// Writes <dist>/build-info.json with the release's build date, the floor under every certificate
// validity check (src/security/clock-floor.ts): a board booting with its clock at 1970 must not
// treat certificates as not-yet-valid, nor trust a time earlier than its own software.
// Deterministic: SOURCE_DATE_EPOCH, else the HEAD commit time, else now (a tree without git).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = resolve(process.argv[2] ?? join(root, 'dist'));

function buildSeconds() {
  const fromEnv = Number(process.env.SOURCE_DATE_EPOCH);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  try {
    return Number(execFileSync('git', ['log', '-1', '--format=%ct'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    return Math.floor(Date.now() / 1000);
  }
}

const buildDate = new Date(buildSeconds() * 1000).toISOString();
mkdirSync(dist, { recursive: true });
writeFileSync(join(dist, 'build-info.json'), `${JSON.stringify({ buildDate })}\n`);
