/**
 * `azure-proxy usage [--config FILE] [--since 7d|YYYY-MM-DD] [--until YYYY-MM-DD]
 * [--by key,model,day] [--format table|csv|json]`: the usage ledger from Redis (`state.redis`)
 * or the SQLite file (`state.path`), read-only, with or without a proxy running (WAL lets it read while the proxy
 * writes). Calls of the last second before a crash, or still in a running proxy's batch, are not
 * in the file yet.
 */
import { loadConfig } from "../config/load.ts";
import { parseDay, parseSince, periodProblem } from "../state/period.ts";
import type { Prices } from "../state/prices.ts";
import { buildReport, parseBy, reportCsv, reportTable } from "../state/report.ts";
import { SqliteStore } from "../state/sqlite-store.ts";
import { utcDay, type UsageRow } from "../state/usage-row.ts";
import { parseFlags, UsageError } from "./args.ts";

export async function usageCommand(args: string[]): Promise<number> {
  const flags = parseFlags(args, {
    config: { type: "string" },
    since: { type: "string" },
    until: { type: "string" },
    by: { type: "string" },
    format: { type: "string" },
  });
  const now = Date.now();
  const since = parseSince(flags.since ?? "7d", now);
  if (since instanceof Error) throw new UsageError(`--since: ${since.message}`);
  const until = parseDay(flags.until ?? utcDay(now));
  if (until instanceof Error) throw new UsageError(`--until: ${until.message}`);
  const problem = periodProblem(since, until);
  if (problem) throw new UsageError(`--since: ${problem}`);
  const by = parseBy(flags.by ?? "key,model,day");
  if (typeof by === "string") throw new UsageError(`--by: ${by}`);
  const format = flags.format ?? "table";
  if (format !== "table" && format !== "csv" && format !== "json") throw new UsageError(`--format: must be table, csv or json, got "${format}"`);

  const where = stateOf(flags.config);
  if ("issues" in where) {
    for (const issue of where.issues) console.error(`azure-proxy usage: ${issue}`);
    return 2;
  }
  let rows: UsageRow[];
  try {
    rows = "redis" in where ? await readRedisUsage(where.redis, where.prefix, since, until) : await readFile(where.path, since, until);
  } catch (error) {
    console.error(`azure-proxy usage: cannot read the ${"redis" in where ? "Redis (state.redis)" : `state file ${where.path}`}: ${(error as Error).message}`);
    return 1;
  }
  const report = buildReport(rows, by, since, until, where.prices);
  if (format === "json") console.log(JSON.stringify(report, null, 2));
  else process.stdout.write(format === "csv" ? reportCsv(report) : reportTable(report));
  return 0;
}

async function readRedisUsage(url: string, prefix: string, since: string, until: string): Promise<UsageRow[]> {
  return (await import("../state/redis/read-usage.ts")).readRedisUsage(url, prefix, since, until);
}

function readFile(path: string, since: string, until: string): Promise<UsageRow[]> {
  return SqliteStore.open(path, true).then((store) => {
    try {
      return store.rows(since, until);
    } finally {
      store.close();
    }
  });
}

type Where = { path: string; prices: Prices } | { redis: string; prefix: string; prices: Prices };

/** The state file (or Redis) and prices: from the config (file or environment), or AZURE_PROXY_STATE_PATH alone. */
function stateOf(configPath: string | undefined): Where | { issues: string[] } {
  const loaded = loadConfig({ env: process.env, cli: { configPath } });
  if (loaded.ok) {
    const { state } = loaded.config;
    if (state.redis !== undefined) return { redis: state.redis, prefix: state.key_prefix, prices: loaded.config.prices };
    if (loaded.config.state.path === undefined)
      return {
        issues: ["no state file: set state.path in the config (or AZURE_PROXY_STATE_PATH); without it usage lives in the proxy's memory (GET /admin/usage)"],
      };
    return { path: loaded.config.state.path, prices: loaded.config.prices };
  }
  // no upstream configured here (a reporting host): the file alone is enough
  const path = process.env.AZURE_PROXY_STATE_PATH;
  const redis = process.env.AZURE_PROXY_REDIS_URL;
  if (configPath === undefined && process.env.AZURE_PROXY_CONFIG === undefined) {
    if (redis) return { redis, prefix: "azure-proxy:", prices: {} };
    if (path) return { path, prices: {} };
  }
  return { issues: loaded.issues.map((i) => `invalid configuration: ${i}`) };
}
