#!/usr/bin/env node
// `npm run release`: makes the production tree a charger runs, from a source checkout.
//   1. installs the development dependencies when node_modules is missing (the compiler is one);
//   2. compiles src/ and hal/ into <out>/dist, without source maps, and bundles the start path
//      (scripts/build-start.mjs);
//   3. copies the checkout's node_modules and prunes it to the production dependencies
//      (offline, no install scripts: the native modules are already built for this machine);
//   4. removes what a running agent never loads: native build intermediates and sources,
//      prebuilt binaries for other platforms, source maps, type declarations;
//   5. checks the tree starts (`node dist/src/cli.js version`, SQLite and serialport load)
//      and prints its size.
// The native modules are built for the machine running this: make the release on the board's
// architecture (the board itself, or an arm64/armhf container or build host).
//
// usage: node scripts/release.mjs [--out DIR]   (default: release/ in the checkout)
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** What a release holds besides dist/ and node_modules/ (install.sh copies the same list). */
const ITEMS = ['package.json', 'package-lock.json', 'hal/sim/pty-relay.py', 'systemd', 'scripts/install.sh', 'scripts/install-config.mjs', 'README.md', 'LICENSE', 'CHANGELOG.md', 'config.example.json', 'docs'];

function usage() {
  return 'usage: npm run release [-- --out DIR]   (default: release/ in the checkout)';
}

function fail(message) {
  process.stderr.write(`release: error: ${message}\n`);
  process.exit(1);
}

function say(message) {
  process.stdout.write(`release: ${message}\n`);
}

function parseArgs(argv) {
  let out = join(ROOT, 'release');
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      process.stdout.write(`${usage()}\n`);
      process.exit(0);
    } else if (a === '--out' && argv[i + 1]) {
      out = resolve(argv[++i]);
    } else {
      process.stderr.write(`release: error: unknown argument ${JSON.stringify(a)}\n${usage()}\n`);
      process.exit(2);
    }
  }
  // The out dir is wiped: refuse anything that would take the checkout (or / ) with it.
  if (out === ROOT || ROOT.startsWith(`${out}/`) || out === '/') fail(`refusing to use ${out} as the output directory`);
  return { out };
}

function run(cmd, args, cwd) {
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'] });
}

/** Bytes on disk, as du counts them (blocks), so the figure matches `du -s`. */
export function diskUsage(path) {
  const st = lstatSync(path);
  let total = st.blocks * 512;
  if (st.isDirectory()) for (const name of readdirSync(path)) total += diskUsage(join(path, name));
  return total;
}

/** Every path below dir (depth first), for the trim rules. */
function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = lstatSync(p);
    yield { path: p, name, st };
    if (st.isDirectory()) yield* walk(p);
  }
}

/**
 * Removes from a pruned node_modules what the runtime never loads. Each rule is safe for the
 * `bindings` / `node-gyp-build` loaders: they look for build/Release/<name>.node, then
 * prebuilds/<platform>-<arch>/.
 */
export function trimNodeModules(nodeModules, platform = process.platform, arch = process.arch) {
  const packages = [];
  for (const name of readdirSync(nodeModules)) {
    if (name.startsWith('.')) continue;
    if (name.startsWith('@')) for (const sub of readdirSync(join(nodeModules, name))) packages.push(join(nodeModules, name, sub));
    else packages.push(join(nodeModules, name));
  }
  // Nested node_modules (a package's own copy of a dependency) are packages too.
  for (const pkg of [...packages]) {
    const nested = join(pkg, 'node_modules');
    if (existsSync(nested)) trimNodeModules(nested, platform, arch);
  }
  for (const pkg of packages) {
    if (!statSync(pkg).isDirectory()) continue;
    const build = join(pkg, 'build');
    const release = join(build, 'Release');
    const addons = existsSync(release) ? readdirSync(release).filter((f) => f.endsWith('.node') && f !== 'test_extension.node') : [];
    if (addons.length > 0) {
      // A compiled addon: only build/Release/<addon>.node is loaded; the C/C++ sources
      // (better-sqlite3 ships SQLite's amalgamation in deps/) and objects were for the compiler.
      for (const entry of readdirSync(build)) if (entry !== 'Release') rmSync(join(build, entry), { recursive: true, force: true });
      for (const entry of readdirSync(release)) if (!addons.includes(entry)) rmSync(join(release, entry), { recursive: true, force: true });
      for (const dir of ['deps', 'src']) {
        const p = join(pkg, dir);
        if (existsSync(p) && existsSync(join(pkg, 'binding.gyp'))) rmSync(p, { recursive: true, force: true });
      }
    }
    const prebuilds = join(pkg, 'prebuilds');
    if (existsSync(prebuilds)) {
      // node-gyp-build names them <platform>-<arch>[+<arch>...]; another platform's never loads here.
      for (const dir of readdirSync(prebuilds)) {
        const [plat, archs = ''] = dir.split('-');
        if (plat !== platform || !archs.split('+').includes(arch)) rmSync(join(prebuilds, dir), { recursive: true, force: true });
      }
    }
  }
  for (const { path, name, st } of walk(nodeModules)) {
    if (st.isFile() && (name.endsWith('.map') || name.endsWith('.d.ts') || name.endsWith('.d.mts') || name.endsWith('.d.cts'))) rmSync(path, { force: true });
  }
}

function main() {
  const { out } = parseArgs(process.argv.slice(2));
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  if (!existsSync(join(ROOT, 'node_modules', 'typescript'))) {
    say('no development dependencies yet: npm ci');
    run('npm', ['ci', '--no-audit', '--no-fund'], ROOT);
  }

  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  say(`compiling into ${out}/dist`);
  run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.json'), '--outDir', join(out, 'dist'), '--sourceMap', 'false'], ROOT);
  run(process.execPath, [join(ROOT, 'scripts/build-info.mjs'), join(out, 'dist')], ROOT); // certificate clock floor
  run(process.execPath, [join(ROOT, 'scripts/build-start.mjs'), join(out, 'dist')], ROOT); // the start path in a few files

  for (const item of ITEMS) {
    const from = join(ROOT, item);
    if (!existsSync(from)) continue;
    mkdirSync(dirname(join(out, item)), { recursive: true });
    cpSync(from, join(out, item), { recursive: true });
  }

  say('copying node_modules and pruning it to the production dependencies');
  // realpath: node_modules may itself be a symlink (a shared install); its .bin links stay as they are.
  cpSync(realpathSync(join(ROOT, 'node_modules')), join(out, 'node_modules'), { recursive: true, verbatimSymlinks: true });
  run('npm', ['prune', '--omit=dev', '--ignore-scripts', '--offline', '--no-audit', '--no-fund'], out);
  trimNodeModules(join(out, 'node_modules'));

  // The tree must start on its own: a trim rule gone wrong fails here, not on the board.
  const version = execFileSync(process.execPath, ['dist/src/cli.js', 'version'], { cwd: out, encoding: 'utf8' }).trim();
  if (version !== pkg.version) fail(`the release prints version ${JSON.stringify(version)}, expected ${pkg.version}`);
  execFileSync(
    process.execPath,
    ['-e', "new (require('better-sqlite3'))(':memory:').prepare('select 1').get(); require('@serialport/bindings-cpp').autoDetect();"],
    { cwd: out, stdio: 'inherit' },
  );

  const size = diskUsage(out);
  const modules = diskUsage(join(out, 'node_modules'));
  say(`charger-agent ${pkg.version} for ${process.platform}-${process.arch} in ${out}`);
  say(`size ${(size / 1048576).toFixed(1)} MiB (node_modules ${(modules / 1048576).toFixed(1)} MiB; Node.js itself not included)`);
  say(`install it on the board: sudo ${out}/scripts/install.sh --help`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
