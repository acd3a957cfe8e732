/**
 * Every bad input gets an OpenAI-shaped error with the right status and never reaches Azure;
 * every Azure failure keeps its meaning (status, retry hints, Azure's details).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chatBody, CLIENT_KEY, post, startStack, type Stack } from "../harness/fixture.ts";
import { startProxy } from "../harness/proxy.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ AZURE_PROXY_MAX_BODY_BYTES: "4096", AZURE_OPENAI_API_VERSION: "2024-10-21" });
});
afterAll(() => stack.stop());
const chatUrl = () => `${stack.proxy.url}/v1/chat/completions`;

async function expectError(response: Response, status: number, fields: { param?: string | null; code?: string | null; type?: string; message?: RegExp }) {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toStartWith("application/json");
  expect(response.headers.get("x-request-id")).toBeTruthy();
  const body = await response.json();
  expect(Object.keys(body)).toEqual(["error"]);
  expect(typeof body.error.message).toBe("string");
  expect(typeof body.error.type).toBe("string");
  expect("param" in body.error && "code" in body.error).toBe(true);
  if (fields.param !== undefined) expect(body.error.param).toBe(fields.param);
  if (fields.code !== undefined) expect(body.error.code).toBe(fields.code);
  if (fields.type !== undefined) expect(body.error.type).toBe(fields.type);
  if (fields.message) expect(body.error.message).toMatch(fields.message);
  return body.error;
}

describe("bad input is answered by the proxy and never forwarded", () => {
  const cases: Array<[string, () => Promise<Response>, number, { param?: string | null; code?: string; message?: RegExp }]> = [
    ["no key", () => fetch(chatUrl(), { method: "POST", body: JSON.stringify(chatBody()) }), 401, { code: "missing_api_key" }],
    ["a wrong key", () => post(chatUrl(), chatBody(), { authorization: "Bearer wrong" }), 401, { code: "invalid_api_key" }],
    ["a wrong api-key header", () => post(chatUrl(), chatBody(), { authorization: "", "api-key": "wrong" }), 401, { code: "invalid_api_key" }],
    ["invalid JSON", () => post(chatUrl(), '{"model": "gpt-4o",'), 400, { code: "invalid_json", message: /parse the JSON body/ }],
    ["an empty body", () => post(chatUrl(), ""), 400, { code: "invalid_json" }],
    ["a JSON array", () => post(chatUrl(), "[1,2]"), 400, { code: "invalid_type" }],
    ["a missing model", () => post(chatUrl(), { messages: [{ role: "user", content: "x" }] }), 400, { param: "model", code: "missing_required_parameter" }],
    ["missing messages", () => post(chatUrl(), { model: "gpt-4o" }), 400, { param: "messages", code: "missing_required_parameter" }],
    ["empty messages", () => post(chatUrl(), { model: "gpt-4o", messages: [] }), 400, { param: "messages" }],
    [
      "a bad role",
      () => post(chatUrl(), chatBody("x", { messages: [{ role: "robot", content: "x" }] })),
      400,
      { param: "messages[0].role", message: /"assistant"/ },
    ],
    ["content of the wrong type", () => post(chatUrl(), chatBody("x", { messages: [{ role: "user", content: 42 }] })), 400, { param: "messages[0].content" }],
    ["a string temperature", () => post(chatUrl(), chatBody("x", { temperature: "hot" })), 400, { param: "temperature", message: /number from 0 to 2/ }],
    ["stream as a string", () => post(chatUrl(), chatBody("x", { stream: "yes" })), 400, { param: "stream" }],
    ["a body over the limit (Content-Length)", () => post(chatUrl(), chatBody("x".repeat(5000))), 413, { code: "request_too_large" }],
    [
      "a body over the limit (chunked)",
      () =>
        fetch(chatUrl(), {
          method: "POST",
          headers: { authorization: `Bearer ${CLIENT_KEY}` },
          body: new Blob([JSON.stringify(chatBody("x".repeat(5000)))]).stream(),
        }),
      413,
      { code: "request_too_large" },
    ],
    ["an unknown route", () => post(`${stack.proxy.url}/v1/chat/complete`, chatBody()), 404, { code: "unknown_url", message: /POST \/v1\/chat\/complete/ }],
    ["a wrong method", () => fetch(chatUrl(), { headers: { authorization: `Bearer ${CLIENT_KEY}` } }), 404, { message: /GET \/v1\/chat\/completions/ }],
  ];
  for (const [name, send, status, fields] of cases) {
    test(`${name} → ${status}`, async () => {
      const before = stack.sim.recorder.all().length;
      await expectError(await send(), status, fields);
      expect(stack.sim.recorder.all().length).toBe(before);
    });
  }

  test("a client's x-request-id is echoed; a fresh one otherwise", async () => {
    const mine = await post(chatUrl(), chatBody(), { "x-request-id": "my-trace-123" });
    expect(mine.headers.get("x-request-id")).toBe("my-trace-123");
    const bad = await post(chatUrl(), "{", { "x-request-id": "my-trace-456" });
    expect(bad.headers.get("x-request-id")).toBe("my-trace-456");
    const fresh = await post(chatUrl(), chatBody());
    expect(fresh.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  test("keys never appear in the proxy's output", async () => {
    await post(chatUrl(), chatBody(), { authorization: "Bearer not-the-key-but-secret" });
    const out = stack.proxy.output();
    expect(out).toContain('"status":401');
    expect(out).not.toContain(CLIENT_KEY);
    expect(out).not.toContain(stack.sim.key);
    expect(out).not.toContain("not-the-key-but-secret");
  });
});

// A 429 or 503 cools its deployment (Azure throttles per deployment), so each fault below uses
// a deployment of its own and the next test is not answered from a cooldown.
describe("Azure's failures keep their meaning", () => {
  test("429 keeps its status, retry-after, retry-after-ms and rate-limit headers", async () => {
    const response = await post(chatUrl(), chatBody("[sim status=429 retry_after=7 retry_after_ms=6500]", { model: "gpt-4o-mini" }));
    expect(response.headers.get("retry-after")).toBe("7");
    expect(Number(response.headers.get("retry-after-ms"))).toBeWithin(6000, 6501);
    expect(response.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    await expectError(response, 429, { code: "429", type: "rate_limit_error", message: /retry after 7 seconds/ });
  });

  test("429 on a stream request is an error before any byte, not an empty 200 stream", async () => {
    const response = await post(chatUrl(), chatBody("[sim status=429]", { stream: true, model: "gpt-35-turbo" }));
    await expectError(response, 429, { type: "rate_limit_error" });
  });

  test("500 and 503 keep their status", async () => {
    await expectError(await post(chatUrl(), chatBody("[sim status=500]", { model: "gpt-4.1" })), 500, { code: "InternalServerError", type: "server_error" });
    await expectError(await post(chatUrl(), chatBody("[sim status=503]", { stream: true, model: "gpt-4.1" })), 503, { code: "ServiceUnavailable" });
  });

  test("a prompt content-filter 400 keeps Azure's details beside OpenAI's fields", async () => {
    const error = await expectError(await post(chatUrl(), chatBody("[sim filter=prompt]")), 400, {
      code: "content_filter",
      param: "prompt",
      type: "invalid_request_error",
    });
    expect(error.innererror.code).toBe("ResponsibleAIPolicyViolation");
    expect(error.innererror.content_filter_result.hate.filtered).toBe(true);
  });

  test("an unknown deployment is a 404 that names the model and the deployment", async () => {
    await expectError(await post(chatUrl(), chatBody("x", { model: "gpt-9" })), 404, {
      code: "DeploymentNotFound",
      message: /Model 'gpt-9' is mapped to deployment 'gpt-9'/,
    });
  });

  test("Azure rejecting the proxy's own key is a 502 for the client, not a 401", async () => {
    const proxy = await startProxy({ env: { AZURE_OPENAI_ENDPOINT: stack.sim.url, AZURE_OPENAI_API_KEY: "revoked", AUTH_KEY: CLIENT_KEY } });
    try {
      await expectError(await post(`${proxy.url}/v1/chat/completions`, chatBody()), 502, {
        code: "upstream_auth_failed",
        message: /rejected the proxy's credentials/,
      });
    } finally {
      await proxy.stop();
    }
  });

  test("an unreachable Azure is a 502 naming the upstream, not the URL", async () => {
    const proxy = await startProxy({ env: { AZURE_OPENAI_ENDPOINT: "http://127.0.0.1:9", AZURE_OPENAI_API_KEY: "k", AUTH_KEY: CLIENT_KEY } });
    try {
      const error = await expectError(await post(`${proxy.url}/v1/chat/completions`, chatBody(), {}), 502, { code: "upstream_unreachable" });
      expect(error.message).toContain("upstream 'default'");
      expect(error.message).not.toContain("127.0.0.1:9");
    } finally {
      await proxy.stop();
    }
  });
});

test("a short Host header (a compose service called `ai`) still reaches the right route", async () => {
  const { rawRequest } = await import("../harness/raw-http.ts");
  for (const host of ["x", "ai", "api"]) {
    const body = JSON.stringify(chatBody());
    const head = `POST /v1/chat/completions HTTP/1.1\r\nauthorization: Bearer ${CLIENT_KEY}\r\ncontent-type: application/json`;
    const answer = await rawRequest(stack.proxy.port, head, body, host);
    expect(answer.status).toBe(200);
  }
});
