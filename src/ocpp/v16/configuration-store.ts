// OCPP 1.6 configuration values over the key catalogue: typed reads for the
// domain, ChangeConfiguration semantics, change listeners. Persistence is a port
// (SQLite store from the persistence work); a value is written only when it changes.
import { CONFIGURATION_KEYS, checkValue, isConfigurationKey, type ConfigurationKey, type KeySpec } from './configuration-keys.js';

export type ChangeResult = 'Accepted' | 'Rejected' | 'RebootRequired' | 'NotSupported';

export interface ConfigurationPersistence {
  loadAll(): Record<string, string>;
  save(key: string, value: string): void;
}

/** A key's own acceptance rule beyond its type (SecurityProfile preconditions): a reason refuses the change. */
export type ChangeGuard = (value: string, current: string) => string | null;

export interface KeyValue {
  key: ConfigurationKey;
  readonly: boolean;
  value: string;
}

export class ConfigurationStore {
  private readonly values = new Map<ConfigurationKey, string>();
  private readonly listeners = new Set<(key: ConfigurationKey, value: string) => void>();
  private readonly guards = new Map<ConfigurationKey, ChangeGuard>();

  constructor(
    private readonly persistence: ConfigurationPersistence | null = null,
    overrides: Partial<Record<ConfigurationKey, string>> = {},
  ) {
    for (const key of Object.keys(CONFIGURATION_KEYS) as ConfigurationKey[]) {
      this.values.set(key, overrides[key] ?? CONFIGURATION_KEYS[key].default);
    }
    for (const [key, value] of Object.entries(persistence?.loadAll() ?? {})) {
      // A stored value that no longer validates (older firmware, hand edit) falls back to the default.
      if (isConfigurationKey(key) && checkValue(key, value).ok) this.values.set(key, value);
    }
  }

  get(key: ConfigurationKey): string {
    return this.values.get(key) ?? CONFIGURATION_KEYS[key].default;
  }

  getBoolean(key: ConfigurationKey): boolean {
    return this.get(key) === 'true';
  }

  getInt(key: ConfigurationKey): number {
    return Number(this.get(key));
  }

  getList(key: ConfigurationKey): string[] {
    const v = this.get(key);
    return v === '' ? [] : v.split(',');
  }

  /** Values the charger sets itself (read-only keys such as NumberOfConnectors). */
  setInternal(key: ConfigurationKey, value: string): void {
    if (this.values.get(key) === value) return;
    this.values.set(key, value);
    this.persistence?.save(key, value);
    for (const l of this.listeners) l(key, value);
  }

  /** ChangeConfiguration semantics (OCPP 1.6 §5.3). */
  change(key: string, value: string): { result: ChangeResult; reason?: string } {
    if (!isConfigurationKey(key)) return { result: 'NotSupported', reason: `unknown key ${key}` };
    const spec: KeySpec = CONFIGURATION_KEYS[key];
    if (spec.access === 'R') return { result: 'Rejected', reason: `${key} is read-only` };
    const checked = checkValue(key, value);
    if (!checked.ok) return { result: 'Rejected', reason: checked.reason };
    const refused = this.guards.get(key)?.(checked.normalized, this.get(key)) ?? null;
    if (refused !== null) return { result: 'Rejected', reason: `${key}: ${refused}` };
    this.setInternal(key, checked.normalized);
    return { result: spec.rebootRequired ? 'RebootRequired' : 'Accepted' };
  }

  /** GetConfiguration: known keys with values (write-only keys never leave), and the unknown ones. */
  list(keys?: readonly string[]): { known: KeyValue[]; unknown: string[] } {
    const wanted = keys && keys.length > 0 ? keys : (Object.keys(CONFIGURATION_KEYS) as string[]);
    const known: KeyValue[] = [];
    const unknown: string[] = [];
    for (const k of wanted) {
      if (!isConfigurationKey(k)) {
        unknown.push(k);
        continue;
      }
      const spec: KeySpec = CONFIGURATION_KEYS[k];
      if (spec.writeOnly) {
        if (keys && keys.length > 0) unknown.push(k);
        continue;
      }
      known.push({ key: k, readonly: spec.access === 'R', value: this.get(k) });
    }
    return { known, unknown };
  }

  /** One guard per key, consulted by change() (not by setInternal) after the type check. */
  guard(key: ConfigurationKey, guard: ChangeGuard): void {
    this.guards.set(key, guard);
  }

  onChange(listener: (key: ConfigurationKey, value: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
