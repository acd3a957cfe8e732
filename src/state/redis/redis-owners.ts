/**
 * Object owners in Redis (one hash, id → key; HSETNX: the first claim wins), shared by every
 * instance. What this instance claimed or looked up is also kept here, so a Redis outage only
 * matters for objects it has never seen: those answer 503 (retry) rather than a wrong 404.
 */
import { Failure } from "../../lib/failure.ts";
import type { Owners } from "../ownership/owners.ts";
import type { RedisConnection } from "./connection.ts";

const TIMEOUT_MS = 200;
const CACHE_MAX = 100_000;

export class RedisOwners implements Owners {
  private readonly known = new Map<string, string>();

  constructor(
    private readonly redis: RedisConnection,
    private readonly hash: string,
  ) {}

  async ownersOf(ids: readonly string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    const missing = ids.filter((id) => {
      const key = this.known.get(id);
      if (key !== undefined) found.set(id, key);
      return key === undefined;
    });
    if (missing.length === 0) return found;
    const keys = await this.redis.guarded("owners", () => this.redis.client.hmget(this.hash, ...missing), TIMEOUT_MS);
    if (!keys) throw new Failure("state_unavailable", "Object ownership is kept in Redis (state.redis), which does not answer now; retry shortly.", { code: "state_unavailable", headers: { "retry-after": "1" } });
    missing.forEach((id, i) => {
      const key = keys[i];
      if (typeof key === "string") {
        this.remember(id, key);
        found.set(id, key);
      }
    });
    return found;
  }

  async claim(id: string, key: string): Promise<void> {
    this.remember(id, key);
    await this.redis.guarded("owners", () => this.redis.client.hsetnx(this.hash, id, key), TIMEOUT_MS);
  }

  private remember(id: string, key: string): void {
    if (this.known.size >= CACHE_MAX) this.known.delete(this.known.keys().next().value!);
    this.known.set(id, key);
  }
}
