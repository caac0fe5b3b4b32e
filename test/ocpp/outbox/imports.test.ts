// The outbox is version-neutral and the store implements ports it does not own: neither
// src/ocpp/outbox/ nor src/store/ may import anything from an OCPP version's module.
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = new URL('../../..', import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Every relative module a file imports (static, type-only and dynamic), resolved against the repo root. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)].map((m) => m[1]!);
  return specs.filter((s) => s.startsWith('.')).map((s) => relative(ROOT, resolve(dirname(file), s)));
}

describe('import rules of the outbox and the store', () => {
  for (const dir of ['src/ocpp/outbox', 'src/store']) {
    it(`${dir} imports no OCPP version module`, () => {
      const offending = sources(join(ROOT, dir)).flatMap((f) =>
        importsOf(f).filter((target) => /^src\/ocpp\/v\d+\//.test(target)).map((target) => `${relative(ROOT, f)} -> ${target}`),
      );
      expect(sources(join(ROOT, dir)).length).toBeGreaterThan(0);
      expect(offending).toEqual([]);
    });
  }
});
