/**
 * The state layer the config asks for: Redis (`state.redis`: limits, budgets, usage and
 * cooldowns shared by every instance), else the ledger in a SQLite file (`state.path`), else in
 * memory.
 */
import type { Counter } from "prom-client";
import type { Config } from "../config/schema.ts";
import type { Logger } from "../lib/log.ts";
import { Accountant } from "./accountant.ts";
import { MemoryStore } from "./memory-store.ts";
import { SqliteOwners } from "./ownership/sqlite-owners.ts";
import { SqliteStore } from "./sqlite-store.ts";

export async function openSpending(config: Pick<Config, "state" | "prices">, log: Logger, clock: () => number = Date.now): Promise<Accountant> {
  const store = config.state.path === undefined ? new MemoryStore() : await SqliteStore.open(config.state.path);
  return new Accountant(store, config.prices, clock, log);
}

/** Redis's state and cooldown bus; imported only when `state.redis` is set. */
export async function openRedisState(config: Pick<Config, "state" | "prices">, log: Logger, errors: Counter<"operation">) {
  const { RedisConnection } = await import("./redis/connection.ts");
  const { RedisKeys } = await import("./redis/keys.ts");
  const { RedisState } = await import("./redis/redis-state.ts");
  const { CooldownBus } = await import("./redis/cooldown-bus.ts");
  const connection = new RedisConnection(config.state.redis!, log, errors);
  const keys = new RedisKeys(config.state.key_prefix);
  const { RedisOwners } = await import("./redis/redis-owners.ts");
  return {
    state: new RedisState(connection, keys, config.prices, Date.now, log),
    bus: new CooldownBus(connection, keys.cooldowns),
    owners: new RedisOwners(connection, keys.owners),
  };
}

/** Object ownership needs a store that outlives the process (state.path; Redis has its own) and client keys. */
export async function openOwners(config: Pick<Config, "state" | "auth">): Promise<SqliteOwners | undefined> {
  if (config.state.path === undefined || config.state.redis !== undefined || config.auth.insecure_no_auth) return undefined;
  return await SqliteOwners.open(config.state.path);
}
