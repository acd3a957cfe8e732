/**
 * The attempt loop (forward.ts) with the upstream as a plain fetch function, an injected clock
 * and an injected sleep: failover order, cooldowns, backoff within max_wait_ms and what the
 * client sees once retries are spent, without a socket or a timer.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "../config/client.ts";
import { loadConfig } from "../config/load.ts";
import { buildRoutingTable } from "../config/resolve.ts";
import { Failure } from "../lib/failure.ts";
import { silentLogger } from "../lib/log.ts";
import { createMetrics } from "../metrics/catalog.ts";
import { Limiter } from "../ratelimit/limiter.ts";
import { Credentials } from "../upstream/credentials.ts";
import { Headroom } from "../upstream/headroom.ts";
import { Health } from "../upstream/health.ts";
import { Reachability } from "../upstream/reachability.ts";
import type { Selector } from "../upstream/select.ts";
import type { ProxyCall } from "./call.ts";
import { createForwarder } from "./forward.ts";
import { InFlight } from "./in-flight.ts";
import type { CallObserver } from "./observer.ts";
import { CHAT_COMPLETIONS } from "./operations.ts";

const dir = mkdtempSync(join(tmpdir(), "azure-proxy-forward-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ENDPOINTS = ["https://east.example", "https://west.example", "https://north.example"];

function configWith(retry: Record<string, number>, upstreams: number) {
  const path = join(dir, `config-${Math.random()}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      upstreams: ENDPOINTS.slice(0, upstreams).map((endpoint, i) => ({
        name: new URL(endpoint).hostname.split(".")[0],
        endpoint,
        api_key: "k",
        api_version: "2024-10-21",
        priority: i,
        deployments: { "gpt-4o": "gpt-4o" },
      })),
      keys: [{ name: "team", key: "client-key" }],
      retry,
    }),
  );
  const loaded = loadConfig({ env: {}, cli: { configPath: path } });
  if (!loaded.ok) throw new Error(loaded.issues.join("\n"));
  return loaded.config;
}

/** Upstream answers by host, in turn; records who was asked. */
function upstream(answers: Record<string, Array<() => Response>>) {
  const asked: string[] = [];
  const fetch = (async (url: string) => {
    const host = new URL(url).hostname.split(".")[0]!;
    asked.push(host);
    const next = answers[host]?.shift();
    if (!next) throw new Error(`no answer left for ${host}`);
    return next();
  }) as unknown as typeof globalThis.fetch;
  return { fetch, asked };
}

const ok = () => Response.json({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 4 } }, { headers: { "content-length": "60" } });
const status =
  (code: number, headers: Record<string, string> = {}) =>
  () =>
    Response.json({ error: { code: String(code), message: "no" } }, { status: code, headers });

/** The priority order as configured: the tests fix the order instead of drawing it. */
const inOrder: Selector = {
  order: (candidates, availableAt, now) =>
    [...candidates].sort((a, b) => Number(availableAt(a) > now) - Number(availableAt(b) > now) || a.upstream.priority - b.upstream.priority),
};

function setUp(answers: Record<string, Array<() => Response>>, retry: Record<string, number> = {}, upstreams = ENDPOINTS.length) {
  let now = 1_800_000_000_000;
  const clock = () => now;
  const slept: number[] = [];
  const config = configWith(retry, upstreams);
  const health = new Health(clock);
  const reachability = new Reachability(clock);
  for (const endpoint of ENDPOINTS) reachability.answered(endpoint);
  const { fetch, asked } = upstream(answers);
  const forward = createForwarder({
    routing: buildRoutingTable(config),
    config,
    fetch,
    health,
    credentials: new Credentials(fetch, clock),
    reachability,
    selector: inOrder,
    clock,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
    metrics: createMetrics(health),
    inFlight: new InFlight(),
    limiter: new Limiter(clock),
    log: silentLogger,
    headroom: new Headroom(clock),
  });
  return { forward, asked, slept, health, advance: (ms: number) => (now += ms) };
}

function observed() {
  const seen = { attempts: [] as string[], tokens: undefined as unknown, begun: undefined as unknown };
  const observer: CallObserver = {
    begin: (route, model, listed) => (seen.begun = { route, model, listed }),
    attempt: (upstream) => seen.attempts.push(upstream),
    served: () => {},
    firstByte: () => {},
    streamStarted: () => {},
    tokens: (usage, estimated) => (seen.tokens = { usage, estimated }),
    chargedTo: () => {},
  };
  return { observer, seen };
}

const TEAM: Client = { name: "team", models: null, limits: {}, admin: false };

function call(observer: CallObserver): ProxyCall {
  return {
    operation: CHAT_COMPLETIONS,
    method: "POST",
    model: "gpt-4o",
    bodyModel: "gpt-4o",
    body: { kind: "json", text: '{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}' },
    stream: false,
    shape: "openai",
    params: {},
    query: "",
    accept: null,
    client: TEAM,
    observer,
    streamOptions: null,
    group: undefined,
    requestId: "req-1",
    signal: new AbortController().signal,
  };
}

async function failureOf(promise: Promise<unknown>): Promise<Failure> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Failure) return error;
    throw error;
  }
  throw new Error("expected a Failure");
}

describe("the attempt loop", () => {
  test("a 429 fails over to the next deployment at once and cools the first for its Retry-After", async () => {
    const { forward, asked, slept, health } = setUp({ east: [status(429, { "retry-after": "7" })], west: [ok] });
    const { observer, seen } = observed();
    const { response, ended } = await forward(call(observer));
    expect(response.status).toBe(200);
    // read whole: over as it is returned, no end to wait for
    expect(ended).toBeUndefined();
    expect(asked).toEqual(["east", "west"]);
    expect(slept).toEqual([]);
    expect(seen.attempts).toEqual(["east", "west"]);
    expect(seen.begun).toEqual({ route: "chat.completions", model: "gpt-4o", listed: true });
    expect(seen.tokens).toEqual({ usage: { prompt: 3, completion: 4 }, estimated: false });
    expect(health.cooling().map((c) => c.upstream)).toEqual(["east"]);
  });

  test("a cooling deployment is skipped, never waited for", async () => {
    const { forward, asked, advance } = setUp({ east: [status(429, { "retry-after": "30" }), ok], west: [ok, ok] });
    await forward(call(observed().observer));
    advance(1000);
    await forward(call(observed().observer));
    expect(asked).toEqual(["east", "west", "west"]);
  });

  test("every deployment cooling: a 429 with the soonest retry-after and x-should-retry false", async () => {
    const { forward, asked } = setUp({
      east: [status(429, { "retry-after": "5" })],
      west: [status(429, { "retry-after": "3" })],
      north: [status(429, { "retry-after": "9" })],
    });
    const failure = await failureOf(forward(call(observed().observer)));
    expect(asked).toEqual(["east", "west", "north"]);
    expect(failure.detail.status).toBe(429);
    expect(failure.detail.headers?.["retry-after"]).toBe("3");
    expect(failure.detail.headers?.["x-should-retry"]).toBe("false");
  });

  test("a 400 is the client's: no retry, no cooldown, the same status back", async () => {
    const { forward, asked, health } = setUp({ east: [status(400)] });
    const failure = await failureOf(forward(call(observed().observer)));
    expect(failure.detail.status).toBe(400);
    expect(asked).toEqual(["east"]);
    expect(health.cooling()).toEqual([]);
  });

  test("a single deployment's 500 is tried again after a growing backoff, up to max_attempts", async () => {
    const { forward, asked, slept } = setUp({ east: [status(500), status(500), ok] }, { max_attempts: 3 }, 1);
    const { response } = await forward(call(observed().observer));
    expect(response.status).toBe(200);
    expect(asked).toEqual(["east", "east", "east"]);
    expect(slept).toEqual([250, 500]);
  });

  test("max_wait_ms bounds the backoff: no attempt starts after it", async () => {
    const { forward, asked, slept } = setUp(
      { east: [status(500), status(500)], west: [status(500), status(500)], north: [status(500), status(500)] },
      { max_attempts: 6, max_wait_ms: 400 },
    );
    const failure = await failureOf(forward(call(observed().observer)));
    expect(failure.detail.status).toBe(500);
    // the untried deployments first, without a wait; then the first one tried again that is not
    // cooling (east's 500 cooled it, softly: the others' did not, once per request), after
    // 250 ms; the next backoff would end past the 400 ms
    expect(asked).toEqual(["east", "west", "north", "west"]);
    expect(slept).toEqual([250]);
  });
});
