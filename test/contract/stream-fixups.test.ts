/**
 * Azure's stream fix-ups: OpenAI-shaped clients do not get the annotation-only chunks that
 * strict OpenAI clients crash on; Azure-shaped clients get Azure's stream as it is; the switch
 * turns the fix-ups off for clients that want Azure's annotations.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chatBody, CLIENT_KEY, post, startStack, type Stack } from "../harness/fixture.ts";
import { readEvents } from "../harness/sse.ts";

async function rawBytes(response: Response): Promise<string> {
  return new TextDecoder().decode(await response.arrayBuffer());
}

describe("stream fix-ups on (the default)", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.stop());

  test("OpenAI shape: no chunk with empty choices and no usage; the usage chunk stays", async () => {
    const events = await readEvents(
      await post(`${stack.proxy.url}/v1/chat/completions`, chatBody("x", { stream: true, stream_options: { include_usage: true } })),
    );
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data));
    expect(chunks.some((c) => c.choices.length === 0 && c.usage === undefined)).toBe(false);
    expect(chunks.at(-1).usage.total_tokens).toBeGreaterThan(0);
    expect(chunks.every((c) => c.choices.length === 0 || "delta" in c.choices[0])).toBe(true);
    expect(events.at(-1)!.data).toBe("[DONE]");
  });

  test("Azure shape: Azure's stream as it is, prompt-filter chunk first", async () => {
    const response = await fetch(`${stack.proxy.url}/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21`, {
      method: "POST",
      headers: { "api-key": CLIENT_KEY, "content-type": "application/json" },
      body: JSON.stringify(chatBody("x", { stream: true })),
    });
    const events = await readEvents(response);
    const first = JSON.parse(events[0]!.data);
    expect(first.choices).toEqual([]);
    expect(first.prompt_filter_results).toBeDefined();
  });
});

describe("stream fix-ups off", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ AZURE_PROXY_STREAM_FIXUPS: "off" });
  });
  afterAll(() => stack.stop());

  test("the OpenAI-shaped stream is byte-identical to Azure's", async () => {
    const body = chatBody("[sim chunk_ms=0]", { stream: true, stream_options: { include_usage: true } });
    const viaProxy = await rawBytes(await post(`${stack.proxy.url}/v1/chat/completions`, body));
    const direct = await rawBytes(
      await fetch(`${stack.sim.url}/openai/v1/chat/completions`, {
        method: "POST",
        headers: { "api-key": stack.sim.key, "content-type": "application/json" },
        body: JSON.stringify(body),
      }),
    );
    // ids and timestamps differ per answer; everything else must be the same bytes
    const normalise = (s: string) => s.replace(/chatcmpl-SIM\d+/g, "ID").replace(/"created":\d+/g, '"created":0');
    expect(normalise(viaProxy)).toBe(normalise(direct));
    expect(viaProxy).toContain('"prompt_filter_results"');
  });
});

describe("async content filter mode", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.stop());

  test("annotation chunks without delta (one after the finish chunk) are dropped for OpenAI clients", async () => {
    const body = chatBody("[sim async_filter=1]", { stream: true });
    const direct = await readEvents(
      await fetch(`${stack.sim.url}/openai/v1/chat/completions`, {
        method: "POST",
        headers: { "api-key": stack.sim.key, "content-type": "application/json" },
        body: JSON.stringify(body),
      }),
    );
    const annotations = direct.filter((e) => e.data !== "[DONE]" && !("delta" in (JSON.parse(e.data).choices[0] ?? { delta: 1 })));
    expect(annotations.length).toBeGreaterThanOrEqual(2);

    const relayed = await readEvents(await post(`${stack.proxy.url}/v1/chat/completions`, body));
    const chunks = relayed.slice(0, -1).map((e) => JSON.parse(e.data));
    expect(chunks.every((c) => c.choices.length > 0 && "delta" in c.choices[0])).toBe(true);
    expect(chunks.at(-1).choices[0].finish_reason).toBe("stop");
    expect(relayed.at(-1)!.data).toBe("[DONE]");
    // prompt-filter chunk + annotations dropped, nothing else
    expect(relayed.length).toBe(direct.length - annotations.length - 1);
  });

  test("the openai client reads the fixed stream without tripping on a missing delta", async () => {
    const OpenAI = (await import("openai")).default;
    const client = new OpenAI({ baseURL: `${stack.proxy.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model: "gpt-4o",
      messages: [{ role: "user", content: "[sim async_filter=1 reply=a_b_c_d_e_f_g]" }],
      stream: true,
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]!.delta.content ?? "";
    expect(text).toBe("a b c d e f g");
  });
});
