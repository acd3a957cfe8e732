/**
 * What the state layer costs (issue 13): the proxy's CPU per plain chat call at the throughput
 * phase's 50 connections, for a key with no limits (the state layer is not on its path), and
 * for a key with rpm and a budget, with the state in memory, in a SQLite file (state.path) and in
 * a Redis on this box (state.redis, redis-server pinned to the load core, so its own CPU is not
 * the proxy's; it is shown apart). Redis round trips per call come from Redis's own command
 * counts: every script run (admit, usage batch) minus the batches the proxy wrote.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LOAD_CORE, PROXY_CORE, type Ctx } from "../context.ts";
import { cpuMs, freePort, runToEnd, start } from "../lib/procs.ts";
import { round } from "../lib/stats.ts";
import type { Section } from "../report.ts";
import { CLIENT_KEY, DEPLOYMENT, proxiedTarget, startOurs, UPSTREAM_KEY } from "../targets.ts";
import { wrk } from "../wrk.ts";

const LIMITED_KEY = "bench-limited-key";
const PREFIX = "bench:";

async function redisCalls(port: number): Promise<{ scripts: number; all: number }> {
  const info = await runToEnd(["redis-cli", "-p", String(port), "info", "commandstats"], { core: LOAD_CORE, timeoutMs: 5000 });
  let scripts = 0;
  let all = 0;
  for (const [, name, calls] of info.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) {
    if (name === "info" || name === "scan") continue;
    all += Number(calls);
    if (name === "evalsha" || name === "eval") scripts += Number(calls);
  }
  return { scripts, all };
}

async function batchesWritten(port: number): Promise<number> {
  const out = await runToEnd(["redis-cli", "-p", String(port), "--scan", "--pattern", `${PREFIX}batch:*`], { core: LOAD_CORE, timeoutMs: 10_000 });
  return out.split("\n").filter(Boolean).length;
}

export async function statePhase(ctx: Ctx): Promise<{ section: Section; data: Record<string, unknown> }> {
  const dir = mkdtempSync(join(ctx.dir, "state-"));
  const redisPort = await freePort();
  const redis = start("redis", ["redis-server", "--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir], {
    core: LOAD_CORE,
    log: join(dir, "redis.log"),
  });
  await waitForPort(redisPort);
  const variants = [
    { name: "plain", key: CLIENT_KEY, state: undefined },
    { name: "memory", key: LIMITED_KEY, state: undefined },
    { name: "sqlite", key: LIMITED_KEY, state: { path: join(dir, "state.db") } },
    { name: "redis", key: LIMITED_KEY, state: { redis: `redis://127.0.0.1:${redisPort}/0`, key_prefix: PREFIX } },
  ] as const;
  const results: Record<string, Record<string, number>> = {};
  const c = ctx.mode.throughputConnections;
  try {
    for (const v of variants) {
      const file = join(dir, `${v.name}.json`);
      writeFileSync(
        file,
        JSON.stringify({
          upstreams: [
            {
              name: "mock",
              endpoint: `http://127.0.0.1:${ctx.mock.port}`,
              api_key: UPSTREAM_KEY,
              api_version: "2024-10-21",
              deployments: { [DEPLOYMENT]: DEPLOYMENT },
            },
          ],
          keys: [{ name: "limited", key: LIMITED_KEY, rpm: 1_000_000_000, budget: { tokens_per_day: 1_000_000_000_000 } }],
          prices: { [DEPLOYMENT]: { input: 2.5, output: 10 } },
          ...(v.state ? { state: v.state } : {}),
          server: { workers: 1 },
        }),
      );
      const port = await freePort();
      const child = await startOurs(`ours-state-${v.name}`, [ctx.binary], {
        mockPort: ctx.mock.port,
        port,
        core: PROXY_CORE,
        dir,
        env: { AZURE_PROXY_CONFIG: file },
      });
      const base = proxiedTarget(`state-${v.name}`, port, child.pid, true);
      const target = { ...base, keyHeader: ["authorization", `Bearer ${v.key}`] as const };
      try {
        ctx.progress(`state layer, throughput ${ctx.mode.throughputConnections} connections: ${v.name}`);
        await wrk(target, { connections: c, seconds: ctx.mode.warmSec, core: LOAD_CORE });
        await Bun.sleep(500); // the warm-up's last usage batch
        const redisBefore = v.name === "redis" ? { ...(await redisCalls(redisPort)), batches: await batchesWritten(redisPort) } : null;
        const cpu0 = cpuMs(child.pid);
        const redisCpu0 = cpuMs(redis.pid);
        const r = await wrk(target, { connections: c, seconds: ctx.mode.throughputSec, core: LOAD_CORE });
        const cpu = cpuMs(child.pid) - cpu0;
        await Bun.sleep(500); // the last batch of the measured run
        const entry: Record<string, number> = { rps: round(r.rps, 0), cpu_us_per_request: round((cpu * 1000) / r.requests, 1), errors: r.errors + r.non2xx };
        if (redisBefore) {
          const after = await redisCalls(redisPort);
          const batches = (await batchesWritten(redisPort)) - redisBefore.batches;
          entry.redis_round_trips_before_call = round((after.scripts - redisBefore.scripts - batches) / r.requests, 3);
          entry.redis_commands_per_call = round((after.all - redisBefore.all) / r.requests, 3);
          entry.redis_batches_per_second = round(batches / ctx.mode.throughputSec, 1);
          entry.redis_cpu_us_per_request = round(((cpuMs(redis.pid) - redisCpu0) * 1000) / r.requests, 1);
        }
        results[v.name] = entry;
      } finally {
        await child.stop();
      }
    }
  } finally {
    await redis.stop();
  }
  const added = (name: string) => round(results[name]!.cpu_us_per_request! - results.memory!.cpu_us_per_request!, 1);
  const section: Section = {
    title: `state layer: a key with rpm + budget, plain chat at ${c} connections (proxy on core ${PROXY_CORE}; Redis on core ${LOAD_CORE})`,
    columns: [
      ["plain", "no limits"],
      ["memory", "memory"],
      ["sqlite", "SQLite"],
      ["redis", "Redis"],
    ],
    rows: [
      { metric: "throughput (req/s)", values: Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.rps!])) },
      { metric: "proxy CPU per request (µs)", values: Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.cpu_us_per_request!])) },
      { metric: "added CPU per request vs memory (µs)", values: { sqlite: added("sqlite"), redis: added("redis") } },
      {
        metric: "Redis round trips before a call",
        values: { redis: results.redis!.redis_round_trips_before_call! },
        target: "<= 1",
        pass: results.redis!.redis_round_trips_before_call! <= 1.01,
      },
      { metric: "Redis commands per call (script-internal ones too)", values: { redis: results.redis!.redis_commands_per_call! } },
      { metric: "Redis usage batches written per second", values: { redis: results.redis!.redis_batches_per_second! } },
      { metric: "Redis's own CPU per request (µs)", values: { redis: results.redis!.redis_cpu_us_per_request! } },
      { metric: "errors + non-2xx", values: Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.errors!])) },
    ],
  };
  return { section, data: results };
}

/** redis-server speaks RESP, not HTTP: wait until its port takes a connection. */
async function waitForPort(port: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    try {
      const socket = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
      socket.end();
      return;
    } catch {
      await Bun.sleep(20);
    }
  }
  throw new Error(`redis-server did not listen on ${port}`);
}
