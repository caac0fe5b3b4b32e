// The package's own version, read once from package.json (found by walking up from
// this file, so it works from src/ under vitest and from dist/ when installed).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: { root: string; version: string } | null = null;

function locate(): { root: string; version: string } {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'charger-agent') return (cached = { root: dir, version: pkg.version ?? '0.0.0' });
    }
    const parent = dirname(dir);
    if (parent === dir) return (cached = { root: process.cwd(), version: '0.0.0' });
    dir = parent;
  }
}

export function packageVersion(): string {
  return locate().version;
}

/** The package root (where package.json is). */
export function packageRoot(): string {
  return locate().root;
}
