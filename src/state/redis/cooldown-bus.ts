/**
 * Cooldowns across instances: a 429 or an unreachable upstream seen by one instance is published
 * on a Redis channel, and every instance subscribed applies it at once (pub/sub delivers in about
 * a millisecond on one network, well inside the 100 ms the issue asks). A lost message costs one
 * extra 429 on another instance, never a failed request, so no acknowledgement is waited for.
 */
import type Redis from "ioredis";
import type { Cooldown } from "../../upstream/health.ts";
import type { RedisConnection } from "./connection.ts";

const PUBLISH_TIMEOUT_MS = 200;

export class CooldownBus {
  private readonly subscriber: Redis;

  constructor(
    private readonly redis: RedisConnection,
    private readonly channel: string,
  ) {
    // a subscribed connection can do nothing else: a second one
    this.subscriber = redis.client.duplicate({ enableOfflineQueue: true });
    this.subscriber.on("error", () => {});
  }

  /** Apply every cooldown another instance publishes. */
  async listen(apply: (cooldown: Cooldown) => void): Promise<void> {
    this.subscriber.on("message", (_channel: string, text: string) => {
      try {
        const c = JSON.parse(text) as Cooldown;
        if (typeof c.upstream === "string" && typeof c.until === "number") apply({ upstream: c.upstream, deployment: c.deployment ?? null, until: c.until });
      } catch {
        // not ours
      }
    });
    // ioredis subscribes again after a reconnect (autoResubscribe)
    await this.subscriber.subscribe(this.channel).catch(() => {});
  }

  publish(cooldown: Cooldown): Promise<void> {
    return this.redis.guarded("publish", () => this.redis.client.publish(this.channel, JSON.stringify(cooldown)), PUBLISH_TIMEOUT_MS).then(() => {});
  }

  close(): void {
    this.subscriber.disconnect();
  }
}
