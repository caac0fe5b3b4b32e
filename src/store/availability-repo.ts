// Availability (ChangeAvailability) kept across reboots: the AvailabilityStore port. Rows are
// per connector; connector 0 is the whole station. Writes only a value that changed.
import type { Operational } from '../domain/model/availability.js';
import type { EvseId, StationTarget } from '../domain/model/evse.js';
import type { AvailabilityStore, SavedAvailability } from '../domain/ports.js';
import type { AgentDatabase } from './database.js';

/** The row that holds the station's own setting. */
const STATION_ROW = 0;

export class SqliteAvailabilityRepo implements AvailabilityStore {
  constructor(private readonly store: AgentDatabase) {}

  load(): SavedAvailability {
    const rows = this.store.db.prepare('SELECT connector, operative FROM connector_availability').all() as Array<{ connector: number; operative: number }>;
    const evses = new Map<EvseId, Operational>();
    const saved: SavedAvailability = { evses };
    for (const r of rows) {
      const value: Operational = r.operative === 1 ? 'Operative' : 'Inoperative';
      if (r.connector === STATION_ROW) saved.station = value;
      else evses.set(r.connector, value);
    }
    return saved;
  }

  save(target: StationTarget, availability: Operational): void {
    const connector = target.scope === 'station' ? STATION_ROW : target.evseId;
    const operative = availability === 'Operative';
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
