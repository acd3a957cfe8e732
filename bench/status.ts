/**
 * By hand: `bun bench/status.ts`. What one GET /admin/status answer costs beyond HTTP, on a
 * large setup: 20 upstreams of 5 deployments (a third cooling, all with headroom), 100 keys, a
 * month of ledger rows (100 keys × 3 models × 30 days = 9,000, in the memory store) and a full
 * hour of minutes. The contract test (test/contract/admin-status.test.ts) measures the whole
 * answer, HTTP included, on a small config.
 */
import { Value } from "@sinclair/typebox/value";
import { ConfigSchema, type Config } from "../src/config/schema.ts";
import { createLogger } from "../src/lib/log.ts";
import { createMetrics } from "../src/metrics/catalog.ts";
import { Accountant } from "../src/state/accountant.ts";
import { MemoryStore } from "../src/state/memory-store.ts";
import { MonthUsage } from "../src/status/month-usage.ts";
import { statusPartOf } from "../src/status/status-part.ts";
import { statusReport } from "../src/status/status-report.ts";
import { Headroom } from "../src/upstream/headroom.ts";
import { Health } from "../src/upstream/health.ts";

// the last day of a month, so that all 30 days of rows are this month's
const now = Date.UTC(2026, 11, 31, 12);
const models = ["gpt-4o", "gpt-4o-mini", "gpt-4.1", "o3", "text-embedding-3-small"];
const raw = {
  upstreams: Array.from({ length: 20 }, (_, u) => ({
    name: `up${u}`,
    endpoint: `https://r${u}.openai.azure.com`,
    api_key: "k",
    deployments: Object.fromEntries(models.map((m) => [m, m])),
  })),
  keys: Array.from({ length: 100 }, (_, k) => ({ name: `key${k}`, key: `secret-${k}-xxxxxxxx`, budget: { tokens_per_day: 1e6, usd_per_month: 100 } })),
  prices: { "gpt-4o": { input: 2.5, output: 10 } },
};
const config = Value.Default(ConfigSchema, structuredClone(raw)) as Config;
const health = new Health(() => now);
const headroom = new Headroom(() => now);
for (const u of config.upstreams) {
  for (const [i, m] of models.entries()) {
    if (i % 3 === 0) void health.coolDown(u.name, m, 30_000);
    headroom.observe(u.name, m, new Headers({ "x-ratelimit-remaining-requests": "10", "x-ratelimit-remaining-tokens": "5000" }));
  }
}
const metrics = createMetrics(health, headroom);
const day = 86_400_000;
for (let minute = 0; minute < 60; minute++) for (let i = 0; i < 50; i++) metrics.minutes.record(i % 17 === 0 ? 429 : 200, "complete", 50 + i * 20, 30 + i);
const log = createLogger("error", "json", () => {});
const store = new MemoryStore();
const spending = new Accountant(store, config.prices, () => now, log);
const monthStart = `${new Date(now).toISOString().slice(0, 8)}01`;
for (let d = 0; d < 30; d++)
  for (let k = 0; k < 100; k++)
    for (const m of models.slice(0, 3))
      spending.record({ key: `key${k}`, model: m, upstream: "up0", prompt: 100, cached: 0, completion: 50, at: now - d * day });

const month = new MonthUsage(spending);
async function answer(): Promise<string> {
  const [part, rows] = await Promise.all([statusPartOf(metrics, headroom), month.rows(now)]);
  return JSON.stringify(statusReport({ config, cooling: health.cooling(), part, rows, loadedAt: now, lastReload: null, version: "bench", now }));
}

for (let i = 0; i < 50; i++) await answer();
const n = 300;
const cpu = process.cpuUsage();
const started = performance.now();
let bytes = 0;
for (let i = 0; i < n; i++) bytes = (await answer()).length;
const used = process.cpuUsage(cpu);
const rows = await spending.report(monthStart, new Date(now).toISOString().slice(0, 10));
console.log(`answer ${bytes} bytes`);
console.log(
  `the whole month: ${rows.length} rows; per answer: ${((performance.now() - started) / n).toFixed(3)} ms wall, ${((used.user + used.system) / 1000 / n).toFixed(3)} ms CPU`,
);
if (process.env.BREAKDOWN) {
  const today = new Date(now).toISOString().slice(0, 10);
  const time = async (name: string, fn: () => unknown) => {
    const c = process.cpuUsage();
    for (let i = 0; i < n; i++) await fn();
    const u = process.cpuUsage(c);
    console.log(name, ((u.user + u.system) / 1000 / n).toFixed(3));
  };
  const part = await statusPartOf(metrics, headroom);
  await time("part", () => statusPartOf(metrics, headroom));
  await time("rows (whole month)", () => spending.report(monthStart, today));
  await time("rows (MonthUsage)", () => month.rows(now));
  await time("report", () => statusReport({ config, cooling: health.cooling(), part, rows, loadedAt: now, lastReload: null, version: "bench", now }));
  const r = statusReport({ config, cooling: health.cooling(), part, rows, loadedAt: now, lastReload: null, version: "bench", now });
  await time("json", () => JSON.stringify(r));
}
await spending.close();
