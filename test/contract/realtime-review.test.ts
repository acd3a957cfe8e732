/**
 * Review of the Realtime path as merged: what a session or a WebRTC call may do past the rules
 * every HTTP call keeps (README "Realtime"):
 * - a soft cooldown after one handshake 500 still leaves a lone deployment as last resort;
 * - an ephemeral key's calls count against the limits of the key that minted it, it opens no
 *   other route, and it cannot be forged from a config that holds no secret (Entra managed
 *   identity, key_sha256 keys), yet holds in every worker;
 * - budgets are decided before the upgrade; sessions reach /admin/usage; with state.redis, two
 *   instances share a key's max_streams, rpm and budget;
 * - a handshake the resource connected but did not answer in time cools that deployment only
 *   (not the resource's chat), and retry.max_wait_ms bounds the handshake's failover;
 * - a revoked Entra ID token is replaced once on the handshake, as on HTTP calls;
 * - names a client makes up (any_model) become no metric series, and Azure's 404 stays a 404;
 * - a query key in any case is redacted from the log line;
 * - an upstream that stops reading cannot make the proxy hold a client's frames without bound.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HandshakeRefused } from "../../src/runtime/ws-client.ts";
import { bearer, dialRealtime, realtimeUrl, refusedUpgrade, upgradeRefusal, watchSession } from "../harness/realtime.ts";
import { configFile } from "../harness/config-file.ts";
import { startProxy, type RunningProxy } from "../harness/proxy.ts";
import { startSimulator, type RunningSimulator } from "../harness/simulator.ts";
import { startIdentity, type FakeIdentity } from "../harness/identity.ts";
import { createHash, createHmac } from "node:crypto";
import { createServer, type Server } from "node:net";
import { startRedis, type RunningRedis } from "../harness/redis.ts";

const KEY = "review-rt-client-key-1111";
const ONCE = "review-rt-rpm-one-key-2222";
const TIGHT = "review-rt-budget-key-3333";
const ADMIN = "review-rt-admin-key-4444";
const OFFER = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n";

let sim: RunningSimulator;
let proxy: RunningProxy;

beforeAll(async () => {
  sim = await startSimulator({ name: "a" });
  const dir = mkdtempSync(join(tmpdir(), "azure-proxy-review-rt-"));
  const path = configFile({
    upstreams: [{ name: "a", endpoint: sim.url, api_key: sim.key, deployments: { "gpt-realtime": "gpt-realtime" } }],
    keys: [
      { name: "rt", key: KEY },
      { name: "once", key: ONCE, rpm: 1 },
      { name: "tight", key: TIGHT, budget: { tokens_per_day: 10 } },
      { name: "ops", key: ADMIN, admin: true },
    ],
    state: { path: join(dir, "state.db") },
    server: { workers: 1 },
  }).path;
  proxy = await startProxy({ args: ["serve", "--config", path] });
});
afterAll(async () => {
  await proxy.stop();
  await sim.stop();
});

const wsUrl = (path: string) => new URL(`ws://127.0.0.1:${proxy.port}${path}`);
const handshakes = () => sim.recorder.all().filter((r) => r.path.endsWith("/realtime")).length;

const connect = (key: string, model = "gpt-realtime") => dialRealtime(wsUrl(`/v1/realtime?model=${model}`), bearer(key));
const refused = (key: string) => refusedUpgrade(wsUrl("/v1/realtime?model=gpt-realtime"), bearer(key));

describe("soft cooldowns on the handshake", () => {
  test("one handshake 500 on a lone deployment: the next session still opens there (a soft cooldown is a last resort, as for HTTP calls)", async () => {
    await fetch(`${sim.url}/_sim/realtime/handshake`, { method: "POST", body: "[sim status=500]" });
    const first = await refused(KEY);
    expect(first.status).toBe(500);
    const before = handshakes();
    const s = watchSession(await connect(KEY));
    await s.next("session.created");
    s.socket.close(1000, "");
    expect(handshakes()).toBe(before + 1);
  });
});

describe("what is logged", () => {
  test("a key-like query parameter in another case (API-Key) is redacted from the session's log line too", async () => {
    const secret = "review-rt-mistyped-query-key-5555";
    const s = watchSession(await dialRealtime(wsUrl(`/v1/realtime?model=gpt-realtime&API-Key=${secret}`), bearer(KEY)));
    await s.next("session.created");
    s.socket.close(1000, "");
    for (let i = 0; i < 50 && !proxy.output().includes("API-Key=REDACTED"); i++) await Bun.sleep(50);
    expect(proxy.output()).toContain("API-Key=REDACTED");
    expect(proxy.output()).not.toContain(secret);
  });
});

describe("ephemeral keys keep the limits of the key that minted them", () => {
  test("a key with rpm 1 that minted an ephemeral key cannot place a WebRTC call with it in the same minute (429), and nothing reaches Azure", async () => {
    const minted = await fetch(`${proxy.url}/v1/realtime/client_secrets`, {
      method: "POST",
      headers: { authorization: `Bearer ${ONCE}`, "content-type": "application/json" },
      body: JSON.stringify({ session: { type: "realtime", model: "gpt-realtime" } }),
    });
    expect(minted.status).toBe(200);
    const { value } = (await minted.json()) as { value: string };
    const calls = () => sim.recorder.all().filter((r) => r.method === "POST" && r.path === "/openai/v1/realtime/calls").length;
    const before = calls();
    const call = await fetch(`${proxy.url}/v1/realtime/calls`, {
      method: "POST",
      headers: { authorization: `Bearer ${value}`, "content-type": "application/sdp" },
      body: OFFER,
    });
    expect(call.status).toBe(429);
    const body = (await call.json()) as { error: Record<string, unknown> };
    expect(body.error.type).toBe("rate_limit_error");
    expect(calls()).toBe(before);
  });
});

describe("an ephemeral key opens nothing but the WebRTC call routes", () => {
  test("a forged ek_ key on pass-through paths that end in /realtime/calls is a 401, and nothing reaches Azure", async () => {
    const before = sim.recorder.all().length;
    for (const path of ["/v1/files/realtime/calls", "/v1/vector_stores/vs_1/realtime/calls", "/openai/v1/files/realtime/calls"]) {
      for (const method of ["POST", "GET"]) {
        const answer = await fetch(`${proxy.url}${path}`, {
          method,
          headers: { authorization: "Bearer ek_forged", "content-type": "application/json" },
          ...(method === "POST" ? { body: "{}" } : {}),
        });
        expect({ path, method, status: answer.status }).toEqual({ path, method, status: 401 });
        expect(((await answer.json()) as { error: { code: string } }).error.code).toBe("invalid_api_key");
      }
    }
    expect(sim.recorder.all().length).toBe(before);
  });
});

describe("budgets and the usage ledger", () => {
  test("a session's response.done tokens reach /admin/usage; past its budget the key's next upgrade is 429 insufficient_quota with no upstream handshake", async () => {
    const s = watchSession(await connect(TIGHT));
    await s.next("session.created");
    s.socket.send(
      JSON.stringify({
        type: "conversation.item.create",
        item: { type: "message", role: "user", content: [{ type: "input_text", text: "spend [sim reply=one_two_three_four_five_six]" }] },
      }),
    );
    s.socket.send(JSON.stringify({ type: "response.create" }));
    const done = await s.next("response.done");
    const spent = done.response.usage.input_tokens + done.response.usage.output_tokens;
    expect(spent).toBeGreaterThan(10);
    s.socket.close(1000, "");
    let row: Record<string, any> | undefined;
    for (let i = 0; i < 50 && !row; i++) {
      await Bun.sleep(100);
      const report = (await (await fetch(`${proxy.url}/admin/usage`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as {
        data: Record<string, any>[];
      };
      row = report.data.find((r) => r.key === "tight" && r.model === "gpt-realtime");
    }
    expect(row).toBeDefined();
    expect(row!.requests).toBe(1);
    const before = handshakes();
    const refusal = await refused(TIGHT);
    expect(refusal.status).toBe(429);
    expect(JSON.parse(refusal.body).error.code).toBe("insufficient_quota");
    expect(handshakes()).toBe(before);
  });
});

describe("a slow handshake cools one deployment, not the resource", () => {
  let a: RunningSimulator;
  let b: RunningSimulator;
  let p: RunningProxy;
  beforeAll(async () => {
    [a, b] = await Promise.all([startSimulator({ name: "a" }), startSimulator({ name: "b" })]);
    const path = configFile({
      upstreams: [
        { name: "a", endpoint: a.url, api_key: a.key, priority: 0, deployments: { "gpt-realtime": "gpt-realtime", "gpt-4o": "gpt-4o" } },
        { name: "b", endpoint: b.url, api_key: b.key, priority: 1, deployments: { "gpt-4o": "gpt-4o" } },
      ],
      keys: [{ name: "rt", key: KEY }],
      timeouts: { connect_ms: 400 },
      server: { workers: 1 },
    }).path;
    p = await startProxy({ args: ["serve", "--config", path] });
  });
  afterAll(async () => {
    await Promise.all([p.stop(), waited?.stop()]);
    await Promise.all([a.stop(), b.stop()]);
  });
  let waited: RunningProxy | undefined;

  test("a realtime deployment that connects but answers its handshake too late: the client gets 504, and chat on the same resource still goes there", async () => {
    await fetch(`${a.url}/_sim/realtime/handshake`, { method: "POST", body: "[sim first_byte_ms=1500]" });
    const error = await refusedUpgrade(realtimeUrl(p.port), bearer(KEY));
    expect(error.status).toBe(504);
    const chats = (sim: RunningSimulator) => sim.recorder.all().filter((r) => r.path.includes("/chat/completions")).length;
    const answer = await fetch(`${p.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "still here?" }] }),
    });
    expect(answer.status).toBe(200);
    expect(chats(a)).toBe(1);
    expect(chats(b)).toBe(0);
  });

  test("retry.max_wait_ms bounds the handshake too: past it, no other deployment is tried and the client hears the timeout", async () => {
    const path = configFile({
      upstreams: [
        { name: "a", endpoint: a.url, api_key: a.key, priority: 0, deployments: { "gpt-realtime": "gpt-realtime" } },
        { name: "b", endpoint: b.url, api_key: b.key, priority: 1, deployments: { "gpt-realtime": "gpt-realtime" } },
      ],
      keys: [{ name: "rt", key: KEY }],
      timeouts: { connect_ms: 400 },
      retry: { max_wait_ms: 200 },
      server: { workers: 1 },
    }).path;
    waited = await startProxy({ args: ["serve", "--config", path] });
    const before = b.recorder.all().filter((r) => r.path.endsWith("/realtime")).length;
    await fetch(`${a.url}/_sim/realtime/handshake`, { method: "POST", body: "[sim first_byte_ms=1500]" });
    const error = await refusedUpgrade(realtimeUrl(waited.port), bearer(KEY));
    expect(error.status).toBe(504);
    expect(b.recorder.all().filter((r) => r.path.endsWith("/realtime")).length).toBe(before);
  });
});

describe("ephemeral keys from a config that holds no secret", () => {
  const CLIENT = "review-rt-digest-only-key-6666";
  let identity: FakeIdentity;
  let entraSim: RunningSimulator;
  let p: RunningProxy;
  const upstreams = () => [{ name: "mi", endpoint: entraSim.url, entra: { managed_identity: true }, deployments: { "gpt-realtime": "gpt-realtime" } }];
  const keys = [{ name: "digest", key_sha256: createHash("sha256").update(CLIENT).digest("hex") }];
  beforeAll(async () => {
    identity = await startIdentity();
    entraSim = await startSimulator({ name: "mi", acceptToken: (token) => identity.isValid(token) });
    const path = configFile({
      upstreams: upstreams(),
      keys,
      identity: { authority_host: identity.url, imds_endpoint: identity.url },
      server: { workers: 2 },
    }).path;
    p = await startProxy({ args: ["serve", "--config", path] });
  });
  afterAll(async () => {
    await p.stop();
    await entraSim.stop();
    await identity.stop();
  });
  const offer = (key: string) =>
    fetch(`${p.url}/v1/realtime/calls`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/sdp" }, body: OFFER });
  const calls = () => entraSim.recorder.all().filter((r) => r.method === "POST" && r.path === "/openai/v1/realtime/calls").length;

  test("a key sealed with what the config file alone gives (names, endpoint, digests) is a 401 and reaches no Azure; a minted one holds in every worker", async () => {
    const secret = createHash("sha256")
      .update("azure-proxy ephemeral keys\0")
      .update(JSON.stringify(upstreams().map((u) => [u.name, u.endpoint, null, u.entra])))
      .update(JSON.stringify(keys.map((k) => [k.name, null, k.key_sha256])))
      .digest();
    const b64 = (t: string) => Buffer.from(t).toString("base64url");
    const head = `ek_azp.${b64("mi")}.${b64("digest")}.${Math.floor(Date.now() / 1000) + 600}`;
    const value = "ek_anything_azure_would_take";
    const forged = `${head}.${createHmac("sha256", secret).update(`${head}.${value}`).digest("base64url").slice(0, 32)}.${value}`;
    const answer = await offer(forged);
    expect(answer.status).toBe(401);
    expect(((await answer.json()) as { error: { code: string } }).error.code).toBe("invalid_api_key");
    expect(calls()).toBe(0);

    const minted = await fetch(`${p.url}/v1/realtime/client_secrets`, {
      method: "POST",
      headers: { authorization: `Bearer ${CLIENT}`, "content-type": "application/json" },
      body: JSON.stringify({ session: { type: "realtime", model: "gpt-realtime" } }),
    });
    expect(minted.status).toBe(200);
    const sealed = ((await minted.json()) as { value: string }).value;
    // new connections spread over both workers: each must open the key
    const statuses = await Promise.all(Array.from({ length: 8 }, () => offer(sealed).then((r) => r.status)));
    expect(statuses).toEqual(Array(8).fill(201));
    expect(calls()).toBe(8);
  });
});

describe("a revoked Entra ID token on the handshake", () => {
  let identity: FakeIdentity;
  let entraSim: RunningSimulator;
  let p: RunningProxy;
  beforeAll(async () => {
    identity = await startIdentity();
    entraSim = await startSimulator({ name: "e", acceptToken: (token) => identity.isValid(token) });
    const path = configFile({
      upstreams: [
        {
          name: "e",
          endpoint: entraSim.url,
          entra: { tenant_id: "t", client_id: "c", client_secret: "right-secret" },
          deployments: { "gpt-realtime": "gpt-realtime", "gpt-4o": "gpt-4o" },
        },
      ],
      keys: [{ name: "rt", key: KEY }],
      identity: { authority_host: identity.url, imds_endpoint: identity.url },
      server: { workers: 1 },
    }).path;
    p = await startProxy({ args: ["serve", "--config", path] });
  });
  afterAll(async () => {
    await p.stop();
    await entraSim.stop();
    await identity.stop();
  });
  const session = async () => {
    const s = watchSession(await dialRealtime(realtimeUrl(p.port), bearer(KEY)));
    await s.next("session.created");
    s.socket.close(1000, "");
  };

  test("the cached token is dropped and one fresh token tried at once: the session opens, and nothing cools the resource's chat", async () => {
    await session();
    expect(identity.issued.size).toBe(1);
    identity.issued.clear(); // Azure no longer takes the cached token
    await session();
    expect(identity.issued.size).toBe(1);
    const chat = await fetch(`${p.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "still served?" }] }),
    });
    expect(chat.status).toBe(200);
  });
});

describe("deployment names a client makes up (any_model)", () => {
  let open: RunningSimulator;
  let p: RunningProxy;
  beforeAll(async () => {
    open = await startSimulator({ name: "o" });
    const path = configFile({
      upstreams: [{ name: "o", endpoint: open.url, api_key: open.key, any_model: true, deployments: { "gpt-realtime": "gpt-realtime" } }],
      keys: [{ name: "rt", key: KEY }],
      server: { workers: 1 },
    }).path;
    p = await startProxy({ args: ["serve", "--config", path] });
  });
  afterAll(async () => {
    await p.stop();
    await open.stop();
  });

  test("Azure's 404 for a made-up name is the client's 404 (it was a 500 internal_error); such refusals add no series to /metrics: they count as deployment 'other'", async () => {
    const names = Array.from({ length: 5 }, (_, i) => `made-up-${i}-${Math.random().toString(36).slice(2, 8)}`);
    for (const name of names) {
      const error = await refusedUpgrade(realtimeUrl(p.port, `/v1/realtime?model=${name}`), bearer(KEY));
      expect(error.status).toBe(404);
    }
    const metrics = await (await fetch(`${p.url}/metrics`)).text();
    for (const name of names) expect(metrics).not.toContain(name);
    expect(metrics).toMatch(/azure_proxy_upstream_attempts_total\{[^}]*deployment="other"[^}]*outcome="4xx"[^}]*\} 5/);
  });
});

describe("an upstream that stops reading", () => {
  let silent: Server;
  let p: RunningProxy;
  beforeAll(async () => {
    // accepts the handshake, then never reads again: what the client sends piles up in the proxy
    silent = createServer((socket) => {
      socket.once("data", (head) => {
        const key = /sec-websocket-key: (.+)\r\n/i.exec(head.toString())![1]!.trim();
        const accept = createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
        socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
        socket.pause();
      });
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as { port: number }).port;
    const path = configFile({
      upstreams: [{ name: "s", endpoint: `http://127.0.0.1:${port}`, api_key: "unused", deployments: { "gpt-realtime": "gpt-realtime" } }],
      keys: [{ name: "rt", key: KEY }],
      realtime: { max_buffered_bytes: 1_048_576 },
      server: { workers: 1 },
    }).path;
    p = await startProxy({ args: ["serve", "--config", path] });
  });
  afterAll(async () => {
    await p.stop();
    silent.close();
  });

  test("a client sending to it is closed with 1011 once max_buffered_bytes are queued, and the proxy's memory stays bounded", async () => {
    const socket = await dialRealtime(realtimeUrl(p.port), bearer(KEY));
    let closed: { code: number; reason: string } | undefined;
    socket.on({
      message() {},
      pong() {},
      drain() {},
      close: (code, reason) => {
        closed = { code, reason };
      },
    });
    const chunk = new Uint8Array(256 * 1024);
    // up to 50 MiB offered; the proxy must give up long before
    for (let i = 0; i < 200 && !closed; i++) {
      socket.send(chunk);
      await Bun.sleep(5);
    }
    for (let i = 0; i < 40 && !closed; i++) await Bun.sleep(50);
    expect(closed?.code).toBe(1011);
    expect(closed?.reason).toContain("the upstream is not reading");
    const rssMb = Number(/VmRSS:\s+(\d+)/.exec(await Bun.file(`/proc/${p.pid}/status`).text())![1]) / 1024;
    expect(rssMb).toBeLessThan(200);
  });
});

describe("two instances sharing one Redis", () => {
  const STREAMS = "review-rt-redis-streams-7777";
  const PER_MINUTE = "review-rt-redis-rpm-8888";
  const SPENDER = "review-rt-redis-budget-9999";
  let redis: RunningRedis;
  let shared: RunningSimulator;
  let one: RunningProxy;
  let two: RunningProxy;
  beforeAll(async () => {
    redis = await startRedis();
    shared = await startSimulator({ name: "r" });
    const path = configFile({
      upstreams: [{ name: "r", endpoint: shared.url, api_key: shared.key, deployments: { "gpt-realtime": "gpt-realtime" } }],
      keys: [
        { name: "streams", key: STREAMS, max_streams: 1 },
        { name: "per-minute", key: PER_MINUTE, rpm: 1 },
        { name: "spender", key: SPENDER, budget: { tokens_per_day: 10 } },
      ],
      state: { redis: redis.url },
      server: { workers: 1 },
    }).path;
    [one, two] = await Promise.all([startProxy({ args: ["serve", "--config", path] }), startProxy({ args: ["serve", "--config", path] })]);
  });
  afterAll(async () => {
    await Promise.all([one?.stop(), two?.stop()]);
    await shared.stop();
    await redis.stop();
  });
  const dial = (at: RunningProxy, key: string) => dialRealtime(realtimeUrl(at.port), bearer(key));
  const refusedAt = (at: RunningProxy, key: string) => refusedUpgrade(realtimeUrl(at.port), bearer(key));

  test("a session open on one instance fills max_streams 1 on the other; rpm 1 is spent across both; a budget spent in a session on one is refused on the other", async () => {
    const held = watchSession(await dial(one, STREAMS));
    await held.next("session.created");
    const full = await refusedAt(two, STREAMS);
    expect(full.status).toBe(429);
    held.socket.close(1000, "");

    const first = watchSession(await dial(one, PER_MINUTE));
    await first.next("session.created");
    first.socket.close(1000, "");
    expect((await refusedAt(two, PER_MINUTE)).status).toBe(429);

    const spend = watchSession(await dial(one, SPENDER));
    await spend.next("session.created");
    spend.socket.send(
      JSON.stringify({
        type: "conversation.item.create",
        item: { type: "message", role: "user", content: [{ type: "input_text", text: "spend [sim reply=one_two_three_four_five_six]" }] },
      }),
    );
    spend.socket.send(JSON.stringify({ type: "response.create" }));
    await spend.next("response.done");
    spend.socket.close(1000, "");
    // usage reaches Redis in batches (250 ms): wait for the refusal, within a bound
    let refusal: HandshakeRefused | undefined;
    for (let i = 0; i < 30 && refusal?.status !== 429; i++) {
      await Bun.sleep(100);
      refusal = await upgradeRefusal(realtimeUrl(two.port), bearer(SPENDER));
    }
    expect(refusal?.status).toBe(429);
    expect(JSON.parse(refusal!.body).error.code).toBe("insufficient_quota");
  });
});
