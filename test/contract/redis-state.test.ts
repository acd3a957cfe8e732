/**
 * Several instances sharing one Redis (README "Running several instances"): per-key limits and
 * budgets hold across them, a cooldown one of them sees is honoured by the other, usage of both
 * is in one report, and Redis going away under load fails no request and loses no usage.
 * Each test uses its own key names: the Redis is shared by the whole file.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Redis from "ioredis";
import { configFile } from "../harness/config-file.ts";
import { chatBody, post } from "../harness/fixture.ts";
import { runProxyCommand, startProxy, type RunningProxy } from "../harness/proxy.ts";
import { waitFor } from "../harness/processes.ts";
import { startRedis, type RunningRedis } from "../harness/redis.ts";
import { startSimulator, type RunningSimulator } from "../harness/simulator.ts";

const ADMIN = "redis-admin-key";
let redis: RunningRedis;
let east: RunningSimulator;
let west: RunningSimulator;
let file: ReturnType<typeof configFile>;
let a: RunningProxy;
let b: RunningProxy;

function config() {
  const upstream = (name: string, sim: RunningSimulator, priority: number) => ({
    name,
    endpoint: sim.url,
    api_key: sim.key,
    api_version: "2024-10-21",
    priority,
    deployments: { "gpt-4o": "gpt-4o" },
  });
  return {
    upstreams: [upstream("east", east, 0), upstream("west", west, 1)],
    keys: [
      { name: "ops", key: ADMIN, admin: true },
      { name: "ten", key: "ten-rpm-key", rpm: 10 },
      { name: "tight", key: "tight-budget-key", budget: { tokens_per_day: 40 } },
      { name: "two-streams", key: "two-streams-key", max_streams: 2 },
      { name: "busy", key: "busy-key", rpm: 1_000_000 },
      { name: "plain", key: "plain-key" },
      { name: "owner", key: "owner-key" },
    ],
    state: { redis: redis.url, key_prefix: `test-${crypto.randomUUID().slice(0, 8)}:` },
    retry: { default_cooldown_ms: 5000 },
  };
}

const chat = (proxy: RunningProxy, key: string, content: string, extra: Record<string, unknown> = {}) =>
  post(`${proxy.url}/v1/chat/completions`, chatBody(content, extra), { authorization: `Bearer ${key}`, connection: "close" });
const served = (sim: RunningSimulator, marker: string) => sim.recorder.all().filter((r) => r.bodyText.includes(marker)).length;
type Report = { data: Array<Record<string, unknown>>; totals: { requests: number } };
const usage = async (proxy: RunningProxy, query: string) =>
  (await (await fetch(`${proxy.url}/admin/usage${query}`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as Report;
const requestsOf = (report: Report, key: string) => (report.data.find((d) => d.key === key)?.requests as number | undefined) ?? 0;

const stateErrors = (metrics: string) => [...metrics.matchAll(/^azure_proxy_state_errors_total\{[^}]*\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);

beforeAll(async () => {
  redis = await startRedis();
  east = await startSimulator({ name: "east" });
  west = await startSimulator({ name: "west" });
  file = configFile(config());
  // a has two worker processes, each talking to Redis itself
  const start = (workers: number) => startProxy({ args: ["serve", "--config", file.path, "--workers", String(workers)] });
  [a, b] = await Promise.all([start(2), start(1)]);
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await east.stop();
  await west.stop();
  await redis.stop();
});

describe("two instances (one of two workers) sharing one Redis", () => {
  test("a key with rpm 10 gets exactly 10 through both together", async () => {
    const answers = await Promise.all(Array.from({ length: 24 }, (_, i) => chat(i % 2 ? a : b, "ten-rpm-key", `rpm call ${i}`)));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(14);
    const refused = answers.find((r) => r.status === 429)!;
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("rate_limit_exceeded");
  });

  test("max_streams 2 holds across both", async () => {
    const slow = (proxy: RunningProxy, i: number) =>
      chat(proxy, "two-streams-key", `stream ${i} [sim chunk_ms=100 reply=one_two_three_four]`, { stream: true });
    const answers = await Promise.all([slow(a, 1), slow(b, 2), slow(a, 3), slow(b, 4)]);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 200, 429, 429]);
    await Promise.all(answers.map((r) => r.arrayBuffer()));
    // A slot is given back in Redis before its stream's [DONE] is sent (stream/relay.ts,
    // beforeEnd): with a long stream holding the other slot, the stream opened on the other
    // instance the moment a short one's end was read gets the freed slot, every time
    const long = chat(
      a,
      "two-streams-key",
      "long [sim chunk_ms=100 reply=one_two_three_four_five_six_seven_eight_nine_ten_one_two_three_four_five_six_seven_eight_nine_ten]",
      { stream: true },
    );
    for (let i = 0; i < 3; i++) {
      const short = await chat(i % 2 ? a : b, "two-streams-key", `short ${i} [sim chunk_ms=20 reply=one_two]`, { stream: true });
      expect(short.status).toBe(200);
      await short.arrayBuffer();
      const next = await chat(i % 2 ? b : a, "two-streams-key", `next ${i} [sim chunk_ms=10 reply=one]`, { stream: true });
      expect(next.status).toBe(200);
      await next.arrayBuffer();
    }
    expect((await long).status).toBe(200);
    await (await long).arrayBuffer();
  });

  test("a budget spent on one instance is refused on the other", async () => {
    const first = await chat(a, "tight-budget-key", "budget call one");
    expect(first.status).toBe(200);
    await Bun.sleep(400); // the usage batch (250 ms) reaches Redis
    const second = await chat(b, "tight-budget-key", "budget call two");
    expect(second.status).toBe(200);
    await Bun.sleep(400);
    const refused = await chat(a, "tight-budget-key", "budget call three marker-b7d1");
    expect(refused.status).toBe(429);
    expect(refused.headers.get("x-should-retry")).toBe("false");
    expect(((await refused.json()) as { error: { type: string; message: string } }).error).toMatchObject({
      type: "insufficient_quota",
      message: expect.stringContaining("tokens_per_day"),
    });
    expect(served(east, "marker-b7d1") + served(west, "marker-b7d1")).toBe(0);
  });

  test("a 429 cooldown seen by one instance is honoured by the other within 100 ms", async () => {
    const throttled = await chat(a, "plain-key", "cool east [sim status=429 retry_after=5 on=east]");
    expect(throttled.status).toBe(200); // failed over to west
    await Bun.sleep(100);
    const next = await chat(b, "plain-key", "after the cooldown marker-c00l");
    expect(next.status).toBe(200);
    expect(served(east, "marker-c00l")).toBe(0);
    expect(served(west, "marker-c00l")).toBe(1);
  });

  test("usage from both instances is in one report, also from `azure-proxy usage` through Redis", async () => {
    await Bun.sleep(400); // earlier tests' last batches
    const before = requestsOf(await usage(a, "?by=key"), "plain");
    expect((await chat(a, "plain-key", "report from a")).status).toBe(200);
    expect((await chat(b, "plain-key", "report from b")).status).toBe(200);
    await Bun.sleep(400);
    expect(requestsOf(await usage(a, "?by=key"), "plain")).toBe(before + 2);
    expect(requestsOf(await usage(b, "?by=key"), "plain")).toBe(before + 2);
    const cli = await runProxyCommand(["usage", "--config", file.path, "--by", "key", "--format", "json"]);
    expect(cli.code).toBe(0);
    expect(requestsOf(JSON.parse(cli.stdout) as Report, "plain")).toBe(before + 2);
  });
});

describe("object ownership through Redis", () => {
  test("an object created on one instance is its creator's on the other too", async () => {
    const call = (proxy: RunningProxy, key: string, method: string, path: string, body?: unknown) =>
      fetch(`${proxy.url}/v1/${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const created = await call(a, "owner-key", "POST", "vector_stores", { name: "shared" });
    expect(created.status).toBe(200);
    const { id } = (await created.json()) as { id: string };
    expect((await call(b, "owner-key", "GET", `vector_stores/${id}`)).status).toBe(200);
    const denied = await call(b, "plain-key", "GET", `vector_stores/${id}`);
    expect(denied.status).toBe(404);
    const listed = (await (await call(b, "plain-key", "GET", "vector_stores?limit=100")).json()) as { data: Array<{ id: string }> };
    expect(listed.data.map((s) => s.id)).not.toContain(id);
  });
});

describe("Redis going away", () => {
  test("Redis not answering (stopped): a limited call waits at most ~50 ms for it, then is decided locally", async () => {
    const errorsBefore = stateErrors(await (await fetch(`${b.url}/metrics`)).text());
    process.kill(redis.pid(), "SIGSTOP");
    try {
      for (let i = 0; i < 3; i++) {
        const started = performance.now();
        const response = await chat(b, "busy-key", `while redis is stopped ${i}`);
        expect(response.status).toBe(200);
        await response.arrayBuffer();
        expect(performance.now() - started).toBeLessThan(400);
      }
      // what cannot be decided without Redis says so, with a retry-after, rather than guess
      const unknown = await fetch(`${b.url}/v1/vector_stores/vs_never_seen_here`, { headers: { authorization: "Bearer owner-key" } });
      expect(unknown.status).toBe(503);
      expect(unknown.headers.get("retry-after")).toBe("1");
      expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe("state_unavailable");
    } finally {
      process.kill(redis.pid(), "SIGCONT");
    }
    expect(stateErrors(await (await fetch(`${b.url}/metrics`)).text())).toBeGreaterThanOrEqual(errorsBefore + 3);
  });

  test("killed and restarted under load: no request fails, no usage is lost", async () => {
    await Bun.sleep(500); // the last test's batches
    const before = requestsOf(await usage(a, "?by=key"), "busy");
    let ok = 0;
    const failed: number[] = [];
    const until = Date.now() + 3000;
    const loop = async (proxy: RunningProxy, n: number) => {
      for (let i = 0; Date.now() < until; i++) {
        const response = await chat(proxy, "busy-key", `load ${n}-${i}`);
        await response.arrayBuffer();
        if (response.status === 200) ok++;
        else failed.push(response.status);
      }
    };
    const load = Promise.all([0, 1, 2, 3].map((n) => loop(n % 2 ? a : b, n)));
    await Bun.sleep(800);
    await redis.kill();
    await Bun.sleep(800);
    await redis.restart();
    await load;
    expect(failed).toEqual([]);
    expect(ok).toBeGreaterThan(20);
    // reconnect (backoff ≤ 2 s) and replay of the batches written while Redis was down
    let after = 0;
    for (let tries = 0; tries < 40 && after !== before + ok; tries++) {
      await Bun.sleep(250);
      const report = await fetch(`${a.url}/admin/usage?by=key`, { headers: { authorization: `Bearer ${ADMIN}` } });
      if (report.status === 200) after = requestsOf((await report.json()) as Report, "busy");
    }
    expect(after).toBe(before + ok);
    const metrics = await (await fetch(`${a.url}/metrics`)).text();
    expect(metrics).toMatch(/azure_proxy_state_errors_total\{operation="[a-z]+"\} [1-9]/);
    expect(a.output() + b.output()).toContain("Redis unavailable");
  });

  test("an object created while Redis is away is still its creator's, on the other instance too, once Redis is back", async () => {
    const call = (proxy: RunningProxy, key: string, path: string, body?: unknown) =>
      fetch(`${proxy.url}/v1/${path}`, {
        method: body ? "POST" : "GET",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: body ? JSON.stringify(body) : undefined,
      });
    await redis.kill();
    const created = await call(b, "owner-key", "vector_stores", { name: "made while redis was down" });
    expect(created.status).toBe(200);
    const { id } = (await created.json()) as { id: string };
    await redis.restart();
    // reconnect (backoff ≤ 2 s), then the claim kept aside is written
    let status = 0;
    for (let tries = 0; tries < 40 && status !== 200; tries++) {
      await Bun.sleep(250);
      const seen = await call(a, "owner-key", `vector_stores/${id}`);
      status = seen.status;
      await seen.arrayBuffer();
    }
    expect(status).toBe(200);
    expect((await call(a, "plain-key", `vector_stores/${id}`)).status).toBe(404);
    expect((await call(b, "plain-key", `vector_stores/${id}`)).status).toBe(404);
  });
});

describe("a Redis with a password", () => {
  test("the log names the Redis without its password, even one with an '@' in it", async () => {
    const locked = await startRedis();
    const PASSWORD = "s3cret@pa55word";
    const admin = new Redis(locked.url);
    await admin.config("SET", "requirepass", PASSWORD);
    admin.disconnect();
    const url = `redis://:${PASSWORD}@127.0.0.1:${locked.port}/0`;
    const conf = configFile({ ...config(), state: { redis: url, key_prefix: "pw:" } });
    const proxy = await startProxy({ args: ["serve", "--config", conf.path, "--workers", "1"] });
    try {
      for (let tries = 0; tries < 40 && !proxy.output().includes("connected to Redis"); tries++) await Bun.sleep(50);
      const response = await chat(proxy, "ten-rpm-key", "through a locked redis");
      expect(response.status).toBe(200);
      await response.arrayBuffer();
      expect(proxy.output()).toContain("connected to Redis");
      // the call's access-log line is out (lines are written in batches, a moment later)
      await waitFor(() => proxy.output().includes('"msg":"request"'), 3000, "the call's access-log line");
      expect(proxy.output()).not.toContain("pa55");
      expect(proxy.output()).not.toContain("s3cret");
    } finally {
      await proxy.stop();
      await locked.stop();
    }
  });
});
