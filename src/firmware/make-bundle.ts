// Making a firmware bundle from a production tree (`npm run release` output): every file is
// hashed (first pass, for the manifest that leads the archive), then streamed into the gzip'd
// tar (second pass, hashed again so a file that changed in between is an error, not a bundle
// that fails on every charger).
import { X509Certificate, createHash, createPrivateKey } from 'node:crypto';
import { createReadStream, createWriteStream, lstatSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import {
  BUNDLE_FORMAT,
  BUNDLE_FORMAT_VERSION,
  CONTROLLER_IMAGE_REFUSED,
  MANIFEST_ENTRY,
  RELEASE_PREFIX,
  isValidVersion,
  symlinkLanding,
  type BundleManifest,
  type ManifestFile,
  type ManifestSymlink,
} from './manifest.js';
import { TarWriter } from './tar.js';
import { signFile } from './signature.js';

export interface MakeBundleOptions {
  /** The production tree (package.json, dist/, node_modules/). */
  from: string;
  version: string;
  out: string;
  /** Default `${process.platform}-${process.arch}` (the native modules were built here). */
  platform?: string;
  nodeAbi?: string;
  /** Reserved: a charge controller image. Refused until the serial protocol defines flashing. */
  controllerImage?: string;
  /**
   * Signing for SignedUpdateFirmware (security whitepaper): the PEM private key and its PEM
   * certificate (issued under a ManufacturerRootCertificate). The signature, over the whole
   * bundle file, goes to `<out>.sig` (base64), beside a copy of the certificate in `<out>.cert.pem`:
   * the CSMS sends both in SignedUpdateFirmware.
   */
  signKey?: string;
  signCert?: string;
}

export interface SignedBundle {
  signaturePath: string;
  certificatePath: string;
  signature: string;
}

export class MakeBundleError extends Error {
  override name = 'MakeBundleError';
}

interface Tree {
  directories: string[];
  files: ManifestFile[];
  symlinks: ManifestSymlink[];
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function scan(root: string): Promise<Tree> {
  const tree: Tree = { directories: [], files: [], symlinks: [] };
  const walk = async (rel: string): Promise<void> => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const path = rel === '' ? name : `${rel}/${name}`;
      const st = lstatSync(join(root, path));
      if (st.isDirectory()) {
        tree.directories.push(path);
        await walk(path);
      } else if (st.isFile()) {
        const mode = st.mode & 0o111 ? 0o755 : 0o644;
        tree.files.push({ path, size: st.size, sha256: await sha256File(join(root, path)), mode });
      } else if (st.isSymbolicLink()) {
        const target = readlinkSync(join(root, path));
        if (symlinkLanding(path, target) === null) throw new MakeBundleError(`${path} -> ${target} points outside the tree`);
        tree.symlinks.push({ path, target });
      } else throw new MakeBundleError(`${path} is neither a file, a directory nor a symlink`);
    }
  };
  await walk('');
  return tree;
}

/** Writes the bundle to `out` (through a temporary name); returns its manifest. */
export async function makeBundle(opts: MakeBundleOptions): Promise<BundleManifest> {
  if (opts.controllerImage !== undefined) throw new MakeBundleError(CONTROLLER_IMAGE_REFUSED);
  const signing = signingMaterial(opts);
  if (!isValidVersion(opts.version)) throw new MakeBundleError(`version ${JSON.stringify(opts.version)}: use letters, digits and . + - (no leading dot)`);
  let pkg: { name?: unknown; version?: unknown };
  try {
    pkg = JSON.parse(readFileSync(join(opts.from, 'package.json'), 'utf8')) as typeof pkg;
  } catch (err) {
    throw new MakeBundleError(`${opts.from} is not a release tree: ${(err as Error).message}`);
  }
  // The agent marks itself healthy under its package.json version, which must name its directory.
  if (pkg.version !== opts.version) {
    throw new MakeBundleError(`the tree is version ${String(pkg.version)}, not ${opts.version}: set the version in package.json (npm version ${opts.version}) and make the release again`);
  }
  for (const need of ['dist/src/cli.js', 'node_modules']) {
    try {
      lstatSync(join(opts.from, need));
    } catch {
      throw new MakeBundleError(`${opts.from} is not a built release: ${need} is missing (make one with npm run release)`);
    }
  }
  const tree = await scan(opts.from);
  const manifest: BundleManifest = {
    format: BUNDLE_FORMAT,
    formatVersion: BUNDLE_FORMAT_VERSION,
    name: typeof pkg.name === 'string' ? pkg.name : 'charger-agent',
    version: opts.version,
    platform: opts.platform ?? `${process.platform}-${process.arch}`,
    nodeAbi: opts.nodeAbi ?? process.versions.modules,
    createdAt: new Date().toISOString(),
    ...tree,
    controllerImage: null,
  };

  const tmp = `${opts.out}.tmp-${process.pid}`;
  const gzip = createGzip({ level: 9 });
  const written = pipeline(gzip, createWriteStream(tmp));
  try {
    const tar = new TarWriter(gzip);
    await tar.addBuffer(MANIFEST_ENTRY, Buffer.from(`${JSON.stringify(manifest, null, 1)}\n`));
    await tar.addDirectory('release');
    const kinds = new Map<string, 'd' | 'f' | 'l'>();
    for (const d of tree.directories) kinds.set(d, 'd');
    for (const f of tree.files) kinds.set(f.path, 'f');
    for (const s of tree.symlinks) kinds.set(s.path, 'l');
    const files = new Map(tree.files.map((f) => [f.path, f]));
    const links = new Map(tree.symlinks.map((s) => [s.path, s.target]));
    // Directory order (parents before children), as the scan found them.
    for (const [path, kind] of [...kinds].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const entry = `${RELEASE_PREFIX}${path}`;
      if (kind === 'd') await tar.addDirectory(entry);
      else if (kind === 'l') await tar.addSymlink(entry, links.get(path)!);
      else {
        const f = files.get(path)!;
        const hash = createHash('sha256');
        const source = createReadStream(join(opts.from, path), { highWaterMark: 64 * 1024 });
        async function* hashed(): AsyncGenerator<Buffer> {
          for await (const chunk of source) {
            hash.update(chunk as Buffer);
            yield chunk as Buffer;
          }
        }
        await tar.addStream(entry, f.size, f.mode, hashed());
        if (hash.digest('hex') !== f.sha256) throw new MakeBundleError(`${path} changed while the bundle was made`);
      }
    }
    await tar.finish();
    gzip.end();
    await written;
  } catch (err) {
    gzip.destroy();
    await written.catch(() => undefined);
    rmSync(tmp, { force: true });
    throw err instanceof Error && err.name === 'TarError' ? new MakeBundleError(err.message) : err;
  }
  renameSync(tmp, opts.out);
  if (signing !== null) await signBundle(opts.out, signing);
  return manifest;
}

/** Both or neither; the key must be the certificate's. Checked before any work. */
function signingMaterial(opts: MakeBundleOptions): { key: string; cert: string } | null {
  if (opts.signKey === undefined && opts.signCert === undefined) return null;
  if (opts.signKey === undefined || opts.signCert === undefined) throw new MakeBundleError('signing needs both --sign-key and --sign-cert');
  let key: string;
  let cert: X509Certificate;
  try {
    key = readFileSync(opts.signKey, 'utf8');
    cert = new X509Certificate(readFileSync(opts.signCert));
  } catch (err) {
    throw new MakeBundleError(`cannot read the signing key or certificate: ${(err as Error).message}`);
  }
  let matches: boolean;
  try {
    matches = cert.checkPrivateKey(createPrivateKey(key));
  } catch (err) {
    throw new MakeBundleError(`${opts.signKey} is not a PEM private key: ${(err as Error).message}`);
  }
  if (!matches) throw new MakeBundleError(`${opts.signKey} is not the private key of ${opts.signCert}`);
  return { key, cert: cert.toString() };
}

async function signBundle(out: string, signing: { key: string; cert: string }): Promise<SignedBundle> {
  const signature = await signFile(out, signing.key);
  const signed: SignedBundle = { signaturePath: `${out}.sig`, certificatePath: `${out}.cert.pem`, signature };
  writeFileSync(signed.signaturePath, `${signature}\n`);
  writeFileSync(signed.certificatePath, signing.cert);
  return signed;
}
