/**
 * GET /status and GET /admin/status (README "Status page"), over real sockets: the page loads
 * with no key and is self-contained; the JSON needs an admin key; a 429 shows as a cooling
 * deployment until its Retry-After ends; traffic shows in the per-minute series and in the
 * key's usage; a refused reload is reported; with workers the figures are every worker's; and
 * an answer costs the proxy less than 1 ms of CPU.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { configFile } from "../harness/config-file.ts";
import { chatBody, post } from "../harness/fixture.ts";
import { startProxy, type RunningProxy } from "../harness/proxy.ts";
import { startSimulator, type RunningSimulator } from "../harness/simulator.ts";
import { readEvents } from "../harness/sse.ts";
import type { StatusReport } from "../../src/status/status-report.ts";

const ADMIN = "status-admin-key";
const TEAM = "status-team-key";
const MINUTES = 60;

let east: RunningSimulator;
let west: RunningSimulator;

function config() {
  return {
    upstreams: [
      {
        name: "east",
        endpoint: east.url,
        api_key: east.key,
        api_version: "2024-10-21",
        priority: 0,
        deployments: { "gpt-4o": "gpt-4o", "gpt-4o-mini": "gpt-4o-mini" },
      },
      { name: "west", endpoint: west.url, api_key: west.key, api_version: "2024-10-21", priority: 1, deployments: { "gpt-4o": "gpt-4o" } },
    ],
    keys: [
      { name: "ops", key: ADMIN, admin: true },
      { name: "team", key: TEAM, budget: { tokens_per_day: 1_000_000, usd_per_month: 5 } },
    ],
    prices: { "gpt-4o": { input: 2.5, output: 10 } },
  };
}

const status = async (proxy: RunningProxy): Promise<StatusReport> => {
  const response = await fetch(`${proxy.url}/admin/status`, { headers: { authorization: `Bearer ${ADMIN}` } });
  expect(response.status).toBe(200);
  return (await response.json()) as StatusReport;
};
const chat = (proxy: RunningProxy, content: string, extra: Record<string, unknown> = {}) =>
  post(`${proxy.url}/v1/chat/completions`, chatBody(content, extra), { authorization: `Bearer ${TEAM}`, connection: "close" });
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const deployment = (s: StatusReport, upstream: string, name: string) =>
  s.upstreams.find((u) => u.name === upstream)!.deployments.find((d) => d.deployment === name)!;

async function until<T>(what: string, read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!ok(value)) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms; last ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
    value = await read();
  }
  return value;
}

beforeAll(async () => {
  east = await startSimulator({ name: "east" });
  west = await startSimulator({ name: "west" });
});
afterAll(async () => {
  await east.stop();
  await west.stop();
});

describe("one process", () => {
  let proxy: RunningProxy;
  let file: ReturnType<typeof configFile>;
  beforeAll(async () => {
    file = configFile(config());
    proxy = await startProxy({ args: ["serve", "--config", file.path, "--workers", "1"] });
  });
  afterAll(async () => {
    await proxy.stop();
  });

  test("GET /status is one self-contained HTML page that needs no key", async () => {
    const response = await fetch(`${proxy.url}/status`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const csp = response.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(csp).toContain("connect-src 'self'");
    const html = await response.text();
    expect(html).toContain("<title>azure-proxy status</title>");
    expect(html).toContain("/admin/status");
    expect(html).toContain("sessionStorage");
    // nothing from outside: no script, style, font or image is fetched from anywhere
    expect(html).not.toMatch(/\b(src|href)=["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/@import|url\(/i);
    expect(new TextEncoder().encode(html).byteLength).toBeLessThan(24 * 1024);
    // the page holds no data: nothing of the config is in it
    expect(html).not.toContain("east");
  });

  test("/admin/status needs an admin key: none is a 401, another key a 403, both in OpenAI's shape", async () => {
    const none = await fetch(`${proxy.url}/admin/status`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe("missing_api_key");
    const wrong = await fetch(`${proxy.url}/admin/status`, { headers: { authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe("invalid_api_key");
    const team = await fetch(`${proxy.url}/admin/status`, { headers: { authorization: `Bearer ${TEAM}` } });
    expect(team.status).toBe(403);
    const body = (await team.json()) as { error: { message: string; type: string; code: string; param: unknown } };
    expect(body.error.code).toBe("admin_key_required");
    expect(body.error.message).toContain("/admin/status");
    expect(body.error.param).toBeNull();
  });

  test("the report lists every upstream and deployment, what is in flight, 60 minutes and every key", async () => {
    const s = await status(proxy);
    expect(s.object).toBe("status");
    expect(s.workers).toBe(1);
    expect(s.version).toBe(JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")).version);
    expect(s.upstreams.map((u) => [u.name, u.priority, u.deployments.map((d) => d.deployment)])).toEqual([
      ["east", 0, ["gpt-4o", "gpt-4o-mini"]],
      ["west", 1, ["gpt-4o"]],
    ]);
    expect(deployment(s, "east", "gpt-4o")).toMatchObject({ state: "ok", until: null, models: ["gpt-4o"] });
    expect(s.inflight).toEqual({ requests: 0, streams: 0, realtime_sessions: 0 });
    for (const series of [s.series.requests, s.series.latency_p50_ms, s.series.latency_p99_ms, s.series.ttft_p50_ms, s.series.errors.rate_limited])
      expect(series.length).toBe(MINUTES);
    expect(s.series.start_ms + (MINUTES - 1) * s.series.minute_ms).toBeLessThanOrEqual(s.now);
    expect(s.series.start_ms + MINUTES * s.series.minute_ms).toBeGreaterThan(s.now);
    expect(s.keys.map((k) => k.name).sort()).toEqual(["ops", "team"]);
    expect(s.keys.find((k) => k.name === "team")!.budget).toEqual({ tokens_per_day: 1_000_000, usd_per_month: 5 });
    expect(s.config.last_reload).toBeNull();
    expect(Math.abs(s.config.loaded_at - Date.now())).toBeLessThan(120_000);
  });

  test("a 429 shows its deployment cooling, with its end, and ok again after it", async () => {
    const response = await chat(proxy, "[sim status=429 retry_after=3 on=east]");
    // west served it: the client saw nothing of the 429
    expect(response.status).toBe(200);
    await response.text();
    const cooling = await status(proxy);
    const d = deployment(cooling, "east", "gpt-4o");
    expect(d.state).toBe("cooling");
    expect(d.soft).toBe(false);
    expect(d.until! - cooling.now).toBeGreaterThan(1500);
    expect(d.until! - cooling.now).toBeLessThanOrEqual(3100);
    // only what failed cools
    expect(deployment(cooling, "east", "gpt-4o-mini").state).toBe("ok");
    expect(deployment(cooling, "west", "gpt-4o").state).not.toBe("cooling");
    const after = await until(
      "east/gpt-4o ok again",
      () => status(proxy),
      (s) => deployment(s, "east", "gpt-4o").state !== "cooling",
      6000,
    );
    expect(after.now).toBeGreaterThanOrEqual(d.until!);
    expect(deployment(after, "east", "gpt-4o").until).toBeNull();
  });

  test("traffic shows in this minute's series and in the key's usage today and this month", async () => {
    const before = await status(proxy);
    const team = (s: StatusReport) => s.keys.find((k) => k.name === "team")!;
    const started = sum(before.series.requests);
    for (let i = 0; i < 3; i++) {
      const r = await chat(proxy, `hello ${i}`);
      expect(r.status).toBe(200);
      await r.text();
    }
    const stream = await chat(proxy, "a stream", { stream: true });
    expect(stream.status).toBe(200);
    await readEvents(stream);
    const missing = await chat(proxy, "no such model", { model: "gpt-nope" });
    expect(missing.status).toBe(404);
    await missing.text();
    const refused = await fetch(`${proxy.url}/v1/models`, { headers: { authorization: "Bearer wrong" } });
    expect(refused.status).toBe(401);
    await refused.text();
    // the ledger is written in batches: the totals follow within a second or two
    const after = await until(
      "team's usage",
      () => status(proxy),
      (s) => team(s).today.requests >= team(before).today.requests + 4,
    );
    expect(team(after).today.tokens).toBeGreaterThan(team(before).today.tokens);
    expect(team(after).month.tokens).toBeGreaterThanOrEqual(team(after).today.tokens);
    expect(team(after).month.cost_usd).toBeGreaterThan(0);
    // the spender first
    expect(after.keys[0]!.name).toBe("team");
    // 6 more requests: 4 served, a 404 and a 401; the status polls are not counted
    expect(sum(after.series.requests) - started).toBe(6);
    expect(sum(after.series.errors.client) - sum(before.series.errors.client)).toBe(1);
    expect(sum(after.series.errors.auth) - sum(before.series.errors.auth)).toBe(1);
    expect(after.series.latency_p50_ms[MINUTES - 1]).toBeGreaterThan(0);
    expect(after.series.latency_p99_ms[MINUTES - 1]!).toBeGreaterThanOrEqual(after.series.latency_p50_ms[MINUTES - 1]!);
    expect(after.series.ttft_p50_ms[MINUTES - 1]).toBeGreaterThan(0);
    // headroom Azure reported on the answers
    const seen = deployment(after, "west", "gpt-4o").headroom ?? deployment(after, "east", "gpt-4o").headroom;
    expect(seen?.requests).toBeGreaterThanOrEqual(0);
  });

  test("a held stream counts as in flight while it runs", async () => {
    const controller = new AbortController();
    const held = post(
      `${proxy.url}/v1/chat/completions`,
      chatBody("[sim stall_after=1 stall_ms=8000]", { stream: true }),
      { authorization: `Bearer ${TEAM}` },
      controller.signal,
    );
    const during = await until(
      "a stream in flight",
      () => status(proxy),
      (s) => s.inflight.streams === 1,
    );
    expect(during.inflight.requests).toBeGreaterThanOrEqual(1);
    controller.abort();
    await held.then((r) => r.body?.cancel()).catch(() => {});
    await until(
      "nothing in flight",
      () => status(proxy),
      (s) => s.inflight.requests === 0 && s.inflight.streams === 0,
    );
  });

  test("a reload the config check refuses is reported, with what was wrong", async () => {
    file.write({ ...config(), upstreams: "not a list" });
    const s = await until(
      "the refused reload",
      () => status(proxy),
      (r) => r.config.last_reload !== null,
    );
    expect(s.config.last_reload!.ok).toBe(false);
    expect(s.config.last_reload!.issues!.join(" ")).toContain("upstreams");
    // the running config stays
    expect(s.upstreams.map((u) => u.name)).toEqual(["east", "west"]);
    file.write(config());
    const fixed = await until(
      "the good reload",
      () => status(proxy),
      (r) => r.config.last_reload?.ok === true,
    );
    expect(fixed.config.loaded_at).toBeGreaterThanOrEqual(s.config.last_reload!.at);
  });
});

describe("with many keys", () => {
  const KEYS = 4000;
  let proxy: RunningProxy;
  beforeAll(async () => {
    const keys = [
      { name: "ops", key: ADMIN, admin: true },
      ...Array.from({ length: KEYS }, (_, i) => ({
        name: `key-${i}`,
        key: `status-many-key-${i}`,
        ...(i % 2 ? { budget: { tokens_per_day: 1000 + i } } : {}),
      })),
    ];
    const file = configFile({
      upstreams: [{ name: "east", endpoint: east.url, api_key: east.key, api_version: "2024-10-21", deployments: { "gpt-4o": "gpt-4o" } }],
      keys,
    });
    proxy = await startProxy({ args: ["serve", "--config", file.path, "--workers", "1"] });
  });
  afterAll(async () => {
    await proxy.stop();
  });

  // what an answer costs (under 1 ms on a small config, in proportion to the keys with 4,000) is
  // measured by bench/status.ts, not timed here
  test("4,000 keys: every key with its budget", async () => {
    const s = await status(proxy);
    expect(s.keys).toHaveLength(KEYS + 1);
    expect(s.keys.find((k) => k.name === "key-3999")!.budget).toEqual({ tokens_per_day: 4999 });
    expect(s.keys.find((k) => k.name === "key-3998")!.budget).toBeNull();
  });
});

describe("every state a deployment can be in", () => {
  let ptu: RunningSimulator;
  let proxy: RunningProxy;
  beforeAll(async () => {
    ptu = await startSimulator({ name: "ptu", quotas: { "gpt-4o": { ptu: true, tokens: 2000 } } });
    // a port nothing listens on: connections are refused
    const closed = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const gonePort = closed.port;
    closed.stop(true);
    const file = configFile({
      upstreams: [
        { name: "ptu", endpoint: ptu.url, api_key: ptu.key, api_version: "2024-10-21", deployments: { "gpt-4o": "gpt-4o" } },
        { name: "gone", endpoint: `http://127.0.0.1:${gonePort}`, api_key: "k", api_version: "2024-10-21", deployments: { "gpt-4o-mini": "gpt-4o-mini" } },
      ],
      keys: [
        { name: "ops", key: ADMIN, admin: true },
        { name: "team", key: TEAM },
      ],
    });
    proxy = await startProxy({ args: ["serve", "--config", file.path, "--workers", "1"] });
  });
  afterAll(async () => {
    await proxy.stop();
    await ptu.stop();
  });

  test("a provisioned deployment at routing.ptu_spill_at has no headroom; a refused connection makes its resource unreachable", async () => {
    expect(deployment(await status(proxy), "ptu", "gpt-4o").state).toBe("ok");
    // Azure counts the call by its estimate: max_tokens fills the capacity
    const full = await chat(proxy, "fill it", { max_tokens: 1900 });
    expect(full.status).toBe(200);
    await full.text();
    const gone = await chat(proxy, "to nowhere", { model: "gpt-4o-mini" });
    expect(gone.status).toBe(502);
    await gone.text();
    const s = await status(proxy);
    const ptuDeployment = deployment(s, "ptu", "gpt-4o");
    expect(ptuDeployment.state).toBe("no_headroom");
    expect(ptuDeployment.headroom!.utilization).toBeGreaterThanOrEqual(95);
    const unreachable = deployment(s, "gone", "gpt-4o-mini");
    expect(unreachable.state).toBe("unreachable");
    expect(unreachable.until!).toBeGreaterThan(s.now);
    expect(sum(s.series.errors.upstream)).toBe(1);
  });
});

describe("with workers", () => {
  let proxy: RunningProxy;
  beforeAll(async () => {
    proxy = await startProxy({ args: ["serve", "--config", configFile(config()).path, "--workers", "2"] });
  });
  afterAll(async () => {
    await proxy.stop();
  });

  test("the figures are every worker's, summed", async () => {
    const before = await status(proxy);
    expect(before.workers).toBe(2);
    const n = 12;
    // a new connection each: the kernel spreads them over both workers
    for (let i = 0; i < n; i++) {
      const r = await chat(proxy, `worker traffic ${i}`);
      expect(r.status).toBe(200);
      await r.text();
    }
    // a sum is kept up to a second: wait for one taken after the traffic
    const after = await until(
      "the sum of both workers",
      () => status(proxy),
      (s) => sum(s.series.requests) - sum(before.series.requests) >= n,
    );
    expect(after.workers).toBe(2);
    // both workers served some (their access-log lines say which): the sum is not one worker's
    const servedBy = new Set(
      proxy
        .output()
        .split("\n")
        .filter((l) => l.includes("worker traffic") || l.includes('"path":"/v1/chat/completions"'))
        .map((l) => /"worker":(\d+)/.exec(l)?.[1]),
    );
    expect([...servedBy].filter(Boolean).sort()).toEqual(["1", "2"]);
    expect(sum(after.series.requests) - sum(before.series.requests)).toBe(n);
    const team = after.keys.find((k) => k.name === "team")!;
    expect(team.today.requests).toBeGreaterThanOrEqual(n);
  });
});
