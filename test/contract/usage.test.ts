/**
 * Usage cannot be hidden: the proxy asks Azure for a stream's usage whatever `stream_options`
 * the client sent, gives the client only what it asked for, estimates the tokens where Azure
 * cannot report them (old API versions, streams that end early), and so a key's tpm limit holds
 * for every body.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { configFile } from "../harness/config-file.ts";
import { chatBody, post } from "../harness/fixture.ts";
import { startProxy, type RunningProxy } from "../harness/proxy.ts";
import { startSimulator, type RunningSimulator } from "../harness/simulator.ts";
import { readEvents } from "../harness/sse.ts";

let sim: RunningSimulator;
let proxy: RunningProxy;
let old: RunningProxy;
const deployments = { "gpt-4o": "gpt-4o" };

beforeAll(async () => {
  sim = await startSimulator();
  const keys = [
    { name: "team", key: "usage-key" },
    { name: "hider", key: "hider-key", tpm: 40 },
    { name: "leaver", key: "leaver-key", tpm: 40 },
    { name: "waiter", key: "waiter-key", tpm: 40 },
    { name: "backgrounder", key: "backgrounder-key", tpm: 40 },
  ];
  const v1 = configFile({ upstreams: [{ name: "v1", endpoint: sim.url, api_key: sim.key, deployments }], keys });
  const dated = configFile({ upstreams: [{ name: "old", endpoint: sim.url, api_key: sim.key, api_version: "2024-06-01", deployments }], keys });
  [proxy, old] = await Promise.all([startProxy({ args: ["serve", "--config", v1.path] }), startProxy({ args: ["serve", "--config", dated.path] })]);
});
afterAll(async () => {
  await Promise.all([proxy.stop(), old.stop()]);
  await sim.stop();
});

const chat = (to: RunningProxy, content: string, extra: Record<string, unknown>, key = "usage-key", signal?: AbortSignal) =>
  post(`${to.url}/v1/chat/completions`, chatBody(content, { stream: true, ...extra }), { authorization: `Bearer ${key}` }, signal);

/** The access-log line of the request with this id. */
async function logLine(of: RunningProxy, requestId: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 100; i++) {
    const line = of
      .output()
      .split("\n")
      .find((l) => l.includes('"msg":"request"') && l.includes(requestId));
    if (line) return JSON.parse(line);
    await Bun.sleep(20);
  }
  throw new Error(`no access-log line for ${requestId}`);
}

describe("streamed usage is always asked for", () => {
  for (const [name, options] of [
    ["include_usage: false", { include_usage: false }],
    ["stream_options: null", null],
    ["other stream options only", { include_obfuscation: false }],
  ] as const) {
    test(`${name}: Azure is asked for usage, the client gets no usage, the tokens are counted`, async () => {
      const marker = crypto.randomUUID();
      const response = await chat(proxy, `${marker} [sim reply=one_two_three]`, { stream_options: options });
      const text = await response.text();
      const seen = await sim.recorder.waitFor((r) => r.bodyText.includes(marker));
      const upstreamBody = JSON.parse(seen.bodyText);
      expect(upstreamBody.stream_options).toEqual({ ...(options ?? {}), include_usage: true });
      expect(text).not.toContain('"usage"');
      const events = await readEvents(new Response(text));
      expect(events.at(-1)!.data).toBe("[DONE]");
      const line = await logLine(proxy, response.headers.get("x-request-id")!);
      expect(line.completion_tokens).toBe(3);
      expect(line.usage_estimated).toBeUndefined();
    });
  }

  test("include_usage: true: the client gets its usage chunk", async () => {
    const events = await readEvents(await chat(proxy, "x [sim reply=one_two]", { stream_options: { include_usage: true } }));
    expect(JSON.parse(events.at(-2)!.data).usage.completion_tokens).toBe(2);
  });
});

describe("where Azure cannot report streamed usage (api-version 2024-06-01)", () => {
  test("no stream_options is sent; completion tokens are estimated from the streamed text and marked", async () => {
    const marker = crypto.randomUUID();
    const reply = "abcdefgh_".repeat(20); // 180 characters with the spaces: ~45 tokens
    const response = await chat(old, `${marker} [sim reply=${reply}]`, {});
    const events = await readEvents(response);
    expect(events.at(-1)!.data).toBe("[DONE]");
    const seen = await sim.recorder.waitFor((r) => r.bodyText.includes(marker));
    expect(seen.path).toStartWith("/openai/deployments/");
    expect(JSON.parse(seen.bodyText).stream_options).toBeUndefined();
    const line = await logLine(old, response.headers.get("x-request-id")!);
    expect(line.usage_estimated).toBe(true);
    expect(line.completion_tokens).toBe(45);
    expect(line.prompt_tokens as number).toBeGreaterThan(0);
  });

  test("a tpm key is stopped there too", async () => {
    await (
      await chat(
        old,
        "x [sim reply=abcdefghijklmnopqrstuvwxyz_abcdefghijklmnopqrstuvwxyz_abcdefghijklmnopqrstuvwxyz_abcdefghijklmnopqrstuvwxyz]",
        {},
        "hider-key",
      )
    ).text();
    const limited = await chat(old, "x", {}, "hider-key");
    expect(limited.status).toBe(429);
    expect((await limited.json()).error.message).toContain("40 tokens per minute");
  });
});

describe("a tpm key cannot stream past its limit by any body", () => {
  test("include_usage: false streams are counted until the key is refused", async () => {
    const reply = Array.from({ length: 30 }, (_, i) => `w${i}`).join("_");
    let status = 200;
    for (let i = 0; i < 5 && status === 200; i++) {
      const response = await chat(proxy, `x [sim reply=${reply}]`, { stream_options: { include_usage: false } }, "hider-key");
      status = response.status;
      await response.text();
    }
    expect(status).toBe(429);
  });

  test("a client that leaves mid-stream is charged an estimate of what it got", async () => {
    const abort = new AbortController();
    const reply = Array.from({ length: 200 }, (_, i) => `word${i}`).join("_");
    const response = await chat(proxy, `x [sim chunk_ms=5 reply=${reply}]`, {}, "leaver-key", abort.signal);
    const reader = response.body!.getReader();
    let got = 0;
    while (got < 600) got += (await reader.read()).value?.byteLength ?? 0;
    abort.abort();
    const line = await logLine(proxy, response.headers.get("x-request-id")!);
    expect(line.end).toBe("client_closed");
    expect(line.usage_estimated).toBe(true);
    expect(line.completion_tokens as number).toBeGreaterThan(0);
    // the next requests of that key see those tokens: a few more early exits reach the limit
    let status = 200;
    for (let i = 0; i < 20 && status === 200; i++) {
      const again = new AbortController();
      const next = await chat(proxy, `x [sim chunk_ms=5 reply=${reply}]`, {}, "leaver-key", again.signal);
      status = next.status;
      if (status !== 200) break;
      const r = next.body!.getReader();
      let n = 0;
      while (n < 2000) n += (await r.read()).value?.byteLength ?? 0;
      again.abort();
      await logLine(proxy, next.headers.get("x-request-id")!);
    }
    expect(status).toBe(429);
  });
});

describe("a tpm key cannot hide a non-streamed answer's tokens by leaving before it", () => {
  test("a client that leaves while Azure works on its prompt is charged the prompt's estimate", async () => {
    const marker = crypto.randomUUID();
    // ~1,000 prompt characters (~250 tokens): far over the key's 40 tokens a minute
    const content = `${marker} ${"lorem ipsum ".repeat(80)} [sim first_byte_ms=3000]`;
    const abort = new AbortController();
    const pending = post(`${proxy.url}/v1/chat/completions`, chatBody(content), { authorization: "Bearer waiter-key" }, abort.signal).catch(() => undefined);
    // Azure has the prompt (and bills it) before the client gives up
    await sim.recorder.waitFor((r) => r.bodyText.includes(marker));
    abort.abort();
    await pending;
    let line: Record<string, unknown> | undefined;
    for (let i = 0; i < 100 && !line; i++) {
      line = proxy
        .output()
        .split("\n")
        .filter((l) => l.includes('"msg":"request"') && l.includes('"key":"waiter"'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)[0];
      if (!line) await Bun.sleep(20);
    }
    expect(line?.status).toBe(499);
    expect(line?.usage_estimated).toBe(true);
    expect(line?.prompt_tokens as number).toBeGreaterThan(200);
    // those tokens count: the key's next request is over its limit
    const next = await post(`${proxy.url}/v1/chat/completions`, chatBody("x"), { authorization: "Bearer waiter-key" });
    expect(next.status).toBe(429);
  });
});

describe("a tpm key cannot hide a background response's prompt", () => {
  test("a queued background response (no usage yet) is charged its prompt's estimate", async () => {
    const input = `${"lorem ipsum ".repeat(80)} [sim background_ms=60000]`;
    const created = await post(`${proxy.url}/v1/responses`, { model: "gpt-4o", input, background: true }, { authorization: "Bearer backgrounder-key" });
    expect(created.status).toBe(200);
    const queued = await created.json();
    expect([queued.status, queued.usage]).toEqual(["queued", null]);
    const line = await logLine(proxy, created.headers.get("x-request-id")!);
    expect(line.usage_estimated).toBe(true);
    expect(line.prompt_tokens as number).toBeGreaterThan(200);
    const next = await post(`${proxy.url}/v1/responses`, { model: "gpt-4o", input: "x", background: true }, { authorization: "Bearer backgrounder-key" });
    expect(next.status).toBe(429);
  });
});
