/**
 * Chat completions through the proxy, in both upstream API styles: what reaches Azure (URL,
 * key, exact body) and what reaches the client (status, headers, bytes, timing).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { DEFAULT_REPLY } from "../../src/simulator/operations/chat.ts";
import { chatBody, CLIENT_KEY, post, startStack, type Stack } from "../harness/fixture.ts";
import { rawRequest } from "../harness/raw-http.ts";
import { contentOf, readEvents } from "../harness/sse.ts";

const STYLES = [
  { name: "dated API", version: "2024-10-21" },
  { name: "v1 API", version: "v1" },
] as const;

for (const style of STYLES) {
  describe(`chat completions via the ${style.name}`, () => {
    let stack: Stack;
    beforeAll(async () => {
      stack = await startStack({ AZURE_OPENAI_API_VERSION: style.version, AZURE_OPENAI_MODEL_MAP: "gpt-3.5-turbo=gpt-35-turbo, team/x=gpt-4o" });
    });
    afterAll(() => stack.stop());
    const chatUrl = () => `${stack.proxy.url}/v1/chat/completions`;

    test("non-streaming: Azure's status, body and useful headers reach the client", async () => {
      const response = await post(chatUrl(), chatBody("Hi there"), { "proxy-src": "azure" });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toStartWith("application/json");
      expect(response.headers.get("apim-request-id")).toMatch(/^[0-9a-f-]{36}$/);
      expect(response.headers.get("x-ms-region")).toBe("East US");
      expect(response.headers.get("x-ratelimit-remaining-requests")).toBe("99");
      expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
      const body = await response.json();
      expect(body.object).toBe("chat.completion");
      expect(body.model).toBe("gpt-4o-2024-11-20");
      expect(body.choices[0].message.content).toBe(DEFAULT_REPLY);
      expect(body.prompt_filter_results).toHaveLength(1);
    });

    test("the upstream gets the Azure key as api-key and never the client's credentials", async () => {
      await post(chatUrl(), chatBody(), { cookie: "session=1", "openai-organization": "org-x", "x-custom": "1" });
      const seen = stack.sim.recorder.all().at(-1)!;
      expect(seen.headers["api-key"]).toBe(stack.sim.key);
      expect(seen.headers.authorization).toBeUndefined();
      expect(seen.headers.cookie).toBeUndefined();
      expect(seen.headers["openai-organization"]).toBeUndefined();
      expect(seen.headers["x-custom"]).toBeUndefined();
      expect(seen.headers["proxy-src"]).toBeUndefined();
      expect(JSON.stringify(seen.headers)).not.toContain(CLIENT_KEY);
    });

    test("the body is forwarded byte for byte, unknown fields and big integers included", async () => {
      const text = `{"model":"gpt-4o","messages":[{"role":"user","content":"héllo 🌍","name":"u1"}],"seed":9007199254740993,"future_param":{"a":[1,2.50,-0]},"temperature":0.7}`;
      const response = await post(chatUrl(), text);
      expect(response.status).toBe(200);
      expect(stack.sim.recorder.all().at(-1)!.bodyText).toBe(text);
    });

    test("a mapped model goes to its deployment, the rest of the body untouched", async () => {
      const text = `{"messages":[{"role":"user","content":"hi"}], "model" : "gpt-3.5-turbo","seed":12345678901234567890}`;
      const response = await post(chatUrl(), text);
      expect(response.status).toBe(200);
      expect((await response.json()).model).toBe("gpt-35-turbo");
      const seen = stack.sim.recorder.all().at(-1)!;
      if (style.version === "v1") {
        expect(seen.path).toBe("/openai/v1/chat/completions");
        expect(seen.query).toEqual({});
        expect(seen.bodyText).toBe(`{"messages":[{"role":"user","content":"hi"}], "model" : "gpt-35-turbo","seed":12345678901234567890}`);
      } else {
        expect(seen.path).toBe("/openai/deployments/gpt-35-turbo/chat/completions");
        expect(seen.query).toEqual({ "api-version": "2024-10-21" });
        expect(seen.bodyText).toBe(text);
      }
    });

    test("a deployment name is URL-encoded as one path segment and cannot change the host", async () => {
      const response = await post(chatUrl(), chatBody("x", { model: "team/x" }));
      expect(response.status).toBe(200);
      const evil = await post(chatUrl(), chatBody("x", { model: "@evil.example.com/x" }));
      expect(evil.status).toBe(404);
      const seen = stack.sim.recorder.all().slice(-2);
      if (style.version === "v1") {
        expect(JSON.parse(seen[0]!.bodyText).model).toBe("gpt-4o");
        expect(JSON.parse(seen[1]!.bodyText).model).toBe("@evil.example.com/x");
      } else {
        expect(seen[1]!.path).toBe("/openai/deployments/%40evil.example.com%2Fx/chat/completions");
      }
    });

    test("'.' and '..' are refused as model names instead of becoming path steps", async () => {
      const before = stack.sim.recorder.all().length;
      for (const model of [".", ".."]) {
        const response = await post(chatUrl(), chatBody("x", { model }));
        expect(response.status).toBe(400);
        expect((await response.json()).error.param).toBe("model");
      }
      // sent byte for byte: a client-side URL parser would resolve %2E%2E before sending
      const azure = await rawRequest(
        stack.proxy.port,
        `POST /openai/deployments/%2E%2E/chat/completions?api-version=2024-10-21 HTTP/1.1\r\napi-key: ${CLIENT_KEY}\r\ncontent-type: application/json`,
        JSON.stringify({ messages: [{ role: "user", content: "x" }] }),
      );
      // Bun's server resolves the dot segments itself (→ 404, no such route); a runtime that keeps
      // them hands ".." to the route, which refuses it (400). Either way Azure never sees it.
      expect([400, 404]).toContain(azure.status);
      expect(JSON.parse(azure.text.slice(azure.text.indexOf("\r\n\r\n") + 4)).error.message).toBeString();
      expect(stack.sim.recorder.all().length).toBe(before);
    });

    test("streaming: every event arrives intact and in order, multi-byte characters unbroken", async () => {
      const response = await post(chatUrl(), chatBody("Hello", { stream: true, stream_options: { include_usage: true } }));
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toStartWith("text/event-stream");
      expect(response.headers.get("x-accel-buffering")).toBe("no");
      expect(response.headers.get("cache-control")).toBe("no-cache");
      expect(response.headers.get("content-length")).toBeNull();
      const events = await readEvents(response);
      expect(events.at(-1)!.data).toBe("[DONE]");
      expect(events.some((e) => e.data.startsWith("<partial>"))).toBe(false);
      // OpenAI-shaped route: Azure's prompt-filter chunk (empty choices, no usage) is dropped
      const first = JSON.parse(events[0]!.data);
      expect(first.choices[0].delta.role).toBe("assistant");
      const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data));
      expect(chunks.filter((c) => c.choices.length === 0 && !c.usage)).toEqual([]);
      const usage = JSON.parse(events.at(-2)!.data);
      expect(usage.choices).toEqual([]);
      expect(usage.usage.total_tokens).toBeGreaterThan(0);
      expect(contentOf(events)).toBe(DEFAULT_REPLY);
    });

    test("streaming is relayed event by event, not buffered to the end", async () => {
      const started = performance.now();
      const response = await post(chatUrl(), chatBody("[sim chunk_ms=150 reply=one_two_three_four]", { stream: true }));
      const events = await readEvents(response);
      const firstContent = events.find((e) => e.data.includes('"content":"one'))!;
      const done = events.at(-1)!;
      // 4 words + finish chunk at 150 ms apart: the first word must arrive well before the end
      expect(done.at - firstContent.at).toBeGreaterThan(450);
      expect(firstContent.at - started).toBeLessThan(600);
    });
  });
}
