// The settings a security profile switch falls back to, kept in the data dir until the new settings
// connect (a restart mid-switch must still fall back). Mode 0600, written atomically: it may hold
// the previous AuthorizationKey, like the database beside it.
import { readFileSync } from 'node:fs';
import { removeFileDurably, writeFileAtomic } from './atomic-file.js';
import type { AgentLogger } from '../platform/logger.js';

export interface PreviousSettings {
  profile: 0 | 1 | 2 | 3;
  storedKey: string;
}

function isProfile(v: unknown): v is PreviousSettings['profile'] {
  return v === 0 || v === 1 || v === 2 || v === 3;
}

export class PendingSwitchFile {
  constructor(
    private readonly path: string,
    private readonly log: AgentLogger,
  ) {}

  load(): PreviousSettings | undefined {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch {
      return undefined;
    }
    try {
      const v = JSON.parse(text) as { profile?: unknown; storedKey?: unknown };
      if (isProfile(v.profile) && typeof v.storedKey === 'string') return { profile: v.profile, storedKey: v.storedKey };
    } catch {
      // not JSON: treated as no switch in progress, below
    }
    this.log.warn({ path: this.path }, 'unreadable security switch record ignored');
    removeFileDurably(this.path);
    return undefined;
  }

  save(previous: PreviousSettings): void {
    writeFileAtomic(this.path, JSON.stringify(previous), 0o600);
  }

  clear(): void {
    removeFileDurably(this.path);
  }
}
