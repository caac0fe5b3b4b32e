// What start-up loads (docs/benchmarks.md, "Start-up on a slow board"): the ES modules reached
// from dist/src/main.js through static imports, each costing start-up time on a slow board. The
// code no BootNotification needs (uploads, firmware updates, CSRs) is loaded on first use
// (dynamic import()), so it must stay off this graph, and off the files of the bundle that
// dist/src/cli.js is (scripts/build-start.mjs). Runs over dist/ (built first, as the import rules).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
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

/** The modules no BootNotification needs: loaded on first use. */
const LATE = [
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

describe('the start path (static imports of dist/src/main.js)', () => {
  const { files, packages } = startGraph('src/main.js');

  it('walks the real graph', () => {
    expect(existsSync(join(DIST, 'src/main.js'))).toBe(true);
    expect(files.has('src/composition/firmware.js')).toBe(true);
    expect(files.has('src/firmware/health.js')).toBe(true);
  });

  it('leaves out the diagnostics uploads, the firmware update code and the CSR code', () => {
    const late = LATE;
    expect(late.filter((f) => files.has(f))).toEqual([]);
    expect([...packages].filter((p) => p.startsWith('basic-ftp'))).toEqual([]);
  });
});

interface BundleFile {
  file: string;
  entry: boolean;
  lazy: boolean;
  modules: string[];
  imports: string[];
  dynamicImports: string[];
}

describe('the bundled start path (dist/src/cli.js and its chunks, dist/start-bundle.json)', () => {
  const { files } = JSON.parse(readFileSync(join(DIST, 'start-bundle.json'), 'utf8')) as { files: BundleFile[] };
  const byFile = new Map(files.map((f) => [f.file, f]));
  const holding = (module: string): BundleFile => {
    const found = files.find((f) => f.modules.includes(module));
    if (found === undefined) throw new Error(`${module} is in no bundle file`);
    return found;
  };
  /** What `charger-agent run` loads before BootNotification: the CLI, then the agent (main.js). */
  const startFiles = new Set<string>();
  const todo = ['src/cli.js', holding('src/main.js').file];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (startFiles.has(file)) continue;
    startFiles.add(file);
    todo.push(...byFile.get(file)!.imports);
  }
  const startModules = new Set([...startFiles].flatMap((f) => byFile.get(f)!.modules));

  it('is what dist/src holds: every listed file exists and no chunk of an earlier build lingers', () => {
    for (const f of files) expect(existsSync(join(DIST, f.file)), f.file).toBe(true);
    const onDisk = readdirSync(join(DIST, 'src')).filter((n) => n.startsWith('chunk-') && n.endsWith('.js'));
    expect(onDisk.map((n) => `src/${n}`).sort()).toEqual(files.filter((f) => f.file !== 'src/cli.js').map((f) => f.file).sort());
  });

  it('starts the agent from a handful of files holding the whole static graph of main.js', () => {
    expect(byFile.get('src/cli.js')!.entry).toBe(true);
    // `--help`, `diag` and `version` do not load the agent: main.js is a lazy chunk.
    expect(holding('src/main.js').lazy).toBe(true);
    expect(startFiles.size).toBeLessThanOrEqual(10);
    // A types-only module compiles to `export {};`: nothing of it is bundled.
    const hasCode = (m: string) => readFileSync(join(DIST, m), 'utf8').replace(/^\/\/.*$/gm, '').trim() !== 'export {};';
    const { files: graph } = startGraph('src/main.js');
    expect([...graph].filter((m) => hasCode(m) && !startModules.has(m))).toEqual([]);
    expect(startModules.size).toBeGreaterThan(100);
  });

  it('sets the V8 flags before any other module runs: the entry imports them first, and they import only node:v8', () => {
    // ES modules evaluate in the order of their import statements, depth first.
    const firstImports = (file: string) => [...readFileSync(join(DIST, file), 'utf8').matchAll(/^import\s(?:[^;]*?\sfrom\s*)?['"]([^'"]+)['"]/gm)].map((m) => m[1]);
    expect(firstImports('src/cli.js')[0]).toBe('./platform/v8-flags.js');
    expect(firstImports('src/platform/v8-flags.js')).toEqual(['node:v8']);
  });

  it('keeps the lazy parts in chunks of their own', () => {
    expect(LATE.filter((m) => startModules.has(m))).toEqual([]);
    for (const m of ['src/composition/firmware-manager.js', 'src/composition/diagnostics-upload-service.js', 'src/security/csr.js', 'src/devtools/demo.js']) {
      expect(startFiles.has(holding(m).file), m).toBe(false);
    }
  });
});
