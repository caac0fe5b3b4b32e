// Reading a firmware bundle: verification alone (verifyBundle) or verification while extracting
// into an empty directory (extractBundle). The bundle is streamed (file -> gunzip -> tar) and
// each file is hashed as it goes by, so memory stays at one chunk whatever the bundle's size.
// Anything wrong (corrupt or truncated archive, checksum, platform/ABI, a path or symlink that
// leaves the release, an entry over the limits, a file the manifest does not list or a listed
// one missing) throws a BundleError naming the reason; extractBundle then leaves the partial
// tree to its caller, who removes the whole staging directory.
import { createHash } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { mkdir, open, realpath, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { fsyncDir } from '../launcher/durable.js';
import {
  BundleError,
  MANIFEST_ENTRY,
  RELEASE_PREFIX,
  SIGNATURE_ENTRY,
  parseManifest,
  unsafePathReason,
  type BundleManifest,
  type ManifestFile,
} from './manifest.js';
import { ByteSource, TarError, readTar } from './tar.js';

export interface BundleLimits {
  /** Largest single file. Default 64 MiB. */
  maxFileBytes?: number;
  /** All files together. Default 512 MiB. */
  maxTotalBytes?: number;
  /** Files, directories and symlinks together. Default 50 000. */
  maxEntries?: number;
  /** The manifest itself. Default 8 MiB. */
  maxManifestBytes?: number;
}

/** Hook for signed bundles: throws when the signature over the manifest's bytes is not good. */
export type SignatureVerifier = (manifestBytes: Buffer, signature: Buffer | null) => void;

export interface ReadBundleOptions extends BundleLimits {
  /** Default `${process.platform}-${process.arch}`. */
  platform?: string;
  /** Default process.versions.modules. */
  nodeAbi?: string;
  /**
   * Without it a signed bundle is refused (no key to check it with) and an unsigned one is
   * accepted; with it, it decides both.
   */
  verifySignature?: SignatureVerifier;
  /** Called after each file is checked (and, when extracting, written; all are fsync'd at the end): progress. */
  onFile?: (path: string, bytesSoFar: number) => void;
}

export interface BundleInfo {
  manifest: BundleManifest;
  /** Compressed size of the bundle file. */
  bundleBytes: number;
  /** Sum of the release's file sizes. */
  releaseBytes: number;
}

const CHUNK = 64 * 1024;

function limitsOf(opts: ReadBundleOptions): Required<BundleLimits> {
  return {
    maxFileBytes: opts.maxFileBytes ?? 64 * 1024 * 1024,
    maxTotalBytes: opts.maxTotalBytes ?? 512 * 1024 * 1024,
    maxEntries: opts.maxEntries ?? 50_000,
    maxManifestBytes: opts.maxManifestBytes ?? 8 * 1024 * 1024,
  };
}

async function readAll(data: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of data) parts.push(chunk);
  return Buffer.concat(parts);
}

/** Refuses a manifest this agent cannot run or that breaks the limits, before any file is read. */
function checkManifest(m: BundleManifest, opts: ReadBundleOptions, limits: Required<BundleLimits>): number {
  const platform = opts.platform ?? `${process.platform}-${process.arch}`;
  const abi = opts.nodeAbi ?? process.versions.modules;
  if (m.platform !== platform) throw new BundleError('platform', `bundle is for ${m.platform}, this charger is ${platform}`);
  if (m.nodeAbi !== abi) throw new BundleError('platform', `bundle's native modules are for Node ABI ${m.nodeAbi}, this charger runs ABI ${abi} (Node ${process.version})`);
  const entries = m.files.length + m.directories.length + m.symlinks.length;
  if (entries > limits.maxEntries) throw new BundleError('oversize', `bundle lists ${entries} entries, the limit is ${limits.maxEntries}`);
  let total = 0;
  for (const f of m.files) {
    if (f.size > limits.maxFileBytes) throw new BundleError('oversize', `${f.path} is ${f.size} bytes, the limit is ${limits.maxFileBytes}`);
    total += f.size;
  }
  if (total > limits.maxTotalBytes) throw new BundleError('oversize', `release is ${total} bytes, the limit is ${limits.maxTotalBytes}`);
  return total;
}

/** Entry path -> path inside the release, refusing anything outside release/. */
function releasePath(entryPath: string): string {
  if (!entryPath.startsWith(RELEASE_PREFIX)) throw new BundleError('unsafe-path', `entry ${JSON.stringify(entryPath)} is outside release/`);
  const rel = entryPath.slice(RELEASE_PREFIX.length);
  const why = unsafePathReason(rel);
  if (why !== null) throw new BundleError('unsafe-path', `entry ${JSON.stringify(entryPath)} refused: ${why}`);
  return rel;
}

async function readBundle(bundlePath: string, dest: string | null, opts: ReadBundleOptions): Promise<BundleInfo> {
  const limits = limitsOf(opts);
  let bundleBytes = 0;
  const file = createReadStream(bundlePath, { highWaterMark: CHUNK });
  file.on('data', (c) => (bundleBytes += c.length));
  const gunzip = createGunzip({ chunkSize: CHUNK });
  file.on('error', (err) => gunzip.destroy(err));
  file.pipe(gunzip);
  const src = new ByteSource(gunzip[Symbol.asyncIterator]());

  let manifest: BundleManifest | null = null;
  let manifestBytes: Buffer | null = null;
  let signature: Buffer | null = null;
  let files = new Map<string, ManifestFile>();
  let dirs = new Set<string>();
  let links = new Map<string, string>();
  const seen = new Set<string>();
  const madeDirs: string[] = [];
  let releaseBytes = 0;
  let entries = 0;

  const manifestReady = (): BundleManifest => {
    if (manifest !== null) return manifest;
    if (manifestBytes === null) throw new BundleError('corrupt', 'the bundle does not start with manifest.json');
    if (opts.verifySignature) opts.verifySignature(manifestBytes, signature);
    else if (signature !== null) throw new BundleError('unsupported', 'the bundle is signed and this charger has no key to check it with (signed firmware is not supported yet)');
    manifest = parseManifest(manifestBytes.toString('utf8'));
    checkManifest(manifest, opts, limits);
    files = new Map(manifest.files.map((f) => [f.path, f]));
    dirs = new Set(manifest.directories);
    links = new Map(manifest.symlinks.map((s) => [s.path, s.target]));
    return manifest;
  };

  try {
    await readTar(src, async (entry, data) => {
      if (entries === 0 && entry.path !== MANIFEST_ENTRY) throw new BundleError('corrupt', 'the bundle does not start with manifest.json');
      entries++;
      if (entry.path === MANIFEST_ENTRY || entry.path === SIGNATURE_ENTRY) {
        if (manifest !== null || (entry.path === MANIFEST_ENTRY ? manifestBytes : signature) !== null) {
          throw new BundleError('corrupt', `${entry.path} out of place or twice`);
        }
        if (entry.type !== 'file' || entry.size > limits.maxManifestBytes) throw new BundleError('oversize', `${entry.path} is not a file under ${limits.maxManifestBytes} bytes`);
        if (entry.path === MANIFEST_ENTRY) manifestBytes = await readAll(data);
        else signature = await readAll(data);
        return;
      }
      const m = manifestReady();
      if (entry.path === 'release' && entry.type === 'directory') return;
      const rel = releasePath(entry.path);
      if (seen.has(rel)) throw new BundleError('corrupt', `${rel} appears twice in the bundle`);
      seen.add(rel);
      if (seen.size > limits.maxEntries) throw new BundleError('oversize', `more than ${limits.maxEntries} entries`);
      // Never write through a symlink: every parent must be a directory, not one of the links.
      const parts = rel.split('/');
      for (let i = 1; i < parts.length; i++) {
        const parent = parts.slice(0, i).join('/');
        if (links.has(parent) || files.has(parent)) throw new BundleError('unsafe-path', `${rel} lies under ${parent}, which is not a directory`);
      }
      const target = dest === null ? null : join(dest, rel);
      if (entry.type === 'directory') {
        if (!dirs.has(rel)) throw new BundleError('corrupt', `directory ${rel} is not in the manifest`);
        if (target !== null) {
          await mkdir(target, { recursive: true, mode: 0o755 });
          madeDirs.push(target);
        }
      } else if (entry.type === 'symlink') {
        if (links.get(rel) !== entry.linkTarget) throw new BundleError('unsafe-path', `symlink ${rel} -> ${entry.linkTarget} is not the one in the manifest`);
        if (target !== null) {
          await mkdir(join(target, '..'), { recursive: true });
          await symlink(entry.linkTarget, target);
        }
      } else {
        const want = files.get(rel);
        if (want === undefined) throw new BundleError('corrupt', `file ${rel} is not in the manifest`);
        if (entry.size !== want.size) throw new BundleError('checksum', `${rel} is ${entry.size} bytes, the manifest says ${want.size}`);
        releaseBytes += entry.size;
        if (releaseBytes > limits.maxTotalBytes) throw new BundleError('oversize', `release exceeds ${limits.maxTotalBytes} bytes`);
        const hash = createHash('sha256');
        // O_EXCL|O_NOFOLLOW: never follow or replace something already there.
        const fh = target === null ? null : await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, want.mode);
        try {
          for await (const chunk of data) {
            hash.update(chunk);
            if (fh !== null) await fh.write(chunk);
          }
          if (fh !== null) await fh.chmod(want.mode);
        } finally {
          await fh?.close();
        }
        const got = hash.digest('hex');
        if (got !== want.sha256) throw new BundleError('checksum', `${rel}: SHA-256 ${got} does not match the manifest's ${want.sha256}`);
        opts.onFile?.(rel, releaseBytes);
      }
    }, { maxPaxBytes: 64 * 1024 });
  } catch (err) {
    if (err instanceof BundleError) throw err;
    if (err instanceof TarError) throw new BundleError('corrupt', `bundle is corrupt or truncated: ${err.message}`);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'Z_BUF_ERROR' || code === 'Z_DATA_ERROR' || code === 'ERR_PADDING_1' || /unexpected end of file/i.test(String(err))) {
      throw new BundleError('corrupt', `bundle is corrupt or truncated (gzip: ${(err as Error).message})`);
    }
    throw new BundleError('io', `${dest ? 'cannot stage the release' : 'cannot read the bundle'}: ${(err as Error).message}`);
  } finally {
    file.destroy();
    gunzip.destroy();
  }
  const m = manifestReady();
  const missing = [...files.keys(), ...dirs, ...links.keys()].filter((p) => !seen.has(p));
  if (missing.length > 0) throw new BundleError('corrupt', `the bundle lacks ${missing.length} listed entries (first: ${missing[0]})`);
  if (dest !== null) {
    // Chained links can land outside even when each one alone does not: check where they really go.
    const root = await realpath(dest);
    for (const rel of links.keys()) {
      let real: string;
      try {
        real = await realpath(join(dest, rel));
      } catch {
        throw new BundleError('unsafe-path', `symlink ${rel} points at nothing inside the release`);
      }
      if (real !== root && !real.startsWith(`${root}/`)) throw new BundleError('unsafe-path', `symlink ${rel} resolves outside the release`);
    }
    // Made durable together at the end: many fsyncs in flight let the filesystem batch its
    // journal commits (one by one, each file waits for its own).
    await syncAll([...files.keys()].map((p) => join(dest, p)), 'file');
    await syncAll([...madeDirs.reverse(), dest], 'dir');
  }
  return { manifest: m, bundleBytes, releaseBytes };
}

async function syncAll(paths: string[], kind: 'file' | 'dir', parallel = 16): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < paths.length) {
      const p = paths[next++]!;
      if (kind === 'dir') await fsyncDir(p);
      else {
        const fh = await open(p, constants.O_RDONLY | constants.O_NOFOLLOW);
        try {
          await fh.sync();
        } finally {
          await fh.close();
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, paths.length) }, worker));
}

/** Reads the whole bundle and checks everything; installs nothing. */
export function verifyBundle(bundlePath: string, opts: ReadBundleOptions = {}): Promise<BundleInfo> {
  return readBundle(bundlePath, null, opts);
}

/**
 * Verifies while extracting into `dest` (an existing empty directory); every file and directory
 * is fsync'd before it returns. On error `dest` holds a partial tree for the caller to remove.
 */
export async function extractBundle(bundlePath: string, dest: string, opts: ReadBundleOptions = {}): Promise<BundleInfo> {
  return readBundle(bundlePath, dest, opts);
}
