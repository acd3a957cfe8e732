/**
 * By hand: `bun bench/status.ts`. What one GET /admin/status answer costs:
 * - beyond HTTP, in this process, on a large setup: 20 upstreams of 5 deployments (a third
 *   cooling, all with headroom), 100 keys, a month of ledger rows (100 keys × 3 models × 30 days
 *   = 9,000, in the memory store) and a full hour of minutes;
 * - the whole answer, HTTP included, as the proxy's own CPU time (/proc), from a proxy process
 *   (source, or AZURE_PROXY_CMD) in front of the simulator: on a small config (issue 15's target:
 *   under 1 ms) and with 4,000 keys (in proportion to the keys, not to their square).
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
import { cpuMs } from "./lib/procs.ts";
import { configFile } from "../test/harness/config-file.ts";
import { startProxy } from "../test/harness/proxy.ts";
import { startSimulator } from "../test/harness/simulator.ts";

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

/** The proxy process's CPU per /admin/status answer, in ms (user + system, from /proc). */
async function httpAnswerCpuMs(keyCount: number, answers: number): Promise<number> {
  const sim = await startSimulator();
  const admin = "bench-status-admin";
  const keys = [
    { name: "ops", key: admin, admin: true },
    ...Array.from({ length: keyCount }, (_, i) => ({
      name: `key-${i}`,
      key: `bench-status-key-${i}`,
      ...(i % 2 ? { budget: { tokens_per_day: 1000 + i } } : {}),
    })),
  ];
  const file = configFile({ upstreams: [{ name: "east", endpoint: sim.url, api_key: sim.key, deployments: { "gpt-4o": "gpt-4o" } }], keys });
  const proxy = await startProxy({ args: ["serve", "--config", file.path, "--workers", "1"] });
  try {
    const get = async () => {
      const response = await fetch(`${proxy.url}/admin/status`, { headers: { authorization: `Bearer ${admin}` } });
      if (response.status !== 200) throw new Error(`/admin/status answered ${response.status}`);
      await response.arrayBuffer();
    };
    for (let i = 0; i < Math.max(5, answers / 20); i++) await get();
    const before = cpuMs(proxy.pid);
    for (let i = 0; i < answers; i++) await get();
    return (cpuMs(proxy.pid) - before) / answers;
  } finally {
    await proxy.stop();
    await sim.stop();
  }
}

const small = await httpAnswerCpuMs(1, 400);
console.log(`through HTTP, 2 keys: ${small.toFixed(3)} ms of proxy CPU per answer (target < 1 ms)`);
const many = await httpAnswerCpuMs(4000, 40);
console.log(`through HTTP, 4,001 keys: ${many.toFixed(2)} ms of proxy CPU per answer`);
