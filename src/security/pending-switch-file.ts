// The settings a security profile switch falls back to, kept in the data dir until the new settings
// connect (a restart mid-switch must still fall back). Mode 0600, written atomically: it may hold
// the previous AuthorizationKey, like the database beside it.
import { JsonStateFile } from './json-state-file.js';
import type { AgentLogger } from '../platform/logger.js';

export interface PreviousSettings {
  profile: 0 | 1 | 2 | 3;
  storedKey: string;
}

function isProfile(v: unknown): v is PreviousSettings['profile'] {
  return v === 0 || v === 1 || v === 2 || v === 3;
}

/** The record's content, or null when it is not one. */
function validate(json: unknown): PreviousSettings | null {
  const v = json as { profile?: unknown; storedKey?: unknown };
  return isProfile(v.profile) && typeof v.storedKey === 'string' ? { profile: v.profile, storedKey: v.storedKey } : null;
}

export class PendingSwitchFile {
  private readonly file: JsonStateFile<PreviousSettings>;

  constructor(
    private readonly path: string,
    private readonly log: AgentLogger,
  ) {
    this.file = new JsonStateFile(path, { mode: 0o600 });
  }

  load(): PreviousSettings | undefined {
    const r = this.file.read(validate);
    if (r.kind === 'ok') return r.value;
    // An unreadable record is treated as no switch in progress.
    if (r.kind === 'damaged') {
      this.log.warn({ path: this.path }, 'unreadable security switch record ignored');
      this.file.remove();
    }
    return undefined;
  }

  save(previous: PreviousSettings): void {
    this.file.write(previous);
  }

  clear(): void {
    this.file.remove();
  }
}
