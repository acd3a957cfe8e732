/**
 * Several Azure resources behind one proxy: failover on every fault kind, cooldowns that honour
 * Retry-After, weights, no retry once a byte was sent, Proxy-src groups and per-key model lists.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { configFile } from "../harness/config-file.ts";
import { chatBody, post } from "../harness/fixture.ts";
import { startProxy, type RunningProxy } from "../harness/proxy.ts";
import { waitFor } from "../harness/processes.ts";
import { startSimulator, type RunningSimulator } from "../harness/simulator.ts";
import { contentOf, readEvents } from "../harness/sse.ts";

const KEY = "routing-test-key";
let east: RunningSimulator;
let west: RunningSimulator;
let proxy: RunningProxy;

function upstream(name: string, sim: RunningSimulator, extra: Record<string, unknown> = {}) {
  return {
    name,
    endpoint: sim.url,
    api_key: sim.key,
    api_version: "2024-10-21",
    deployments: { "gpt-4o": "gpt-4o", "gpt-4o-mini": "gpt-4o-mini", "gpt-4.1": "gpt-4.1" },
    ...extra,
  };
}

beforeAll(async () => {
  east = await startSimulator({ name: "east" });
  west = await startSimulator({ name: "west" });
  const file = configFile({
    upstreams: [upstream("east", east, { priority: 0 }), upstream("west", west, { priority: 1 })],
    groups: { azure: ["east", "west"], westonly: ["west"] },
    keys: [
      { name: "team", key: KEY },
      { name: "alice", key_sha256: new Bun.CryptoHasher("sha256").update("alice-key").digest("hex"), models: ["gpt-4o"] },
    ],
    timeouts: { first_byte_ms: 800 },
    retry: { max_attempts: 3, default_cooldown_ms: 1500 },
  });
  proxy = await startProxy({ args: ["serve", "--config", file.path] });
});
afterAll(async () => {
  await proxy.stop();
  await east.stop();
  await west.stop();
});

const chat = (content: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  post(`${proxy.url}/v1/chat/completions`, chatBody(content, extra), { authorization: `Bearer ${KEY}`, ...headers });
const served = (sim: RunningSimulator, marker: string) => sim.recorder.all().filter((r) => r.bodyText.includes(marker)).length;

describe("failover: the client sees no error while a healthy upstream remains", () => {
  // each kind on its own deployment, so one test's cooldown does not steer the next
  const kinds: Array<[string, string, string]> = [
    ["429", "[sim status=429 retry_after_ms=1200 on=east]", "gpt-4o"],
    ["500", "[sim status=500 on=east]", "gpt-4o-mini"],
    ["503", "[sim status=503 on=east]", "gpt-4.1"],
    ["a first-byte timeout", "[sim first_byte_ms=3000 on=east]", "gpt-4o"],
  ];
  for (const [kind, directive, model] of kinds) {
    test(kind, async () => {
      await Bun.sleep(1600); // let earlier cooldowns (1.5 s default) pass
      const marker = crypto.randomUUID();
      const response = await chat(`${marker} ${directive}`, { model });
      expect(response.status).toBe(200);
      expect(response.headers.get("x-ms-region")).toBeTruthy();
      expect(served(east, marker)).toBe(1);
      expect(served(west, marker)).toBe(1);
    });
  }

  test("a refused connection (upstream down)", async () => {
    const dead = await startSimulator();
    const port = new URL(dead.url).port;
    await dead.stop();
    const file = configFile({
      upstreams: [
        { name: "gone", endpoint: `http://127.0.0.1:${port}`, api_key: "x", deployments: { "gpt-4o": "gpt-4o" } },
        upstream("west", west, { priority: 1 }),
      ],
      keys: [{ name: "t", key: KEY }],
    });
    const p = await startProxy({ args: ["serve", "--config", file.path] });
    try {
      const marker = crypto.randomUUID();
      const response = await post(`${p.url}/v1/chat/completions`, chatBody(marker), { authorization: `Bearer ${KEY}` });
      expect(response.status).toBe(200);
      expect(served(west, marker)).toBe(1);
      expect(p.output()).toContain('"msg":"upstream attempt failed"');
    } finally {
      await p.stop();
    }
  });
});

describe("cooldowns", () => {
  test("a 429 cools east for its Retry-After: east is not tried before its time, then is again", async () => {
    await Bun.sleep(1600);
    const first = crypto.randomUUID();
    expect((await chat(`${first} [sim status=429 retry_after_ms=1500 on=east]`, { model: "gpt-4.1" })).status).toBe(200);
    const cooledAt = Date.now();
    const during = crypto.randomUUID();
    expect((await chat(during, { model: "gpt-4.1" })).status).toBe(200);
    expect(served(east, during)).toBe(0);
    expect(served(west, during)).toBe(1);
    await Bun.sleep(1600 - (Date.now() - cooledAt));
    const after = crypto.randomUUID();
    expect((await chat(after, { model: "gpt-4.1" })).status).toBe(200);
    expect(served(east, after)).toBe(1);
  });

  test("everything cooling: an immediate 429 with the soonest retry-after, without calling Azure", async () => {
    await Bun.sleep(1600);
    const marker = crypto.randomUUID();
    const response = await chat(`${marker} [sim status=429 retry_after=5]`, { model: "gpt-4o-mini" });
    expect(response.status).toBe(429);
    expect(Number(response.headers.get("retry-after"))).toBeWithin(4, 6);
    expect(response.headers.get("x-should-retry")).toBe("false");
    const again = crypto.randomUUID();
    const started = Date.now();
    const second = await chat(again, { model: "gpt-4o-mini" });
    expect(second.status).toBe(429);
    expect(Date.now() - started).toBeLessThan(200);
    expect(served(east, again) + served(west, again)).toBe(0);
    expect((await second.json()).error.code).toBe("upstreams_cooling_down");
  });
});

describe("streams", () => {
  test("no retry once a byte was sent: a mid-stream reset is an error event, not a second answer", async () => {
    const marker = crypto.randomUUID();
    const events = await readEvents(await chat(`${marker} [sim reset_after=4 on=east]`, { stream: true }));
    expect(JSON.parse(events.at(-1)!.data).error.code).toBe("upstream_stream_broken");
    expect(served(east, marker)).toBe(1);
    expect(served(west, marker)).toBe(0);
  });

  test("a stream fails over before its first byte", async () => {
    await Bun.sleep(1600);
    const marker = crypto.randomUUID();
    const events = await readEvents(await chat(`${marker} [sim status=503 on=east]`, { stream: true, model: "gpt-4o" }));
    expect(events.at(-1)!.data).toBe("[DONE]");
    expect(contentOf(events).length).toBeGreaterThan(0);
  });
});

describe("groups and keys", () => {
  test("Proxy-src picks a group; the seed's `azure` works; an unknown group is a 400 that does not list the others", async () => {
    const marker = crypto.randomUUID();
    expect((await chat(marker, { model: "gpt-4o" }, { "proxy-src": "westonly" })).status).toBe(200);
    expect(served(west, marker)).toBe(1);
    expect(served(east, marker)).toBe(0);
    expect((await chat("x", { model: "gpt-4o" }, { "proxy-src": "azure" })).status).toBe(200);
    const unknown = await chat("x", {}, { "proxy-src": "nope" });
    expect(unknown.status).toBe(400);
    const message = (await unknown.json()).error.message;
    expect(message).toBe("Unknown Proxy-src group 'nope'.");
    expect(message).not.toContain("westonly");
  });

  test("a key limited to some models gets 403 for others; a key_sha256 key works; logs name the key", async () => {
    const allowed = await post(`${proxy.url}/v1/chat/completions`, chatBody("x", { model: "gpt-4o" }), { authorization: "Bearer alice-key" });
    expect(allowed.status).toBe(200);
    const denied = await post(`${proxy.url}/v1/chat/completions`, chatBody("x", { model: "gpt-4o-mini" }), { authorization: "Bearer alice-key" });
    expect(denied.status).toBe(403);
    expect((await denied.json()).error.code).toBe("model_not_allowed");
    // an access-log line is written when its answer has ended, by whichever worker served it
    await waitFor(() => proxy.output().includes('"key":"alice"'), 5000, "an access-log line naming the key");
    expect(proxy.output()).not.toContain("alice-key");
  });
});

describe("weights", () => {
  test("equal priorities share traffic by weight (3:1 over 400 requests)", async () => {
    const a = await startSimulator({ name: "a" });
    const b = await startSimulator({ name: "b" });
    const file = configFile({
      upstreams: [
        { name: "a", endpoint: a.url, api_key: a.key, weight: 3, deployments: { "gpt-4o": "gpt-4o" } },
        { name: "b", endpoint: b.url, api_key: b.key, weight: 1, deployments: { "gpt-4o": "gpt-4o" } },
      ],
      keys: [{ name: "t", key: KEY }],
    });
    const p = await startProxy({ args: ["serve", "--config", file.path] });
    try {
      for (let batch = 0; batch < 8; batch++) {
        await Promise.all(
          Array.from({ length: 50 }, () => post(`${p.url}/v1/chat/completions`, chatBody("w"), { authorization: `Bearer ${KEY}` }).then((r) => r.text())),
        );
      }
      const share = a.recorder.all().length / 400;
      // 3:1 → 0.75; 400 draws give a standard deviation of ~0.022, so ±0.08 is > 3.5 sigma
      expect(share).toBeWithin(0.67, 0.83);
      expect(a.recorder.all().length + b.recorder.all().length).toBe(400);
    } finally {
      await p.stop();
      await a.stop();
      await b.stop();
    }
  }, 30_000);
});
