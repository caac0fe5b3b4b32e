// OCPP configuration values in SQLite: the ConfigurationStore's persistence port.
// Writes only a value that changed (flash wear), each commit durable.
import type { AgentDatabase } from './database.js';

export class SqliteConfigurationRepo {
  constructor(private readonly store: AgentDatabase) {}

  loadAll(): Record<string, string> {
    const rows = this.store.db.prepare('SELECT key, value FROM configuration').all() as Array<{ key: string; value: string }>;
    return Object.fromEntries(rows.map((r) => [r.key, r.value]));
  }

  save(key: string, value: string): void {
    const current = this.store.db.prepare('SELECT value FROM configuration WHERE key = ?').get(key) as { value: string } | undefined;
    if (current?.value === value) return;
    this.store.durable(() => {
      this.store.db.prepare('INSERT INTO configuration (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
    });
  }
}
