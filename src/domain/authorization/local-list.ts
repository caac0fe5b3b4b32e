// Local authorization list (OCPP 1.6 §3.5.2, §5.10 GetLocalListVersion, §5.15 SendLocalList):
// identifiers the CSMS synchronizes, kept in storage, changed only by a full or differential
// update that applies atomically (a refused update leaves the old list whole).
import type { AuthorizationInfo } from '../model/authorization.js';
import { normalizeIdValue } from '../model/id-token.js';

/** Storage of the list; keys are normalized identifiers. Each write is one atomic transaction. */
export interface LocalListStore {
  version(): number;
  count(): number;
  get(key: string): AuthorizationInfo | null;
  /** Replaces the whole list and its version. */
  replace(version: number, entries: ReadonlyArray<readonly [string, AuthorizationInfo]>): void;
  /**
   * Adds/updates `upserts`, removes `deletes`, sets the version; rolls everything back and
   * returns false when the list would then hold more than `maxEntries`.
   */
  patch(version: number, upserts: ReadonlyArray<readonly [string, AuthorizationInfo]>, deletes: readonly string[], maxEntries: number): boolean;
}

export interface LocalListSettings {
  /** LocalAuthListEnabled. */
  enabled(): boolean;
  /** LocalAuthListMaxLength: entries the list may hold. */
  maxEntries(): number;
  /** SendLocalListMaxLength: entries one update may carry. */
  maxUpdateEntries(): number;
}

export interface LocalListUpdate {
  type: 'Full' | 'Differential';
  version: number;
  /** `info` null: remove the identifier (Differential only; a Full update needs every info). */
  entries: ReadonlyArray<{ idTag: string; info: AuthorizationInfo | null }>;
}

/** OCPP 1.6 UpdateStatus wording. */
export type LocalListUpdateStatus = 'Accepted' | 'Failed' | 'NotSupported' | 'VersionMismatch';

export interface LocalListUpdateResult {
  status: LocalListUpdateStatus;
  /** Why it was refused (for the log). */
  reason?: string;
}

export class LocalAuthorizationList {
  constructor(
    private readonly store: LocalListStore,
    private readonly settings: LocalListSettings,
  ) {}

  get enabled(): boolean {
    return this.settings.enabled();
  }

  /**
   * §5.10: -1 when the list is not in use (LocalAuthListEnabled false), 0 when it is empty,
   * else the version of the last update.
   */
  version(): number {
    if (!this.settings.enabled()) return -1;
    return this.store.count() === 0 ? 0 : this.store.version();
  }

  /** The entry for an identifier (trimmed, case-insensitive); null when absent or the list is disabled. */
  lookup(idTag: string): AuthorizationInfo | null {
    if (!this.settings.enabled()) return null;
    return this.store.get(normalizeIdValue(idTag));
  }

  /** Number of identifiers in the list (whether or not it is enabled). */
  size(): number {
    return this.store.count();
  }

  /** SendLocalList: validates the whole update first, then applies it in one transaction. */
  update(u: LocalListUpdate): LocalListUpdateResult {
    if (!this.settings.enabled()) return { status: 'NotSupported', reason: 'LocalAuthListEnabled is false' };
    if (u.entries.length > this.settings.maxUpdateEntries()) {
      return { status: 'Failed', reason: `${u.entries.length} entries exceed SendLocalListMaxLength ${this.settings.maxUpdateEntries()}` };
    }
    const seen = new Set<string>();
    const upserts: Array<readonly [string, AuthorizationInfo]> = [];
    const deletes: string[] = [];
    for (const e of u.entries) {
      const key = normalizeIdValue(e.idTag);
      if (key === '') return { status: 'Failed', reason: 'empty idTag' };
      // §6.41: all idTags in the list MUST be unique.
      if (seen.has(key)) return { status: 'Failed', reason: `duplicate idTag ${key}` };
      seen.add(key);
      if (e.info) upserts.push([key, e.info]);
      else if (u.type === 'Full') return { status: 'Failed', reason: `idTagInfo missing for ${key} in a Full update` };
      else deletes.push(key);
    }
    if (u.type === 'Full') {
      // 0 means "empty" and -1 "unsupported" (§5.10): a non-empty list needs a real version.
      if (upserts.length > 0 && u.version < 1) return { status: 'Failed', reason: `listVersion ${u.version} for a non-empty list` };
      if (upserts.length > this.settings.maxEntries()) {
        return { status: 'Failed', reason: `${upserts.length} entries exceed LocalAuthListMaxLength ${this.settings.maxEntries()}` };
      }
      this.store.replace(u.version, upserts);
      return { status: 'Accepted' };
    }
    // §7 UpdateStatus VersionMismatch: a differential update must be newer than the list it applies to.
    // The stored version, not the reported one: an emptied list reports 0 but an older update is still stale.
    const current = this.store.version();
    if (u.version <= current) return { status: 'VersionMismatch', reason: `listVersion ${u.version} <= current ${current}` };
    if (!this.store.patch(u.version, upserts, deletes, this.settings.maxEntries())) {
      return { status: 'Failed', reason: `the list would exceed LocalAuthListMaxLength ${this.settings.maxEntries()}` };
    }
    return { status: 'Accepted' };
  }
}
