// The installed charging profiles and the restart envelope: the ChargingProfileStore port of
// domain/smart-charging. One row, rewritten whole by one durable UPSERT when the persistence
// policy says so (it decides how rarely); nothing else here writes.
import type { ChargingProfile } from '../domain/smart-charging/profile.js';
import type { PersistedProfiles } from '../domain/smart-charging/profile-persistence-policy.js';
import type { ChargingProfileStore } from '../domain/smart-charging/smart-charging.js';
import type { AgentDatabase } from './database.js';

interface Row {
  profiles: string;
  envelope_a: number | null;
  written_at_ms: number;
}

export class SqliteChargingProfileRepo implements ChargingProfileStore {
  constructor(private readonly store: AgentDatabase) {}

  load(): PersistedProfiles | null {
    const row = this.store.db.prepare('SELECT profiles, envelope_a, written_at_ms FROM charging_profiles WHERE id = 1').get() as Row | undefined;
    if (!row) return null;
    const parsed: unknown = JSON.parse(row.profiles);
    // The stack drops any profile that fails its checks; here only the shape is needed.
    const profiles = Array.isArray(parsed) ? (parsed as ChargingProfile[]) : [];
    return { profiles, envelopeA: row.envelope_a, writtenAtMs: row.written_at_ms };
  }

  save(state: PersistedProfiles): number {
    const text = JSON.stringify(state.profiles);
    this.store.durable(() => {
      this.store.db
        .prepare(
          `INSERT INTO charging_profiles (id, profiles, envelope_a, written_at_ms) VALUES (1, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET profiles = excluded.profiles, envelope_a = excluded.envelope_a, written_at_ms = excluded.written_at_ms`,
        )
        .run(text, state.envelopeA, Math.round(state.writtenAtMs));
    });
    return Buffer.byteLength(text) + 16;
  }
}
