// The firmware bundle manifest: the first entry of a bundle (manifest.json), naming the
// release, the platform and Node ABI its native modules were built for, and the SHA-256 of every
// file. A bundle is a gzip'd ustar archive:
//   manifest.json        this manifest
//   manifest.sig         reserved for a signature over manifest.json's bytes (not made yet)
//   release/...          the production tree, exactly the files, directories and symlinks listed
// Signing the manifest covers every file through its hashes.

export const BUNDLE_FORMAT = 'charger-agent-firmware';
export const BUNDLE_FORMAT_VERSION = 1;
export const MANIFEST_ENTRY = 'manifest.json';
export const SIGNATURE_ENTRY = 'manifest.sig';
export const RELEASE_PREFIX = 'release/';

/** Why a bundle was refused: lets the OCPP side choose a status without parsing messages. */
export type BundleErrorKind = 'corrupt' | 'checksum' | 'platform' | 'unsafe-path' | 'oversize' | 'unsupported' | 'io';

export class BundleError extends Error {
  override name = 'BundleError';
  constructor(
    readonly kind: BundleErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export interface ManifestFile {
  /** Relative to the release root, '/'-separated. */
  path: string;
  size: number;
  sha256: string;
  /** 0o644 or 0o755. */
  mode: number;
}

export interface ManifestSymlink {
  path: string;
  /** Relative target; must stay inside the release. */
  target: string;
}

/** Room for the charge controller's MCU image; refused until the serial protocol defines flashing. */
export interface ControllerImage {
  path: string;
  size: number;
  sha256: string;
  hardware: string;
}

export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  formatVersion: typeof BUNDLE_FORMAT_VERSION;
  name: string;
  version: string;
  /** `${process.platform}-${process.arch}` of the machine that built the native modules. */
  platform: string;
  /** process.versions.modules of the Node that built them. */
  nodeAbi: string;
  createdAt: string;
  directories: string[];
  files: ManifestFile[];
  symlinks: ManifestSymlink[];
  controllerImage: ControllerImage | null;
}

export const CONTROLLER_IMAGE_REFUSED =
  'the bundle carries a charge controller image: flashing the controller is not defined by the serial protocol yet';

/** A release version doubles as a directory name: the characters install.sh accepts, no leading dot. */
export function isValidVersion(v: unknown): v is string {
  return typeof v === 'string' && /^[0-9A-Za-z][0-9A-Za-z.+-]{0,63}$/.test(v);
}

/**
 * A relative path that cannot leave its root: no absolute path, no '.' or '..' or empty
 * segment, no NUL or backslash. Returns why not, or null when it is safe.
 */
export function unsafePathReason(path: string): string | null {
  if (path === '') return 'empty path';
  if (path.length > 4096) return 'path too long';
  if (path.startsWith('/')) return 'absolute path';
  if (/[\0\\]/.test(path)) return 'NUL or backslash in path';
  for (const seg of path.split('/')) {
    if (seg === '..') return "'..' in path";
    if (seg === '' || seg === '.') return 'empty or "." segment in path';
  }
  return null;
}

/**
 * Where a symlink at `path` pointing to `target` lands, relative to the root, or null when it
 * leaves the root (or the target is absolute).
 */
export function symlinkLanding(path: string, target: string): string | null {
  if (target === '' || target.startsWith('/') || /[\0\\]/.test(target)) return null;
  const parts = path.split('/').slice(0, -1);
  for (const seg of target.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (parts.length === 0) return null;
      parts.pop();
    } else parts.push(seg);
  }
  return parts.join('/');
}

function fail(message: string): never {
  throw new BundleError('corrupt', `bad manifest: ${message}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks the manifest's shape and every path in it; refuses what this agent cannot install. */
export function parseManifest(text: string): BundleManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    fail(`not JSON (${(err as Error).message})`);
  }
  if (!isRecord(raw)) fail('not an object');
  if (raw['format'] !== BUNDLE_FORMAT) fail(`format is ${JSON.stringify(raw['format'])}, expected ${BUNDLE_FORMAT}`);
  if (raw['formatVersion'] !== BUNDLE_FORMAT_VERSION) {
    throw new BundleError('unsupported', `bundle format version ${JSON.stringify(raw['formatVersion'])} is not supported (this agent reads ${BUNDLE_FORMAT_VERSION})`);
  }
  for (const key of ['name', 'platform', 'nodeAbi', 'createdAt'] as const) {
    if (typeof raw[key] !== 'string' || raw[key] === '') fail(`${key} missing`);
  }
  if (!isValidVersion(raw['version'])) fail(`version ${JSON.stringify(raw['version'])} is not a valid release version`);
  const arrays = ['directories', 'files', 'symlinks'] as const;
  for (const key of arrays) if (!Array.isArray(raw[key])) fail(`${key} is not a list`);
  const seen = new Set<string>();
  const checkPath = (p: unknown, what: string): string => {
    if (typeof p !== 'string') fail(`${what} path is not a string`);
    const why = unsafePathReason(p);
    if (why !== null) throw new BundleError('unsafe-path', `${what} ${JSON.stringify(p)} refused: ${why}`);
    if (seen.has(p)) fail(`${p} listed twice`);
    seen.add(p);
    return p;
  };
  const directories = (raw['directories'] as unknown[]).map((d) => checkPath(d, 'directory'));
  const files = (raw['files'] as unknown[]).map((f): ManifestFile => {
    if (!isRecord(f)) fail('a file entry is not an object');
    const path = checkPath(f['path'], 'file');
    const size = f['size'];
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) fail(`${path}: bad size`);
    if (typeof f['sha256'] !== 'string' || !/^[0-9a-f]{64}$/.test(f['sha256'])) fail(`${path}: bad sha256`);
    const mode = f['mode'];
    if (mode !== 0o644 && mode !== 0o755) fail(`${path}: mode must be 0644 or 0755`);
    return { path, size, sha256: f['sha256'], mode };
  });
  const symlinks = (raw['symlinks'] as unknown[]).map((s): ManifestSymlink => {
    if (!isRecord(s)) fail('a symlink entry is not an object');
    const path = checkPath(s['path'], 'symlink');
    const target = s['target'];
    if (typeof target !== 'string' || symlinkLanding(path, target) === null) {
      throw new BundleError('unsafe-path', `symlink ${path} -> ${JSON.stringify(target)} refused: it points outside the release`);
    }
    return { path, target };
  });
  const image = raw['controllerImage'];
  if (image !== null && image !== undefined) throw new BundleError('unsupported', CONTROLLER_IMAGE_REFUSED);
  return {
    format: BUNDLE_FORMAT,
    formatVersion: BUNDLE_FORMAT_VERSION,
    name: raw['name'] as string,
    version: raw['version'],
    platform: raw['platform'] as string,
    nodeAbi: raw['nodeAbi'] as string,
    createdAt: raw['createdAt'] as string,
    directories,
    files,
    symlinks,
    controllerImage: null,
  };
}
