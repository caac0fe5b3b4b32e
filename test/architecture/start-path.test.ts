// What start-up loads (docs/benchmarks.md, "Start-up on a slow board"): the ES modules reached
// from dist/src/main.js through static imports, each costing start-up time on a slow board. The
// code no BootNotification needs (uploads, firmware updates, CSRs) is loaded on first use
// (dynamic import()), so it must stay off this graph. Runs over dist/ (built first, as the
// import rules).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DIST = join(resolve(dirname(fileURLToPath(import.meta.url)), '../..'), 'dist');

/** Static `import ... from 'x'`, `import 'x'` and `export ... from 'x'` (not `import('x')`). */
const STATIC = [/^\s*(?:import|export)\s[^;]*?\sfrom\s*['"]([^'"]+)['"]/gm, /^\s*import\s*['"]([^'"]+)['"]/gm];

/** The dist-relative files and the packages statically reachable from `entry`. */
function startGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const todo = [join(DIST, entry)];
  while (todo.length > 0) {
    const file = todo.pop()!;
    const key = relative(DIST, file).split(sep).join('/');
    if (files.has(key)) continue;
    files.add(key);
    const code = readFileSync(file, 'utf8');
    for (const re of STATIC) {
      for (const m of code.matchAll(re)) {
        const spec = m[1]!;
        if (spec.startsWith('.')) todo.push(join(dirname(file), spec));
        else if (!spec.startsWith('node:')) packages.add(spec);
      }
    }
  }
  return { files, packages };
}

describe('the start path (static imports of dist/src/main.js)', () => {
  const { files, packages } = startGraph('src/main.js');

  it('walks the real graph', () => {
    expect(existsSync(join(DIST, 'src/main.js'))).toBe(true);
    expect(files.has('src/composition/firmware.js')).toBe(true);
    expect(files.has('src/firmware/health.js')).toBe(true);
  });

  it('leaves out the diagnostics uploads, the firmware update code and the CSR code', () => {
    const late = [
      'src/composition/diagnostics-upload-service.js',
      'src/diagnostics/log-upload.js',
      'src/diagnostics/log-archive.js',
      'src/diagnostics/upload-transport.js',
      'src/store/database-summary.js',
      'src/composition/firmware-manager.js',
      'src/firmware/update-manager.js',
      'src/firmware/download.js',
      'src/firmware/bundle.js',
      'src/firmware/install.js',
      'src/firmware/signature.js',
      'src/firmware/manifest.js',
      'src/firmware/tar.js',
      'src/security/csr.js',
    ];
    expect(late.filter((f) => files.has(f))).toEqual([]);
    expect([...packages].filter((p) => p.startsWith('basic-ftp'))).toEqual([]);
  });
});
