#!/usr/bin/env node
// `npm run bundle -- --version V --out FILE`: a firmware bundle (gzip'd tar with a manifest of
// SHA-256 sums, see src/firmware/manifest.ts) from a production tree, for the charger's
// UpdateFirmware. Without --from, the release command makes the tree in a temporary directory.
// The native modules are built for this machine: make bundles on the board's architecture.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const USAGE = `usage: npm run bundle -- --version V --out FILE [--from DIR]
  --version V            the release's version (must be package.json's version)
  --out FILE             the bundle to write (e.g. charger-agent-V.tar.gz)
  --from DIR             an existing production tree (npm run release output);
                         default: make one with the release command in a temporary directory
  --controller-image F   reserved: refused until the serial protocol defines controller flashing
  --sign-key FILE        sign the bundle (SignedUpdateFirmware): the PEM private key ...
  --sign-cert FILE       ... and its PEM certificate, issued under a ManufacturerRootCertificate
                         installed on the chargers; writes FILE.sig (the base64 signature over
                         the bundle, SHA-256) and FILE.cert.pem, which the CSMS sends`;

function fail(message, code = 1) {
  process.stderr.write(`bundle: error: ${message}\n`);
  process.exit(code);
}

function parseArgs(argv) {
  const opts = {};
  const names = { '--version': 'version', '--out': 'out', '--from': 'from', '--controller-image': 'controllerImage', '--sign-key': 'signKey', '--sign-cert': 'signCert' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    const key = names[a];
    if (key === undefined || argv[i + 1] === undefined) fail(`${key === undefined ? `unknown argument ${JSON.stringify(a)}` : `${a} needs a value`}\n${USAGE}`, 2);
    opts[key] = argv[++i];
  }
  if (!opts.version || !opts.out) fail(`--version and --out are needed\n${USAGE}`, 2);
  return opts;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const lib = join(ROOT, 'dist/src/firmware/make-bundle.js');
  if (!existsSync(lib)) fail('dist/ is missing: run npm run build first');
  const { makeBundle, MakeBundleError } = await import(pathToFileURL(lib).href);
  let temp = null;
  let from = opts.from ? resolve(opts.from) : null;
  if (from === null) {
    temp = mkdtempSync(join(tmpdir(), 'charger-agent-bundle-'));
    from = join(temp, 'release');
    execFileSync(process.execPath, [join(ROOT, 'scripts/release.mjs'), '--out', from], { stdio: ['ignore', 'inherit', 'inherit'] });
  }
  const started = Date.now();
  try {
    const out = resolve(opts.out);
    const manifest = await makeBundle({ ...opts, from, out });
    const size = statSync(out).size;
    process.stdout.write(
      `bundle: ${manifest.name} ${manifest.version} for ${manifest.platform} (Node ABI ${manifest.nodeAbi}): ${manifest.files.length} files, ` +
        `${(size / 1048576).toFixed(1)} MiB in ${out} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`,
    );
    if (opts.signKey) process.stdout.write(`bundle: signed: signature in ${out}.sig, signing certificate in ${out}.cert.pem\n`);
  } catch (err) {
    if (err instanceof MakeBundleError) fail(err.message);
    throw err;
  } finally {
    if (temp !== null) rmSync(temp, { recursive: true, force: true });
  }
}

main().catch((err) => fail(err.stack ?? String(err)));
