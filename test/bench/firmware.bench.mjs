// Firmware bundle bench: size of a bundle of the real production tree and the time to make it;
// time to verify it and to verify+install it into an install root, with the peak memory of the
// process doing that (the bundle is streamed: memory must not grow with its size).
// Prints figures beside targets; asserts nothing. Runs against dist/ (build first).
//   BENCH_RELEASE=DIR  use an existing production tree (npm run release) instead of making one.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const { makeBundle } = await import(join(root, 'dist/src/firmware/make-bundle.js'));
const { diskUsage } = await import(join(root, 'scripts/release.mjs'));

const MiB = 1024 * 1024;
const work = mkdtempSync(join(tmpdir(), 'fw-bench-'));
try {
  let tree = process.env.BENCH_RELEASE;
  if (!tree) {
    tree = join(work, 'release');
    process.stdout.write('making the production tree (npm run release) ...\n');
    execFileSync(process.execPath, [join(root, 'scripts/release.mjs'), '--out', tree], { stdio: 'ignore' });
  }
  const version = JSON.parse(readFileSync(join(tree, 'package.json'), 'utf8')).version;

  const bundle = join(work, 'bundle.tar.gz');
  let t = performance.now();
  const manifest = await makeBundle({ from: tree, version, out: bundle });
  const makeMs = performance.now() - t;
  const bundleBytes = statSync(bundle).size;

  // Verify and install in a fresh process, so its peak RSS is the reader's alone. The running
  // release is a copy of the tree under another version (the bundle must be a newer one).
  const installRoot = join(work, 'root');
  mkdirSync(join(installRoot, 'releases'), { recursive: true });
  cpSync(tree, join(installRoot, 'releases/0.0.1'), { recursive: true, verbatimSymlinks: true });
  symlinkSync('releases/0.0.1', join(installRoot, 'current'));
  const script = `
    const { verifyBundle } = await import(${JSON.stringify(join(root, 'dist/src/firmware/bundle.js'))});
    const { installBundle } = await import(${JSON.stringify(join(root, 'dist/src/firmware/install.js'))});
    const rss0 = process.memoryUsage().rss;
    let t = performance.now();
    await verifyBundle(${JSON.stringify(bundle)});
    const verifyMs = performance.now() - t;
    t = performance.now();
    await installBundle(${JSON.stringify(bundle)}, { installRoot: ${JSON.stringify(installRoot)} });
    const installMs = performance.now() - t;
    console.log(JSON.stringify({ verifyMs, installMs, rss0, maxRss: process.resourceUsage().maxRSS * 1024 }));`;
  const r = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }));

  const row = (what, value, target) => process.stdout.write(`${what.padEnd(44)} ${value.padStart(12)}   target ${target}\n`);
  process.stdout.write(`firmware bundle of charger-agent ${version} (${manifest.files.length} files, ${manifest.platform}, ABI ${manifest.nodeAbi})\n`);
  row('production tree on disk', `${(diskUsage(tree) / MiB).toFixed(1)} MiB`, '(npm run release)');
  row('bundle size (gzip -9 tar)', `${(bundleBytes / MiB).toFixed(1)} MiB`, '< 10 MiB (a download over a cellular link)');
  row('time to make the bundle', `${(makeMs / 1000).toFixed(1)} s`, '< 30 s');
  row('time to verify it', `${(r.verifyMs / 1000).toFixed(1)} s`, '< 10 s');
  row('time to verify+install (fsync each file)', `${(r.installMs / 1000).toFixed(1)} s`, '< 30 s');
  row('peak RSS of the verifying/installing process', `${(r.maxRss / MiB).toFixed(0)} MiB`, `< ${Math.ceil(r.rss0 / MiB) + 32} MiB (its start + 32 MiB)`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
