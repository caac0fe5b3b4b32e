// The layering rules of docs/architecture.md. Layering is checked over the sources (a type import
// ties layers too); cycles over the compiled graph (dist/, built by `npm test` first), where
// `import type` is erased, so only imports that load code at run time count.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, dirname, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DIST = join(ROOT, 'dist');

/** file (relative to `base`, '/'-separated, always named `.js`) -> the specifiers it imports. */
function importGraph(base: string, ext: '.js' | '.ts'): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(ext) && !entry.name.endsWith('.d.ts')) {
        graph.set(relative(base, path).split(sep).join('/').replace(/\.ts$/, '.js'), importsOf(readFileSync(path, 'utf8')));
      }
    }
  };
  walk(join(base, 'src'));
  walk(join(base, 'hal'));
  return graph;
}

/** Static `import ... from 'x'`, `import 'x'`, `export ... from 'x'`, dynamic `import('x')` and `createRequire(import.meta.url)('x')`. */
function importsOf(code: string): string[] {
  const found: string[] = [];
  const patterns = [/^\s*(?:import|export)\s[^;]*?\sfrom\s*['"]([^'"]+)['"]/gm, /^\s*import\s*['"]([^'"]+)['"]/gm, /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g, /\bcreateRequire\(import\.meta\.url\)\(\s*['"]([^'"]+)['"]\s*\)/g];
  for (const re of patterns) for (const m of code.matchAll(re)) found.push(m[1]!);
  return found;
}

/** A relative specifier resolved to a dist-relative file; a package name stays as it is. */
function target(from: string, spec: string): string {
  if (!spec.startsWith('.')) return spec;
  return join(dirname(from), spec).split(sep).join('/');
}

function violations(graph: Map<string, string[]>, fromPrefix: string, forbidden: (to: string) => boolean): string[] {
  const out: string[] = [];
  for (const [file, specs] of graph) {
    if (!file.startsWith(fromPrefix)) continue;
    for (const spec of specs) if (forbidden(target(file, spec))) out.push(`${file} -> ${spec}`);
  }
  return out;
}

/** Run-time imports of hal/ from src/ outside the composition root (src/main.ts and src/composition/). */
function halLoadersOutsideRoot(graph: Map<string, string[]>): string[] {
  const inRoot = (file: string): boolean => file === 'src/main.js' || file.startsWith('src/composition/');
  return violations(graph, 'src/', (to) => to.startsWith('hal/')).filter((v) => !inRoot(v.slice(0, v.indexOf(' -> '))));
}

function cycles(graph: Map<string, string[]>, prefix: string): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const spec of graph.get(file) ?? []) {
      const to = target(file, spec);
      if (!to.startsWith(prefix) || !graph.has(to)) continue;
      if (state.get(to) === 'open') found.push([...stack.slice(stack.indexOf(to)), to]);
      else if (!state.has(to)) visit(to);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (file.startsWith(prefix) && !state.has(file)) visit(file);
  return found;
}

describe('import rules (docs/architecture.md)', () => {
  const graph = importGraph(ROOT, '.ts');
  const compiled = importGraph(DIST, '.js');
  // dist/src/cli.js and its chunks are the bundle scripts/build-start.mjs makes of tsc's output
  // (start-path.test.ts checks it); the rules are about the modules, which the source graph has.
  // (A tree built by tsc alone has no bundle: cli.js is then tsc's.)
  const manifest = join(DIST, 'start-bundle.json');
  const bundle = existsSync(manifest) ? (JSON.parse(readFileSync(manifest, 'utf8')) as { files: { file: string }[] }) : { files: [] };
  for (const { file } of bundle.files) compiled.delete(file);

  it('reads the compiled tree', () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(importsOf("import { a } from './a.js';\nimport type { T } from './t.js';\nimport './b.js';\nexport { c } from '../c.js';\nconst d = await import('d');\nconst e = createRequire(import.meta.url)('e');")).toEqual(['./a.js', './t.js', '../c.js', './b.js', 'd', 'e']);
  });

  it('hal/ is a leaf: it imports nothing from src/', () => {
    expect(violations(graph, 'hal/', (to) => to.startsWith('src/'))).toEqual([]);
  });

  it('src/domain/ imports no protocol, storage, diagnostics or I/O library', () => {
    const banned = ['src/ocpp/', 'src/store/', 'src/diagnostics/', 'src/devtools/', 'hal/'];
    const packages = ['ws', 'serialport', '@serialport/parser-readline', 'better-sqlite3', 'node-forge', 'pino', 'onoff'];
    expect(violations(graph, 'src/domain/', (to) => banned.some((b) => to.startsWith(b)) || packages.includes(to))).toEqual([]);
  });

  it('only the composition root (src/main.ts, src/composition/) loads hal/ at run time', () => {
    // Over the compiled graph: a type import of a hal/ interface elsewhere in src/ is allowed.
    expect(compiled.size).toBeGreaterThan(50);
    expect(halLoadersOutsideRoot(compiled)).toEqual([]);
  });

  it('src/ocpp/outbox/ is version-neutral and src/store/ implements ports it does not own: neither imports an OCPP version module', () => {
    const versioned = (to: string): boolean => /^src\/ocpp\/v\d+\//.test(to);
    expect([...graph.keys()].some((f) => f.startsWith('src/ocpp/outbox/'))).toBe(true);
    expect([...violations(graph, 'src/ocpp/outbox/', versioned), ...violations(graph, 'src/store/', versioned)]).toEqual([]);
  });

  it('no import cycles in src/ or hal/', () => {
    expect(compiled.size).toBeGreaterThan(50);
    expect(cycles(compiled, 'src/')).toEqual([]);
    expect(cycles(compiled, 'hal/')).toEqual([]);
  });

  it('finds a violation when there is one (the check itself can fail)', () => {
    const planted = new Map(graph);
    planted.set('src/domain/planted.js', ['../ocpp/v16/session.js', 'better-sqlite3']);
    planted.set('src/a.js', ['./b.js']);
    planted.set('src/b.js', ['./a.js']);
    expect(violations(planted, 'src/domain/', (to) => to.startsWith('src/ocpp/') || to === 'better-sqlite3')).toEqual(['src/domain/planted.js -> ../ocpp/v16/session.js', 'src/domain/planted.js -> better-sqlite3']);
    expect(cycles(planted, 'src/').some((c) => c.includes('src/a.js') && c.includes('src/b.js'))).toBe(true);
    const plantedCompiled = new Map(compiled);
    plantedCompiled.set('src/diagnostics/planted.js', ['../../hal/sim/pty-pair.js']);
    plantedCompiled.set('src/composition/planted.js', ['../../hal/sim/pty-pair.js']);
    expect(halLoadersOutsideRoot(plantedCompiled)).toEqual(['src/diagnostics/planted.js -> ../../hal/sim/pty-pair.js']);
  });
});

describe('the composition root only wires (docs/architecture.md)', () => {
  const sources = [join(ROOT, 'src/main.ts'), ...readdirSync(join(ROOT, 'src/composition')).map((f) => join(ROOT, 'src/composition', f))];

  it('src/main.ts stays short', () => {
    expect(readFileSync(join(ROOT, 'src/main.ts'), 'utf8').split('\n').length).toBeLessThanOrEqual(150);
  });

  it('has no forward references (`let x = null` filled in later) nor casts to a named type', () => {
    const found = sources.flatMap((path) => wiringSmells(readFileSync(path, 'utf8')).map((s) => `${relative(ROOT, path)}: ${s}`));
    expect(found).toEqual([]);
    expect(wiringSmells('let session: OcppSession | null = null;\nlet stopping: Promise<void> | null = null;\nconst c = controller as ChargeControllerPort;\nconst r = { a: 1 } as const;\nsession!.stop();')).toEqual([
      'let session: OcppSession | null = null;',
      'const c = controller as ChargeControllerPort;',
    ]);
  });
});

/** A variable declared null and used later with `!` (a forward reference), or a cast to a named type (`as const` is fine). */
function wiringSmells(code: string): string[] {
  const lines = code.split('\n').map((l) => l.trim());
  const forward = [...code.matchAll(/\blet\s+(\w+)[^=;]*=\s*null\b/g)].map((m) => m[1]!).filter((name) => new RegExp(`\\b${name}!`).test(code));
  return lines.filter((l) => forward.some((name) => new RegExp(`^let\\s+${name}\\b`).test(l)) || /\sas\s+[A-Z]\w*/.test(l));
}
