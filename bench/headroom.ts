/**
 * Headroom routing on vs off, under load that exceeds one deployment's quota. Two simulator
 * resources serve gpt-4o: A (priority 0) with a quota, B (priority 1) without one. Closed-loop
 * clients send chat calls with `max_tokens` for a fixed time; A's quota covers a fraction of
 * them. Two quotas: tokens per 60 s window (Azure's token window: one exhaustion per run), and
 * requests per 1 s window (Azure's request windows: A refills and runs out every second). Counted: what clients saw (429s must
 * be 0 either way: failover hides them), the 429s A answered (upstream 429s), who served what,
 * and client latency (a 429 first costs a round trip to A before B answers).
 * Part of `npm run bench` (phase `headroom`); also by hand: `bun bench/headroom.ts [binary]`
 * (default dist/azure-proxy; DURATION_S=10 CONNECTIONS=16 SCENARIOS=tokens_per_60s,...). Loopback only; stops what it starts.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { tmpdir } from "node:os";
import type { DeploymentQuota } from "../src/simulator/quota.ts";
import { startSimulator, type RunningSimulator } from "../test/harness/simulator.ts";
import { cpuMs, freePort, start, waitForHttp } from "./lib/procs.ts";
import { percentile, round } from "./lib/stats.ts";
import { renderSection, type Row, type Section } from "./report.ts";

const CLIENT_KEY = "bench-headroom-key";
/** Each call's answer budget. */
const MAX_TOKENS = 200;

export const SCENARIOS: Record<string, DeploymentQuota | null> = {
  // about 85 calls fit in the window
  tokens_per_60s: { tokens: 20_000, window_ms: 60_000 },
  requests_per_1s: { requests: 20, window_ms: 1000 },
  // no quota: prices headroom's own per-request work (A serves everything)
  no_quota: null,
};

export interface HeadroomRun {
  headroom: boolean;
  requests: number;
  client_429: number;
  client_other_errors: number;
  upstream_429: number;
  served_a: number;
  served_b: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  /** Latency of the calls around A's exhaustion: the slowest 1% minus the median. */
  tail_extra_ms: number;
  proxy_cpu_us_per_request: number;
}

async function runOnce(
  binary: string,
  dir: string,
  quota: DeploymentQuota | null,
  headroom: boolean,
  seconds: number,
  connections: number,
  core: number | null,
): Promise<HeadroomRun> {
  const sims: RunningSimulator[] = [await startSimulator({ name: "a", quotas: quota ? { "gpt-4o": quota } : {} }), await startSimulator({ name: "b" })];
  const [a, b] = sims as [RunningSimulator, RunningSimulator];
  const config = join(dir, `headroom-${headroom ? "on" : "off"}.json`);
  const upstream = (name: string, s: RunningSimulator, priority: number) => ({
    name,
    endpoint: s.url,
    api_key: s.key,
    api_version: "2024-10-21",
    priority,
    deployments: { "gpt-4o": "gpt-4o" },
  });
  writeFileSync(
    config,
    JSON.stringify({ upstreams: [upstream("a", a, 0), upstream("b", b, 1)], keys: [{ name: "bench", key: CLIENT_KEY }], routing: { headroom } }),
  );
  const port = await freePort();
  const proxy = start(`headroom-${headroom ? "on" : "off"}`, [binary, "serve", "--config", config, "--workers", "1"], {
    core,
    env: { HOST: "127.0.0.1", PORT: String(port), LOG_LEVEL: "error" },
  });
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/healthz`, 15_000);
    const body = JSON.stringify({ model: "gpt-4o", max_tokens: MAX_TOKENS, messages: [{ role: "user", content: "Who are you?" }] });
    const latencies: number[] = [];
    const statuses = new Map<number, number>();
    const cpu0 = cpuMs(proxy.pid);
    const until = performance.now() + seconds * 1000;
    const client = async () => {
      while (performance.now() < until) {
        const t0 = performance.now();
        const response = await fetch(`${base}/v1/chat/completions`, {
          method: "POST",
          headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" },
          body,
        });
        await response.arrayBuffer();
        latencies.push(performance.now() - t0);
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: connections }, client));
    const cpu = cpuMs(proxy.pid) - cpu0;
    const quota = ((await (await fetch(`${a.url}/_sim/quota`)).json()) as Array<{ deployment: string; rejected: number }>).find(
      (q) => q.deployment === "gpt-4o",
    );
    // who served what, from the proxy's own counters (the simulators' recorders keep 1000 entries)
    const text = await (await fetch(`${base}/metrics`)).text();
    const attempts = (upstream: string, outcome: string) =>
      Number(
        new RegExp(`azure_proxy_upstream_attempts_total\\{upstream="${upstream}",deployment="gpt-4o",outcome="${outcome}"\\} (\\d+)`).exec(text)?.[1] ?? 0,
      );
    const requests = latencies.length;
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    return {
      headroom,
      requests,
      client_429: statuses.get(429) ?? 0,
      client_other_errors: requests - (statuses.get(200) ?? 0) - (statuses.get(429) ?? 0),
      upstream_429: quota?.rejected ?? 0,
      served_a: attempts("a", "ok"),
      served_b: attempts("b", "ok"),
      p50_ms: round(p50, 2),
      p99_ms: round(p99, 2),
      max_ms: round(percentile(latencies, 100), 2),
      tail_extra_ms: round(p99 - p50, 2),
      proxy_cpu_us_per_request: round((cpu * 1000) / requests, 1),
    };
  } finally {
    await proxy.stop();
    for (const s of sims) await s.stop();
  }
}

export async function measureHeadroom(o: { binary: string; dir: string; seconds: number; connections: number; core: number | null; scenarios?: string[] }) {
  const results: Record<string, { on: HeadroomRun; off: HeadroomRun }> = {};
  for (const name of o.scenarios ?? Object.keys(SCENARIOS)) {
    // twice each, alternating, so a burst of other work on the machine does not fall on one side
    const runs: HeadroomRun[] = [];
    for (const headroom of [false, true, true, false]) runs.push(await runOnce(o.binary, o.dir, SCENARIOS[name]!, headroom, o.seconds, o.connections, o.core));
    results[name] = { on: merge(runs.filter((r) => r.headroom)), off: merge(runs.filter((r) => !r.headroom)) };
  }
  return results;
}

/** The table `npm run bench` prints: per scenario, headroom off vs on. */
export function headroomSection(results: Record<string, { on: HeadroomRun; off: HeadroomRun }>): Section {
  const rows: Row[] = [];
  for (const [name, { on, off }] of Object.entries(results)) {
    const v = (k: keyof HeadroomRun) => ({ off: off[k] as number, on: on[k] as number });
    rows.push(
      { metric: `${name}: requests answered`, values: v("requests") },
      { metric: `${name}: client-visible 429s`, values: v("client_429"), target: "0", pass: on.client_429 === 0 },
      {
        metric: `${name}: upstream 429s (A refused)`,
        values: v("upstream_429"),
        ...(SCENARIOS[name] ? { target: "on < off", pass: on.upstream_429 < off.upstream_429 } : {}),
      },
      { metric: `${name}: served by A / by B`, values: { off: `${off.served_a} / ${off.served_b}`, on: `${on.served_a} / ${on.served_b}` }, ratio: "" },
      { metric: `${name}: latency p50 / p99 (ms)`, values: { off: `${off.p50_ms} / ${off.p99_ms}`, on: `${on.p50_ms} / ${on.p99_ms}` }, ratio: "" },
      { metric: `${name}: proxy CPU per request (µs)`, values: v("proxy_cpu_us_per_request") },
    );
  }
  return {
    title: "headroom routing, off vs on: A (priority 0) has a quota, B none; 16 closed-loop clients",
    columns: [
      ["off", "headroom off"],
      ["on", "headroom on"],
    ],
    ratio: ["on", "off"],
    rows,
  };
}

/** Counts summed; latencies as the mean of the runs' figures. */
function merge(runs: HeadroomRun[]): HeadroomRun {
  const sum = (k: keyof HeadroomRun) => runs.reduce((t, r) => t + (r[k] as number), 0);
  const mean = (k: keyof HeadroomRun) => round(sum(k) / runs.length, 2);
  return {
    headroom: runs[0]!.headroom,
    requests: sum("requests"),
    client_429: sum("client_429"),
    client_other_errors: sum("client_other_errors"),
    upstream_429: sum("upstream_429"),
    served_a: sum("served_a"),
    served_b: sum("served_b"),
    p50_ms: mean("p50_ms"),
    p99_ms: mean("p99_ms"),
    max_ms: mean("max_ms"),
    tail_extra_ms: mean("tail_extra_ms"),
    proxy_cpu_us_per_request: mean("proxy_cpu_us_per_request"),
  };
}

if (import.meta.main) {
  const binary = resolve(process.argv[2] ?? "dist/azure-proxy");
  const dir = mkdtempSync(join(tmpdir(), "azure-proxy-headroom-"));
  const scenarios = process.env.SCENARIOS?.split(",");
  const result = await measureHeadroom({
    binary,
    dir,
    seconds: Number(process.env.DURATION_S ?? 10),
    connections: Number(process.env.CONNECTIONS ?? 16),
    core: null,
    scenarios,
  });
  console.log(JSON.stringify(result, null, 2));
  console.log(renderSection(headroomSection(result)));
}
