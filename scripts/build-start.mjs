#!/usr/bin/env node
// Builds the CLI and everything it loads into a few files, after tsc (`npm run build` and
// the release run it). Why: each ES module costs start-up time (resolve, read, compile, link;
// about 0.75 ms on a whole core, four times that on a Cortex-A7-class board), and start-up
// to BootNotification walks about 170 of them. Bundled, the start path is a handful of files.
//
// - <dist>/src/cli.js is replaced by the bundle's entry, so every way of starting the agent
//   (bin, systemd unit, launcher, tests) runs the bundle.
// - Each dynamic import() stays lazy: it becomes its own chunk (uploads, firmware updates, CSRs,
//   the simulator, the demo...), loaded on first use as before.
// - Packages stay outside (node_modules, loaded as before), as do the generated validators,
//   which validators.js requires per action at run time.
// - Every chunk is written flat into <dist>/src, and each module's `import.meta.url` is
//   rewritten to the URL its own file had (relative to the chunk), so paths a module computes
//   from its location (validators/, build-info.json, certs/, pty-relay.py) stay right.
// - <dist>/start-bundle.json lists each output file's modules and imports; the architecture
//   test reads it to keep the lazy parts off the start path.
// The rest of tsc's output stays in <dist> (scripts and benches import single modules).
//
// usage: node scripts/build-start.mjs [DIST]   (default: dist/ in the checkout)
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rolldown } from 'rolldown';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = resolve(process.argv[2] ?? join(ROOT, 'dist'));
const outDir = join(dist, 'src');
const entry = join(outDir, 'cli.js');
const CHUNK = /^chunk-.*\.js(\.map)?$/;
const V8_FLAGS = 'platform/v8-flags.js';

function fail(message) {
  process.stderr.write(`build-start: error: ${message}\n`);
  process.exit(1);
}

if (!existsSync(entry)) fail(`${entry} is missing: run tsc first`);
// A chunk of an earlier build must not linger beside the new ones (hashed names differ).
for (const name of readdirSync(outDir)) if (CHUNK.test(name)) rmSync(join(outDir, name));
// tsc's map of cli.js describes the file this build replaces.
rmSync(`${entry}.map`, { force: true });

const toPosix = (p) => p.split(sep).join('/');

/** `import.meta.url` as the module's own file had it, for a module moved into a chunk in outDir. */
const keepModuleUrls = {
  name: 'keep-module-urls',
  transform(code, id) {
    if (!code.includes('import.meta.url')) return null;
    let rel = toPosix(relative(outDir, id));
    if (!rel.startsWith('.')) rel = `./${rel}`;
    return { code: code.replaceAll('import.meta.url', `new URL(${JSON.stringify(rel)}, import.meta.url).href`), map: null };
  },
};

/**
 * The V8 flags (no TurboFan, see src/platform/v8-flags.ts) must be set before any other module
 * loads, as cli.ts imports them first; the bundler puts its chunk imports ahead of an external
 * one, so the entry's first import is made the flags module again.
 */
const flagsFirst = {
  name: 'v8-flags-first',
  renderChunk(code, chunk) {
    if (!chunk.isEntry) return null;
    const line = `import "./${V8_FLAGS}";\n`;
    const first = code.search(/^import /m);
    if (!code.includes(line) || first < 0) throw new Error(`the entry does not import ./${V8_FLAGS}`);
    const rest = code.replace(line, '');
    return { code: `${rest.slice(0, first)}${line}${rest.slice(first)}`, map: null };
  },
};

const warnings = [];
const bundle = await rolldown({
  input: { cli: entry },
  platform: 'node',
  // Module comments in the output name paths from here (src/...), the same on every build host.
  cwd: dist,
  // Bare specifiers are packages (and node: built-ins): loaded from node_modules at run time.
  // The V8 flags module stays tsc's own file, imported first (see below).
  external: (id) => (!id.startsWith('.') && !id.startsWith('/')) || id.endsWith(V8_FLAGS),
  plugins: [keepModuleUrls, flagsFirst],
  onLog(level, log) {
    if (level === 'warn') warnings.push(log.message);
  },
});
const { output } = await bundle.write({
  dir: outDir,
  format: 'esm',
  entryFileNames: '[name].js',
  chunkFileNames: 'chunk-[name]-[hash].js',
  // Class and function names as in the source: errors and logs name them.
  keepNames: true,
  banner: (chunk) => (chunk.isEntry ? '// Built by scripts/build-start.mjs from dist/src/cli.js and the modules it loads: see that script.' : ''),
  sourcemap: false,
});
await bundle.close();
if (warnings.length > 0) fail(`the bundler warned:\n${warnings.join('\n')}`);

const fromDist = (id) => toPosix(relative(dist, id));
const files = output
  .filter((o) => o.type === 'chunk')
  .map((c) => ({
    file: `src/${c.fileName}`,
    entry: c.isEntry,
    lazy: c.isDynamicEntry,
    modules: c.moduleIds.filter((id) => id.startsWith(dist)).map(fromDist).sort(),
    imports: c.imports.filter((f) => CHUNK.test(f) || f === 'cli.js').map((f) => `src/${f}`),
    dynamicImports: c.dynamicImports.filter((f) => CHUNK.test(f)).map((f) => `src/${f}`),
  }));
writeFileSync(join(dist, 'start-bundle.json'), `${JSON.stringify({ files }, null, 1)}\n`);
