// The firmware update in progress, kept across restarts in <dataDir>/firmware/update.json
// (small, replaced atomically): a scheduled download still happens after a reboot, one cut by a
// restart starts again, and the release started after the install knows which update to report.
import { randomBytes } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { JsonStateFile } from '../security/json-state-file.js';

/** The protocol-neutral statuses (the 1.6 security whitepaper's list; plain 1.6 sends a subset). */
export type FirmwareUpdateStatus =
  | 'DownloadScheduled'
  | 'Downloading'
  | 'Downloaded'
  | 'DownloadFailed'
  | 'SignatureVerified'
  | 'InvalidSignature'
  | 'InstallScheduled'
  | 'Installing'
  | 'InstallRebooting'
  | 'Installed'
  | 'InstallationFailed'
  | 'InstallVerificationFailed';

export interface FirmwareUpdateRequest {
  /** Signed updates carry the CSMS's id, echoed in every status. */
  requestId: number | null;
  location: string;
  /** ISO time: not downloaded before. */
  retrieveAt: string;
  /** ISO time: not installed before (signed updates only). */
  installAt: string | null;
  /** Further attempts after a failed download. */
  retries: number;
  retryIntervalS: number;
  signature: { certificatePem: string; signatureBase64: string } | null;
}

export interface PersistedUpdate {
  request: FirmwareUpdateRequest;
  /** scheduled: not downloaded yet; downloaded: verified, waiting to install; installing: install begun. */
  phase: 'scheduled' | 'downloaded' | 'installing';
  /** The last status reported. */
  status: FirmwareUpdateStatus;
  /** The station's availability before the update made it Inoperative (restored afterwards). */
  availabilityBefore: 'Operative' | 'Inoperative' | null;
  /** The release the bundle holds, once verified. */
  version: string | null;
  /** This update's download in the state dir (one name per request, so a replaced request's late download cannot land on it). */
  bundle: string;
}

/** The file's content as a PersistedUpdate, defaults filled in; null when it is not one. */
function validateUpdate(json: unknown): PersistedUpdate | null {
  const raw = json as Partial<PersistedUpdate>;
  const r = raw.request;
  if (!r || typeof r.location !== 'string' || typeof r.retrieveAt !== 'string') return null;
  if (raw.phase !== 'scheduled' && raw.phase !== 'downloaded' && raw.phase !== 'installing') return null;
  return {
    request: { ...r, installAt: r.installAt ?? null, requestId: r.requestId ?? null, signature: r.signature ?? null, retries: Number(r.retries) || 0, retryIntervalS: Number(r.retryIntervalS) || 0 },
    phase: raw.phase,
    status: raw.status ?? 'Downloading',
    availabilityBefore: raw.availabilityBefore ?? null,
    version: raw.version ?? null,
    bundle: typeof raw.bundle === 'string' && /^update-[0-9a-f]+\.bundle$/.test(raw.bundle) ? raw.bundle : UpdateStateFile.bundleName(),
  };
}

export class UpdateStateFile {
  readonly dir: string;
  readonly path: string;
  private readonly file: JsonStateFile<PersistedUpdate>;

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'firmware');
    this.path = join(this.dir, 'update.json');
    this.file = new JsonStateFile(this.path, { mode: 0o600, dirMode: 0o700 });
  }

  /** A fresh name for a request's download. */
  static bundleName(): string {
    return `update-${randomBytes(6).toString('hex')}.bundle`;
  }

  /** Where an update's bundle is downloaded (a plain name inside the state dir, whatever the file said). */
  bundlePath(state: PersistedUpdate): string {
    return join(this.dir, basename(state.bundle));
  }

  read(): PersistedUpdate | null {
    // Written atomically, so a bad file is damage: forget it rather than act on it.
    const r = this.file.read(validateUpdate);
    return r.kind === 'ok' ? r.value : null;
  }

  write(state: PersistedUpdate): void {
    this.file.write(state);
  }

  /** The update is over: its state and every download go. */
  clear(): void {
    this.file.remove();
    let names: string[] = [];
    try {
      names = readdirSync(this.dir);
    } catch {
      return;
    }
    for (const name of names) if (name.startsWith('update-')) rmSync(join(this.dir, name), { force: true });
  }
}
