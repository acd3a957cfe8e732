/**
 * An embedded SQLite database, the same few calls on both runtimes: Bun's `bun:sqlite` and
 * Deno's `node:sqlite` (DatabaseSync). Both are synchronous and compiled into their runtime, so
 * the single binary needs no native add-on. Only positional `?` parameters are used: the two
 * bind named ones differently.
 */
export interface SqliteStatement {
  run(...params: SqliteValue[]): unknown;
  all(...params: SqliteValue[]): Record<string, unknown>[];
}

export type SqliteValue = string | number | null;

export interface SqliteDb {
  exec(sql: string): void;
  prepare(sql: string): SqliteStatement;
  close(): void;
}

/** Open `path`; `readonly` opens an existing file without the right to change it. */
export async function openSqlite(path: string, readonly = false): Promise<SqliteDb> {
  if ("Bun" in globalThis) {
    const { Database } = await import("bun:sqlite");
    const db = new Database(path, readonly ? { readonly: true } : { create: true });
    return {
      exec: (sql) => void db.exec(sql),
      prepare: (sql) => {
        const statement = db.prepare(sql);
        return { run: (...params) => statement.run(...params), all: (...params) => statement.all(...params) as Record<string, unknown>[] };
      },
      close: () => db.close(),
    };
  }
  const { DatabaseSync } = await import("node:sqlite");
  const db = new DatabaseSync(path, { readOnly: readonly });
  return {
    exec: (sql) => db.exec(sql),
    prepare: (sql) => {
      const statement = db.prepare(sql);
      return { run: (...params) => statement.run(...params), all: (...params) => statement.all(...params) as Record<string, unknown>[] };
    },
    close: () => db.close(),
  };
}
