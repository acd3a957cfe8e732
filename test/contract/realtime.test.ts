/**
 * Realtime sessions over WebSocket through a real proxy process, with the simulator's realtime
 * as upstream: the three inbound shapes, every place a key may come from, refusals before the
 * upgrade, handshake failover, frames both ways, closes both ways, usage accounting.
 * The edges use the proxy's own WebSocket client (src/runtime/ws-client.ts): it shows a refused
 * handshake's status and body, and it can stop reading, which browser-style clients cannot.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { configFile } from "../harness/config-file.ts";
import { bearer, openSession, refusedUpgrade, type Session } from "../harness/realtime.ts";
import { startProxy, type RunningProxy } from "../harness/proxy.ts";
import { startSimulator, type RunningSimulator } from "../harness/simulator.ts";

const KEY = "realtime-client-key-123456";
const LIMITED = "realtime-limited-key-98765";
const METERED = "realtime-metered-key-55555";
const PER_MINUTE = "realtime-rpm-key-77777";
const BUDGETED = "realtime-budget-key-33333";
const ADMIN = "realtime-admin-key-44444";

let simA: RunningSimulator;
let simB: RunningSimulator;
let proxy: RunningProxy;
let dated: RunningProxy;

function config(upstreams: unknown[], extra: Record<string, unknown> = {}) {
  return configFile({
    upstreams,
    keys: [
      { name: "rt", key: KEY },
      { name: "limited", key: LIMITED, models: ["gpt-realtime"], max_streams: 1 },
      { name: "metered", key: METERED, tpm: 10 },
      { name: "per-minute", key: PER_MINUTE, rpm: 2 },
      { name: "budgeted", key: BUDGETED, budget: { tokens_per_day: 10 } },
      { name: "ops", key: ADMIN, admin: true },
    ],
    server: { workers: 1 },
    ...extra,
  }).path;
}

/** Both simulators as upstreams, a first (priority 0). */
const both = () => [
  { name: "a", endpoint: simA.url, api_key: simA.key, priority: 0, deployments: { "gpt-realtime": "gpt-realtime" } },
  { name: "b", endpoint: simB.url, api_key: simB.key, priority: 1, deployments: { "gpt-realtime": "gpt-realtime" } },
];

beforeAll(async () => {
  simA = await startSimulator({ name: "a" });
  simB = await startSimulator({ name: "b" });
  const preview = [
    { name: "p", endpoint: simA.url, api_key: simA.key, api_version: "2025-04-01-preview", deployments: { "gpt-4o-realtime": "gpt-4o-realtime-preview" } },
  ];
  [proxy, dated] = await Promise.all([
    startProxy({ args: ["serve", "--config", config(both())] }),
    startProxy({ args: ["serve", "--config", config(preview)] }),
  ]);
});
afterAll(async () => {
  await Promise.all([proxy.stop(), dated.stop()]);
  await Promise.all([simA.stop(), simB.stop()]);
});

const wsUrl = (p: RunningProxy, path: string) => new URL(`ws://127.0.0.1:${p.port}${path}`);

// the key this file's sessions use unless a test names another
const open = (url: URL, headers: Record<string, string> = bearer(KEY), protocols?: string[]) => openSession(url, headers, protocols);
const refusal = refusedUpgrade;

const say = (text: string) =>
  JSON.stringify({ type: "conversation.item.create", item: { type: "message", role: "user", content: [{ type: "input_text", text }] } });
const lastHandshake = (sim: RunningSimulator) =>
  sim.recorder
    .all()
    .filter((r) => r.path.endsWith("/realtime"))
    .at(-1)!;

describe("a session through the proxy", () => {
  test("OpenAI shape: session.created, an answer with text deltas and response.done, one log line with the tokens", async () => {
    const s = await open(wsUrl(proxy, "/v1/realtime?model=gpt-realtime"));
    const created = await s.next("session.created");
    expect(created.session.model).toBe("gpt-realtime");
    s.socket.send(JSON.stringify({ type: "session.update", session: { type: "realtime", instructions: "be brief" } }));
    expect((await s.next("session.updated")).session.instructions).toBe("be brief");
    s.socket.send(say("Hello [sim reply=one_two_three]"));
    await s.next("conversation.item.added");
    s.socket.send(JSON.stringify({ type: "response.create" }));
    const done = await s.next("response.done");
    const text = s.events
      .filter((e): e is Record<string, any> => !(e instanceof Uint8Array) && e.type === "response.output_text.delta")
      .map((e) => e.delta)
      .join("");
    expect(text).toBe("one two three");
    s.socket.close(1000, "done here");
    await s.closed;
    const up = lastHandshake(simA);
    expect(up.path).toBe("/openai/v1/realtime");
    expect(up.query).toEqual({ model: "gpt-realtime" });
    expect(up.headers["api-key"]).toBe(simA.key);
    expect(up.headers.authorization).toBeUndefined();
    const line = await logLine(
      proxy,
      (l) => l.msg === "realtime session" && l.end === "client_closed" && l.output_tokens === done.response.usage.output_tokens,
    );
    expect(line).toMatchObject({
      key: "rt",
      model: "gpt-realtime",
      upstream: "a",
      status: 101,
      close_code: 1000,
      responses: 1,
      input_tokens: done.response.usage.input_tokens,
    });
  });

  test("Azure GA shape with api-key; Azure preview shape goes to the preview path with OpenAI-Beta and preview event names", async () => {
    const ga = await open(wsUrl(proxy, "/openai/v1/realtime?model=gpt-realtime"), { "api-key": KEY });
    await ga.next("session.created");
    ga.socket.close(1000, "");
    const p = await open(wsUrl(dated, "/openai/realtime?api-version=2025-04-01-preview&deployment=gpt-4o-realtime"), {
      "api-key": KEY,
      "openai-beta": "realtime=v1",
    });
    await p.next("session.created");
    p.socket.send(JSON.stringify({ type: "session.update", session: { modalities: ["text", "audio"] } }));
    await p.next("session.updated");
    p.socket.send(say("hi"));
    await p.next("conversation.item.created");
    p.socket.send(JSON.stringify({ type: "response.create" }));
    await p.next("response.audio.delta");
    await p.next("response.audio_transcript.delta");
    const done = await p.next("response.done");
    expect(done.response.usage.output_token_details.audio_tokens).toBeGreaterThan(0);
    p.socket.close(1000, "");
    const up = lastHandshake(simA);
    expect(up.path).toBe("/openai/realtime");
    expect(up.query).toEqual({ "api-version": "2025-04-01-preview", deployment: "gpt-4o-realtime-preview" });
    expect(up.headers["openai-beta"]).toBe("realtime=v1");
    // toward the GA path the beta header is not passed on
    const ga2 = await open(wsUrl(proxy, "/openai/v1/realtime?model=gpt-realtime"), { "api-key": KEY, "openai-beta": "realtime=v1" });
    await ga2.next("session.created");
    expect(lastHandshake(simA).headers["openai-beta"]).toBeUndefined();
    ga2.socket.close(1000, "");
  });

  test("a key in the query or in the browser subprotocol is accepted, never echoed, never logged, never sent upstream", async () => {
    const q = await open(wsUrl(proxy, `/v1/realtime?model=gpt-realtime&api-key=${KEY}`), {});
    await q.next("session.created");
    q.socket.close(1000, "");
    expect(lastHandshake(simA).query["api-key"]).toBeUndefined();
    const b = await open(wsUrl(proxy, "/v1/realtime?model=gpt-realtime"), {}, ["realtime", `openai-insecure-api-key.${KEY}`]);
    await b.next("session.created");
    expect(b.socket.headers.get("sec-websocket-protocol")).toBe("realtime");
    b.socket.close(1000, "");
    // offered alone, the key protocol cannot be selected (the answer would echo the key), and
    // clients fail a handshake that selects none of what they offered: a clear 400 instead
    const alone = await refusal(wsUrl(proxy, "/v1/realtime?model=gpt-realtime"), {}, [`openai-insecure-api-key.${KEY}`]);
    expect(alone.status).toBe(400);
    expect(JSON.parse(alone.body).error).toMatchObject({ param: "sec-websocket-protocol", code: "invalid_subprotocol" });
    expect(alone.body).not.toContain(KEY);
    await b.closed;
    expect(JSON.stringify(lastHandshake(simA).headers)).not.toContain(KEY);
    await logLine(proxy, (l) => l.msg === "realtime session" && String(l.path).includes("api-key=REDACTED"));
    expect(proxy.output()).not.toContain(KEY);
  });

  test("binary frames go both ways unchanged, in order", async () => {
    const s = await open(wsUrl(proxy, "/v1/realtime?model=gpt-realtime"));
    await s.next("session.created");
    const frames = [new Uint8Array([0, 1, 2, 255]), new Uint8Array(70_000).map((_, i) => i % 251), new Uint8Array([9])];
    for (const f of frames) s.socket.send(f);
    const deadline = Date.now() + 5000;
    while (s.events.filter((e) => e instanceof Uint8Array).length < 3 && Date.now() < deadline) await Bun.sleep(10);
    expect(s.events.filter((e) => e instanceof Uint8Array)).toEqual(frames);
    s.socket.close(1000, "");
  });
});

describe("refused before the upgrade, as HTTP errors in OpenAI's shape", () => {
  test("no key 401, wrong key 401, model not allowed 403, unknown model 404, stream limit 429", async () => {
    const url = wsUrl(proxy, "/v1/realtime?model=gpt-realtime");
    const none = await refusal(url, {});
    expect(none.status).toBe(401);
    expect(JSON.parse(none.body).error.code).toBe("missing_api_key");
    const wrong = await refusal(url, { authorization: "Bearer nope" }, ["realtime", "openai-insecure-api-key.nope"]);
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrong.body).error).toMatchObject({ type: "authentication_error", code: "invalid_api_key" });
    const forbidden = await refusal(wsUrl(proxy, "/v1/realtime?model=gpt-4o"), { "api-key": LIMITED });
    expect(forbidden.status).toBe(403);
    const unknown = await refusal(wsUrl(proxy, "/v1/realtime?model=nonexistent"), { "api-key": KEY });
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body).error.message).toContain("gpt-realtime");
    const missing = await refusal(wsUrl(proxy, "/v1/realtime"), { "api-key": KEY });
    expect(missing.status).toBe(400);
    expect(JSON.parse(missing.body).error.param).toBe("model");
    const first = await open(url, { "api-key": LIMITED });
    await first.next("session.created");
    const second = await refusal(url, { "api-key": LIMITED });
    expect(second.status).toBe(429);
    expect(second.headers.get("retry-after")).not.toBeNull();
    first.socket.close(1000, "");
    await first.closed;
    // the slot comes back when the session ends
    const deadline = Date.now() + 3000;
    let again: Session | undefined;
    while (!again && Date.now() < deadline) again = await open(url, { "api-key": LIMITED }).catch(() => undefined);
    await again!.next("session.created");
    again!.socket.close(1000, "");
  });
});

describe("requests per minute", () => {
  test("each session counts as one request: with rpm 2 the third session in a minute is refused with 429 and retry-after", async () => {
    const url = wsUrl(proxy, "/v1/realtime?model=gpt-realtime");
    for (let i = 0; i < 2; i++) {
      const s = await open(url, { "api-key": PER_MINUTE });
      await s.next("session.created");
      s.socket.close(1000, "");
    }
    const refused = await refusal(url, { "api-key": PER_MINUTE });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(JSON.parse(refused.body).error.message).toContain("2 requests per minute");
  });
});

describe("tokens per minute", () => {
  test("response.done usage counts for tpm while the session is open: the next session is refused with 429", async () => {
    const url = wsUrl(proxy, "/v1/realtime?model=gpt-realtime");
    const s = await open(url, { "api-key": METERED });
    await s.next("session.created");
    s.socket.send(say("[sim reply=a_b_c_d_e_f_g_h_i_j_k_l]"));
    s.socket.send(JSON.stringify({ type: "response.create" }));
    const done = await s.next("response.done");
    expect(done.response.usage.output_tokens).toBeGreaterThanOrEqual(10);
    const refused = await refusal(url, { "api-key": METERED });
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body).error.message).toContain("10 tokens per minute");
    s.socket.close(1000, "");
  });
});

describe("budgets and the ledger", () => {
  test("each response.done is in the ledger while the session is open: its budget refuses the next session, and the session counts as one request", async () => {
    const url = wsUrl(proxy, "/v1/realtime?model=gpt-realtime");
    const usage = async () => {
      const response = await fetch(`${proxy.url}/admin/usage?by=key`, { headers: { authorization: `Bearer ${ADMIN}` } });
      return ((await response.json()) as { data: Array<{ key: string; requests: number; total_tokens: number }> }).data.find((d) => d.key === "budgeted");
    };
    const s = await open(url, { "api-key": BUDGETED });
    await s.next("session.created");
    s.socket.send(say("[sim reply=a_b_c_d_e_f_g_h_i_j_k_l]"));
    s.socket.send(JSON.stringify({ type: "response.create" }));
    const done = await s.next("response.done");
    const spent = done.response.usage.input_tokens + done.response.usage.output_tokens;
    expect(spent).toBeGreaterThanOrEqual(10);
    // the session is still open: its spend is already known
    expect(await usage()).toMatchObject({ requests: 0, total_tokens: spent });
    const refused = await refusal(url, { "api-key": BUDGETED });
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body).error).toMatchObject({ type: "insufficient_quota", code: "insufficient_quota" });
    expect(JSON.parse(refused.body).error.message).toContain("tokens_per_day");
    s.socket.close(1000, "");
    await s.closed;
    await logLine(proxy, (l) => l.msg === "realtime session" && l.key === "budgeted" && l.end === "client_closed");
    expect(await usage()).toMatchObject({ requests: 1, total_tokens: spent });
  });
});

describe("failover and closes", () => {
  test("a 429 on the handshake fails over to the next upstream and cools the first; both 429 → the client gets 429 with retry-after", async () => {
    await fetch(`${simA.url}/_sim/realtime/handshake`, { method: "POST", body: "[sim status=429 retry_after=2]" });
    const s = await open(wsUrl(proxy, "/v1/realtime?model=gpt-realtime"));
    await s.next("session.created");
    s.socket.close(1000, "");
    expect(lastHandshake(simB).path).toBe("/openai/v1/realtime");
    await logLine(proxy, (l) => l.msg === "realtime session" && l.upstream === "b" && l.attempts === 2);
    // a is cooling: straight to b, and when b refuses too, the client hears Azure's 429
    await fetch(`${simB.url}/_sim/realtime/handshake`, { method: "POST", body: "[sim status=429 retry_after=1]" });
    const refused = await refusal(wsUrl(proxy, "/v1/realtime?model=gpt-realtime"), { "api-key": KEY });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(refused.body).error.message).toContain("Realtime_Connect");
    await Bun.sleep(2100);
  });

  test("an upstream that closes mid-response closes the client with its code and reason", async () => {
    const s = await open(wsUrl(proxy, "/v1/realtime?model=gpt-realtime"));
    await s.next("session.created");
    s.socket.send(say("[sim reset_after=4]"));
    s.socket.send(JSON.stringify({ type: "response.create" }));
    const closed = await s.closed;
    expect(closed).toEqual({ code: 1011, reason: "simulated server failure" });
    await logLine(proxy, (l) => l.msg === "realtime session" && l.end === "upstream_closed" && l.close_code === 1011);
  });

  test("a client close reaches the upstream: the session ends and the metrics count it", async () => {
    const s = await open(wsUrl(proxy, "/v1/realtime?model=gpt-realtime"));
    await s.next("session.created");
    const during = await (await fetch(`${proxy.url}/metrics`)).text();
    expect(gauge(during, "azure_proxy_inflight_realtime_sessions")).toBeGreaterThanOrEqual(1);
    s.socket.close(4000, "user hung up");
    await logLine(proxy, (l) => l.msg === "realtime session" && l.close_code === 4000 && l.close_reason === "user hung up");
    const after = await (await fetch(`${proxy.url}/metrics`)).text();
    expect(after).toMatch(/azure_proxy_realtime_sessions_total\{model="gpt-realtime",upstream="a",outcome="client_closed"\} \d+/);
    expect(after).toMatch(/azure_proxy_realtime_sessions_total\{model="gpt-realtime",upstream="none",outcome="refused"\} \d+/);
    expect(after).toMatch(/azure_proxy_tokens_total\{key="rt",model="gpt-realtime",kind="completion"\} \d+/);
  });
});

function gauge(text: string, name: string): number {
  return Number(new RegExp(`^${name} (\\d+)`, "m").exec(text)?.[1] ?? NaN);
}

async function logLine(p: RunningProxy, match: (line: Record<string, any>) => boolean, timeoutMs = 3000): Promise<Record<string, any>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const raw of p.output().split("\n")) {
      if (!raw.startsWith("{")) continue;
      const line = JSON.parse(raw);
      if (match(line)) return line;
    }
    if (Date.now() > deadline) throw new Error(`no matching log line in:\n${p.output().slice(-3000)}`);
    await Bun.sleep(20);
  }
}

describe("backpressure and shutdown", () => {
  test("a client that stops reading is closed with 1008 once the proxy holds max_buffered_bytes for it", async () => {
    const s = await open(wsUrl(proxy, "/v1/realtime?model=gpt-realtime"));
    await s.next("session.created");
    s.socket.pause();
    // 64 MiB of audio toward a client that reads none of it
    s.socket.send(say("[sim flood_mb=64]"));
    s.socket.send(JSON.stringify({ type: "response.create" }));
    const line = await logLine(proxy, (l) => l.msg === "realtime session" && l.end === "slow_client", 15_000);
    expect(line.close_code).toBe(1008);
    expect(line.close_reason).toContain("not reading");
    // what reached the client before the close is far less than what the upstream sent
    expect(line.frames_from_upstream).toBeLessThan(64 * 16);
    s.socket.resume();
    const closed = await s.closed;
    expect(closed.code).toBe(1008);
  });

  test("SIGTERM: an open session may go on for shutdown.grace_ms, then is closed with 1001 and the proxy exits 0", async () => {
    const p = await startProxy({
      args: [
        "serve",
        "--config",
        config([{ name: "a", endpoint: simA.url, api_key: simA.key, deployments: { "gpt-realtime": "gpt-realtime" } }], { shutdown: { grace_ms: 600 } }),
      ],
    });
    const s = await open(wsUrl(p, "/v1/realtime?model=gpt-realtime"));
    await s.next("session.created");
    const started = Date.now();
    const exited = p.stop("SIGTERM");
    await Bun.sleep(300);
    // still relaying during the grace period
    s.socket.send(JSON.stringify({ type: "session.update", session: { instructions: "still here" } }));
    expect((await s.next("session.updated")).session.instructions).toBe("still here");
    const closed = await s.closed;
    expect(closed.code).toBe(1001);
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
    expect(await exited).toBe(0);
  });
});

describe("ephemeral keys and WebRTC calls", () => {
  const OFFER = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n";
  const mint = (prefix: string, session: Record<string, unknown>) =>
    fetch(`${proxy.url}${prefix}/realtime/client_secrets`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ session: { type: "realtime", ...session } }),
    });
  const offer = (prefix: string, key: string, query = "", contentType = "application/sdp") =>
    fetch(`${proxy.url}${prefix}/realtime/calls${query}`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": contentType },
      body: OFFER,
    });
  const posts = (sim: RunningSimulator, path: string) => sim.recorder.all().filter((r) => r.method === "POST" && r.path === path);

  test("client_secrets mints upstream (failing over like any call); calls with that key go to the resource that minted it, Location on the proxy", async () => {
    // a refuses to mint (429): b mints, so the key is valid only at b
    const minted = await mint("/v1", { model: "gpt-realtime", instructions: "[sim status=429 retry_after=1 on=a]" });
    expect(minted.status).toBe(200);
    const secret = (await minted.json()) as { value: string; expires_at: number };
    expect(secret.value.startsWith("ek_")).toBe(true);
    expect(secret.expires_at).toBeGreaterThan(Date.now() / 1000);
    const minting = posts(simB, "/openai/v1/realtime/client_secrets").at(-1)!;
    expect(minting.headers["api-key"]).toBe(simB.key);
    expect(JSON.parse(minting.bodyText).session.model).toBe("gpt-realtime");
    await Bun.sleep(1100); // a's cooldown is over: priority alone would pick a now
    const answer = await offer("/v1", secret.value);
    expect(answer.status).toBe(201);
    expect(answer.headers.get("content-type")).toStartWith("application/sdp");
    expect(await answer.text()).toStartWith("v=0");
    expect(answer.headers.get("location")).toMatch(/^\/v1\/realtime\/calls\/rtc_[0-9a-f]+$/);
    const relayed = posts(simB, "/openai/v1/realtime/calls").at(-1)!;
    // Azure gets its own ephemeral key back, not the proxy's sealed one, and no proxy key
    expect(relayed.headers.authorization).toStartWith("Bearer ek_");
    expect(relayed.headers.authorization).not.toContain("ek_azp");
    expect(relayed.headers["api-key"]).toBeUndefined();
    expect(posts(simA, "/openai/v1/realtime/calls")).toHaveLength(0);
  });

  test("Azure shape; a client key with ?model=; refusals in OpenAI's shape", async () => {
    const minted = await mint("/openai/v1", { model: "gpt-realtime" });
    const { value } = (await minted.json()) as { value: string };
    const answer = await offer("/openai/v1", value);
    expect(answer.status).toBe(201);
    expect(answer.headers.get("location")).toMatch(/^\/openai\/v1\/realtime\/calls\/rtc_/);
    const withKey = await offer("/v1", KEY, "?model=gpt-realtime");
    expect(withKey.status).toBe(201);
    const forged = await offer("/v1", value.replace(/\.[^.]+\.ek_/, ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.ek_"));
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as any).error.code).toBe("invalid_api_key");
    const foreign = await offer("/v1", "ek_not_from_this_proxy");
    expect(foreign.status).toBe(401);
    const noModel = await mint("/v1", {});
    expect(noModel.status).toBe(400);
    expect(((await noModel.json()) as any).error.param).toBe("session.model");
    const wrongType = await offer("/v1", value, "", "text/plain");
    expect(wrongType.status).toBe(400);
    expect(((await wrongType.json()) as any).error.message).toContain("application/sdp");
  });
});

describe("liveness", () => {
  test("an upstream that accepted and then answers nothing, not even pings, is noticed within two ping periods: the client gets 1011", async () => {
    // a fake upstream: a correct 101, then silence (a dead peer behind a live TCP connection)
    const { createServer } = await import("node:net");
    const { createHash } = await import("node:crypto");
    const silent = createServer((socket) => {
      socket.once("data", (head) => {
        const key = /sec-websocket-key:\s*(\S+)/i.exec(head.toString())![1]!;
        const accept = createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
        socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
        socket.on("data", () => {});
      });
    });
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const silentPort = (silent.address() as { port: number }).port;
    const p = await startProxy({
      args: [
        "serve",
        "--config",
        config([{ name: "silent", endpoint: `http://127.0.0.1:${silentPort}`, api_key: "x", deployments: { "gpt-realtime": "gpt-realtime" } }], {
          realtime: { ping_s: 5 },
        }),
      ],
    });
    try {
      const s = await open(wsUrl(p, "/v1/realtime?model=gpt-realtime"));
      const started = Date.now();
      const closed = await s.closed;
      expect(closed.code).toBe(1011);
      expect(closed.reason).toContain("no ping");
      expect(Date.now() - started).toBeGreaterThanOrEqual(5000);
      expect(Date.now() - started).toBeLessThan(11_500);
      await logLine(p, (l) => l.msg === "realtime session" && l.end === "upstream_lost");
    } finally {
      await p.stop();
      silent.close();
    }
  }, 20_000);
});

describe("Proxy-src groups", () => {
  test("a group picks its upstreams; an empty value is no group; an unknown one is a 400 that names no other group", async () => {
    const p = await startProxy({ args: ["serve", "--config", config(both(), { groups: { west: ["b"], secret: ["a"] } })] });
    const url = wsUrl(p, "/v1/realtime?model=gpt-realtime");
    /** One session with this Proxy-src value; true when `sim` took its handshake. */
    const servedBy = async (sim: RunningSimulator, proxySrc: string) => {
      const before = sim.recorder.all().length;
      const s = await open(url, { ...bearer(KEY), "proxy-src": proxySrc });
      await s.next("session.created");
      s.socket.close(1000, "");
      await s.closed;
      return sim.recorder.all().length === before + 1;
    };
    try {
      expect(await servedBy(simB, "west")).toBe(true);
      // an empty header names no group (as on the HTTP routes): priority 0 serves it
      expect(await servedBy(simA, "")).toBe(true);
      const unknown = await refusal(url, { ...bearer(KEY), "proxy-src": "nope" });
      expect(unknown.status).toBe(400);
      expect(JSON.parse(unknown.body).error).toMatchObject({ code: "unknown_group", message: "Unknown Proxy-src group 'nope'." });
      expect(unknown.body).not.toContain("secret");
    } finally {
      await p.stop();
    }
  });
});

describe("with worker processes", () => {
  test("sessions open in any worker, and an ephemeral key minted in one is honoured by all", async () => {
    const p = await startProxy({
      args: [
        "serve",
        "--config",
        config([{ name: "a", endpoint: simA.url, api_key: simA.key, deployments: { "gpt-realtime": "gpt-realtime" } }], { server: { workers: 2 } }),
      ],
    });
    try {
      for (let i = 0; i < 4; i++) {
        const s = await open(wsUrl(p, "/v1/realtime?model=gpt-realtime"));
        await s.next("session.created");
        s.socket.close(1000, "");
      }
      const minted = await fetch(`${p.url}/v1/realtime/client_secrets`, {
        method: "POST",
        headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ session: { type: "realtime", model: "gpt-realtime" } }),
      });
      const { value } = (await minted.json()) as { value: string };
      const mintedBy = (await logLine(p, (l) => l.route === "realtime.client_secrets")).worker;
      // new connections each time: the kernel spreads them over the workers, until one lands elsewhere
      let elsewhere: Record<string, any> | undefined;
      for (let i = 0; i < 60 && !elsewhere; i++) {
        const answer = await fetch(`${p.url}/v1/realtime/calls`, {
          method: "POST",
          headers: { authorization: `Bearer ${value}`, "content-type": "application/sdp", connection: "close" },
          body: "v=0\r\n",
        });
        expect(answer.status).toBe(201);
        await answer.body?.cancel();
        const id = answer.headers.get("x-request-id");
        const line = await logLine(p, (l) => l.request_id === id);
        if (line.worker !== mintedBy) elsewhere = line;
      }
      expect(elsewhere).toMatchObject({ route: "realtime.calls", status: 201, key: "rt" });
    } finally {
      await p.stop();
    }
  });
});
