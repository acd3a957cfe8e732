/**
 * What is validated is what is forwarded: a body whose meaning depends on the parser
 * (duplicate keys), a chat message missing what its role needs, a request target with a raw
 * `#` or a byte URLs may not hold, and an encoded `/` or `..` in a relayed sub-path are all
 * answered with a 400 that names the problem, and none of them reaches Azure.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chatBody, CLIENT_KEY, post, startStack, type Stack } from "../harness/fixture.ts";
import { rawRequest } from "../harness/raw-http.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ AZURE_OPENAI_API_VERSION: "2024-10-21" });
});
afterAll(() => stack.stop());
const chatUrl = () => `${stack.proxy.url}/v1/chat/completions`;

async function expect400(send: () => Promise<Response>, fields: { param?: string | null; code: string; message?: RegExp }) {
  const before = stack.sim.recorder.all().length;
  const response = await send();
  expect(response.status).toBe(400);
  const { error } = await response.json();
  expect(error.type).toBe("invalid_request_error");
  expect(error.code).toBe(fields.code);
  if (fields.param !== undefined) expect(error.param).toBe(fields.param);
  if (fields.message) expect(error.message).toMatch(fields.message);
  expect(stack.sim.recorder.all().length).toBe(before);
}

/** A raw request, so the target reaches the proxy exactly as written. */
async function rawStatus(target: string, body = JSON.stringify(chatBody()), method = "POST"): Promise<{ status: number; body: string }> {
  const type = body ? "\r\ncontent-type: application/json" : "";
  const head = `${method} ${target} HTTP/1.1\r\nauthorization: Bearer ${CLIENT_KEY}\r\napi-key: ${CLIENT_KEY}${type}`;
  const answer = await rawRequest(stack.proxy.port, head, body);
  return { status: answer.status, body: answer.text.slice(answer.text.indexOf("\r\n\r\n") + 4) };
}

describe("duplicate keys", () => {
  test("a duplicate model is a 400 naming it", async () => {
    await expect400(() => post(chatUrl(), '{"model":"gpt-4o","messages":[{"role":"user","content":"x"}],"model":"gpt-4o-mini"}'), {
      param: "model",
      code: "duplicate_parameter",
      message: /'model' more than once/,
    });
  });

  test("any duplicate top-level key is a 400, also on the Azure shape", async () => {
    await expect400(() => post(chatUrl(), '{"model":"gpt-4o","stream":false,"messages":[{"role":"user","content":"x"}],"stream":true}'), {
      param: "stream",
      code: "duplicate_parameter",
    });
    await expect400(
      () =>
        fetch(`${stack.proxy.url}/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21`, {
          method: "POST",
          headers: { "api-key": CLIENT_KEY, "content-type": "application/json" },
          body: '{"messages":[{"role":"user","content":"x"}],"max_tokens":5,"max_tokens":50000}',
        }),
      { param: "max_tokens", code: "duplicate_parameter" },
    );
  });

  // ASP.NET Core's web JSON defaults match property names case-insensitively: there `Model`
  // would be a second model
  test("keys that differ only in case are duplicates too", async () => {
    await expect400(() => post(chatUrl(), '{"model":"gpt-4o","messages":[{"role":"user","content":"x"}],"Model":"gpt-4o-mini"}'), {
      param: "Model",
      code: "duplicate_parameter",
    });
  });

  test("a form with two model fields is a 400 naming model", async () => {
    const form = new FormData();
    form.append("model", "whisper");
    form.append("model", "gpt-4o-transcribe");
    form.append("file", new File([new Uint8Array(64)], "a.wav", { type: "audio/wav" }));
    await expect400(
      () => fetch(`${stack.proxy.url}/v1/audio/transcriptions`, { method: "POST", headers: { authorization: `Bearer ${CLIENT_KEY}` }, body: form }),
      {
        param: "model",
        code: "invalid_value",
      },
    );
  });

  // a parser that reads `name*=` (RFC 2231), the last `name` or the first Content-Disposition
  // would see another model than the one the proxy checked and routed by
  test("a form part that could name a second model (name*=, two names, two Content-Dispositions) is a 400", async () => {
    const file = '--b\r\ncontent-disposition: form-data; name="file"; filename="a.wav"\r\ncontent-type: audio/wav\r\n\r\nRIFF\r\n';
    const model = '--b\r\ncontent-disposition: form-data; name="model"\r\n\r\nwhisper\r\n';
    for (const tricky of [
      "--b\r\ncontent-disposition: form-data; name*=UTF-8''model\r\n\r\ngpt-4o-transcribe\r\n",
      '--b\r\ncontent-disposition: form-data; name="prompt"; name="model"\r\n\r\ngpt-4o-transcribe\r\n',
      '--b\r\ncontent-disposition: form-data; name="model"\r\ncontent-disposition: form-data; name="prompt"\r\n\r\ngpt-4o-transcribe\r\n',
    ]) {
      await expect400(
        () =>
          fetch(`${stack.proxy.url}/v1/audio/transcriptions`, {
            method: "POST",
            headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "multipart/form-data; boundary=b" },
            body: `${model}${tricky}${file}--b--\r\n`,
          }),
        { code: "invalid_multipart" },
      );
    }
  });

  test("a form with a second model spelled in other case is a 400 naming it", async () => {
    const form = new FormData();
    form.append("model", "whisper");
    form.append("Model", "gpt-4o-transcribe");
    form.append("file", new File([new Uint8Array(64)], "a.wav", { type: "audio/wav" }));
    await expect400(
      () => fetch(`${stack.proxy.url}/v1/audio/transcriptions`, { method: "POST", headers: { authorization: `Bearer ${CLIENT_KEY}` }, body: form }),
      {
        param: "Model",
        code: "duplicate_parameter",
      },
    );
  });

  test("repeated keys inside nested objects are not the proxy's business", async () => {
    const response = await post(chatUrl(), '{"model":"gpt-4o","messages":[{"role":"user","content":"x","content":"y"}]}');
    expect(response.status).toBe(200);
  });
});

describe("integers are JSON numbers", () => {
  // Elysia's t.Integer took "100" as 100 for validation while the text sent upstream kept the
  // string, which Azure then refused (a wasted call, and not the proxy's error shape)
  for (const [name, fields] of [
    ["max_tokens as a numeric string", { max_tokens: "100" }],
    ["n as a numeric string", { n: "2" }],
    ["max_completion_tokens as a fraction", { max_completion_tokens: 1.5 }],
  ] as const) {
    test(`${name} → 400 naming it, not forwarded`, async () => {
      const param = Object.keys(fields)[0]!;
      await expect400(() => post(chatUrl(), chatBody("x", fields)), { param, code: "invalid_value", message: /integer/ });
    });
  }
});

describe("messages are checked per role", () => {
  const cases: Array<[string, unknown[], string]> = [
    ["a user message without content", [{ role: "user" }], "messages[0].content"],
    [
      "a system message with null content",
      [
        { role: "system", content: null },
        { role: "user", content: "x" },
      ],
      "messages[0].content",
    ],
    ["a developer message without content", [{ role: "developer" }, { role: "user", content: "x" }], "messages[0].content"],
    [
      "a tool message without content",
      [
        { role: "user", content: "x" },
        { role: "tool", tool_call_id: "c1" },
      ],
      "messages[1].content",
    ],
    [
      "a tool message without tool_call_id",
      [
        { role: "user", content: "x" },
        { role: "tool", content: "42" },
      ],
      "messages[1].tool_call_id",
    ],
    [
      "an assistant message with neither content nor tool calls",
      [
        { role: "user", content: "x" },
        { role: "assistant", content: null },
      ],
      "messages[1].content",
    ],
  ];
  for (const [name, messages, param] of cases) {
    test(`${name} → 400 naming ${param}`, async () => {
      await expect400(() => post(chatUrl(), chatBody("x", { messages })), { param, code: "missing_required_parameter" });
    });
  }

  test("an assistant message with tool_calls and no content is forwarded", async () => {
    const messages = [
      { role: "user", content: "x" },
      { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: "{}" } }] },
      { role: "tool", tool_call_id: "c1", content: "42" },
    ];
    expect((await post(chatUrl(), chatBody("x", { messages }))).status).toBe(200);
  });

  // what the SDKs' `messages.push(completion.choices[0].message)` sends back: an audio answer
  // (content null, its audio by id) and a refusal (content null, refusal text)
  test("an assistant message the model answered with audio or a refusal (content null) is forwarded", async () => {
    for (const assistant of [
      { role: "assistant", content: null, audio: { id: "audio_abc" } },
      { role: "assistant", content: null, refusal: "I can't help with that." },
    ]) {
      const marker = crypto.randomUUID();
      const messages = [{ role: "user", content: marker }, assistant, { role: "user", content: "and now?" }];
      expect((await post(chatUrl(), chatBody("x", { messages }))).status).toBe(200);
      await stack.sim.recorder.waitFor((r) => r.bodyText.includes(marker));
    }
  });
});

describe("the request target", () => {
  test("a raw '#' is a 400, not part of a deployment name", async () => {
    for (const target of ["/openai/deployments/gpt-4o#x/chat/completions?api-version=2024-10-21", "/v1/chat/completions#x"]) {
      const before = stack.sim.recorder.all().length;
      const answer = await rawStatus(target);
      expect(answer.status).toBe(400);
      const { error } = JSON.parse(answer.body);
      expect(error.code).toBe("invalid_url");
      expect(error.message).toContain("'#'");
      expect(stack.sim.recorder.all().length).toBe(before);
    }
  });

  test("control bytes (raw or encoded), characters URLs may not hold and broken escapes are a 400", async () => {
    const dep = (name: string) => `/openai/deployments/${name}/chat/completions?api-version=2024-10-21`;
    for (const target of [dep("gpt\x7f4o"), dep("gpt%7f4o"), dep("gpt%004o"), dep("gpt|4o"), dep("gpt%zz"), dep("gpt-4o%"), "/v1/chat/completions?x=#y"]) {
      const before = stack.sim.recorder.all().length;
      const answer = await rawStatus(target);
      expect(answer.status).toBe(400);
      // Deno's HTTP parser refuses a raw DEL itself, with an empty 400, before the proxy sees it
      if (answer.body !== "" || !target.includes("\x7f")) expect(JSON.parse(answer.body).error.code).toBe("invalid_url");
      expect(stack.sim.recorder.all().length).toBe(before);
    }
  });

  test("a percent-encoded '#' is a name like any other", async () => {
    const answer = await rawStatus("/openai/deployments/gpt%234o/chat/completions?api-version=2024-10-21");
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body).error.message).toContain("gpt#4o");
  });
});

describe("relayed sub-paths", () => {
  test("an encoded '/', '\\' or '.' in a relayed path is refused, never forwarded", async () => {
    for (const target of [
      "/v1/files/a%2Fb",
      "/v1/files/a%2fb/content",
      "/openai/v1/batches/x%5Cy",
      "/v1/vector_stores/vs%2E%2E",
      "/v1/files/%2e%2e/chat/completions",
    ]) {
      const before = stack.sim.recorder.all().length;
      const answer = await rawStatus(target, "", "GET");
      // A whole `%2e%2e` segment: Bun resolves it itself (then it is GET /v1/chat/completions, a
      // route miss); Deno keeps it in the target, where the URL parser would resolve it, so the
      // request-target check refuses it before any route (invalid_request_target). Wherever it
      // is left inside a segment, the relay refuses it (invalid_url).
      const code = JSON.parse(answer.body).error.code;
      if (target.includes("/%2e%2e/")) expect([answer.status, code]).toEqual(answer.status === 404 ? [404, "unknown_url"] : [400, "invalid_request_target"]);
      else expect([answer.status, code]).toEqual([400, "invalid_url"]);
      expect(stack.sim.recorder.all().length).toBe(before);
    }
  });

  test("an ordinary relayed path still goes through", async () => {
    const response = await fetch(`${stack.proxy.url}/v1/files?limit=2`, { headers: { authorization: `Bearer ${CLIENT_KEY}` } });
    expect(response.status).toBe(200);
  });
});
