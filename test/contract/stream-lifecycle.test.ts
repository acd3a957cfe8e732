/**
 * The life of a stream: the client leaving aborts Azure at once; Azure breaking mid-stream
 * ends the client's stream with an error event, never a silent cut or a fake [DONE].
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chatBody, post, startStack, type Stack } from "../harness/fixture.ts";
import { contentOf, readEvents } from "../harness/sse.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.stop());
const chatUrl = () => `${stack.proxy.url}/v1/chat/completions`;

describe("client goes away", () => {
  test("mid-stream: Azure sees its connection closed within 1 s", async () => {
    const marker = crypto.randomUUID();
    const abort = new AbortController();
    const response = await post(chatUrl(), chatBody(`${marker} [sim chunk_ms=200]`, { stream: true }), {}, abort.signal);
    const reader = response.body!.getReader();
    await reader.read();
    const abortedAt = Date.now();
    abort.abort();
    const seen = await stack.sim.recorder.waitFor((r) => r.bodyText.includes(marker) && r.clientClosed, 3000);
    expect(seen.completed).toBe(false);
    expect(seen.clientClosedAt! - abortedAt).toBeLessThan(1000);
  });

  test("before the first byte: the pending upstream request is aborted too", async () => {
    const marker = crypto.randomUUID();
    const abort = new AbortController();
    const pending = post(chatUrl(), chatBody(`${marker} [sim first_byte_ms=5000]`, { stream: true }), {}, abort.signal).catch(() => "aborted");
    await stack.sim.recorder.waitFor((r) => r.bodyText.includes(marker));
    const abortedAt = Date.now();
    abort.abort();
    expect(await pending).toBe("aborted");
    const seen = await stack.sim.recorder.waitFor((r) => r.bodyText.includes(marker) && r.clientClosed, 3000);
    expect(seen.clientClosedAt! - abortedAt).toBeLessThan(1000);
  });

  test("the proxy keeps serving after many aborted streams", async () => {
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        const abort = new AbortController();
        const response = await post(chatUrl(), chatBody("[sim chunk_ms=50]", { stream: true }), {}, abort.signal);
        await response.body!.getReader().read();
        abort.abort();
      }),
    );
    const response = await post(chatUrl(), chatBody());
    expect(response.status).toBe(200);
  });
});

describe("Azure breaks mid-stream", () => {
  test("a connection reset ends the stream with an SSE error event after the complete events", async () => {
    const response = await post(chatUrl(), chatBody("[sim reset_after=4]", { stream: true }));
    expect(response.status).toBe(200);
    const events = await readEvents(response);
    expect(events.some((e) => e.data.startsWith("<partial>"))).toBe(false);
    expect(events.map((e) => e.data)).not.toContain("[DONE]");
    // role + 2 content events (the prompt-filter chunk is dropped for OpenAI clients) + the error
    expect(events).toHaveLength(4);
    const last = JSON.parse(events.at(-1)!.data);
    expect(last.error.code).toBe("upstream_stream_broken");
    expect(last.error.type).toBe("upstream_error");
    for (const e of events.slice(0, -1)) expect(JSON.parse(e.data).error).toBeUndefined();
  });

  test("Azure's own in-stream error event is relayed as sent", async () => {
    const events = await readEvents(await post(chatUrl(), chatBody("[sim error_after=3]", { stream: true })));
    const data = events.map((e) => e.data);
    expect(JSON.parse(data.at(-2)!).error.type).toBe("server_error");
    expect(data.at(-1)).toBe("[DONE]");
  });

  test("a stream that ends without [DONE] is reported as truncated", async () => {
    const events = await readEvents(await post(chatUrl(), chatBody("[sim truncate_after=3]", { stream: true })));
    expect(events).toHaveLength(3);
    expect(JSON.parse(events.at(-1)!.data).error.code).toBe("upstream_stream_truncated");
  });

  test("an output content filter is not an error: finish_reason content_filter, then [DONE]", async () => {
    const events = await readEvents(await post(chatUrl(), chatBody("[sim filter=output]", { stream: true })));
    expect(events.at(-1)!.data).toBe("[DONE]");
    expect(JSON.parse(events.at(-2)!.data).choices[0].finish_reason).toBe("content_filter");
  });

  test("a slow first byte and a stall mid-stream are waited for", async () => {
    const events = await readEvents(await post(chatUrl(), chatBody("[sim first_byte_ms=1500 stall_after=3 stall_ms=1500 reply=still_here]", { stream: true })));
    expect(events.at(-1)!.data).toBe("[DONE]");
    expect(contentOf(events)).toBe("still here");
  });
});

// A reasoning model may think for longer than any idle timer in the chain (Bun's server idle
// timeout defaults to 10 s, Elysia's listen sets 30 s). Slow: runs when AZURE_PROXY_SLOW_TESTS=1,
// which .ci/run sets.
const slow = process.env.AZURE_PROXY_SLOW_TESTS === "1" ? test : test.skip;
describe("quiet upstream", () => {
  slow(
    "a stream with a 35 s quiet gap arrives whole",
    async () => {
      const started = Date.now();
      const response = await post(chatUrl(), chatBody("[sim stall_after=2 stall_ms=35000 reply=after_the_gap]", { stream: true }));
      const text = await response.text();
      // heartbeats kept the line busy during the gap (every 15 s by default)
      expect(text.split("\n").filter((l) => l === ": keep-alive").length).toBeGreaterThanOrEqual(2);
      const events = await readEvents(new Response(text));
      expect(Date.now() - started).toBeGreaterThanOrEqual(35_000);
      expect(events.at(-1)!.data).toBe("[DONE]");
      expect(contentOf(events)).toBe("after the gap");
    },
    60_000,
  );
  slow(
    "a non-streaming answer after 35 s of silence arrives",
    async () => {
      const response = await post(chatUrl(), chatBody("[sim first_byte_ms=35000]"));
      expect(response.status).toBe(200);
      expect((await response.json()).object).toBe("chat.completion");
    },
    60_000,
  );
});

describe("heartbeats and slow readers", () => {
  test("a quiet stream gets SSE comments on OpenAI-shaped routes; the events are unchanged", async () => {
    const { configFile } = await import("../harness/config-file.ts");
    const { startProxy } = await import("../harness/proxy.ts");
    const file = configFile({
      upstreams: [{ name: "s", endpoint: stack.sim.url, api_key: stack.sim.key, deployments: { "gpt-4o": "gpt-4o" } }],
      keys: [{ name: "t", key: "hb-key" }],
      compat: { heartbeat_ms: 300 },
    });
    const proxy = await startProxy({ args: ["serve", "--config", file.path] });
    try {
      const body = chatBody("[sim stall_after=2 stall_ms=1400 reply=after_a_pause]", { stream: true });
      const text = await (await post(`${proxy.url}/v1/chat/completions`, body, { authorization: "Bearer hb-key" })).text();
      const beats = text.split("\n").filter((l) => l === ": keep-alive").length;
      expect(beats).toBeGreaterThanOrEqual(3);
      const events = text.split("\n\n").filter((e) => e.startsWith("data: ") && !e.includes("[DONE]"));
      expect(events.map((e) => JSON.parse(e.slice(6)).choices[0].delta.content ?? "").join("")).toBe("after a pause");
      // Azure-shaped clients get Azure's stream exactly as it is
      const azure = await fetch(`${proxy.url}/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21`, {
        method: "POST",
        headers: { "api-key": "hb-key", "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      expect(await azure.text()).not.toContain(": keep-alive");
    } finally {
      await proxy.stop();
    }
  });

  test("a client that stops reading makes the upstream read stop too (backpressure, bounded memory)", async () => {
    const marker = crypto.randomUUID();
    // ~200,000 events of ~450 bytes: ~90 MB, far more than any buffer on the way should hold
    const reply = Array.from({ length: 200_000 }, (_, i) => `w${i}`).join("_");
    const response = await post(chatUrl(), chatBody(`${marker} [sim chunk_ms=0 split=0 reply=${reply}]`, { stream: true }));
    const reader = response.body!.getReader();
    await reader.read();
    const seen = await stack.sim.recorder.waitFor((r) => r.bodyText.includes(marker));
    const written = () => (seen as unknown as { bytesWritten: number }).bytesWritten;
    // buffers fill (kernel sockets, fetch's own), then everything waits for the reader
    await Bun.sleep(2000);
    const settled = written();
    await Bun.sleep(1500);
    expect(written() - settled).toBeLessThan(1_000_000);
    expect(settled).toBeLessThan(40_000_000);
    expect(seen.completed).toBe(false);
    await reader.cancel();
    await stack.sim.recorder.waitFor((r) => r.bodyText.includes(marker) && r.clientClosed, 3000);
  });
});

describe("upstream timeouts", () => {
  test("silence past timeouts.idle_ms ends the stream with a clear error event and aborts Azure", async () => {
    const { configFile } = await import("../harness/config-file.ts");
    const { startProxy } = await import("../harness/proxy.ts");
    const file = configFile({
      upstreams: [{ name: "s", endpoint: stack.sim.url, api_key: stack.sim.key, deployments: { "gpt-4o": "gpt-4o" } }],
      keys: [{ name: "t", key: "idle-key" }],
      timeouts: { idle_ms: 500 },
      compat: { heartbeat_ms: 0 },
    });
    const proxy = await startProxy({ args: ["serve", "--config", file.path] });
    try {
      const marker = crypto.randomUUID();
      const events = await readEvents(
        await post(`${proxy.url}/v1/chat/completions`, chatBody(`${marker} [sim stall_after=3 stall_ms=3000]`, { stream: true }), {
          authorization: "Bearer idle-key",
        }),
      );
      const last = JSON.parse(events.at(-1)!.data);
      expect(last.error.code).toBe("upstream_idle_timeout");
      expect(last.error.message).toContain("timeouts.idle_ms");
      await stack.sim.recorder.waitFor((r) => r.bodyText.includes(marker) && r.clientClosed, 3000);
    } finally {
      await proxy.stop();
    }
  });
});

describe("an SSE event that never ends", () => {
  test("is cut at 16 MiB with an error event, and Azure's stream is aborted", async () => {
    const { configFile } = await import("../harness/config-file.ts");
    const { startProxy } = await import("../harness/proxy.ts");
    const filler = new TextEncoder().encode("x".repeat(16 * 1024));
    let sent = 0;
    let aborted = false;
    // an upstream that opens an event and never ends it, while the proxy keeps reading
    const upstream = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(request) {
        request.signal.addEventListener("abort", () => (aborted = true));
        const body = new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(new TextEncoder().encode('data: {"choices":[{"index":0,"delta":{"content":"hi"}}]}\n\ndata: {"choices":[{"delta":{"content":"'));
          },
          pull(c) {
            if (sent > 64 * 1024 * 1024) return c.close();
            sent += filler.byteLength;
            c.enqueue(filler);
          },
          cancel() {
            aborted = true;
          },
        });
        return new Response(body, { headers: { "content-type": "text/event-stream" } });
      },
    });
    const file = configFile({
      upstreams: [{ name: "endless", endpoint: `http://127.0.0.1:${upstream.port}`, api_key: "k", deployments: { "gpt-4o": "gpt-4o" } }],
      keys: [{ name: "t", key: "endless-key" }],
      compat: { heartbeat_ms: 0 },
    });
    const proxy = await startProxy({ args: ["serve", "--config", file.path] });
    try {
      const started = Date.now();
      const events = await readEvents(await post(`${proxy.url}/v1/chat/completions`, chatBody("x", { stream: true }), { authorization: "Bearer endless-key" }));
      expect(JSON.parse(events[0]!.data).choices[0].delta.content).toBe("hi");
      const last = JSON.parse(events.at(-1)!.data);
      expect(last.error.code).toBe("upstream_event_too_large");
      expect(events).toHaveLength(2);
      // the cap, not the upstream's end (64 MiB), stopped it
      expect(sent).toBeLessThan(40 * 1024 * 1024);
      expect(Date.now() - started).toBeLessThan(10_000);
      for (let i = 0; i < 100 && !aborted; i++) await Bun.sleep(20);
      expect(aborted).toBe(true);
    } finally {
      await proxy.stop();
      upstream.stop(true);
    }
  });
});
