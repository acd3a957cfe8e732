/**
 * Object owners in Redis (one hash, id → key; HSETNX: the first claim wins), shared by every
 * instance. What this instance claimed or looked up is also kept here, so a Redis outage only
 * matters for objects it has never seen: those answer 503 (retry) rather than a wrong 404.
 * A claim Redis did not take (away, or slower than its budget) is kept and written when Redis
 * is ready again: otherwise an object made during an outage would be the admins' only on every
 * other instance, and on this one after a restart.
 */
import { Failure } from "../../lib/failure.ts";
import type { Owners } from "../ownership/owners.ts";
import type { RedisConnection } from "./connection.ts";

const TIMEOUT_MS = 200;
const CACHE_MAX = 100_000;

export class RedisOwners implements Owners {
  private readonly known = new Map<string, string>();
  /** Claims not yet in Redis: id → key. */
  private readonly unwritten = new Map<string, string>();
  private writing: Promise<void> | undefined;

  constructor(
    private readonly redis: RedisConnection,
    private readonly hash: string,
  ) {
    redis.client.on("ready", () => void this.writeUnwritten());
  }

  async ownersOf(ids: readonly string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    const missing = ids.filter((id) => {
      const key = this.known.get(id);
      if (key !== undefined) found.set(id, key);
      return key === undefined;
    });
    if (missing.length === 0) return found;
    const keys = await this.redis.guarded("owners", () => this.redis.client.hmget(this.hash, ...missing), TIMEOUT_MS);
    if (!keys)
      throw new Failure("state_unavailable", "Object ownership is kept in Redis (state.redis), which does not answer now; retry shortly.", {
        code: "state_unavailable",
        headers: { "retry-after": "1" },
      });
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
    this.unwritten.set(id, key);
    await this.writeUnwritten();
  }

  /** Write every claim still kept aside, in one round trip; what fails stays for the next try. */
  private writeUnwritten(): Promise<void> {
    if (this.unwritten.size === 0) return Promise.resolve();
    this.writing ??= (async () => {
      const claims = [...this.unwritten];
      const pipeline = this.redis.client.pipeline();
      for (const [id, key] of claims) pipeline.hsetnx(this.hash, id, key);
      const answers = await this.redis.guarded("owners", () => pipeline.exec(), TIMEOUT_MS);
      this.writing = undefined;
      if (!answers) return;
      claims.forEach(([id, key], i) => {
        if (!answers[i]?.[0] && this.unwritten.get(id) === key) this.unwritten.delete(id);
      });
      // claims made while this write was under way go next
      const sent = new Set(claims.map(([id]) => id));
      if ([...this.unwritten.keys()].some((id) => !sent.has(id))) await this.writeUnwritten();
    })();
    return this.writing;
  }

  private remember(id: string, key: string): void {
    if (this.known.size >= CACHE_MAX) this.known.delete(this.known.keys().next().value!);
    this.known.set(id, key);
  }
}
