// Firmware bundle bench: size of a bundle of the real production tree and the time to make it;
// time to verify it and to verify+install it into an install root, with the peak memory of the
// process doing that (the bundle is streamed: memory must not grow with its size); and the
// download-to-running time of an update over OCPP as the contract runs it (install.sh --destdir,
// the launcher in the foreground, the bundle over local HTTP, UpdateFirmware from the DevCsms):
// from the request to Downloaded, to Installing, to the new version's BootNotification, to Installed.
// Prints figures beside targets; asserts nothing. Runs against dist/ (build first).
//   BENCH_RELEASE=DIR  use an existing production tree (npm run release) instead of making one.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, createReadStream, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
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

  const d = await downloadToRunning(tree, version, work);
  row('OCPP update: request to Downloaded', `${(d.Downloaded / 1000).toFixed(1)} s`, '(local HTTP)');
  row('OCPP update: request to Installing', `${(d.Installing / 1000).toFixed(1)} s`, '< 15 s');
  row('OCPP update: request to new BootNotification', `${(d.boot / 1000).toFixed(1)} s`, '< 30 s');
  row('OCPP update: download-to-running (Installed)', `${(d.Installed / 1000).toFixed(1)} s`, '< 30 s');
} finally {
  rmSync(work, { recursive: true, force: true });
}

/** The contract's update, timed: install.sh --destdir, the launcher, UpdateFirmware, Installed. */
async function downloadToRunning(tree, version, work) {
  const { DevCsms } = await import(join(root, 'dist/src/devtools/dev-csms.js'));
  const dest = join(work, 'dest');
  execFileSync('sh', [join(root, 'scripts/install.sh'), '--destdir', dest, '--from', tree, '--node', '/usr/bin/node'], { stdio: 'ignore' });
  const next = join(work, 'next');
  cpSync(tree, next, { recursive: true, verbatimSymlinks: true });
  const pkg = JSON.parse(readFileSync(join(next, 'package.json'), 'utf8'));
  writeFileSync(join(next, 'package.json'), JSON.stringify({ ...pkg, version: '99.0.0' }));
  const served = join(work, 'next.tar.gz');
  await makeBundle({ from: next, version: '99.0.0', out: served });
  const http = createServer((_req, res) => {
    res.writeHead(200, { 'content-length': statSync(served).size });
    createReadStream(served).pipe(res);
  });
  await new Promise((r) => http.listen(0, '127.0.0.1', r));
  const csms = new DevCsms({ heartbeatIntervalS: 300 });
  await csms.start();
  const data = join(work, 'data');
  const config = join(work, 'config.json');
  writeFileSync(config, JSON.stringify({
    chargePointId: 'CP-BENCH', csms: { url: csms.url, securityProfile: 0, basicAuthPassword: null },
    controller: { port: 'simulated', baudRate: 115200, simulated: true }, dataDir: data,
    diagnosticsSocket: join(data, 'diag.sock'), identity: { vendor: 'Acme', model: 'AC22' }, logLevel: 'warn',
  }));
  const env = { ...process.env };
  delete env.INVOCATION_ID;
  const launcher = spawn(process.execPath, [join(dest, 'opt/charger-agent/bin/launcher.js'), '--foreground', '--restart-delay', '100', 'run', '--config', config], { env, stdio: 'ignore' });
  const until = (cond, what) => new Promise((resolve, reject) => {
    const deadline = Date.now() + 120_000;
    const poll = setInterval(() => {
      if (cond()) { clearInterval(poll); resolve(); } else if (Date.now() > deadline) { clearInterval(poll); reject(new Error(`timed out: ${what}`)); }
    }, 20);
  });
  try {
    await until(() => csms.callsOf('BootNotification').some((c) => c.params.firmwareVersion === version) && csms.isConnected('CP-BENCH'), 'the first boot');
    const at = {};
    const t0 = performance.now();
    csms.on('call', (c) => {
      if (c.action === 'FirmwareStatusNotification') at[c.params.status] ??= performance.now() - t0;
      if (c.action === 'BootNotification' && c.params.firmwareVersion === '99.0.0') at.boot ??= performance.now() - t0;
    });
    await csms.call('CP-BENCH', 'UpdateFirmware', { location: `http://127.0.0.1:${http.address().port}/next.tar.gz`, retrieveDate: new Date().toISOString(), retries: 0 });
    await until(() => at.Installed !== undefined || at.InstallationFailed !== undefined || at.DownloadFailed !== undefined, 'the update');
    if (at.Installed === undefined) throw new Error(`the update failed: ${JSON.stringify(at)}`);
    return at;
  } finally {
    launcher.kill('SIGTERM');
    await new Promise((r) => launcher.once('exit', r));
    await csms.stop();
    http.close();
  }
}
