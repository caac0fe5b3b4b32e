// Real SQLite databases (AgentDatabase, all migrations) in temp dirs for store and domain
// tests: open, reopen the same file (a restart), and clean everything up after each test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentDatabase } from '../../src/store/database.js';

export class TempDatabases {
  private readonly dirs: string[] = [];
  private readonly opened: AgentDatabase[] = [];

  /** A new database, or the one in `dir` opened again. */
  open(dir?: string): { db: AgentDatabase; dir: string } {
    const d = dir ?? mkdtempSync(join(tmpdir(), 'ca-auth-'));
    if (!this.dirs.includes(d)) this.dirs.push(d);
    const db = new AgentDatabase(join(d, 'agent.db'));
    this.opened.push(db);
    return { db, dir: d };
  }

  /** Close then open the same file again (the agent restarting). */
  reopen(db: AgentDatabase, dir: string): AgentDatabase {
    db.close();
    return this.open(dir).db;
  }

  cleanup(): void {
    for (const db of this.opened.splice(0)) db.close();
    for (const d of this.dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  }
}
