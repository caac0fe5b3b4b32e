// Reservations (OCPP 1.6 §5.13) in SQLite: the ReservationStore port. Rare writes, each
// durable: a reservation answered Accepted, or one used up, must survive a power cut.
// Rows keep connector 0 for "any EVSE"; identifiers come from the CSMS (type Central).
import type { Reservation, ReservationStore } from '../domain/reservation/reservations.js';
import type { AgentDatabase } from './database.js';

/** The connector column's value for a reservation of any one EVSE. */
const ANY_EVSE = 0;

interface Row {
  id: number;
  connector: number;
  id_tag: string;
  parent_id_tag: string | null;
  expires_at: number;
}

export class SqliteReservationRepo implements ReservationStore {
  constructor(private readonly store: AgentDatabase) {}

  load(): Reservation[] {
    const rows = this.store.db.prepare('SELECT id, connector, id_tag, parent_id_tag, expires_at FROM reservations ORDER BY id').all() as Row[];
    return rows.map((r) => {
      const res: Reservation = { id: r.id, idToken: { value: r.id_tag, type: 'Central' }, expiresAt: new Date(r.expires_at) };
      if (r.connector !== ANY_EVSE) res.evseId = r.connector;
      if (r.parent_id_tag !== null) res.groupId = { value: r.parent_id_tag, type: 'Central' };
      return res;
    });
  }

  save(r: Reservation): void {
    this.store.durable(() => {
      this.store.db
        .prepare(
          'INSERT INTO reservations (id, connector, id_tag, parent_id_tag, expires_at) VALUES (?, ?, ?, ?, ?) ' +
            'ON CONFLICT (id) DO UPDATE SET connector = excluded.connector, id_tag = excluded.id_tag, parent_id_tag = excluded.parent_id_tag, expires_at = excluded.expires_at',
        )
        .run(r.id, r.evseId ?? ANY_EVSE, r.idToken.value, r.groupId?.value ?? null, r.expiresAt.getTime());
    });
  }

  delete(id: number): void {
    // Nothing to delete, nothing written.
    if (!this.store.db.prepare('SELECT 1 FROM reservations WHERE id = ?').get(id)) return;
    this.store.durable(() => {
      this.store.db.prepare('DELETE FROM reservations WHERE id = ?').run(id);
    });
  }
}
