/**
 * `azure-proxy usage [--config FILE] [--since 7d|YYYY-MM-DD] [--until YYYY-MM-DD]
 * [--by key,model,day] [--format table|csv|json]`: the usage ledger from the SQLite file
 * (`state.path`), read-only, with or without a proxy running (WAL lets it read while the proxy
 * writes). Calls of the last second before a crash, or still in a running proxy's batch, are not
 * in the file yet.
 */
import { loadConfig } from "../config/load.ts";
import { parseDay, parseSince } from "../state/period.ts";
import type { Prices } from "../state/prices.ts";
import { buildReport, parseBy, reportCsv, reportTable } from "../state/report.ts";
import { SqliteStore } from "../state/sqlite-store.ts";
import { utcDay } from "../state/usage-row.ts";
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
  const by = parseBy(flags.by ?? "key,model,day");
  if (typeof by === "string") throw new UsageError(`--by: ${by}`);
  const format = flags.format ?? "table";
  if (format !== "table" && format !== "csv" && format !== "json") throw new UsageError(`--format: must be table, csv or json, got "${format}"`);

  const where = stateOf(flags.config);
  if ("issues" in where) {
    for (const issue of where.issues) console.error(`azure-proxy usage: ${issue}`);
    return 2;
  }
  let store: SqliteStore;
  try {
    store = await SqliteStore.open(where.path, true);
  } catch (error) {
    console.error(`azure-proxy usage: cannot read the state file ${where.path}: ${(error as Error).message}`);
    return 1;
  }
  try {
    const report = buildReport(store.rows(since, until), by, since, until, where.prices);
    if (format === "json") console.log(JSON.stringify(report, null, 2));
    else process.stdout.write(format === "csv" ? reportCsv(report) : reportTable(report));
  } finally {
    store.close();
  }
  return 0;
}

/** The state file and prices: from the config (file or environment), or AZURE_PROXY_STATE_PATH alone. */
function stateOf(configPath: string | undefined): { path: string; prices: Prices } | { issues: string[] } {
  const loaded = loadConfig({ env: process.env, cli: { configPath } });
  if (loaded.ok) {
    if (loaded.config.state.path === undefined) return { issues: ["no state file: set state.path in the config (or AZURE_PROXY_STATE_PATH); without it usage lives in the proxy's memory (GET /admin/usage)"] };
    return { path: loaded.config.state.path, prices: loaded.config.prices };
  }
  // no upstream configured here (a reporting host): the file alone is enough
  const path = process.env.AZURE_PROXY_STATE_PATH;
  if (configPath === undefined && process.env.AZURE_PROXY_CONFIG === undefined && path) return { path, prices: {} };
  return { issues: loaded.issues.map((i) => `invalid configuration: ${i}`) };
}
