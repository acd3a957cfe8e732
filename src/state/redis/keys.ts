/**
 * Every Redis key the proxy uses, under `state.key_prefix`. A client key's own keys share a
 * hash tag ({name}), so the admit script's keys stay in one slot should the Redis be a cluster.
 */
export class RedisKeys {
  constructor(private readonly prefix: string) {}

  requests(key: string): string {
    return `${this.prefix}{${key}}:rpm`;
  }
  tokens(key: string): string {
    return `${this.prefix}{${key}}:tpm`;
  }
  streams(key: string): string {
    return `${this.prefix}{${key}}:streams`;
  }
  /** Spent tokens (t) and USD (c) in one UTC day (YYYY-MM-DD) or month (YYYY-MM). */
  spent(key: string, period: string): string {
    return `${this.prefix}{${key}}:spent:${period}`;
  }
  /** The ledger of one UTC day: field "key\0model\0upstream\0measure" → sum. */
  usage(day: string): string {
    return `${this.prefix}usage:${day}`;
  }
  /** Marks a usage batch as written (its id), so a resent batch is not counted twice. */
  batch(instance: string): string {
    return `${this.prefix}batch:${instance}`;
  }
  /** Object id → the key that created it. */
  get owners(): string {
    return `${this.prefix}owners`;
  }
  get cooldowns(): string {
    return `${this.prefix}cooldowns`;
  }
}
