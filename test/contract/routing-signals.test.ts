/**
 * Routing that reads Azure's signals, over real sockets with two simulator resources: each row
 * of the failure table cools exactly what failed (and nothing else), a revoked Entra token is
 * replaced once, error bodies that stall are cut, max_wait_ms bounds the whole request, headroom
 * moves a deployment back before it would answer 429, and Azure's own spillover is passed on.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { createServer, type Server } from "node:net";
import { configFile } from "../harness/config-file.ts";
import { chatBody, post } from "../harness/fixture.ts";
import { startIdentity } from "../harness/identity.ts";
import { proxyCommand, runProxyCommand, startProxy, type RunningProxy } from "../harness/proxy.ts";
import { startSimulator, type RunningSimulator } from "../harness/simulator.ts";
import type { DeploymentQuota, QuotaUse } from "../../src/simulator/quota.ts";

const KEY = "signals-test-key";
const DEPLOYMENTS = { "gpt-4o": "gpt-4o", "gpt-4.1": "gpt-4.1", "gpt-4o-mini": "gpt-4o-mini" };
const running: Array<{ stop(): Promise<unknown> }> = [];
afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r.stop();
});

async function sim(name: string, quotas?: Record<string, DeploymentQuota>): Promise<RunningSimulator> {
  const s = await startSimulator({ name, quotas });
  running.push(s);
  return s;
}
function upstream(name: string, s: { url: string; key: string }, extra: Record<string, unknown> = {}) {
  return { name, endpoint: s.url, api_key: s.key, api_version: "2024-10-21", deployments: DEPLOYMENTS, ...extra };
}
async function proxy(config: Record<string, unknown>): Promise<RunningProxy> {
  const file = configFile({ keys: [{ name: "t", key: KEY }], ...config });
  const p = await startProxy({ args: ["serve", "--config", file.path, "--workers", "1"] });
  running.push(p);
  return p;
}
const chat = (p: RunningProxy, content: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  post(`${p.url}/v1/chat/completions`, chatBody(content, extra), { authorization: `Bearer ${KEY}`, ...headers });
const served = (s: RunningSimulator, marker: string) => s.recorder.all().filter((r) => r.bodyText.includes(marker)).length;
const metrics = async (p: RunningProxy) => (await fetch(`${p.url}/metrics`)).text();
const quotaOf = async (s: RunningSimulator, deployment: string) =>
  ((await (await fetch(`${s.url}/_sim/quota`)).json()) as QuotaUse[]).find((q) => q.deployment === deployment)!;

/** Send `content` on `model`; return which of a and b served it. */
async function where(p: RunningProxy, a: RunningSimulator, b: RunningSimulator, model: string, extra: Record<string, unknown> = {}, directive = "") {
  const marker = crypto.randomUUID();
  const response = await chat(p, `${marker} ${directive}`, { model, ...extra });
  await response.text();
  return { status: response.status, a: served(a, marker), b: served(b, marker) };
}

describe("cooldown scope follows what failed", () => {
  const deploymentRows: Array<[string, string]> = [
    ["a 429", "[sim status=429 retry_after=5 on=a]"],
    ["a 503", "[sim status=503 on=a]"],
    ["a 500", "[sim status=500 on=a]"],
    ["a 502", "[sim status=502 on=a]"],
    ["a 504", "[sim status=504 on=a]"],
    ["a first-byte timeout", "[sim first_byte_ms=3000 on=a]"],
  ];
  for (const [kind, directive] of deploymentRows) {
    test(`${kind} cools that deployment only: the resource's other deployments keep their traffic`, async () => {
      const [a, b] = [await sim("a"), await sim("b")];
      const p = await proxy({
        upstreams: [upstream("a", a, { priority: 0 }), upstream("b", b, { priority: 1 })],
        timeouts: { first_byte_ms: 600 },
        retry: { default_cooldown_ms: 5000 },
      });
      expect(await where(p, a, b, "gpt-4o", {}, directive)).toEqual({ status: 200, a: 1, b: 1 });
      // the failed deployment is skipped now, the same resource's others are not
      expect(await where(p, a, b, "gpt-4o")).toEqual({ status: 200, a: 0, b: 1 });
      expect(await where(p, a, b, "gpt-4.1")).toEqual({ status: 200, a: 1, b: 0 });
      expect(await where(p, a, b, "gpt-4o-mini")).toEqual({ status: 200, a: 1, b: 0 });
      const text = await metrics(p);
      expect(text).toContain('azure_proxy_upstream_cooldown{upstream="a",deployment="gpt-4o"} 1');
      expect(text).not.toContain('azure_proxy_upstream_cooldown{upstream="a",deployment="*"}');
    });
  }

  test("a 500's cooldown is soft: a lone deployment that answered 500 is still tried, not refused with 429", async () => {
    const a = await sim("a");
    const p = await proxy({ upstreams: [upstream("a", a)], retry: { max_attempts: 1, default_cooldown_ms: 10_000 } });
    expect((await chat(p, "[sim status=500]")).status).toBe(500);
    const marker = crypto.randomUUID();
    expect((await chat(p, marker)).status).toBe(200);
    expect(served(a, marker)).toBe(1);
  });

  test("a request answered 500 everywhere cools only the first deployment it tried (the request may be the cause)", async () => {
    const [a, b] = [await sim("a"), await sim("b")];
    const p = await proxy({ upstreams: [upstream("a", a, { priority: 0 }), upstream("b", b, { priority: 1 })], retry: { default_cooldown_ms: 10_000 } });
    expect((await where(p, a, b, "gpt-4o", {}, "[sim status=500]")).status).toBe(500);
    const text = await metrics(p);
    expect(text).toContain('azure_proxy_upstream_cooldown{upstream="a",deployment="gpt-4o"} 1');
    expect(text).not.toContain('azure_proxy_upstream_cooldown{upstream="b"');
  });

  test("an idle timeout before the first byte (a JSON answer that stops arriving) fails over and cools the deployment only", async () => {
    const stalling = await stallingUpstream(200);
    const b = await sim("b");
    const p = await proxy({
      upstreams: [
        { name: "a", endpoint: stalling.url, api_key: "k", api_version: "2024-10-21", deployments: DEPLOYMENTS, priority: 0 },
        upstream("b", b, { priority: 1 }),
      ],
      timeouts: { idle_ms: 300 },
      retry: { default_cooldown_ms: 5000 },
    });
    const started = Date.now();
    const response = await chat(p, "stall", { model: "gpt-4o" });
    expect(response.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(stalling.requests()).toBe(1);
    await chat(p, "again", { model: "gpt-4o" }).then((r) => r.text());
    expect(stalling.requests()).toBe(1);
    // another deployment on the same resource is still tried
    await chat(p, "other", { model: "gpt-4.1" }).then((r) => r.text());
    expect(stalling.requests()).toBe(2);
  });

  test("an error body that stops arriving is cut by the idle timeout and fails over at once", async () => {
    const stalling = await stallingUpstream(500);
    const b = await sim("b");
    const p = await proxy({
      upstreams: [
        { name: "a", endpoint: stalling.url, api_key: "k", api_version: "2024-10-21", deployments: DEPLOYMENTS, priority: 0 },
        upstream("b", b, { priority: 1 }),
      ],
      timeouts: { idle_ms: 300 },
    });
    const started = Date.now();
    const marker = crypto.randomUUID();
    const response = await chat(p, marker, { model: "gpt-4o" });
    expect(response.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(served(b, marker)).toBe(1);
  });

  test("a refused connection cools the resource as a whole: its other deployments are not tried either", async () => {
    const gone = await startSimulator();
    const port = new URL(gone.url).port;
    await gone.stop();
    const b = await sim("b");
    const p = await proxy({
      upstreams: [{ name: "gone", endpoint: `http://127.0.0.1:${port}`, api_key: "x", deployments: DEPLOYMENTS }, upstream("b", b, { priority: 1 })],
    });
    expect((await chat(p, "x", { model: "gpt-4o" })).status).toBe(200);
    expect((await chat(p, "x", { model: "gpt-4.1" })).status).toBe(200);
    const text = await metrics(p);
    expect(text).toContain('azure_proxy_upstream_attempts_total{upstream="gone",deployment="gpt-4o",outcome="connect_error"} 1');
    expect(text).not.toContain('upstream="gone",deployment="gpt-4.1"');
    expect(text).toContain('azure_proxy_upstream_cooldown{upstream="gone",deployment="*"} 1');
    expect(text).toMatch(/azure_proxy_routing_skips_total\{reason="cooldown"\} [1-9]/);
  });

  test("Azure refusing the proxy's key cools the resource as a whole", async () => {
    const [a, b] = [await sim("a"), await sim("b")];
    const p = await proxy({ upstreams: [upstream("a", { url: a.url, key: "wrong-key" }), upstream("b", b, { priority: 1 })] });
    expect(await where(p, a, b, "gpt-4o")).toEqual({ status: 200, a: 1, b: 1 });
    expect(await where(p, a, b, "gpt-4.1")).toEqual({ status: 200, a: 0, b: 1 });
    expect(await metrics(p)).toContain('azure_proxy_upstream_attempts_total{upstream="a",deployment="gpt-4o",outcome="auth_error"} 1');
  });

  test("a revoked Entra ID token is dropped and one fresh token tried first: the client sees no error", async () => {
    const identity = await startIdentity();
    running.push(identity);
    const a = await startSimulator({ acceptToken: (token) => identity.isValid(token) });
    running.push(a);
    const p = await proxy({
      upstreams: [
        {
          name: "entra",
          endpoint: a.url,
          api_version: "2024-10-21",
          entra: { tenant_id: "t", client_id: "c", client_secret: "right-secret" },
          deployments: DEPLOYMENTS,
        },
      ],
      identity: { authority_host: identity.url, imds_endpoint: identity.url },
    });
    expect((await chat(p, "first")).status).toBe(200);
    expect(identity.requests.length).toBe(1);
    identity.issued.clear(); // revoked: Azure refuses the cached token from now on
    const response = await chat(p, "after revocation");
    expect(response.status).toBe(200);
    expect(identity.requests.length).toBe(2);
    const auths = a.recorder.all().map((r) => r.headers.authorization);
    expect(auths.at(-1)).not.toBe(auths.at(-2));
    // the fresh token works: nothing cooled, nothing more fetched
    expect((await chat(p, "later")).status).toBe(200);
    expect(identity.requests.length).toBe(2);
  });

  test("cooldowns of deployments named by clients (any_model) are capped: random names cannot grow them", async () => {
    const failing = await stallingUpstream(503, true);
    const p = await proxy({
      upstreams: [{ name: "open", endpoint: failing.url, api_key: "k", api_version: "2024-10-21", any_model: true, deployments: { "gpt-4o": "gpt-4o" } }],
      retry: { max_attempts: 1 },
    });
    for (let batch = 0; batch < 6; batch++) {
      await Promise.all(Array.from({ length: 25 }, () => chat(p, "x", { model: `random-${crypto.randomUUID().slice(0, 8)}` }).then((r) => r.text())));
    }
    expect(failing.requests()).toBe(150);
    const series = (await metrics(p)).split("\n").filter((l) => l.startsWith("azure_proxy_upstream_cooldown{"));
    expect(series.length).toBeGreaterThan(50);
    expect(series.length).toBeLessThanOrEqual(100);
    // a configured deployment still cools
    await chat(p, "x", { model: "gpt-4o" }).then((r) => r.text());
    expect(await metrics(p)).toContain('azure_proxy_upstream_cooldown{upstream="open",deployment="gpt-4o"} 1');
  });

  test("retry.max_wait_ms bounds the whole request: no untried deployment starts after it", async () => {
    const [a, b] = [await sim("a"), await sim("b")];
    const p = await proxy({ upstreams: [upstream("a", a), upstream("b", b, { priority: 1 })], timeouts: { first_byte_ms: 700 }, retry: { max_wait_ms: 400 } });
    const started = Date.now();
    const result = await where(p, a, b, "gpt-4o", {}, "[sim first_byte_ms=3000 on=a]");
    expect(result).toEqual({ status: 504, a: 1, b: 0 });
    expect(Date.now() - started).toBeLessThan(1500);
  });
});

describe("headroom: steer before the 429", () => {
  const twoResources = async (quotas: Record<string, DeploymentQuota>, routing: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => {
    const [a, b] = [await sim("a", quotas), await sim("b")];
    const p = await proxy({ upstreams: [upstream("a", a, { priority: 0 }), upstream("b", b, { priority: 1 })], routing, ...extra });
    return { a, b, p };
  };

  test("A's tokens nearly used up: the next large request goes to B at once and A never answers 429", async () => {
    const { a, b, p } = await twoResources({ "gpt-4o": { tokens: 6000 } });
    expect(await where(p, a, b, "gpt-4o", { max_tokens: 4000 })).toEqual({ status: 200, a: 1, b: 0 });
    // ~1900 tokens remain at A; this one needs ~3000
    const started = Date.now();
    expect(await where(p, a, b, "gpt-4o", { max_tokens: 3000 })).toEqual({ status: 200, a: 0, b: 1 });
    expect(Date.now() - started).toBeLessThan(1000);
    // a small one still fits at A and goes there
    expect(await where(p, a, b, "gpt-4o", { max_tokens: 100 })).toEqual({ status: 200, a: 1, b: 0 });
    expect((await quotaOf(a, "gpt-4o")).rejected).toBe(0);
    const text = await metrics(p);
    expect(text).toMatch(/azure_proxy_routing_skips_total\{reason="headroom"\} 1/);
    expect(text).toMatch(/azure_proxy_upstream_headroom\{upstream="a",deployment="gpt-4o",kind="tokens"\} \d+/);
    // A has no requests limit: Azure's -1 is unknown, not a value
    expect(text).not.toContain('azure_proxy_upstream_headroom{upstream="a",deployment="gpt-4o",kind="requests"}');
  });

  test("...and with routing.headroom off, A answers 429 first (the old way)", async () => {
    const { a, b, p } = await twoResources({ "gpt-4o": { tokens: 6000 } }, { headroom: false });
    await where(p, a, b, "gpt-4o", { max_tokens: 4000 });
    expect(await where(p, a, b, "gpt-4o", { max_tokens: 3000 })).toEqual({ status: 200, a: 1, b: 1 });
    expect((await quotaOf(a, "gpt-4o")).rejected).toBe(1);
    expect(await metrics(p)).not.toContain('azure_proxy_upstream_headroom{upstream="a"');
  });

  test("no remaining requests: moved back until the requests window is over, then tried again", async () => {
    const { a, b, p } = await twoResources({ "gpt-4o": { requests: 2, window_ms: 1000 } });
    expect((await where(p, a, b, "gpt-4o")).a).toBe(1);
    expect((await where(p, a, b, "gpt-4o")).a).toBe(1);
    expect(await where(p, a, b, "gpt-4o")).toEqual({ status: 200, a: 0, b: 1 });
    expect((await quotaOf(a, "gpt-4o")).rejected).toBe(0);
    await Bun.sleep(1100); // a requests snapshot is trusted for 1 s; A's window has refilled
    expect(await where(p, a, b, "gpt-4o")).toEqual({ status: 200, a: 1, b: 0 });
  });

  test("a provisioned deployment at or above routing.ptu_spill_at is tried after the others", async () => {
    const { a, b, p } = await twoResources({ "gpt-4o": { tokens: 10_000, ptu: true } }, { ptu_spill_at: 90 });
    const first = crypto.randomUUID();
    const response = await chat(p, first, { model: "gpt-4o", max_tokens: 9200 });
    expect(Number.parseFloat(response.headers.get("azure-openai-deployment-utilization")!)).toBeGreaterThanOrEqual(90);
    expect(served(a, first)).toBe(1);
    expect(await where(p, a, b, "gpt-4o", { max_tokens: 10 })).toEqual({ status: 200, a: 0, b: 1 });
    expect(await metrics(p)).toMatch(/azure_proxy_routing_skips_total\{reason="utilization"\} 1/);
  });

  test("when every deployment is short, the usual order stands", async () => {
    const [a, b] = [await sim("a", { "gpt-4o": { tokens: 3000 } }), await sim("b", { "gpt-4o": { tokens: 3000 } })];
    const p = await proxy({ upstreams: [upstream("a", a, { priority: 0 }), upstream("b", b, { priority: 1 })], groups: { bonly: ["b"], all: ["a", "b"] } });
    await chat(p, "fill a", { model: "gpt-4o", max_tokens: 2500 }).then((r) => r.text());
    await chat(p, "fill b", { model: "gpt-4o", max_tokens: 2500 }, { "proxy-src": "bonly" }).then((r) => r.text());
    const marker = crypto.randomUUID();
    await chat(p, marker, { model: "gpt-4o", max_tokens: 1000 }, { "proxy-src": "all" }).then((r) => r.text());
    const seen = [a, b].flatMap((s) =>
      s.recorder
        .all()
        .filter((r) => r.bodyText.includes(marker))
        .map((r) => ({ s, at: r.receivedAt, seq: r.seq })),
    );
    expect(seen.length).toBe(2);
    // priority order: A first
    expect(served(a, marker)).toBe(1);
    expect(seen.sort((x, y) => x.at - y.at)[0]!.s).toBe(a);
  });
});

describe("Azure's own spillover", () => {
  test("x-ms-spillover-deployment goes with calls to the deployment; Azure's answer headers are passed on and counted", async () => {
    const a = await sim("a", { "gpt-4o": { tokens: 2500 } });
    const p = await proxy({ upstreams: [upstream("a", a, { spillover: { "gpt-4o": "gpt-4o-mini" } })] });
    const first = await chat(p, "one", { model: "gpt-4o", max_tokens: 2000 });
    expect(first.status).toBe(200);
    expect(first.headers.get("x-ms-spillover-from-deployment")).toBeNull();
    expect(a.recorder.all().at(-1)!.headers["x-ms-spillover-deployment"]).toBe("gpt-4o-mini");
    const spilled = await chat(p, "two", { model: "gpt-4o", max_tokens: 2000 });
    expect(spilled.status).toBe(200);
    expect(spilled.headers.get("x-ms-spillover-from-deployment")).toBe("gpt-4o");
    expect(spilled.headers.get("x-ms-deployment-name")).toBe("gpt-4o-mini");
    expect((await spilled.json()).model).toContain("gpt-4o-mini");
    // other deployments carry no spillover header
    await chat(p, "three", { model: "gpt-4.1" }).then((r) => r.text());
    expect(a.recorder.all().at(-1)!.headers["x-ms-spillover-deployment"]).toBeUndefined();
    const text = await metrics(p);
    expect(text).toContain('azure_proxy_upstream_attempts_total{upstream="a",deployment="gpt-4o",outcome="spillover"} 1');
    expect(text).toContain('azure_proxy_upstream_attempts_total{upstream="a",deployment="gpt-4o",outcome="ok"} 1');
  });

  test("check shows headroom and spillover settings in its routing table", async () => {
    const file = configFile({
      upstreams: [
        {
          name: "eastus",
          endpoint: "https://res.openai.azure.com",
          api_key: "k",
          deployments: { "gpt-4o": "gpt-4o-ptu" },
          spillover: { "gpt-4o-ptu": "gpt-4o-paygo" },
        },
      ],
      routing: { ptu_spill_at: 90 },
      keys: [{ name: "t", key: KEY }],
    });
    const on = await runProxyCommand(["check", "--config", file.path]);
    expect(on.code).toBe(0);
    expect(on.stdout).toContain("eastus/gpt-4o-ptu (priority 0, weight 1, spillover → gpt-4o-paygo)");
    expect(on.stdout).toContain("Headroom: on");
    expect(on.stdout).toContain(">= 90% utilization");
    file.write({
      upstreams: [{ name: "eastus", endpoint: "https://res.openai.azure.com", api_key: "k", deployments: { "gpt-4o": "gpt-4o" } }],
      routing: { headroom: false },
      keys: [{ name: "t", key: KEY }],
    });
    const off = await runProxyCommand(["check", "--config", file.path]);
    expect(off.stdout).toContain("Headroom: off");
  });
});

describe("the simulator's quota, from the command line", () => {
  test("simulate --quota: remaining headers count down, then Azure's 429 with the time to the window's end", async () => {
    const proc = Bun.spawn([...proxyCommand(), "simulate", "--port", "0", "--key", "k", "--quota", "gpt-4o:requests=2,tokens=100000,window_ms=30000"], {
      stdout: "pipe",
      stderr: "pipe",
    });
    running.push({
      stop: async () => {
        proc.kill();
        await proc.exited;
      },
    });
    const reader = proc.stdout.getReader();
    let out = "";
    while (!/"url":"([^"]+)"/.test(out)) out += new TextDecoder().decode((await reader.read()).value);
    const url = /"url":"([^"]+)"/.exec(out)![1]!;
    const call = () =>
      fetch(`${url}/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21`, {
        method: "POST",
        headers: { "api-key": "k", "content-type": "application/json" },
        body: JSON.stringify(chatBody("x", { max_tokens: 50 })),
      });
    const first = await call();
    expect(first.headers.get("x-ratelimit-remaining-requests")).toBe("1");
    expect(Number(first.headers.get("x-ratelimit-remaining-tokens"))).toBeLessThan(100000 - 50);
    expect((await call()).headers.get("x-ratelimit-remaining-requests")).toBe("0");
    const refused = await call();
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeWithin(1, 31);
    const use = (await (await fetch(`${url}/_sim/quota`)).json()) as QuotaUse[];
    expect(use).toEqual([expect.objectContaining({ deployment: "gpt-4o", requests: 2, rejected: 1 })]);
  });
});

/** An upstream that answers `status` with a JSON body that stops halfway (or, `whole`, a whole one), and counts requests. */
async function stallingUpstream(status: number, whole = false): Promise<{ url: string; requests(): number; stop(): Promise<void> }> {
  let count = 0;
  const sockets = new Set<import("node:net").Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let head = "";
    socket.on("data", (chunk) => {
      head += chunk.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      count++;
      head = "";
      const body = JSON.stringify({ error: { code: String(status), message: "never finished ".repeat(20) } });
      socket.write(`HTTP/1.1 ${status} X\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${whole ? body : body.slice(0, 20)}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  const handle = {
    url: `http://127.0.0.1:${port}`,
    requests: () => count,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  running.push(handle);
  return handle;
}
