/**
 * The Redis connection (ioredis: maintained, pure JavaScript over node:net/tls, so the same code
 * runs on Bun and Deno and compiles into the binary). Redis may go away at any time and must never
 * fail a request: commands are not queued while disconnected (they fail at once and the caller
 * falls back to local state), a command slower than its budget counts as failed, every failure is
 * counted in azure_proxy_state_errors_total, and the log says once when Redis is lost and once
 * when it is back. ioredis reconnects by itself, with the backoff below.
 */
import Redis from "ioredis";
import type { Counter } from "prom-client";
import type { Logger } from "../../lib/log.ts";

/** A limit check slower than this is given up and decided locally (issue 13: "slow (>50 ms)"). */
export const CHECK_TIMEOUT_MS = 50;
const MAX_BACKOFF_MS = 2000;

export class RedisConnection {
  readonly client: Redis;
  private up = false;

  constructor(
    url: string,
    private readonly log: Logger,
    private readonly errors: Counter<"operation">,
  ) {
    this.client = new Redis(url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 2000,
      // 50 ms, 100 ms, ... up to 2 s between attempts, forever: Redis coming back is noticed
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times - 1, 6), MAX_BACKOFF_MS),
      lazyConnect: false,
    });
    this.client.on("ready", () => {
      if (!this.up) log.info("state: connected to Redis", { url: redacted(url) });
      this.up = true;
    });
    this.client.on("end", () => (this.up = false));
    // "error" must have a listener or ioredis prints every failed reconnect
    this.client.on("error", () => {});
    this.client.on("close", () => this.lost("connection closed"));
  }

  get ready(): boolean {
    return this.client.status === "ready";
  }

  /** Run `command`; undefined (and counted, and logged once) when Redis fails or is slower than `timeoutMs`. */
  async guarded<T>(operation: string, command: () => Promise<T>, timeoutMs: number): Promise<T | undefined> {
    if (!this.ready) {
      this.failed(operation, "not connected");
      return undefined;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const result = await Promise.race([
        command(),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`slower than ${timeoutMs} ms`)), timeoutMs))),
      ]);
      if (!this.up) {
        this.up = true;
        this.log.info("state: Redis answers again; limits, budgets and usage are shared again");
      }
      return result;
    } catch (error) {
      this.failed(operation, (error as Error).message);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  failed(operation: string, why: string): void {
    this.errors.inc({ operation });
    this.lost(why);
  }

  async close(): Promise<void> {
    this.up = false;
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }

  private lost(why: string): void {
    if (!this.up) return;
    this.up = false;
    this.log.warn("state: Redis unavailable; serving from this instance's own counters (each limit and budget in full here) until it is back", { reason: why });
  }
}

/**
 * A Redis URL without its password, for the log. The credentials end at the last '@' (as
 * ioredis and WHATWG URL parsing read them), so a password holding a raw '@' is cut whole:
 * stopping at the first one logged the rest of it. A later '@' elsewhere only hides more.
 */
function redacted(url: string): string {
  const start = url.indexOf("//");
  const at = url.lastIndexOf("@");
  return start !== -1 && at > start ? `${url.slice(0, start + 2)}***${url.slice(at)}` : url;
}
