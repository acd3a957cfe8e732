/** Object owners in the state file (`state.path`), beside the usage ledger. */
import { openSqlite, type SqliteDb, type SqliteStatement } from "../../runtime/sqlite.ts";
import type { Owners } from "./owners.ts";

export class SqliteOwners implements Owners {
  private readonly insert: SqliteStatement;
  private readonly select: SqliteStatement;

  private constructor(private readonly db: SqliteDb) {
    db.exec("CREATE TABLE IF NOT EXISTS owners (id TEXT PRIMARY KEY, key TEXT NOT NULL, at INTEGER NOT NULL) WITHOUT ROWID");
    this.insert = db.prepare("INSERT OR IGNORE INTO owners (id, key, at) VALUES (?, ?, ?)");
    this.select = db.prepare("SELECT id, key FROM owners WHERE id IN (SELECT value FROM json_each(?))");
  }

  static async open(path: string): Promise<SqliteOwners> {
    const db = await openSqlite(path);
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA busy_timeout = 5000");
    return new SqliteOwners(db);
  }

  async ownersOf(ids: readonly string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    return new Map(this.select.all(JSON.stringify(ids)).map((r) => [String(r.id), String(r.key)]));
  }

  async claim(id: string, key: string): Promise<void> {
    this.insert.run(id, key, Date.now());
  }

  close(): void {
    this.db.close();
  }
}
