/** The state layer the config asks for: the ledger in a SQLite file (`state.path`), or in memory. */
import type { Config } from "../config/schema.ts";
import type { Logger } from "../lib/log.ts";
import { Accountant } from "./accountant.ts";
import { MemoryStore } from "./memory-store.ts";
import { SqliteStore } from "./sqlite-store.ts";

export async function openSpending(config: Pick<Config, "state" | "prices">, log: Logger, clock: () => number = Date.now): Promise<Accountant> {
  const store = config.state.path === undefined ? new MemoryStore() : await SqliteStore.open(config.state.path);
  return new Accountant(store, config.prices, clock, log);
}
