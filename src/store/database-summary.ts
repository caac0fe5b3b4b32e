// A summary of the agent's database for a diagnostics archive (GetDiagnostics, GetLog): row
// counts per table, the migrations applied and the file sizes. Counts only: no row's content
// leaves the charger this way (identifiers and transactions stay in the database).
import { statSync } from 'node:fs';
import { MIGRATIONS } from './migrations/index.js';
import type { AgentDatabase } from './database.js';

export interface DatabaseSummary {
  schemaVersion: number;
  /** The migrations this agent knows at or below the schema version, in order. */
  migrationsApplied: { version: number; name: string }[];
  /** Rows per table (SQLite's own tables left out). */
  tables: Record<string, number>;
  /** Main file and write-ahead log, in bytes (null when absent or unreadable). */
  fileBytes: number | null;
  walBytes: number | null;
}

export function summarizeDatabase(database: AgentDatabase): DatabaseSummary {
  const names = database.db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .pluck()
    .all() as string[];
  const tables: Record<string, number> = {};
  for (const name of names) {
    // The name comes from sqlite_master, quoted as an identifier (a double quote doubled).
    tables[name] = Number(database.db.prepare(`SELECT COUNT(*) FROM "${name.replaceAll('"', '""')}"`).pluck().get());
  }
  return {
    schemaVersion: database.schemaVersion,
    migrationsApplied: MIGRATIONS.filter((m) => m.version <= database.schemaVersion)
      .map((m) => ({ version: m.version, name: m.name }))
      .sort((a, b) => a.version - b.version),
    tables,
    fileBytes: sizeOf(database.path),
    walBytes: sizeOf(`${database.path}-wal`),
  };
}

function sizeOf(path: string): number | null {
  try {
    return statSync(path).size;
  } catch {
    return null;
  }
}
