// Connector availability (ChangeAvailability, OCPP 1.6 §5.2) kept across reboots.
// Connector 0 is the whole station. Writes only a value that changed.
import type { AgentDatabase } from './database.js';

export class SqliteAvailabilityRepo {
  constructor(private readonly store: AgentDatabase) {}

  load(): Map<number, boolean> {
    const rows = this.store.db.prepare('SELECT connector, operative FROM connector_availability').all() as Array<{ connector: number; operative: number }>;
    return new Map(rows.map((r) => [r.connector, r.operative === 1]));
  }

  save(connector: number, operative: boolean): void {
    const row = this.store.db.prepare('SELECT operative FROM connector_availability WHERE connector = ?').get(connector) as { operative: number } | undefined;
    if (row && row.operative === (operative ? 1 : 0)) return;
    // Operative is the default: store nothing for it, so a charger that never changed writes nothing.
    if (!row && operative) return;
    this.store.durable(() => {
      this.store.db
        .prepare('INSERT INTO connector_availability (connector, operative) VALUES (?, ?) ON CONFLICT (connector) DO UPDATE SET operative = excluded.operative')
        .run(connector, operative ? 1 : 0);
    });
  }
}
