/**
 * The ledger in a SQLite file (`state.path`): one row per (day, key, model, upstream), summed
 * in place by an upsert. WAL journal: the writer never blocks a reader (`azure-proxy usage`
 * while the proxy runs), and a batch is one transaction, so a crash loses at most the batch
 * not yet written (≤ 1 s, ledger.ts), never half of one.
 */
import { openSqlite, type SqliteDb, type SqliteStatement } from "../runtime/sqlite.ts";
import type { UsageStore } from "./store.ts";
import type { UsageRow } from "./usage-row.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS usage (
  day TEXT NOT NULL, key TEXT NOT NULL, model TEXT NOT NULL, upstream TEXT NOT NULL,
  requests INTEGER NOT NULL, prompt INTEGER NOT NULL, cached INTEGER NOT NULL,
  completion INTEGER NOT NULL, cost REAL NOT NULL,
  PRIMARY KEY (day, key, model, upstream)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS usage_by_key ON usage (key, day);`;

export class SqliteStore implements UsageStore {
  private readonly upsert: SqliteStatement;
  private readonly select: SqliteStatement;
  private readonly sum: SqliteStatement;

  private constructor(private readonly db: SqliteDb) {
    this.upsert = db.prepare(
      `INSERT INTO usage (day, key, model, upstream, requests, prompt, cached, completion, cost) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (day, key, model, upstream) DO UPDATE SET requests = requests + excluded.requests, prompt = prompt + excluded.prompt,
       cached = cached + excluded.cached, completion = completion + excluded.completion, cost = cost + excluded.cost`,
    );
    this.select = db.prepare(
      "SELECT day, key, model, upstream, requests, prompt, cached, completion, cost FROM usage WHERE day >= ? AND day <= ? ORDER BY day, key, model, upstream",
    );
    this.sum = db.prepare(
      "SELECT COALESCE(SUM(prompt + completion), 0) AS tokens, COALESCE(SUM(cost), 0) AS cost FROM usage WHERE key = ? AND day >= ? AND day <= ?",
    );
  }

  /** Open (and create, unless `readonly`) the file. */
  static async open(path: string, readonly = false): Promise<SqliteStore> {
    const db = await openSqlite(path, readonly);
    if (!readonly) {
      db.exec("PRAGMA journal_mode = WAL");
      // WAL + NORMAL: a commit survives a process crash; only a power cut may lose the last ones
      db.exec("PRAGMA synchronous = NORMAL");
    }
    db.exec("PRAGMA busy_timeout = 5000");
    if (!readonly) db.exec(SCHEMA);
    return new SqliteStore(db);
  }

  add(rows: readonly UsageRow[]): void {
    if (rows.length === 0) return;
    this.db.exec("BEGIN IMMEDIATE");
    try {
      for (const r of rows) this.upsert.run(r.day, r.key, r.model, r.upstream, r.requests, r.prompt, r.cached, r.completion, r.cost);
      this.db.exec("COMMIT");
    } catch (error) {
      this.db.exec("ROLLBACK");
      throw error;
    }
  }

  rows(since: string, until: string): UsageRow[] {
    return this.select.all(since, until).map((r) => ({
      day: String(r.day),
      key: String(r.key),
      model: String(r.model),
      upstream: String(r.upstream),
      requests: Number(r.requests),
      prompt: Number(r.prompt),
      cached: Number(r.cached),
      completion: Number(r.completion),
      cost: Number(r.cost),
    }));
  }

  spent(key: string, since: string, until: string): { tokens: number; cost: number } {
    const row = this.sum.all(key, since, until)[0] ?? {};
    return { tokens: Number(row.tokens ?? 0), cost: Number(row.cost ?? 0) };
  }

  close(): void {
    this.db.close();
  }
}
