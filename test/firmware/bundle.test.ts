// Firmware bundles: made from a production tree and read back (also by GNU tar); every kind of
// bad bundle (corrupt, truncated, wrong checksum, wrong platform/ABI, a path or symlink leaving
// the release, oversize, unlisted or missing files, hard links, a controller image, a signature
// nobody can check) is refused with its reason.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGzip } from 'node:zlib';
import { extractBundle, verifyBundle } from '../../src/firmware/bundle.js';
import { makeBundle, MakeBundleError } from '../../src/firmware/make-bundle.js';
import { BundleError, type BundleErrorKind } from '../../src/firmware/manifest.js';
import { TempDirs } from '../helpers/temp-dirs.js';
import { TestPki } from '../helpers/test-pki.js';
import { checkFileSignature, checkSigningCertificate } from '../../src/firmware/signature.js';
import { X509Certificate } from 'node:crypto';
import { ROOT, craftBundle, makeStandInTree, manifestFor, sha256, type BundleEntry } from './fixtures.js';

const temp = new TempDirs();
afterAll(() => temp.removeAll());

async function refusal(p: Promise<unknown>): Promise<BundleError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BundleError);
  return err as BundleError;
}

async function expectRefused(bundle: string, kind: BundleErrorKind, message: RegExp): Promise<void> {
  const err = await refusal(verifyBundle(bundle));
  expect(err.kind).toBe(kind);
  expect(err.message).toMatch(message);
  // Extraction refuses the same way.
  const dest = temp.make('fw-x-');
  const again = await refusal(extractBundle(bundle, dest));
  expect(again.kind).toBe(kind);
}

const base: BundleEntry[] = [
  { path: 'release/dist', type: 'directory' },
  { path: 'release/dist/src', type: 'directory' },
  { path: 'release/dist/src/cli.js', data: 'console.log(1)\n' },
];

async function crafted(entries: BundleEntry[], manifest?: Record<string, unknown> | null, extra: { signature?: string } = {}): Promise<string> {
  return craftBundle(join(temp.make('fw-c-'), 'b.tar.gz'), manifest === undefined ? manifestFor('2.0.0', entries) : manifest, entries, extra);
}

describe('making and reading a bundle', () => {
  it('round-trips a tree: files, modes, symlinks; GNU tar reads it too', async () => {
    const tree = makeStandInTree(join(temp.make('fw-t-'), 'release'), '1.4.0', 'healthy');
    // A path longer than ustar's 100 + 155 bytes goes through a pax record.
    const deep = `node_modules/${'d'.repeat(120)}/${'e'.repeat(120)}`;
    mkdirSync(join(tree, deep), { recursive: true });
    writeFileSync(join(tree, deep, `${'f'.repeat(90)}.js`), 'deep\n');
    const out = join(temp.make('fw-b-'), 'b.tar.gz');
    const manifest = await makeBundle({ from: tree, version: '1.4.0', out });
    expect(manifest).toMatchObject({ name: 'charger-agent', version: '1.4.0', platform: `${process.platform}-${process.arch}`, nodeAbi: process.versions.modules, controllerImage: null });
    expect(manifest.files.find((f) => f.path === 'dist/src/cli.js')?.sha256).toBe(sha256(readFileSync(join(tree, 'dist/src/cli.js'))));

    const info = await verifyBundle(out);
    expect(info.manifest.files.length).toBe(manifest.files.length);
    expect(info.bundleBytes).toBe(statSync(out).size);

    const dest = temp.make('fw-x-');
    await extractBundle(out, dest);
    for (const f of manifest.files) expect(sha256(readFileSync(join(dest, f.path))), f.path).toBe(f.sha256);
    expect(statSync(join(dest, 'node_modules/tool/bin/tool.js')).mode & 0o777).toBe(0o755);
    expect(statSync(join(dest, 'dist/src/cli.js')).mode & 0o777).toBe(0o644);
    expect(readlinkSync(join(dest, 'node_modules/.bin/tool'))).toBe('../tool/bin/tool.js');
    expect(readFileSync(join(dest, deep, `${'f'.repeat(90)}.js`), 'utf8')).toBe('deep\n');

    const listed = spawnSync('tar', ['-tzf', out], { encoding: 'utf8' });
    expect(listed.status).toBe(0);
    expect(listed.stdout.split('\n')[0]).toBe('manifest.json');
    expect(listed.stdout).toContain(`release/${deep}/${'f'.repeat(90)}.js`);
  });

  it('refuses to make a bundle whose version is not the tree\'s, a controller image, or only half of the signing options', async () => {
    const tree = makeStandInTree(join(temp.make('fw-t-'), 'release'), '1.4.0', 'healthy');
    const out = join(temp.make('fw-b-'), 'b.tar.gz');
    await expect(makeBundle({ from: tree, version: '1.5.0', out })).rejects.toThrow(/the tree is version 1.4.0, not 1.5.0/);
    await expect(makeBundle({ from: tree, version: '1.4.0', out, controllerImage: 'mcu.bin' })).rejects.toThrow(/flashing the controller is not defined/);
    await expect(makeBundle({ from: tree, version: '1.4.0', out, signKey: 'k.pem' })).rejects.toThrow(MakeBundleError);
    await expect(makeBundle({ from: tree, version: '../x', out })).rejects.toThrow(/letters, digits/);
    expect(existsSync(out)).toBe(false);
  });

  it('npm run bundle: scripts/bundle.mjs makes one from --from, or says what is wrong', () => {
    const tree = makeStandInTree(join(temp.make('fw-t-'), 'release'), '3.1.0', 'healthy');
    const out = join(temp.make('fw-b-'), 'b.tar.gz');
    const ok = spawnSync(process.execPath, [join(ROOT, 'scripts/bundle.mjs'), '--version', '3.1.0', '--out', out, '--from', tree], { encoding: 'utf8' });
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toMatch(/^bundle: charger-agent 3\.1\.0 for \S+ \(Node ABI \d+\): \d+ files/);
    expect(lstatSync(out).isFile()).toBe(true);
    const bad = spawnSync(process.execPath, [join(ROOT, 'scripts/bundle.mjs'), '--version', '3.1.0', '--out', out, '--from', tree, '--sign-key', 'k.pem'], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^bundle: error: signing needs both --sign-key and --sign-cert/);
    const usage = spawnSync(process.execPath, [join(ROOT, 'scripts/bundle.mjs'), '--out', out], { encoding: 'utf8' });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/--version and --out are needed/);
  });
});

describe('signed bundles (SignedUpdateFirmware)', () => {
  it('--sign-key and --sign-cert: a signature over the file that verifies with the certificate; a key not the certificate\'s is refused', async () => {
    const pki = new TestPki();
    try {
      const root = pki.root('Manufacturer Root');
      const signer = pki.issue('Firmware Signer', root, { key: 'rsa2048' });
      const other = pki.issue('Someone Else', root);
      const tree = makeStandInTree(join(temp.make('fw-t-'), 'release'), '3.2.0', 'healthy');
      const out = join(temp.make('fw-b-'), 'b.tar.gz');
      const args = [join(ROOT, 'scripts/bundle.mjs'), '--version', '3.2.0', '--out', out, '--from', tree, '--sign-cert', signer.certPath];
      const ok = spawnSync(process.execPath, [...args, '--sign-key', signer.keyPath], { encoding: 'utf8' });
      expect(ok.stderr).toBe('');
      expect(ok.stdout).toMatch(/bundle: signed: signature in .*b\.tar\.gz\.sig, signing certificate in .*b\.tar\.gz\.cert\.pem/);
      const cert = checkSigningCertificate(readFileSync(`${out}.cert.pem`, 'utf8'), [new X509Certificate(root.cert)], new Date());
      const signature = readFileSync(`${out}.sig`, 'utf8');
      await checkFileSignature(out, cert, signature);
      const altered = join(temp.make('fw-b-'), 'altered.tar.gz');
      const bytes = readFileSync(out);
      bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1;
      writeFileSync(altered, bytes);
      await expect(checkFileSignature(altered, cert, signature)).rejects.toThrow(/does not match the downloaded file/);
      const bad = spawnSync(process.execPath, [...args, '--sign-key', other.keyPath], { encoding: 'utf8' });
      expect(bad.status).toBe(1);
      expect(bad.stderr).toMatch(/is not the private key of/);
    } finally {
      pki.cleanup();
    }
  });
});

describe('refused bundles', () => {
  it('a truncated bundle', async () => {
    const good = await crafted(base);
    truncateSync(good, Math.floor(statSync(good).size / 2));
    await expectRefused(good, 'corrupt', /corrupt or truncated/);
  });

  it('data after the end of the archive (a small zero padding, as tar tools add, is fine)', async () => {
    const { gunzipSync, gzipSync } = await import('node:zlib');
    const tar = gunzipSync(readFileSync(await crafted(base)));
    const padded = join(temp.make('fw-p-'), 'padded.tar.gz');
    writeFileSync(padded, gzipSync(Buffer.concat([tar, Buffer.alloc(10240)])));
    expect((await verifyBundle(padded)).manifest.version).toBe('2.0.0');
    const inflated = join(temp.make('fw-p-'), 'inflated.tar.gz');
    writeFileSync(inflated, gzipSync(Buffer.concat([tar, Buffer.alloc(4 * 1024 * 1024)])));
    await expectRefused(inflated, 'corrupt', /data after the end of the archive/);
    const trailing = join(temp.make('fw-p-'), 'trailing.tar.gz');
    writeFileSync(trailing, gzipSync(Buffer.concat([tar, Buffer.from('extra')])));
    await expectRefused(trailing, 'corrupt', /data after the end of the archive/);
  });

  it('a corrupted byte, and something that is not a bundle at all', async () => {
    const entries = [...base, { path: 'release/big.js', data: 'x'.repeat(200_000).replace(/x/g, () => String.fromCharCode(97 + Math.floor(Math.random() * 26))) }];
    const bundle = await crafted(entries);
    const bytes = readFileSync(bundle);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    writeFileSync(bundle, bytes);
    const err = await refusal(verifyBundle(bundle));
    expect(['corrupt', 'checksum']).toContain(err.kind);
    const junk = join(temp.make('fw-j-'), 'junk.tar.gz');
    writeFileSync(junk, 'this is not a bundle');
    await expectRefused(junk, 'corrupt', /corrupt or truncated/);
    const plainGzip = join(temp.make('fw-j-'), 'text.gz');
    writeFileSync(plainGzip, await new Promise<Buffer>((r) => createGzip().end('hello').on('data', r)));
    await expectRefused(plainGzip, 'corrupt', /corrupt or truncated/);
  });

  it('a file whose content does not match the manifest\'s SHA-256', async () => {
    const manifest = manifestFor('2.0.0', base);
    const files = manifest['files'] as Array<{ sha256: string }>;
    files[0]!.sha256 = sha256('something else');
    await expectRefused(await crafted(base, manifest), 'checksum', /dist\/src\/cli\.js: SHA-256 .* does not match/);
  });

  it('another platform or Node ABI', async () => {
    await expectRefused(await crafted(base, { ...manifestFor('2.0.0', base), platform: 'linux-riscv64' }), 'platform', /bundle is for linux-riscv64, this charger is/);
    await expectRefused(await crafted(base, { ...manifestFor('2.0.0', base), nodeAbi: '999' }), 'platform', /Node ABI 999, this charger runs ABI/);
  });

  it('paths that leave the release: ../, absolute, outside release/', async () => {
    for (const [path, why] of [
      ['release/../evil.js', /'\.\.' in path/],
      ['/etc/evil.js', /outside release\//],
      ['release//etc/evil.js', /absolute path|empty/],
      ['evil.js', /outside release\//],
    ] as const) {
      const entries = [...base, { path, data: 'x' }];
      // Not in the manifest: the entry's own path check refuses it before anything else.
      await expectRefused(await crafted(entries, manifestFor('2.0.0', base)), 'unsafe-path', why);
    }
    await expectRefused(await crafted(base, { ...manifestFor('2.0.0', base), files: [{ path: '../x', size: 0, sha256: sha256(''), mode: 0o644 }] }), 'unsafe-path', /"\.\.\/x" refused/);
  });

  it('symlinks pointing out, files written through a symlink, chained links that escape', async () => {
    await expectRefused(await crafted([...base, { path: 'release/l', type: 'symlink', target: '../../etc' }]), 'unsafe-path', /points outside the release/);
    await expectRefused(await crafted([...base, { path: 'release/l', type: 'symlink', target: '/etc/passwd' }]), 'unsafe-path', /points outside the release/);
    const through = [...base, { path: 'release/l', type: 'symlink' as const, target: 'dist' }, { path: 'release/l/x.js', data: 'x' }];
    await expectRefused(await crafted(through), 'unsafe-path', /lies under l, which is not a directory/);
    // Each link lands inside on paper; resolved for real, z goes above the release.
    const chained = [
      ...base,
      { path: 'release/b', type: 'directory' as const },
      { path: 'release/b/c', type: 'symlink' as const, target: '..' },
      { path: 'release/a', type: 'symlink' as const, target: 'b/c' },
      { path: 'release/z', type: 'symlink' as const, target: 'a/..' },
    ];
    const err = await refusal(extractBundle(await crafted(chained), temp.make('fw-x-')));
    expect(err.kind).toBe('unsafe-path');
    expect(err.message).toMatch(/symlink z resolves outside the release/);
  });

  it('oversize entries, and more data than the manifest lists', async () => {
    const big = [...base, { path: 'release/big.bin', data: 'x'.repeat(10_000) }];
    const bundle = await crafted(big);
    const err = await refusal(verifyBundle(bundle, { maxFileBytes: 4096 }));
    expect(err.kind).toBe('oversize');
    expect(err.message).toMatch(/big\.bin is 10000 bytes, the limit is 4096/);
    expect((await refusal(verifyBundle(bundle, { maxTotalBytes: 5000 }))).message).toMatch(/release is \d+ bytes, the limit is 5000/);
    // The archive's entry is larger than the manifest says.
    const lying = manifestFor('2.0.0', [...base, { path: 'release/big.bin', data: 'x' }]);
    await expectRefused(await crafted(big, lying), 'checksum', /big\.bin is 10000 bytes, the manifest says 1/);
  });

  it('files the manifest does not list, listed files that are missing, duplicates, hard links', async () => {
    await expectRefused(await crafted([...base, { path: 'release/extra.js', data: 'x' }], manifestFor('2.0.0', base)), 'corrupt', /file extra\.js is not in the manifest/);
    await expectRefused(await crafted(base, manifestFor('2.0.0', [...base, { path: 'release/gone.js', data: 'x' }])), 'corrupt', /lacks 1 listed entries \(first: gone\.js\)/);
    await expectRefused(await crafted([...base, base[2]!], manifestFor('2.0.0', base)), 'corrupt', /appears twice/);
    await expectRefused(await crafted(base, null), 'corrupt', /does not start with manifest\.json/);
    // A hand-written hard link header: type '1'.
    const bundle = await crafted([...base, { path: 'release/hard', type: 'symlink', target: 'dist/src/cli.js' }]);
    const { gunzipSync, gzipSync } = await import('node:zlib');
    const tar = gunzipSync(readFileSync(bundle));
    const at = tar.indexOf('release/hard');
    tar[at + 156] = '1'.charCodeAt(0);
    let sum = 0;
    tar.fill(0x20, at + 148, at + 156);
    for (let i = at; i < at + 512; i++) sum += tar[i]!;
    tar.write(`${sum.toString(8).padStart(6, '0')}\0 `, at + 148, 'latin1');
    writeFileSync(bundle, gzipSync(tar));
    await expectRefused(bundle, 'corrupt', /hard links are not allowed/);
  });

  it('a controller image (not defined by the serial protocol yet), a signature without a key to check it', async () => {
    const image = { path: 'mcu.bin', size: 1, sha256: sha256('x'), hardware: 'ctl-v2' };
    await expectRefused(await crafted(base, { ...manifestFor('2.0.0', base), controllerImage: image }), 'unsupported', /flashing the controller is not defined by the serial protocol yet/);
    const signed = await crafted(base, undefined, { signature: 'sig' });
    await expectRefused(signed, 'unsupported', /signed firmware is not supported yet/);
    // The hook a future key check plugs into sees the manifest's exact bytes and the signature.
    const seen: string[] = [];
    await verifyBundle(signed, { verifySignature: (m, s) => void seen.push(JSON.parse(m.toString()).version as string, String(s)) });
    expect(seen).toEqual(['2.0.0', 'sig']);
    const err = await refusal(verifyBundle(signed, { verifySignature: () => { throw new BundleError('unsupported', 'bad signature'); } }));
    expect(err.message).toBe('bad signature');
  });
});
