/** The ledger's rows from Redis, for `azure-proxy usage` without a running proxy. */
import Redis from "ioredis";
import type { UsageRow } from "../usage-row.ts";
import { daysBetween, rowsOfDay } from "./batch.ts";
import { RedisKeys } from "./keys.ts";

export async function readRedisUsage(url: string, prefix: string, since: string, until: string): Promise<UsageRow[]> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null, connectTimeout: 3000 });
  client.on("error", () => {});
  try {
    await client.connect();
    const keys = new RedisKeys(prefix);
    const days = daysBetween(since, until);
    const pipeline = client.pipeline();
    for (const day of days) pipeline.hgetall(keys.usage(day));
    const answers = (await pipeline.exec()) ?? [];
    return answers.flatMap(([error, hash], i) => (error ? [] : rowsOfDay(days[i]!, hash as Record<string, string>)));
  } finally {
    client.disconnect();
  }
}
